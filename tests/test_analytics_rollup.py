"""The figures' store equals a direct replay of the cases' logs, on random histories.

A seeded generator reports about 200 cases at random moments over 2024–2025 and walks each
through random steps of its flow (refusals are part of the walk), a random while apart. Then
every case measure, for several viewers, scopes, periods and "as of" moments, must be the same
from the store as from the logs: with the deltas alone, after a rebuild has added the months up
for the area tree, after months close, and after a replay of the past changes a closed month.
"""

import random
import statistics
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from shanzhi import clock
from shanzhi.analytics.breakdowns import breakdown_by_category, breakdown_by_time
from shanzhi.analytics.history import case_state_at, rows_of
from shanzhi.analytics.measures import CASES, COLUMN_INDEX, MEASURES
from shanzhi.analytics.models import CaseDelta, NodeMonth, RollupState
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.rollup import ROW_FIELDS, facts_of, rollup_close, rollup_deferred
from shanzhi.analytics.selectors import Scope, duration_medians, figures_compute, measure_values
from shanzhi.areas.models import Area, Level
from shanzhi.cases.models import Case, CaseCategory, Source, State

from .case_factories import case_type, police
from .flow_walk import Walker

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE_MEASURES = [key for key, m in MEASURES.items() if m.kind == CASES]
TYPES = ("CG-SZ-01", "CG-SR-01", "MD-LL-01", "AQ-XF-03", "ZA-DJ-01")


def _moment(rng: random.Random, start: datetime, days: float) -> datetime:
    return start + timedelta(minutes=rng.randrange(int(days * 24 * 60)))


