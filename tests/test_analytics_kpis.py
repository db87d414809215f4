"""Each KPI on a small hand-built year of cases whose answers are worked out by hand.

The second half of 2025 on the world's street (all moments Asia/Shanghai):
  A  路灯 accepted 09-30 10:00, resolved 10-09 10:00 across the National Day week: 7 working hours
  B  路灯 accepted 11-03, due 11-10, extension to 11-20 approved, resolved 11-17: on time
  C  路灯 accepted 11-03, claimed late, resolved 11-12 after its 11-10 deadline; no phone
  D  路灯 accepted 08-04, resolved 08-06, 不满意 → reopened, resolved again 08-08, 满意
  E  a duplicate reported 09-10 and merged; F a report of 09-11 not accepted
  G  resolved on the spot 07-15; G2 on the spot 06-30 23:50, reopened 07-02 (counts in H1)
  H  路灯 accepted 12-01, never resolved, supervised 12-10
  I, J  邻里纠纷 taken up for mediation 10-20: I agreed 10-22 and rated 满意 at the follow-up,
        J left mediating past its 30 days
  K  重大 fire hazard graded 11-05 and signed off 11-06; L 一般, failing its first re-inspection
  N  路灯 in the other community (湖头陈), returned once, then resolved
Two cases accepted in August 2024 give 同比 something to compare with.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from shanzhi import clock
from shanzhi.analytics import formatting
from shanzhi.analytics.measures import KPIS, MEASURES
from shanzhi.analytics.models import Baseline
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.selectors import (
    PREVIOUS,
    Scope,
    figures_compute,
    kpi_cases,
    kpi_compare,
    kpi_compute,
    measure_values,
    residents_visited_by_tag,
)
from shanzhi.analytics.services import BaselineError, baseline_enter
from shanzhi.cases import services
from shanzhi.cases.models import Case, Source
from shanzhi.errors import PermissionDenied
from shanzhi.registry.models import Tag
from shanzhi.registry.services import visit_log

from .case_factories import case_type, photo, police
from .flow_factories import agreed, mediated, signed_off
from .registry_factories import make_enterprise, make_person

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
H2 = period_parse("2025H2")


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def act(moment: datetime, fn, **kwargs):
    with clock.acting_at(moment):
        return fn(**kwargs)


def accepted(world, moment, code="CG-SZ-01", *, area=None, phone="13800001111", extra=None):
    case, _ = act(
        moment,
        services.case_report,
        area=area or world.microgrid,
        source=Source.HOTLINE,
        actor=world.dispatcher,
        description="小区门口路灯不亮",
        reporter_phone=phone,
        case_type=case_type(world, code) if extra is not None else None,
        extra=extra,
    )
    return act(
        moment,
        services.case_accept,
        case=case,
        actor=world.dispatcher,
        case_type=case_type(world, code),
    )


def dispatched(world, moment, code="CG-SZ-01", *, claim_after=timedelta(minutes=30), **kw):
    case = accepted(world, moment, code, **kw)
    case = act(
        moment, services.case_dispatch, case=case, actor=world.dispatcher, unit=police(world)
    )
    if claim_after is not None:
        case = act(moment + claim_after, services.case_claim, case=case, actor=world.handler)
    return case


def resolve(world, moment, case):
    return act(
        moment,
        services.case_resolve,
        case=case,
        actor=world.handler,
        result="已处理",
        evidence="现场已处理完毕",
    )


def rate(world, moment, case, satisfaction):
    return act(
        moment,
        services.case_callback,
        case=case,
        actor=world.dispatcher,
        satisfaction=satisfaction,
    )


def on_spot(world, moment):
    return act(
        moment,
        services.case_report_on_spot,
        area=world.microgrid,
        actor=world.grid_worker,
        description="路灯灯罩松动,已现场加固",
        case_type=case_type(world, "CG-SZ-01"),
        result="已加固",
        photos=[photo()],
    )


@dataclass
class HalfYear:
    cases: dict[str, Case]


@pytest.fixture
def half_year(world) -> HalfYear:
    c: dict[str, Case] = {}
    c["A"] = resolve(world, at(10, 9), dispatched(world, at(9, 30)))
    rate(world, at(10, 10), c["A"], "satisfied")

    b = dispatched(world, at(11, 3, 9))
    b = act(
        at(11, 5),
        services.case_request_extension,
        case=b,
        actor=world.handler,
        due_at=at(11, 20, 23, 59),
        reason="需等待配件到货",
    )
    b = act(at(11, 5, 11), services.case_approve_extension, case=b, actor=world.leader)
    c["B"] = resolve(world, at(11, 17), b)
    rate(world, at(11, 18), c["B"], "basically")

    late = dispatched(world, at(11, 3, 9), claim_after=timedelta(hours=7), phone="")
    c["C"] = resolve(world, at(11, 12), late)

    d = resolve(world, at(8, 6), dispatched(world, at(8, 4, 9)))
    d = rate(world, at(8, 7), d, "unsatisfied")
    d = act(at(8, 7, 10, 30), services.case_claim, case=d, actor=world.handler)
    c["D"] = resolve(world, at(8, 8), d)
    rate(world, at(8, 11), c["D"], "satisfied")

    c["J"] = mediated(world, at(10, 20))
    e, _ = act(
        at(9, 10),
        services.case_report,
        area=world.microgrid,
        source=Source.HOTLINE,
        actor=world.dispatcher,
        description="路灯不亮(重复来电)",
    )
    c["E"] = act(at(9, 10, 11), services.case_merge, case=e, actor=world.dispatcher, kept=c["J"])
    f, _ = act(
        at(9, 11),
        services.case_report,
        area=world.microgrid,
        source=Source.HOTLINE,
        actor=world.dispatcher,
        description="咨询",
    )
    c["F"] = act(
        at(9, 11, 11), services.case_reject, case=f, actor=world.dispatcher, reason="咨询类"
    )

    c["G"] = on_spot(world, at(7, 15))
    g2 = on_spot(world, at(6, 30, 23, 50))
    c["G2"] = rate(world, at(7, 2), g2, "unsatisfied")

    h = dispatched(world, at(12, 1))
    c["H"] = act(
        at(12, 10),
        services.case_supervise,
        case=h,
        actor=world.leader,
        requirement="限三日内办结",
    )
    c["I"] = agreed(world, mediated(world, at(10, 20)), at(10, 22))

    c["K"] = signed_off(world, at(11, 5), "重大", failed_once=False)
    c["L"] = signed_off(world, at(11, 5), "一般", failed_once=True)

    n = dispatched(world, at(10, 15), area=world.far_grid, claim_after=None)
    n = act(at(10, 15, 11), services.case_return, case=n, actor=world.handler, reason="非本单位")
    n = act(at(10, 16), services.case_dispatch, case=n, actor=world.dispatcher, unit=police(world))
    n = act(at(10, 16, 10, 30), services.case_claim, case=n, actor=world.handler)
    c["N"] = resolve(world, at(10, 17), n)

    accepted(world, at(8, 5, year=2024))
    accepted(world, at(8, 6, year=2024))
    return HalfYear({key: Case.objects.get(pk=case.pk) for key, case in c.items()})


EXPECTED_H2 = {
    "intake": "11件",
    "resolved": "9件",
    "resolution_rate": "81.82%",
    "on_time_rate": "88.89%",
    "overdue": "3件",
    "claim_rate": "83.33%",
    "return_rate": "16.67%",
    "callback_rate": "66.67%",
    "satisfaction_rate": "100.00%",
    "strict_satisfaction_rate": "75.00%",
    "reopen_rate": "11.11%",
    "on_spot_rate": "9.09%",
    "disputes": "2件",
    "dispute_rate": "50.00%",
    "hazards": "2件",
    "hazards_rectified": "2件",
    "hazard_rate": "100.00%",
    "major_hazards": "1件",
    "major_hazard_rate": "100.00%",
    "supervised": "1件",
    "rejected": "1件",
    "merged": "1件",
}


@pytest.mark.parametrize("source", ["rollup", "direct"])
def test_every_case_kpi_of_the_half_year_has_its_hand_counted_value(world, half_year, source):
    figures = figures_compute(viewer=world.leader, kpis=list(EXPECTED_H2), period=H2, source=source)
    shown = {key: formatting.figure_value_text(figure) for key, figure in figures.items()}
    assert shown == EXPECTED_H2
    assert figures["intake"].as_of == H2.end_at


def test_handling_time_is_in_working_hours_across_the_national_day_week(world, half_year):
    # 09-30 10:00–17:30 is 6 working hours, 10-01..10-08 are off, 10-09 09:00–10:00 is one more.
    assert half_year.cases["A"].handling_minutes == 7 * 60
    september = period_parse("2025-09")
    # As of September's end A was still open; counted as of the end of the half-year it is done.
    assert kpi_compute(viewer=world.leader, kpi="handling_hours", period=september).value is None
    for source in ("rollup", "direct"):
        hours, days = (
            kpi_compute(
                viewer=world.leader, kpi=kpi, period=september, as_of=H2.end_at, source=source
            )
            for kpi in ("handling_hours", "handling_days")
        )
        assert (hours.value, days.value) == (Decimal(7), Decimal(1))
    assert formatting.figure_value_text(hours) == "7.00工作小时"
    # 10-11 is a 调休 Saturday: the 5 working days after 09-30 end on 10-14, not 10-07.
    assert half_year.cases["A"].handle_due_at == at(10, 14, 23, 59).replace(second=59)


def test_the_approved_extension_turns_late_into_on_time(world, half_year):
    b = half_year.cases["B"]
    assert b.resolved_at > at(11, 10, 23, 59) and b.resolved_at <= b.handle_due_at
    on_time = kpi_cases(viewer=world.leader, key="on_time", period=H2)
    late = kpi_cases(viewer=world.leader, key="late", period=H2)
    assert b in on_time and half_year.cases["C"] in late and b not in late


def test_a_reopened_case_counts_once_by_its_last_resolution(world, half_year):
    august = period_parse("2025-08")
    for source in ("rollup", "direct"):
        between = measure_values(
            viewer=world.leader,
            keys=["intake", "resolved", "reopened"],
            scope=Scope(),
            period=august,
            as_of=at(8, 7, 12),
            source=source,
        )
        after = measure_values(
            viewer=world.leader,
            keys=["intake", "resolved", "reopened"],
            scope=Scope(),
            period=august,
            as_of=at(8, 8, 12),
            source=source,
        )
        assert between == {"intake": 1, "resolved": 0, "reopened": 0}
        assert after == {"intake": 1, "resolved": 1, "reopened": 1}


def test_on_the_spot_cases_count_by_their_report_even_when_reopened(world, half_year):
    g2 = half_year.cases["G2"]
    assert g2.accepted_at == at(7, 2)  # the reopen sent it to the desk in July
    june = kpi_cases(viewer=world.leader, key="on_spot", period=period_parse("2025-06"))
    july = kpi_cases(viewer=world.leader, key="intake", period=period_parse("2025-07"))
    assert list(june) == [g2]
    assert g2 not in july and half_year.cases["G"] in july


def test_merged_and_rejected_reports_are_counted_apart_by_their_report(world, half_year):
    september = period_parse("2025-09")
    assert list(kpi_cases(viewer=world.leader, key="merged", period=september)) == [
        half_year.cases["E"]
    ]
    assert list(kpi_cases(viewer=world.leader, key="rejected", period=september)) == [
        half_year.cases["F"]
    ]
    intake = kpi_cases(viewer=world.leader, key="intake", period=september)
    assert list(intake) == [half_year.cases["A"]]


def test_figures_as_of_a_moment_inside_a_running_month(world, half_year):
    december = period_parse("2025-12")
    for source in ("rollup", "direct"):
        before = figures_compute(
            viewer=world.leader,
            kpis=["overdue", "supervised"],
            period=december,
            as_of=at(12, 8, 12),
            source=source,
        )
        after = figures_compute(
            viewer=world.leader,
            kpis=["overdue", "supervised"],
            period=december,
            as_of=at(12, 10, 12),
            source=source,
        )
        assert [before[k].numerator for k in ("overdue", "supervised")] == [0, 0]
        assert [after[k].numerator for k in ("overdue", "supervised")] == [1, 1]


def test_every_number_clicks_through_to_as_many_cases(world, half_year):
    figures = figures_compute(viewer=world.leader, kpis=list(EXPECTED_H2), period=H2)
    for key, figure in figures.items():
        if key == "supervised":
            continue  # counts actions; one case here, supervised once
        cases = kpi_cases(viewer=world.leader, key=key, period=H2)
        assert cases.count() == figure.numerator, key
        if figure.denominator is not None:
            below = kpi_cases(viewer=world.leader, key=key, period=H2, part="denominator")
            assert below.count() == figure.denominator, key
    assert list(kpi_cases(viewer=world.leader, key="supervised", period=H2)) == [
        half_year.cases["H"]
    ]


def test_a_community_leader_counts_only_their_community(world, half_year):
    n = half_year.cases["N"]
    for source in ("rollup", "direct"):
        own = kpi_compute(viewer=world.community_leader, kpi="intake", period=H2, source=source)
        # Asking for the other community does not widen what they may see.
        other = kpi_compute(
            viewer=world.community_leader,
            kpi="intake",
            scope=Scope(area=world.other_community),
            period=H2,
            source=source,
        )
        street = kpi_compute(
            viewer=world.leader,
            kpi="intake",
            scope=Scope(area=world.other_community),
            period=H2,
            source=source,
        )
        assert (own.numerator, other.numerator, street.numerator) == (10, 0, 1)
    assert n not in kpi_cases(viewer=world.community_leader, key="intake", period=H2)
    assert kpi_compute(viewer=world.outsider, kpi="intake", period=H2).numerator == 0


def test_scope_by_type_category_unit_and_channel(world, half_year):
    dispute_type = case_type(world, "MD-LL-01")
    scopes = {
        Scope(case_type=dispute_type): 2,
        Scope(category=dispute_type.category.parent): 2,
        Scope(unit=police(world)): 10,
        Scope(source=Source.GRID_PATROL): 1,
        Scope(source=Source.HOTLINE, area=world.community): 9,
    }
    for scope, wanted in scopes.items():
        for source in ("rollup", "direct"):
            figure = kpi_compute(
                viewer=world.leader, kpi="intake", scope=scope, period=H2, source=source
            )
            assert figure.numerator == wanted, scope.label


def test_year_on_year_from_counted_data_and_none_without_it(world, half_year):
    change = kpi_compare(viewer=world.leader, kpi="intake", period=H2)
    assert (change.current.numerator, change.earlier.numerator) == (11, 2)
    assert formatting.change_text(change) == "同比增长450.00%"
    assert not change.baseline_used
    # No disputes in 2024 and no baseline: no 同比 at all, rather than ∞ or 0.
    none = kpi_compare(viewer=world.leader, kpi="dispute_rate", period=H2)
    assert none.ratio is None and formatting.change_text(none) == ""


def test_year_on_year_against_an_entered_baseline(world, half_year):
    baseline_enter(
        actor=world.leader,
        area=world.street,
        kpi="dispute_rate",
        period=period_parse("2024H2"),
        value="40",
        note="2024年下半年矛调工作总结",
    )
    change = kpi_compare(
        viewer=world.leader, kpi="dispute_rate", scope=Scope(area=world.street), period=H2
    )
    assert change.baseline_used and change.earlier.value == Decimal(40)
    assert formatting.change_text(change) == "同比增长25.00%(录入数)"
    assert formatting.figure_value_text(change.earlier) == "40.00%(录入数)"
    # The leader's scope is the street, so the street's baseline serves without naming it.
    implicit = kpi_compare(viewer=world.leader, kpi="dispute_rate", period=H2)
    assert implicit.baseline_used
    # A community has no baseline of its own.
    community = kpi_compare(viewer=world.community_leader, kpi="dispute_rate", period=H2)
    assert not community.baseline_used and community.ratio is None


def test_baselines_are_checked_in_chinese(world):
    period = period_parse("2024")
    with pytest.raises(PermissionDenied):
        baseline_enter(
            actor=world.grid_worker,
            area=world.street,
            kpi="intake",
            period=period,
            value=1,
            note="x",
        )
    cases = [
        ({"kpi": "nope"}, "没有名为"),
        ({"value": "-3"}, "不小于0"),
        ({"value": "abc"}, "不是有效的数值"),
        ({"kpi": "resolution_rate", "value": "120"}, "不能超过100"),
        ({"period": period_parse("2099")}, "已经结束"),
        ({"note": " "}, "数据来源"),
    ]
    for change, message in cases:
        args = {"kpi": "intake", "period": period, "value": "2322", "note": "2024年工作总结"}
        args.update(change)
        with pytest.raises(BaselineError, match=message):
            baseline_enter(actor=world.leader, area=world.street, **args)
    baseline_enter(
        actor=world.leader, area=world.street, kpi="intake", period=period, value=2322, note="总结"
    )
    with pytest.raises(BaselineError, match="已录入"):
        baseline_enter(
            actor=world.admin, area=world.street, kpi="intake", period=period, value=1, note="再录"
        )
    assert Baseline.objects.get().entered_by == world.leader


def test_month_on_month_compares_the_same_stretch_of_the_month_before(world, half_year):
    change = kpi_compare(
        viewer=world.leader,
        kpi="intake",
        period=period_parse("2025-11"),
        against=PREVIOUS,
        as_of=at(11, 25),
    )
    # November to the 25th: B, C, K, L; October to the 25th: I, J, N (A was accepted in September).
    assert (change.current.numerator, change.earlier.numerator) == (4, 3)
    assert change.earlier.as_of == at(10, 25)
    assert formatting.change_text(change) == "环比增长33.33%"


def test_registry_figures_visits_and_verification(world):
    care = Tag.objects.filter(kind="care").order_by("sort").first()
    person = make_person(world, tags=(care.code,))
    firm = make_enterprise(world)
    for day in (3, 4):
        act(
            at(3, day),
            visit_log,
            actor=world.grid_worker,
            summary="走访",
            enterprise=firm,
            visited_at=at(3, day),
        )
    act(
        at(3, 5),
        visit_log,
        actor=world.grid_worker,
        summary="关爱走访",
        person=person,
        visited_at=at(3, 5),
    )
    march = period_parse("2025-03")
    figures = figures_compute(
        viewer=world.leader,
        kpis=[
            "enterprise_visits",
            "enterprises_visited",
            "residents_visited",
            "care_residents_visited",
        ],
        period=march,
    )
    assert [f.numerator for f in figures.values()] == [2, 1, 1, 1]
    assert residents_visited_by_tag(viewer=world.leader, period=march) == [(care.name, 1)]
    cut = kpi_compute(
        viewer=world.leader,
        kpi="enterprise_visits",
        scope=Scope(source=Source.HOTLINE),
        period=march,
    )
    assert cut.value is None and "不按" in cut.note
    assert (
        kpi_compute(viewer=world.other_leader, kpi="enterprise_visits", period=march).numerator == 0
    )


def test_every_kpi_is_built_of_known_measures():
    for kpi in KPIS.values():
        assert set(kpi.measures) <= set(MEASURES), kpi.key
        assert kpi.name and kpi.definition, kpi.key


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("2322"), "2322"),
        (Decimal("34541500"), "3454.15万"),
        (Decimal("11000"), "1.1万"),
        (Decimal("20000"), "2万"),
        (Decimal("123456789"), "1.23亿"),
        (Decimal("12.5"), "12.50"),
    ],
)
def test_amounts_as_the_reports_write_them(value, text):
    assert formatting.amount_text(value) == text


def test_rates_keep_two_decimals():
    assert formatting.percent_text(Decimal("99.2")) == "99.20%"
    assert formatting.percent_text(Decimal("94.7049")) == "94.70%"
    assert formatting.percent_text(None) == "—"
