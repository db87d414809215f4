"""The engine over every flow: random walks with the invariants checked after each step, the
declarations' own consistency, hand-over between flows, clocks of every kind, and the docs.

The walks are the property test: each flow is walked by seeded random sequences of permitted
and forbidden actions (wrong state, wrong flow, wrong actor), with inputs made from the
declaration; after every step the case must agree with its log and its clocks with its state,
and a refused step must have changed nothing.
"""

import random
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from shanzhi import clock
from shanzhi.cases import services
from shanzhi.cases.flows import FLOWS, FlowError, _check, flow_of
from shanzhi.cases.flows.docs import flows_markdown
from shanzhi.cases.flows.spec import Kind
from shanzhi.cases.models import Case, CaseAction, CaseClock

from .case_factories import case_type, police
from .flow_walk import Walker

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
REPO = Path(__file__).resolve().parent.parent


def _snapshot(case: Case) -> tuple:
    case.refresh_from_db()
    clocks = tuple(
        CaseClock.objects.filter(case=case)
        .order_by("name")
        .values_list("name", "due_at", "stopped_at", "suspended_at", "met")
    )
    return (
        case.state,
        case.flow,
        case.version,
        case.unit_id,
        case.extra,
        clocks,
        CaseAction.objects.filter(case=case).count(),
    )


def _assert_consistent(case: Case) -> None:
    case.refresh_from_db()
    rows = list(case.actions.order_by("created_at", "id"))
    assert rows[0].action == "report"
    assert case.state == rows[-1].to_state
    # The report is version 1; every transition adds one.
    assert case.version == 1 + len(rows) - 1
    flow = flow_of(case)
    state = flow.state(case.state)
    stored = {row.name: row for row in CaseClock.objects.filter(case=case)}
    for name, spec in flow.clock_by_name.items():
        row = stored.get(name)
        running = row is not None and row.running
        assert running == (name in state.clocks), (flow.key, case.state, name)
        if running:
            assert row.due_at is not None and row.due_soon_at is not None
            assert row.started_at <= row.due_soon_at <= row.due_at
            if spec.mirror == "handle":
                assert case.handle_due_at == row.due_at
            if spec.mirror == "claim":
                assert case.claim_due_at == row.due_at
    if state.kind == Kind.CLOSED:
        assert case.archived_at is not None


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_random_walks_keep_every_case_consistent_with_its_log_and_clocks(world, flow):
    rng = random.Random(f"walk:{flow}")  # noqa: S311 - reproducible walks, not secrets
    walker = Walker(world, rng)
    taken = refused = 0
    reached: set[str] = set()
    moment = datetime(2025, 3, 3, 9, 30, tzinfo=SHANGHAI)
    for _ in range(6):
        with clock.acting_at(moment):
            case = walker.report(flow=None if flow == "general" else flow)
        for _ in range(14):
            moment += timedelta(hours=rng.uniform(1, 60))
            before = _snapshot(case)
            with clock.acting_at(moment):
                case, walk = walker.step(case, stray=0.3)
            if walk.taken:
                taken += 1
            else:
                refused += 1
                assert walk.refusal and any("\u4e00" <= ch <= "\u9fff" for ch in walk.refusal)
                assert _snapshot(case) == before, walk
            _assert_consistent(case)
            reached.add(case.state)
    assert taken > 20 and refused > 5
    # The walks get past the first step into the flow's own states.
    assert len(reached) >= 3, reached


def test_an_incomplete_declaration_is_refused_at_start():
    general = FLOWS["general"]
    with pytest.raises(FlowError, match="初始状态"):
        _check(replace(general, initial="nowhere"))
    typo = replace(
        general,
        transitions=(replace(general.transitions[0], sources=("reportd",)),),
    )
    with pytest.raises(FlowError, match="reportd"):
        _check(typo)


def test_a_case_keeps_its_flow_and_an_accept_hands_it_over(world):
    case, _ = services.case_report(
        area=world.microgrid, source="hotline", actor=world.dispatcher, description="楼道堆满纸箱"
    )
    assert case.flow == "general"
    case = services.case_accept(
        case=case, actor=world.dispatcher, case_type=case_type(world, "AQ-XF-02")
    )
    assert (case.flow, case.state, case.accepted_at) == ("hazard", "reported", None)
    row = case.actions.latest("id")
    assert row.label == "受理(转入安全隐患)"
    assert (row.flow, row.to_state_label) == ("general", "待核实")
    # The general flow's steps are no longer the case's.
    with pytest.raises(services.TransitionRefused, match="“安全隐患”中没有该操作"):
        services.case_dispatch(case=case, actor=world.dispatcher, unit=police(world))
    # A type's flow cannot change once it has cases.
    from shanzhi.cases.catalogue_admin import case_type_check
    from shanzhi.errors import DomainError

    hazard_type = case.case_type
    with pytest.raises(DomainError, match="不能改换流程"):
        case_type_check(
            actor=world.admin,
            street=world.street,
            category=hazard_type.category,
            default_unit=None,
            case_type=hazard_type,
            workflow="general",
        )


def test_the_generated_docs_are_current():
    path = REPO / "docs" / "flows.md"
    assert path.read_text(encoding="utf-8") == flows_markdown(), (
        "docs/flows.md 已过期:运行 shanzhi flows --write docs/flows.md"
    )
    call_command("flows", "--check", str(path))
    text = path.read_text(encoding="utf-8")
    for flow in FLOWS.values():
        assert f"## {flow.label}(`{flow.key}`)" in text
        for transition in flow.transitions:
            assert f"`{transition.action}`" in text


def test_the_figures_doc_is_current():
    call_command("figures", "--check", str(REPO / "docs" / "figures.md"))


def test_the_migration_gives_running_cases_of_before_their_clock_rows(world):
    from importlib import import_module

    from django.apps import apps

    from .case_factories import make_case

    migration = import_module("shanzhi.cases.migrations.0005_flows_and_clocks")
    dispatched, working = make_case(world, "dispatched"), make_case(world, "in_progress")
    resolved = make_case(world, "resolved")
    CaseClock.objects.all().delete()  # as they were before the flows had clocks
    migration.clocks_of_running_cases(apps, None)
    rows = {(row.case_id, row.name): row for row in CaseClock.objects.order_by("case_id", "name")}
    assert set(rows) == {
        (dispatched.pk, "claim"),
        (dispatched.pk, "handle"),
        (working.pk, "handle"),
    }
    assert rows[(working.pk, "handle")].due_at == working.handle_due_at
    assert rows[(dispatched.pk, "claim")].due_at == dispatched.claim_due_at
    assert resolved.flow == "general" and all(row.running for row in rows.values())
    # The engine takes them on from there.
    done = services.case_claim(case=dispatched, actor=world.handler)
    assert done.actions.latest("id").data["claim_on_time"] is True