def random_history(
    world, seed: int = 20250101, count: int = 200, begin: datetime | None = None, days: int = 720
) -> None:
    """`count` cases of every flow, each walked through a few random steps of its flow (the
    refusals are part of the walk), at random moments over two years."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    walker = Walker(world, rng)
    areas = [world.microgrid, world.sibling_microgrid, world.far_grid, world.grid]
    flows = [None, None, None, "hazard", "petition", "dispute", "enterprise"]
    begin = begin or datetime(2024, 1, 1, tzinfo=SHANGHAI)
    for _ in range(count):
        moment = _moment(rng, begin, days)
        flow = rng.choice(flows)
        with clock.acting_at(moment):
            case = walker.report(flow=flow, area=world.microgrid if flow else rng.choice(areas))
        for _ in range(rng.randint(0, 10)):
            moment += timedelta(minutes=rng.randrange(1, 8 * 24 * 60))
            with clock.acting_at(moment):
                case, _ = walker.step(case)


def _compare(world, label: str) -> int:
    viewers = [world.leader, world.community_leader, world.district_leader]
    scopes = [
        Scope(),
        Scope(area=world.community),
        Scope(area=world.other_community),
        Scope(area=world.grid, source=Source.HOTLINE),
        Scope(unit=police(world)),
        Scope(case_type=case_type(world, "MD-LL-01")),
        Scope(category=case_type(world, "AQ-XF-03").category.parent),
    ]
    periods = [
        period_parse(text)
        for text in ("2024", "2025", "2025H1", "2024Q3", "2025-03", "2024-W40", "2025-06-16")
    ]
    periods.append(period_parse("2024-09-20..2025-02-10"))
    compared = 0
    for viewer in viewers:
        for scope in scopes:
            for period in periods:
                moments = [None, period.start_at + (period.end_at - period.start_at) / 3]
                for as_of in moments:
                    moment = as_of or period.end_at
                    args = {
                        "viewer": viewer,
                        "keys": CASE_MEASURES,
                        "scope": scope,
                        "period": period,
                        "as_of": moment,
                    }
                    rolled = measure_values(source="rollup", **args)
                    direct = measure_values(source="direct", **args)
                    assert rolled == direct, (label, viewer.username, scope.label, period, moment)
                    compared += 1
    return compared


BREAKDOWN_KPIS = ["intake", "resolution_rate", "satisfaction_rate", "overdue", "handling_hours"]


def _figures(figures) -> dict:
    return {key: (f.numerator, f.denominator) for key, f in figures.items()}


def _compare_breakdowns(world, label: str) -> int:
    """The category breakdown and the monthly trend over whole nodes (read from the nodes'
    totals once months are added up) equal each row's figures counted directly; no category
    with cases is missing."""
    compared = 0
    tops = list(CaseCategory.objects.filter(parent__isnull=True))
    for viewer in (world.leader, world.district_leader):
        for scope in (Scope(), Scope(area=world.community)):
            for period in (period_parse("2024"), period_parse("2025H1")):
                args = {"viewer": viewer, "kpis": BREAKDOWN_KPIS, "scope": scope, "period": period}
                rows = breakdown_by_category(**args)
                rows += breakdown_by_time(**args, grain="month")
                for row in rows:
                    direct = figures_compute(
                        **args | {"scope": row.scope, "period": row.period}, source="direct"
                    )
                    assert _figures(row.figures) == _figures(direct), (label, row.label, period)
                    compared += 1
                shown = {row.key for row in breakdown_by_category(**args)}
                for top in tops:
                    direct = figures_compute(
                        **args | {"scope": Scope(scope.area, category=top)}, source="direct"
                    )
                    has_cases = any(f.numerator or f.denominator for f in direct.values())
                    assert (str(top.pk) in shown) == has_cases, (label, top.name, period)
    return compared


def _rows() -> list[tuple]:
    return sorted(
        tuple(sorted((k, v) for k, v in model_to_dict(row).items() if k != "id"))
        for row in CaseDelta.objects.all()
    )


EVERYTHING = {
    "keys": ["intake", "resolved", "late", "satisfied"],
    "scope": Scope(),
    "period": period_parse("2024-01-01..2026-12-31"),
    "as_of": datetime(2027, 1, 1, tzinfo=SHANGHAI),
}


def test_the_store_equals_the_logs_replayed_on_random_histories(world):
    random_history(world)
    counted = Case.objects.exclude(state=State.REPORTED).count()
    assert counted > 120  # the history is not trivially empty
    assert CaseDelta.objects.filter(intake__gt=0).count() > 100
    assert not RollupState.objects.exists()  # nothing added up yet: the deltas alone
    everything = measure_values(viewer=world.leader, **EVERYTHING | {"keys": CASE_MEASURES})
    for key in ("intake", "resolved", "late", "reopened", "on_spot", "merged", "rejected"):
        assert everything[key] > 0, key
    assert _compare(world, "maintained") > 300

    maintained = _rows()
    call_command("rollup", "rebuild", "--street", world.street.code)
    assert _rows() == maintained
    # The months before this one are now added up for the area tree, and read from there.
    assert NodeMonth.objects.filter(node=world.street).count() > 20
    assert NodeMonth.objects.filter(node=world.community).exists()
    assert NodeMonth.objects.filter(category__isnull=False).exists()
    assert _compare(world, "rebuilt") > 300
    assert _compare_breakdowns(world, "rebuilt") > 20


def test_months_close_and_a_replay_of_the_past_reaches_their_totals(world):
    with clock.acting_at(datetime(2024, 7, 1, tzinfo=SHANGHAI)):
        call_command("rollup", "rebuild")  # no cases: the street is added up until July 2024
    random_history(world, seed=3, count=60, days=360)
    assert NodeMonth.objects.filter(node=world.street).exists()  # past months reached totals
    assert _compare(world, "half closed") > 300
    streets = Area.objects.filter(level=Level.STREET).count()
    assert rollup_close(moment=datetime(2025, 3, 5, tzinfo=SHANGHAI)) == streets
    assert rollup_close(moment=datetime(2025, 3, 6, tzinfo=SHANGHAI)) == 0  # already closed
    assert RollupState.objects.get(street=world.street).closed_until.isoformat() == "2025-03-01"
    random_history(world, seed=4, count=30, days=360)
    assert _compare(world, "closed, then replayed") > 300
    assert _compare_breakdowns(world, "closed, then replayed") > 20


def test_rebuild_repairs_a_damaged_store(world):
    random_history(world, seed=7, count=40)
    call_command("rollup", "rebuild")
    CaseDelta.objects.update(intake=0, resolved=0)
    NodeMonth.objects.update(intake=0)
    damaged = measure_values(viewer=world.leader, **EVERYTHING)
    direct = measure_values(viewer=world.leader, source="direct", **EVERYTHING)
    assert damaged != direct
    call_command("rollup", "rebuild")
    assert measure_values(viewer=world.leader, **EVERYTHING) == direct


def test_the_rollup_command_closes_months_and_refuses_an_unknown_street(world, capsys):
    random_history(world, seed=9, count=10)
    call_command("rollup", "close")
    assert "已汇总" in capsys.readouterr().out
    with pytest.raises(CommandError, match="没有编码为“000”的街道"):
        call_command("rollup", "rebuild", "--street", "000")


def test_a_deferred_replay_leaves_the_store_to_one_rebuild_at_the_end(world):
    with rollup_deferred(street=world.street):
        random_history(world, seed=11, count=30)
        assert not CaseDelta.objects.exists()
    assert CaseDelta.objects.exists()
    direct = measure_values(viewer=world.leader, source="direct", **EVERYTHING)
    assert measure_values(viewer=world.leader, **EVERYTHING) == direct


def _reference_medians(world, period, moment) -> tuple[Decimal | None, Decimal | None]:
    """Each case replayed to the moment on its own, its durations read off its state."""
    handling, waits = [], []
    handled, minutes = COLUMN_INDEX["handled"], COLUMN_INDEX["handling_minutes"]
    resolved, wait = COLUMN_INDEX["resolved"], COLUMN_INDEX["wait_minutes"]
    for case in Case.objects.filter(street=world.street):
        log = rows_of(case.actions.order_by("created_at", "id").values(*ROW_FIELDS))
        state = case_state_at(facts_of(case), log, moment)
        if state.key is None or not period.start <= state.key.count_day < period.end:
            continue
        if state.values[handled]:
            handling.append(state.values[minutes])
        if state.values[resolved]:
            waits.append(state.values[wait])
    return (
        Decimal(statistics.median(handling)) / 60 if handling else None,
        Decimal(statistics.median(waits)) / 1440 if waits else None,
    )


def test_the_medians_of_durations_are_those_of_the_cases_as_of_the_moment(world):
    random_history(world, seed=5, count=80)
    period = period_parse("2024")
    for moment in (datetime(2024, 8, 1, tzinfo=SHANGHAI), datetime(2025, 6, 1, tzinfo=SHANGHAI)):
        found = duration_medians(viewer=world.leader, period=period, as_of=moment)
        assert found.handled >= 5 and found.resolved >= 5
        assert (found.handling_hours, found.wait_days) == _reference_medians(world, period, moment)
    later = duration_medians(viewer=world.leader, period=period, as_of=moment)
    earlier = duration_medians(
        viewer=world.leader, period=period, as_of=datetime(2024, 8, 1, tzinfo=SHANGHAI)
    )
    assert later.resolved > earlier.resolved  # cases resolved after August count only later


def test_a_transition_now_writes_only_its_own_deltas_and_no_monthly_total(world):
    """Upkeep per transition touches no row other writers of the street need: the case's own
    deltas that changed, never a monthly total (its earlier months stay as they were)."""
    random_history(world, seed=13, count=40, begin=datetime(2025, 1, 1, tzinfo=SHANGHAI), days=140)
    with clock.acting_at(datetime(2025, 6, 1, tzinfo=SHANGHAI)):
        call_command("rollup", "rebuild")
    walker = Walker(world, random.Random(13))  # noqa: S311 - reproducible test data
    totals = sorted(tuple(model_to_dict(row).values()) for row in NodeMonth.objects.all())
    closed = CaseDelta.objects.filter(month__lt=date(2025, 6, 1))
    moved = 0
    for case in Case.objects.filter(pk__in=closed.values("case_id")):
        before = set(closed.filter(case=case).values_list("pk", flat=True))
        with (
            clock.acting_at(datetime(2025, 6, 20, tzinfo=SHANGHAI)),
            CaptureQueriesContext(connection) as queries,
        ):
            for _ in range(3):
                case, _walk = walker.step(case)
        if any("INSERT" in q["sql"] and "analytics_casedelta" in q["sql"] for q in queries):
            moved += 1
            assert not any("analytics_nodemonth" in q["sql"] for q in queries)
            # The rows of its closed months are the same rows, untouched.
            assert set(closed.filter(case=case).values_list("pk", flat=True)) == before
    assert moved > 3
    assert sorted(tuple(model_to_dict(row).values()) for row in NodeMonth.objects.all()) == totals
    assert _compare(world, "moved now") > 300
