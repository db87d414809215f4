"""A year of demo cases, replayed through the case services: true logs, believable figures."""

from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction

from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.selectors import Scope, figures_compute
from shanzhi.areas.models import Area
from shanzhi.cases.flows import states_of
from shanzhi.cases.models import Case, CaseAction, Source, State
from shanzhi.demo.cases import case_year_report
from shanzhi.reports.compose import operator

from .factories import Rollback

# The module's tests read what the fixture gathered; the mark makes pytest-django set up the test
# database before the module fixture writes to it.
pytestmark = pytest.mark.django_db
YEAR = 2025
FLOW_FIGURES = [
    "hazards",
    "major_hazards",
    "hazard_rate",
    "petitions",
    "petition_resolution_rate",
    "dispute_rate",
    "enterprise_appeals",
]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Year:
    output: str
    cases: int
    fingerprint: list[tuple[str, str, int]]
    without_actions: int
    broken_logs: list[str]
    outside_year: int
    sources: Counter
    on_spot: int
    overdue_resolved: int
    reopened: int
    rejected: int
    merged: int
    still_open: int
    satisfaction: Decimal
    first_satisfaction: Decimal
    strict_satisfaction: Decimal
    unsatisfied_reopened: int
    flows: Counter
    figures: dict[str, Decimal | None]


def _broken_logs() -> list[str]:
    """Cases whose log does not replay: a row not starting where the previous one ended, or a
    last state that is not the case's."""
    states = dict(Case.objects.values_list("pk", "state"))
    numbers = dict(Case.objects.values_list("pk", "number"))
    broken, previous = [], {}
    rows = CaseAction.objects.order_by("case_id", "created_at", "id").values_list(
        "case_id", "from_state", "to_state"
    )
    for case_id, from_state, to_state in rows:
        if from_state != previous.get(case_id, ""):
            broken.append(numbers[case_id])
        previous[case_id] = to_state
    broken += [numbers[pk] for pk, state in states.items() if previous.get(pk) != state]
    return broken


def _generate_and_roll_back() -> Year:
    with suppress(Rollback), transaction.atomic():
        out = StringIO()
        call_command("demo", "--scale", "small", "--seed", "3", "--year", str(YEAR), stdout=out)
        street = Area.objects.get(code="330109001")
        report = case_year_report(street=street, year=YEAR)
        cases = Case.objects.filter(street=street)
        year = Year(
            output=out.getvalue(),
            cases=cases.count(),
            fingerprint=[
                (c.number, c.state, c.actions.count())
                for c in cases.order_by("number").prefetch_related("actions")
            ],
            without_actions=cases.filter(actions__isnull=True).count(),
            broken_logs=_broken_logs(),
            outside_year=CaseAction.objects.exclude(
                created_at__gte=datetime(YEAR, 1, 1, tzinfo=SHANGHAI),
                created_at__lt=datetime(YEAR + 1, 1, 1, tzinfo=SHANGHAI),
            ).count(),
            sources=Counter(cases.values_list("source", flat=True)),
            on_spot=cases.filter(on_spot=True).count(),
            overdue_resolved=CaseAction.objects.filter(action="resolve", data__on_time=False)
            .values("case")
            .distinct()
            .count(),
            reopened=cases.filter(reopen_count__gt=0).count(),
            rejected=cases.filter(state=State.REJECTED).count(),
            merged=cases.filter(state=State.MERGED).count(),
            still_open=cases.filter(state__in=states_of("open", "resolved")).count(),
            satisfaction=report.figures["satisfaction_rate"].value,
            first_satisfaction=report.figures["first_satisfaction_rate"].value,
            strict_satisfaction=report.figures["strict_satisfaction_rate"].value,
            unsatisfied_reopened=report.figures["unsatisfied_reopened"].numerator,
            flows=Counter(cases.values_list("flow", flat=True)),
            figures={
                key: figure.value
                for key, figure in figures_compute(
                    viewer=operator(),
                    kpis=FLOW_FIGURES,
                    scope=Scope(area=street),
                    period=period_parse(str(YEAR)),
                ).items()
            },
        )
        raise Rollback
    return year


@pytest.fixture(scope="module")
def years(django_db_setup, django_db_blocker) -> tuple[Year, Year]:
    """The same small year made twice from the same seed, each rolled back afterwards."""
    with django_db_blocker.unblock():
        assert not Area.objects.exists()  # an empty test database, never the real one
        first = _generate_and_roll_back()
        second = _generate_and_roll_back()
        assert not Case.objects.exists()
    return first, second


def test_a_small_year_has_hundreds_of_cases_and_prints_its_summary(years):
    year, _ = years
    assert 300 <= year.cases <= 600
    assert f"已生成{YEAR}年事件 {year.cases} 件" in year.output
    assert "网格自办率" in year.output and "首次满意率" in year.output and "超期" in year.output


def test_every_case_has_a_log_that_replays_to_its_state(years):
    year, _ = years
    assert year.without_actions == 0
    assert year.broken_logs == []
    assert year.outside_year == 0  # nothing happens after the year it replays


def test_every_channel_brings_cases(years):
    year, _ = years
    channels = {s for s in Source.values if s != Source.API}
    assert set(year.sources) == channels
    assert year.sources[Source.GRID_PATROL] > year.sources[Source.RESIDENT]
    assert year.sources[Source.HOTLINE] > year.sources[Source.PETITION]


def test_the_year_has_its_share_of_every_outcome(years):
    year, _ = years
    assert year.on_spot >= 0.05 * year.cases
    assert year.overdue_resolved > 0
    assert year.reopened > 0
    assert year.rejected > 0 and year.merged > 0
    assert 0 < year.still_open < 0.1 * year.cases  # the last weeks' cases


def test_satisfaction_lands_where_the_reports_put_it(years):
    year, _ = years
    # By each case's last rating, after the 不满意 ones were handled again; the first callback's
    # verdicts are lower by exactly those, and the summary prints the figures' own values.
    assert 97 <= year.satisfaction <= 100
    assert 94 <= year.first_satisfaction < year.satisfaction
    assert year.unsatisfied_reopened > 0
    assert 75 <= year.strict_satisfaction <= 92
    assert (
        f"满意率 {year.satisfaction:.2f}%(首次满意率 {year.first_satisfaction:.2f}%" in year.output
    )


def test_the_same_seed_gives_the_same_year(years):
    first, second = years
    assert first.fingerprint == second.fingerprint
    assert len(first.fingerprint) == first.cases


def test_hazards_petitions_disputes_and_appeals_run_their_own_flows(years):
    year, _ = years
    assert set(year.flows) == {"general", "hazard", "petition", "dispute", "enterprise"}
    f = year.figures
    assert f["hazards"] and f["hazards"] >= 15
    # About a third of the hazards are 重大 (575 of 1,726), and nearly all are signed off.
    assert f["major_hazards"] and 0.15 <= f["major_hazards"] / f["hazards"] <= 0.5
    assert f["hazard_rate"] is not None and f["hazard_rate"] >= 85
    assert f["petitions"] and f["petition_resolution_rate"] is not None
    assert f["petition_resolution_rate"] >= 80
    # Disputes: 94.7% settled by mediation in the seeds.
    assert f["dispute_rate"] is not None and 75 <= f["dispute_rate"] <= 100
    assert f["enterprise_appeals"] and f["enterprise_appeals"] > 0
