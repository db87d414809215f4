"""Pieces that several flows share: the desk's queues, the usual inputs, and the rules of the
steps every closed loop has (accept, dispatch, claim, return, extend, supervise, merge…).

A flow module composes its declaration from these and from rules of its own; nothing here is
specific to one kind of matter.
"""

from decimal import Decimal
from typing import Any

from django.db.models import Q

from shanzhi.accounts.models import Unit
from shanzhi.areas.models import Area
from shanzhi.cases.errors import InvalidInput, TransitionRefused
from shanzhi.cases.models import (
    LEVEL_ORDER,
    Case,
    CaseAction,
    CaseType,
    HandlingLevel,
    Priority,
    Satisfaction,
)

from .spec import Guard, Input, InputKind, Queue, Step, Tell, TransitionSpec, cancel, extend, stop

# Queues ----------------------------------------------------------------------------------------

REPORTED = Queue("reported", "待受理")
ACCEPTED = Queue("accepted", "已受理待交办", ("accepted_at", "id"))
CALLBACK = Queue("resolved", "待回访", ("resolved_at", "id"))
EXTENSION = Queue("extension", "延期待审批", ("handle_due_at", "id"))
CLAIM = Queue("claim", "待签收")
HANDLING = Queue("handling", "办理中")

# Guards ----------------------------------------------------------------------------------------

EXTENSION_PENDING = Guard(
    label="有待审批的延期申请",
    refusal="没有待审批的延期申请",
    test=lambda case: case.extension_requested_until is not None,
    q=lambda: Q(extension_requested_until__isnull=False),
)
NO_EXTENSION_PENDING = Guard(
    label="没有待审批的延期申请",
    refusal="已有待审批的延期申请",
    test=lambda case: case.extension_requested_until is None,
    q=lambda: Q(extension_requested_until__isnull=True),
)

# Inputs ----------------------------------------------------------------------------------------

DISPATCHERS = frozenset({"dispatcher"})
DISPATCHERS_AND_LEADERS = frozenset({"dispatcher", "leader"})
UNIT_HANDLERS = frozenset({"unit_handler"})

CASE_TYPE = Input(
    "case_type", InputKind.CASE_TYPE, "事项类型", initial=lambda case: case.case_type_id
)
AREA = Input(
    "area",
    InputKind.AREA,
    "发生地",
    required=False,
    help="默认不变",
    initial=lambda case: case.area.code,
)
PRIORITY = Input(
    "priority",
    InputKind.CHOICE,
    "优先级(不选则按事项类型)",
    required=False,
    choices=tuple(Priority.choices),
)
REASON = Input("reason", InputKind.LONGTEXT, "理由")
NOTE = Input("note", InputKind.LONGTEXT, "意见", required=False)
REQUIRED_NOTE = Input("note", InputKind.LONGTEXT, "意见")
UNIT = Input("unit", InputKind.UNIT, "承办单位")
REQUIREMENT = Input("requirement", InputKind.LONGTEXT, "督办要求")
RESULT = Input("result", InputKind.LONGTEXT, "办理结果")
SATISFACTION = Input(
    "satisfaction", InputKind.CHOICE, "满意度", choices=tuple(Satisfaction.choices)
)
TARGET = Input("target", InputKind.CASE, "保留的事件编号")


def photos(label: str, *, required: bool) -> Input:
    return Input("photos", InputKind.PHOTOS, label, required=required)


def days(name: str, label: str, *, maximum: int) -> Input:
    return Input(
        name,
        InputKind.NUMBER,
        label,
        minimum=Decimal(1),
        maximum=Decimal(maximum),
        help=f"不超过{maximum}",
    )


# Rules every closed loop has ---------------------------------------------------------------------


def unit_check(case: Case, unit: Unit) -> None:
    """A unit a case may go to: active, and of the case's street (or above every street)."""
    if not unit.is_active:
        raise TransitionRefused(f"单位“{unit.name}”已停用")
    if unit.street_id is not None and unit.street_id != case.street_id:
        raise TransitionRefused(f"单位“{unit.name}”不属于本街道")


def check_unit(step: Step) -> None:
    unit = step.values.get(step.transition.assigns)
    if isinstance(unit, Unit):
        unit_check(step.case, unit)


def accept(step: Step) -> None:
    """Fix the case's type and place; a type of another flow hands the case over to that flow."""
    from shanzhi.cases.flows import flow_for_type

    case = step.case
    case_type: CaseType = step.values["case_type"]
    area: Area = step.values.get("area") or case.area
    if case_type.street_id != case.street_id or not case_type.is_active:
        raise TransitionRefused("该事项类型不属于本街道或已停用")
    if area.street_id != case.street_id:
        raise TransitionRefused("发生地不在本街道")
    case.case_type, case.area = case_type, area
    case.priority = step.values.get("priority") or case_type.priority
    flow = flow_for_type(case_type)
    if flow.key != step.flow.key:
        step.handover = flow.key


