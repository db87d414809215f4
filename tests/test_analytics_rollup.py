"""The daily roll-up equals a direct count over the raw cases, on random histories.

A seeded generator reports about 200 cases at random moments over 2024–2025 and drives each
through random transitions of the workflow table (refusals are part of the game and skipped),
a random while apart. Then every case measure, for several viewers, scopes, periods and "as of"
moments, must be the same from the roll-up as from the cases — and again after a rebuild.
"""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict

from shanzhi import clock
from shanzhi.analytics.measures import CASES, MEASURES
from shanzhi.analytics.models import CaseDay, CaseDayKey
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.rollup import day_key, rollup_deferred
from shanzhi.analytics.selectors import Scope, measure_values
from shanzhi.cases.models import Case, Source, State

from .case_factories import case_type, police
from .flow_walk import Walker

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE_MEASURES = [key for key, m in MEASURES.items() if m.kind == CASES]
TYPES = ("CG-SZ-01", "CG-SR-01", "MD-LL-01", "AQ-XF-03", "ZA-DJ-01")


def _moment(rng: random.Random, start: datetime, days: float) -> datetime:
    return start + timedelta(minutes=rng.randrange(int(days * 24 * 60)))


def random_history(world, seed: int = 20250101, count: int = 200) -> None:
    """`count` cases of every flow, each walked through a few random steps of its flow (the
    refusals are part of the walk), at random moments over two years."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    walker = Walker(world, rng)
    areas = [world.microgrid, world.sibling_microgrid, world.far_grid, world.grid]
    flows = [None, None, None, "hazard", "petition", "dispute", "enterprise"]
    begin = datetime(2024, 1, 1, tzinfo=SHANGHAI)
    for _ in range(count):
        moment = _moment(rng, begin, 720)
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


def _rows() -> set[tuple]:
    return {
        tuple(sorted((k, v) for k, v in model_to_dict(row).items() if k != "id"))
        for row in CaseDay.objects.all()
        if any(getattr(row, m) for m in ("intake", "rejected", "merged"))
    }


def test_rollup_equals_direct_on_random_histories_and_after_a_rebuild(world):
    random_history(world)
    counted = Case.objects.exclude(state=State.REPORTED).count()
    assert counted > 120  # the history is not trivially empty
    assert CaseDay.objects.filter(intake__gt=0).count() > 50
    # Figures over the whole history are not all zero, so the comparison means something.
    everything = measure_values(
        viewer=world.leader,
        keys=CASE_MEASURES,
        scope=Scope(),
        period=period_parse("2024-01-01..2026-12-31"),
        as_of=datetime(2027, 1, 1, tzinfo=SHANGHAI),
    )
    for key in ("intake", "resolved", "late", "reopened", "on_spot", "merged", "rejected"):
        assert everything[key] > 0, key
    assert _compare(world, "maintained") > 300

    maintained = _rows()
    call_command("rollup", "rebuild", "--street", world.street.code)
    assert _rows() == maintained
    assert _compare(world, "rebuilt") > 300
    for member in CaseDayKey.objects.select_related("case"):
        key = day_key(member.case)
        assert key is not None and key.text == member.key


def test_rebuild_repairs_a_damaged_rollup(world):
    random_history(world, seed=7, count=40)
    CaseDay.objects.update(intake=0, resolved=0)
    args = {
        "viewer": world.leader,
        "keys": ["intake", "resolved"],
        "scope": Scope(),
        "period": period_parse("2024-01-01..2026-12-31"),
        "as_of": datetime(2027, 1, 1, tzinfo=SHANGHAI),
    }
    assert measure_values(source="rollup", **args) != measure_values(source="direct", **args)
    call_command("rollup", "rebuild")
    assert measure_values(source="rollup", **args) == measure_values(source="direct", **args)


def test_a_deferred_replay_leaves_the_rollup_to_one_rebuild_at_the_end(world):
    args = {
        "viewer": world.leader,
        "keys": ["intake", "resolved", "late"],
        "scope": Scope(),
        "period": period_parse("2024-01-01..2026-12-31"),
        "as_of": datetime(2027, 1, 1, tzinfo=SHANGHAI),
    }
    with rollup_deferred(street=world.street):
        random_history(world, seed=11, count=30)
        assert not CaseDay.objects.exists()
    assert CaseDay.objects.exists()
    assert measure_values(source="rollup", **args) == measure_values(source="direct", **args)
