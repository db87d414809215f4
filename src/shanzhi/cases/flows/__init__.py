"""Every flow the engine runs, and what pages, the API, queues and figures derive from them.

A flow is one declaration (see `spec`); this registry lists them and checks, once at import, that
each is complete and consistent, so a flaw shows at start-up rather than on a case. A state key
means the same kind of thing (open, resolved, closed…) in every flow, and an action name takes
the same inputs in every flow that has it, so that queues, figures and the API can speak of them
without naming a flow.
"""

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from . import dispute, enterprise, general, hazard, petition, source
from .spec import ACTOR_LABELS, AUDIENCE_LABELS, MARKS, Flow, InputKind, Kind, Queue, TransitionSpec

if TYPE_CHECKING:
    from shanzhi.cases.models import Case, CaseType

GENERAL = general.FLOW.key
FLOWS: dict[str, Flow] = {
    flow.key: flow
    for flow in (
        general.FLOW,
        hazard.FLOW,
        petition.FLOW,
        dispute.FLOW,
        enterprise.FLOW,
        source.FLOW,
    )
}
# The intake's own log row is not a transition of any flow.
REPORT_ACTION = "report"
REPORT_LABEL = "上报"
# Paths under /cases/<number>/ (and /api/v1/cases/{number}/) that are not actions.
RESERVED_ACTIONS = frozenset({"act", "contact", "links", "documents", "photos", REPORT_ACTION})


class FlowError(Exception):
    """A flow declaration is incomplete or contradicts itself."""


def _check(flow: Flow) -> None:
    states = flow.state_by_key
    if flow.initial not in states:
        raise FlowError(f"{flow.key}: 初始状态 {flow.initial} 未声明")
    for state in flow.states:
        for name in state.clocks:
            if name not in flow.clock_by_name:
                raise FlowError(f"{flow.key}.{state.key}: 时限 {name} 未声明")
        for wait in state.waits:
            if wait.actor not in ACTOR_LABELS:
                raise FlowError(f"{flow.key}.{state.key}: 未知的执行者 {wait.actor}")
    for t in flow.transitions:
        where = f"{flow.key}.{t.action}"
        if t.action in RESERVED_ACTIONS:
            raise FlowError(f"{where}: 动作名被占用")
        targets = [t.target] if t.target else []
        targets += [branch.to for branch in t.branches]
        for key in [*t.sources, *targets]:
            if key not in states:
                raise FlowError(f"{where}: 状态 {key} 未声明")
        for kind in t.who:
            if kind not in ACTOR_LABELS:
                raise FlowError(f"{where}: 未知的执行者 {kind}")
        for mark in t.marks:
            if mark not in MARKS:
                raise FlowError(f"{where}: 未知的时间节点 {mark}")
        if t.tell is not None:
            for audience in t.tell.who:
                if audience not in AUDIENCE_LABELS:
                    raise FlowError(f"{where}: 未知的通知对象 {audience}")
        names = [spec.name for spec in t.inputs]
        if len(names) != len(set(names)):
            raise FlowError(f"{where}: 输入重名")
        for name, kinds in (
            (t.assigns, {InputKind.UNIT}),
            (t.resolution, {InputKind.TEXT, InputKind.LONGTEXT}),
            (t.rates, {InputKind.CHOICE}),
        ):
            if name and (t.input(name) is None or t.input(name).kind not in kinds):  # type: ignore[union-attr]
                raise FlowError(f"{where}: 输入 {name} 未声明或类型不符")
        for op in t.clocks:
            if op.clock not in flow.clock_by_name:
                raise FlowError(f"{where}: 时限 {op.clock} 未声明")
            for name in (op.due, op.since, op.by):
                if name and t.input(name) is None and name not in t.derives:
                    raise FlowError(f"{where}: 时限操作引用的输入 {name} 未声明")
        if t.then is not None and flow.transition(t.then.action) is None:
            raise FlowError(f"{where}: 后续动作 {t.then.action} 未声明")
    for clock in flow.clocks:
        if clock.expiry is not None:
            expiry = flow.transition(clock.expiry.action)
            if expiry is None or "system" not in expiry.who:
                raise FlowError(f"{flow.key}.{clock.name}: 到期动作须为系统可执行的动作")
    for document in flow.documents:
        if flow.transition(document.after) is None:
            raise FlowError(f"{flow.key}.{document.key}: 文书所属动作未声明")


def _check_all() -> None:
    kinds: dict[str, Kind] = {}
    shapes: dict[str, tuple[Any, ...]] = {}
    for flow in FLOWS.values():
        _check(flow)
        for state in flow.states:
            if kinds.setdefault(state.key, state.kind) != state.kind:
                raise FlowError(f"状态 {state.key} 在各流程中的性质不一致")
        for t in flow.transitions:
            shape = tuple((s.name, s.kind, s.required, s.choices) for s in t.inputs)
            if shapes.setdefault(t.action, shape) != shape:
                raise FlowError(f"动作 {t.action} 在各流程中的输入不一致")