def claim(step: Step) -> None:
    step.case.assignee = step.actor


def release(step: Step) -> None:
    """The case leaves its unit (returned, escalated): nobody holds it now."""
    step.case.unit, step.case.assignee = None, None
    step.case.extension_requested_until, step.case.extension_reason = None, ""


def return_(step: Step) -> None:
    release(step)
    step.case.return_count += 1


def transfer_check(step: Step) -> None:
    check_unit(step)
    if step.case.unit_id == step.values["unit"].pk:
        raise TransitionRefused("转办的单位与当前承办单位相同")


def escalate(step: Step) -> None:
    case = step.case
    position = LEVEL_ORDER.index(HandlingLevel(case.level))
    if position == len(LEVEL_ORDER) - 1:
        raise TransitionRefused("事件已在区县层级,不能再上报")
    step.data["from_level"] = case.level
    case.level = LEVEL_ORDER[position + 1]
    step.data["to_level"] = case.level
    release(step)


def request_extension(step: Step) -> None:
    due_at = step.values["due_at"]
    case = step.case
    if case.handle_due_at is not None and due_at <= case.handle_due_at:
        raise TransitionRefused("申请延期的日期须晚于当前办理时限")
    case.extension_requested_until, case.extension_reason = due_at, step.values["reason"]
    step.data["due_at"] = due_at.isoformat()


def approve_extension(step: Step) -> None:
    """The requested date becomes the deadline (the clock operation reads it as `due_at`)."""
    case = step.case
    requested = case.extension_requested_until
    if requested is None:
        raise TransitionRefused("没有待审批的延期申请")
    step.data["from_due_at"] = case.handle_due_at.isoformat() if case.handle_due_at else None
    step.data["due_at"] = requested.isoformat()
    step.values["due_at"] = requested
    case.extension_count += 1
    case.extension_requested_until, case.extension_reason = None, ""


def deny_extension(step: Step) -> None:
    step.case.extension_requested_until, step.case.extension_reason = None, ""


def supervise(step: Step) -> None:
    step.case.supervise_count += 1
    step.data["requirement"] = step.values["requirement"]
    if step.values.get("auto_deadline"):
        step.data["auto_deadline"] = step.values["auto_deadline"]


def reopen(step: Step) -> None:
    """Taken up again: back to the handler who resolved it (while they are still in the unit),
    and no longer carrying the verdict that reopened it (the log keeps that as history)."""
    case = step.case
    case.reopen_count += 1
    case.assignee, case.claimed_at = _resolver(case), None
    case.satisfaction = ""


def _resolver(case: Case) -> Any:
    """Whoever took the case into its present (resolved) state, if they belong to its unit."""
    if case.unit_id is None:
        return None
    row = (
        CaseAction.objects.filter(case=case, to_state=case.state, actor__unit_id=case.unit_id)
        .exclude(from_state=case.state)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )
    return row.actor if row is not None else None


def merge(step: Step) -> None:
    from shanzhi.cases.flows import states_of

    case = step.case
    kept: Case = step.values["target"]
    if kept.pk == case.pk:
        raise TransitionRefused("不能把事件合并到它自己")
    if kept.street_id != case.street_id or kept.state not in states_of("open", "resolved"):
        raise TransitionRefused("只能合并到本街道尚未归档的事件")
    if kept.merged_into_id is not None:
        raise TransitionRefused("保留的事件本身已被合并")
    case.merged_into = kept
    step.data["kept"] = kept.number


def unsatisfied(step: Step) -> bool:
    return step.values.get("satisfaction") == Satisfaction.UNSATISFIED


def reopen_inputs(step: Step) -> dict[str, Any]:
    note = step.values.get("note") or step.values.get("comment") or ""
    return {"reason": f"评价不满意,自动重办{(':' + note) if note else ''}"}


def has_unit(step: Step) -> bool:
    return step.case.unit_id is not None


def no_unit(step: Step) -> bool:
    return step.case.unit_id is None


def future_date(name: str, label: str) -> Any:
    """A check that the date input `name` lies after the acting day."""
    from django.utils import timezone

    def check(step: Step) -> None:
        value = step.values.get(name)
        if value is not None and value <= timezone.localdate(step.moment):
            raise InvalidInput(f"{label}须晚于今天")

    return check


def link_record(name: str) -> Any:
    """An effect that points the case at the registry record the input `name` found."""

    def effect(step: Step) -> None:
        record = step.values.get(name)
        if record is None:
            return
        from shanzhi.registry.services import case_link_add

        case_link_add(actor=step.actor, case=step.case, record=record)
        step.data[name] = str(record)

    return effect


