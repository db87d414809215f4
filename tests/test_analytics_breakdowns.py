"""Grouped figures equal the one-scope figures of each group, counted directly from the cases.

The random histories of the roll-up test (a seeded generator driving cases through the workflow)
are broken down by child area, category, unit and day/week/month; every row must be exactly
`figures_compute(scope=<row scope>, period=<row period>, source="direct")`.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shanzhi import clock
from shanzhi.analytics.breakdowns import (
    DERIVED,
    breakdown_by_area,
    breakdown_by_category,
    breakdown_by_time,
    breakdown_by_unit,
    changes_compute,
    derived_value,
    figure_cases,
    figure_name,
    trend_periods,
)
from shanzhi.analytics.measures import CASES, KPIS, MEASURES
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.selectors import (
    Scope,
    figures_compute,
    kpi_compare,
    kpi_compute,
    measure_values,
)
from shanzhi.analytics.services import baseline_enter
from shanzhi.cases.models import Source
from shanzhi.errors import DomainError

from .case_factories import case_type, police
from .test_analytics_rollup import random_history

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE_KPIS = [k for k, kpi in KPIS.items() if all(MEASURES[m].kind == CASES for m in kpi.measures)]


def _numbers(figure):
    return (figure.value, figure.numerator, figure.denominator)


def _assert_rows_exact(viewer, rows, *, as_of=None) -> int:
    for row in rows:
        direct = figures_compute(
            viewer=viewer,
            kpis=CASE_KPIS,
            scope=row.scope,
            period=row.period,
            as_of=as_of or next(iter(row.figures.values())).as_of,
            source="direct",
        )
        for key in CASE_KPIS:
            assert _numbers(row.figures[key]) == _numbers(direct[key]), (row.label, key)
    return sum(1 for row in rows if row.figures["intake"].numerator)


@pytest.fixture
def history(world):
    random_history(world, seed=424242, count=120)
    return world


def test_area_category_and_unit_rows_equal_the_direct_count(history):
    world = history
    periods = [period_parse(t) for t in ("2024", "2025", "2025H1", "2024-09-20..2025-02-10")]
    moments = [None, datetime(2025, 3, 14, 15, 30, tzinfo=SHANGHAI)]  # a running day too
    scopes = [
        Scope(area=world.street),
        Scope(area=world.community),
        Scope(area=world.zone, source=Source.HOTLINE),
        Scope(area=world.street, unit=police(world)),
    ]
    counted = 0
    for viewer in (world.leader, world.community_leader):
        for period in periods:
            for as_of in moments:
                if as_of is not None and not period.contains(as_of):
                    continue
                for scope in scopes:
                    args = {
                        "viewer": viewer,
                        "kpis": CASE_KPIS,
                        "scope": scope,
                        "period": period,
                        "as_of": as_of,
                    }
                    for breakdown in (breakdown_by_area, breakdown_by_category, breakdown_by_unit):
                        counted += _assert_rows_exact(viewer, breakdown(**args), as_of=as_of)
    assert counted > 40  # the comparison is not over empty rows


def test_area_rows_add_up_to_the_whole_and_cover_every_child(history):
    world = history
    period = period_parse("2025")
    rows = breakdown_by_area(
        viewer=world.leader,
        kpis=["intake", "resolved"],
        scope=Scope(area=world.zone),
        period=period,
    )
    assert [row.key for row in rows] == [world.community.code, world.other_community.code]
    whole = figures_compute(
        viewer=world.leader,
        kpis=["intake", "resolved"],
        scope=Scope(area=world.zone),
        period=period,
    )
    for key in ("intake", "resolved"):
        assert sum(row.figures[key].numerator for row in rows) == whole[key].numerator > 0
    # A community leader sees only their community below the zone.
    mine = breakdown_by_area(
        viewer=world.community_leader, kpis=["intake"], scope=Scope(area=world.zone), period=period
    )
    assert [row.key for row in mine] == [world.community.code]


def test_category_rows_split_a_chosen_category_into_its_subcategories(history):
    world = history
    period = period_parse("2024-01-01..2025-12-31")
    big = case_type(world, "AQ-XF-03").category.parent
    top = breakdown_by_category(viewer=world.leader, kpis=CASE_KPIS, period=period)
    assert big.name in [row.label for row in top]
    assert all(row.scope.category.parent_id is None for row in top)
    below = breakdown_by_category(
        viewer=world.leader, kpis=CASE_KPIS, scope=Scope(category=big), period=period
    )
    assert below and all(row.scope.category.parent_id == big.pk for row in below)
    _assert_rows_exact(world.leader, below)


@pytest.mark.parametrize(
    ("text", "grain", "now"),
    [
        ("2025", "month", datetime(2025, 8, 20, 9, 15, tzinfo=SHANGHAI)),
        ("2024", "month", None),
        ("2025-01-20..2025-03-10", "week", None),
        ("2024-10-01..2024-11-30", "day", datetime(2024, 11, 20, 11, 0, tzinfo=SHANGHAI)),
    ],
)
def test_trend_rows_equal_each_bucket_counted_directly(history, text, grain, now):
    world = history
    period = period_parse(text)
    with clock.acting_at(now or datetime(2026, 6, 1, tzinfo=SHANGHAI)):
        rows = breakdown_by_time(
            viewer=world.leader,
            kpis=[*CASE_KPIS, "resolved_in_period"],
            scope=Scope(area=world.street),
            period=period,
            grain=grain,
        )
        assert rows, text
        # Buckets that have not begun are left out; the running one counts up to now.
        assert all(row.period.start_at <= clock.now() for row in rows)
        for row in rows:
            assert next(iter(row.figures.values())).as_of == row.period.as_of(clock.now())
        assert _assert_rows_exact(world.leader, rows) > 0
        # 当月办结, counted for all buckets at once, is each bucket's own count.
        for row in rows:
            alone = kpi_compute(
                viewer=world.leader,
                kpi="resolved_in_period",
                scope=row.scope,
                period=row.period,
                as_of=row.period.as_of(clock.now()),
            )
            assert row.figures["resolved_in_period"].numerator == alone.numerator, row.label
        assert sum(row.figures["resolved_in_period"].numerator or 0 for row in rows) > 0
    assert rows[0].period.start == period.start


def test_trend_periods_cut_the_first_and_last_bucket_to_the_period():
    buckets = trend_periods(period_parse("2025-01-20..2025-03-10"), "month")
    assert [b.code for b in buckets] == [
        "2025-01-20..2025-01-31",
        "2025-02",
        "2025-03-01..2025-03-10",
    ]
    weeks = trend_periods(period_parse("2025-03"), "week")
    assert weeks[0].code == "2025-03-01..2025-03-02" and weeks[1].code == "2025-W10"
    assert len(trend_periods(period_parse("2024"), "day")) == 366
    with pytest.raises(DomainError):
        trend_periods(period_parse("2024"), "hour")


def test_breakdowns_refuse_figures_that_are_not_counted_over_cases(world):
    with pytest.raises(DomainError, match="不能分组"):
        breakdown_by_area(viewer=world.leader, kpis=["supervised"], period=period_parse("2025"))


def test_changes_equal_kpi_compare_including_an_entered_baseline(history):
    world = history
    period = period_parse("2025")
    scope = Scope(area=world.street)
    with clock.acting_at(datetime(2025, 12, 1, tzinfo=SHANGHAI)):
        baseline_enter(
            actor=world.leader,
            area=world.street,
            kpi="intake",
            period=period_parse("2024"),
            value=500,
            note="2024年工作总结",
        )
    current = figures_compute(viewer=world.leader, kpis=CASE_KPIS, scope=scope, period=period)
    changes = changes_compute(viewer=world.leader, current=current, scope=scope, period=period)
    for key in CASE_KPIS:
        expected = kpi_compare(viewer=world.leader, kpi=key, scope=scope, period=period)
        assert changes[key].ratio == expected.ratio, key
        assert changes[key].baseline_used == expected.baseline_used, key
    assert changes["intake"].baseline_used


def test_derived_numbers_click_through_to_exactly_their_cases(history):
    world = history
    period = period_parse("2024-01-01..2025-12-31")
    values = measure_values(
        viewer=world.leader,
        keys=["called_back", "satisfied", "basically", "reachable"],
        scope=Scope(),
        period=period,
        as_of=period.end_at,
    )
    for key, derived in DERIVED.items():
        cases = figure_cases(viewer=world.leader, key=key, period=period)
        assert cases.count() == derived_value(derived, values), key
    assert derived_value(DERIVED["not_called_back"], values) > 0
    assert figure_name("resolution_rate") == "办结量"
    assert figure_name("resolution_rate", "denominator") == "受理量"
    assert figure_name("overdue") == "超期数"
    assert figure_name("unsatisfied") == "不满意件数"
    assert figure_name("open_overdue") == "超期未办结量"


def test_a_running_day_in_the_trend_counts_cases_of_that_day(world):
    from .case_factories import make_case

    moment = datetime(2025, 5, 6, 9, 0, tzinfo=SHANGHAI)
    with clock.acting_at(moment):
        make_case(world, "accepted")
    with clock.acting_at(moment + timedelta(hours=2)):
        rows = breakdown_by_time(
            viewer=world.leader, kpis=["intake"], period=period_parse("2025-05")
        )
    assert [row.figures["intake"].numerator for row in rows][-1] == 1
    assert sum(row.figures["intake"].numerator for row in rows) == 1