_check_all()


def flow_of(case: "Case") -> Flow:
    """The flow a case runs on (the one it was created or handed over under)."""
    try:
        return FLOWS[case.flow]
    except KeyError:
        raise FlowError(f"事件 {case.number} 的流程 {case.flow} 不存在") from None


def flow_for_type(case_type: "CaseType | None") -> Flow:
    """The flow a case of this type runs on; untyped reports start on the general flow."""
    if case_type is None:
        return FLOWS[GENERAL]
    return FLOWS.get(case_type.workflow, FLOWS[GENERAL])


def state_label(flow_key: str, state: str) -> str:
    flow = FLOWS.get(flow_key)
    return flow.state_label(state) if flow is not None else state


def action_label(flow_key: str, action: str, data: dict[str, Any] | None = None) -> str:
    """A log row's name: the transition's label; a hand-over says where the case went."""
    if action == REPORT_ACTION:
        return REPORT_LABEL
    flow = FLOWS.get(flow_key)
    transition = flow.transition(action) if flow is not None else None
    label = transition.label if transition is not None else action
    handed = (data or {}).get("flow")
    if handed and handed in FLOWS:
        label = f"{label}(转入{FLOWS[handed].label})"
    return label


def state_choices() -> list[tuple[str, str]]:
    """Every state key with its name(s), for a filter over cases of all flows."""
    labels: dict[str, list[str]] = {}
    for flow in FLOWS.values():
        for state in flow.states:
            names = labels.setdefault(state.key, [])
            if state.label not in names:
                names.append(state.label)
    return [(key, "/".join(names)) for key, names in labels.items()]


def flow_choices() -> list[tuple[str, str]]:
    return [(flow.key, flow.label) for flow in FLOWS.values()]


@cache
def states_of(*kinds: str) -> frozenset[str]:
    """The state keys of these kinds, across every flow."""
    wanted = {Kind(kind) for kind in kinds}
    return frozenset(s.key for flow in FLOWS.values() for s in flow.states if s.kind in wanted)


def running_q(mirror: str = "handle") -> Q:
    """Cases whose handling (or claim) clock runs now: in a state where that clock runs."""
    condition = Q(pk__in=[])
    for flow in FLOWS.values():
        clock = flow.mirror(mirror)
        if clock is not None and flow.running(clock.name):
            condition |= Q(flow=flow.key, state__in=flow.running(clock.name))
    return condition


def is_running(case: "Case", mirror: str = "handle") -> bool:
    """Whether the case's handling (or claim) clock runs now."""
    clock = flow_of(case).mirror(mirror)
    return clock is not None and clock_runs(case, clock.name)


def clock_runs(case: "Case", name: str) -> bool:
    return name in flow_of(case).state(case.state).clocks


def actions(names: Iterable[str] | None = None) -> dict[str, TransitionSpec]:
    """One transition per action name across the flows (they share their inputs and label)."""
    found: dict[str, TransitionSpec] = {}
    for flow in FLOWS.values():
        for t in flow.transitions:
            found.setdefault(t.action, t)
    if names is not None:
        return {name: found[name] for name in names}
    return found


def queues_for(actor: str) -> list[Queue]:
    """The queues `actor` works through, in the order the flows declare them."""
    seen: dict[str, Queue] = {}
    for flow in FLOWS.values():
        for state in flow.states:
            for wait in state.waits:
                if wait.actor == actor:
                    seen.setdefault(wait.queue.key, wait.queue)
    return list(seen.values())


def waiting_q(actor: str, queue: str | None = None) -> Q:
    """Cases waiting for `actor` (in `queue`, when given), across every flow."""
    condition = Q(pk__in=[])
    for flow in FLOWS.values():
        for state in flow.states:
            for wait in state.waits:
                if wait.actor != actor or (queue is not None and wait.queue.key != queue):
                    continue
                here = Q(flow=flow.key, state=state.key)
                if wait.guard is not None:
                    here &= wait.guard.q()
                condition |= here
    return condition


def has_callback(flow: Flow) -> bool:
    """Whether the flow asks the reporter (or the enterprise) for a verdict."""
    return any(t.rates for t in flow.transitions)


def flows_with_callback() -> list[str]:
    return [flow.key for flow in FLOWS.values() if has_callback(flow)]


def flows_with_claim() -> list[str]:
    """Flows where a unit claims (签收) what it is given, against a claim limit."""
    return [flow.key for flow in FLOWS.values() if flow.mirror("claim") is not None]


def public_photo_actions(flow_key: str) -> frozenset[str]:
    """The steps whose photos a tracking link shows: the report, and the results told to the
    reporter."""
    flow = FLOWS.get(flow_key)
    shown = {REPORT_ACTION}
    if flow is not None:
        shown |= {t.action for t in flow.transitions if t.public_note and t.photo_input}
    return frozenset(shown)