def earlier(step: Step, action: str) -> CaseAction | None:
    """The latest log row of `action` on the case so far."""
    return (
        CaseAction.objects.filter(case=step.case, action=action)
        .order_by("-created_at", "-id")
        .first()
    )


# Steps most flows share, declared once --------------------------------------------------------


def supervise_step(sources: tuple[str, ...]) -> TransitionSpec:
    return TransitionSpec(
        "supervise",
        "督办",
        sources,
        None,
        frozenset({"leader", "system"}),
        inputs=(REQUIREMENT,),
        effect=supervise,
        tell=Tell(("unit",), "督办"),
        summary="领导督办,或办理时限届满时系统自动督办;计入当时的承办单位。",
    )


def merge_step(sources: tuple[str, ...]) -> TransitionSpec:
    return TransitionSpec(
        "merge",
        "合并",
        sources,
        "merged",
        DISPATCHERS,
        inputs=(TARGET,),
        effect=merge,
        public="已合并办理",
    )


def claim_step(sources: tuple[str, ...], target: str) -> TransitionSpec:
    return TransitionSpec(
        "claim",
        "签收",
        sources,
        target,
        UNIT_HANDLERS,
        effect=claim,
        clocks=(stop("claim", record="claim_on_time"),),
        marks=("claimed",),
        public="承办单位已签收,正在处置",
    )


def return_step(sources: tuple[str, ...], target: str) -> TransitionSpec:
    return TransitionSpec(
        "return",
        "退回",
        sources,
        target,
        UNIT_HANDLERS,
        inputs=(REASON,),
        effect=return_,
        clocks=(cancel("claim"), cancel("handle")),
        tell=Tell(("dispatchers",), "被退回"),
    )


def reject_step(
    label: str = "不予受理",
    *,
    who: frozenset[str] = DISPATCHERS,
    public: str = "",
    summary: str = "",
) -> TransitionSpec:
    """Not taken up, with the reason the reporter is told; every flow names it `reject`."""
    return TransitionSpec(
        "reject",
        label,
        ("reported",),
        "rejected",
        who,
        inputs=(REASON,),
        public=public or label,
        public_note=True,
        summary=summary,
    )


def request_extension_step(state: str) -> TransitionSpec:
    return TransitionSpec(
        "request_extension",
        "申请延期",
        (state,),
        None,
        UNIT_HANDLERS,
        inputs=(Input("due_at", InputKind.DATETIME, "延期至"), REASON),
        guard=NO_EXTENSION_PENDING,
        effect=request_extension,
        tell=Tell(("dispatchers",), "申请延期"),
    )


def approve_extension_step(state: str, clock: str = "handle") -> TransitionSpec:
    return TransitionSpec(
        "approve_extension",
        "批准延期",
        (state,),
        None,
        DISPATCHERS_AND_LEADERS,
        inputs=(NOTE,),
        guard=EXTENSION_PENDING,
        effect=approve_extension,
        derives=("due_at",),
        clocks=(extend(clock, due="due_at"),),
        tell=Tell(("unit",), "延期已批准"),
    )


def deny_extension_step(state: str) -> TransitionSpec:
    return TransitionSpec(
        "deny_extension",
        "驳回延期",
        (state,),
        None,
        DISPATCHERS_AND_LEADERS,
        inputs=(REQUIRED_NOTE,),
        guard=EXTENSION_PENDING,
        effect=deny_extension,
        tell=Tell(("unit",), "延期被驳回"),
    )


def redispatch(step: Step) -> None:
    """重办: back to the unit that had it, with its clocks started anew; a case no unit held
    (resolved on the spot) goes to the desk, accepted from now if it never was."""
    reopen(step)
    if step.case.unit_id is not None:
        step.case.dispatched_at = step.moment
    else:
        step.case.accepted_at = step.case.accepted_at or step.moment


def within(clock_name: str, refusal: str) -> Any:
    """A check that the case's clock `clock_name` has not run out (a statutory window)."""

    def check(step: Step) -> None:
        from shanzhi.cases.models import CaseClock

        row = CaseClock.objects.filter(case=step.case, name=clock_name).first()
        if row is None or not row.running or row.due_at is None or step.moment > row.due_at:
            raise TransitionRefused(refusal)

    return check


def not_after_today(name: str, label: str) -> Any:
    from django.utils import timezone

    def check(step: Step) -> None:
        value = step.values.get(name)
        if value is not None and value > timezone.localdate(step.moment):
            raise InvalidInput(f"{label}不能晚于今天")

    return check


def checks(*rules: Any) -> Any:
    """Several checks as one, run in order."""

    def check(step: Step) -> None:
        for rule in rules:
            rule(step)

    return check
