"""The one engine that runs every flow (shanzhi.cases.flows).

`perform` locks the case, checks its version, its flow, its state, the transition's guard, the
actor (through the policy module) and the inputs the transition declares; then it keeps the facts,
applies the transition's rule, its branches, the moments it marks and what it does to the clocks,
bumps the version and appends the action-log row — all in one transaction. Clocks count working
days, working hours, calendar days or hours, can be suspended and resumed, and take per-case
deadlines; each is one `CaseClock` row, the handling and claim clocks also shown on the case.
"""

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from shanzhi import clock, policy
from shanzhi.analytics.rollup import rollup_case_refresh
from shanzhi.errors import PermissionDenied
from shanzhi.workdays.calendar import WorkCalendar, workday_end

from .errors import CaseConflict, InvalidInput, MissingInput, TransitionRefused
from .flows import FLOWS, flow_of
from .flows.spec import (
    MARKS,
    ClockOp,
    ClockSpec,
    Flow,
    Input,
    InputKind,
    Kind,
    Op,
    Per,
    Span,
    Step,
    TransitionSpec,
)
from .models import Attachment, Case, CaseAction, CaseClock
from .tasks import notifications_send

__all__ = ["CaseConflict", "InvalidInput", "MissingInput", "TransitionRefused", "perform"]

# Values the engine itself passes to a transition besides its declared inputs.
ENGINE_VALUES = frozenset({"auto_deadline"})
TEXT_KINDS = frozenset({InputKind.TEXT, InputKind.LONGTEXT})
EMPTY: tuple[Any, ...] = (None, "", [], ())


def due_soon_share() -> float:
    """The share of a clock's time left under which a case counts as due soon."""
    return float(getattr(settings, "SHANZHI_DUE_SOON_SHARE", 0.2))


# Inputs ----------------------------------------------------------------------------------------


def _normalised(kind: InputKind, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
    if kind == InputKind.LINES and isinstance(value, str):
        value = [line.strip() for line in value.splitlines() if line.strip()]
    if kind == InputKind.NUMBER and isinstance(value, int | float | str) and value != "":
        try:
            value = Decimal(str(value))
        except InvalidOperation as exc:
            raise InvalidInput("请填写数字") from exc
    return value


def inputs_check(
    transition: TransitionSpec, values: dict[str, Any], attachments: Sequence[UploadedFile]
) -> dict[str, Any]:
    """The declared inputs, normalised and checked; missing required ones are named together."""
    declared = {spec.name for spec in transition.inputs} | ENGINE_VALUES
    unknown = sorted(set(values) - declared)
    if unknown:
        raise TypeError(f"“{transition.label}”没有输入 {', '.join(unknown)}")
    checked: dict[str, Any] = {name: values[name] for name in ENGINE_VALUES if name in values}
    missing = []
    for spec in transition.inputs:
        if spec.kind == InputKind.PHOTOS:
            value: Any = list(attachments)
        else:
            value = _normalised(spec.kind, values.get(spec.name))
        if value in EMPTY:
            if spec.required:
                missing.append(spec.label)
            continue
        _input_valid(spec, value)
        checked[spec.name] = value
    if missing:
        raise MissingInput(f"{transition.label}需要填写:{'、'.join(missing)}")
    return checked


def _input_valid(spec: Input, value: Any) -> None:
    kind, label = spec.kind, spec.label
    if kind in TEXT_KINDS:
        if not isinstance(value, str):
            raise InvalidInput(f"{label}须为文字")
        if len(value) > spec.max_length:
            raise InvalidInput(f"{label}不能超过{spec.max_length}字")
    elif kind == InputKind.CHOICE:
        if value not in spec.choice_values:
            labels = "、".join(text for _, text in spec.choices)
            raise InvalidInput(f"{label}只能是:{labels}")
    elif kind == InputKind.LINES:
        if spec.max_items and len(value) > spec.max_items:
            raise InvalidInput(f"{label}最多{spec.max_items}项")
        if any(len(line) > spec.max_length for line in value):
            raise InvalidInput(f"{label}每项不能超过{spec.max_length}字")
    elif kind == InputKind.NUMBER:
        if not isinstance(value, Decimal):
            raise InvalidInput(f"{label}须为数字")
        if spec.minimum is not None and value < spec.minimum:
            raise InvalidInput(f"{label}不能小于{spec.minimum}")
        if spec.maximum is not None and value > spec.maximum:
            raise InvalidInput(f"{label}不能大于{spec.maximum}")
    elif kind == InputKind.DATE:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidInput(f"{label}须为日期")
    elif kind == InputKind.DATETIME and (
        not isinstance(value, datetime) or timezone.is_naive(value)
    ):
        raise InvalidInput(f"{label}须为带时区的时间")


def _recorded(kind: InputKind, value: Any) -> Any:
    """An input as the action log keeps it (JSON): references by their code or name."""
    if kind == InputKind.UNIT:
        return value.name
    if kind == InputKind.CASE_TYPE:
        return value.code
    if kind == InputKind.AREA:
        return value.code
    if kind == InputKind.CASE:
        return value.number
    if kind == InputKind.RECORD:
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# Clocks ----------------------------------------------------------------------------------------


def _lapse(calendar: WorkCalendar, since: datetime, span: Span) -> datetime:
    """When `span` counted from `since` runs out.

    Working days end at the close of the last one; calendar days too, and a period whose last
    day is a holiday runs to the end of the next working day (期间届满日为节假日的顺延).
    """
    if span.per == Per.WORKDAYS:
        return workday_end(calendar.add_workdays(timezone.localdate(since), span.amount))
    if span.per == Per.WORK_HOURS:
        return calendar.add_work_hours(since, span.amount)
    if span.per == Per.DAYS:
        last = timezone.localdate(since) + timedelta(days=span.amount)
        while not calendar.is_workday(last):
            last += timedelta(days=1)
        return workday_end(last)
    return since + timedelta(hours=span.amount)


def _moment_of(value: Any) -> datetime:
    """A date input as the end of that day (a deadline), a datetime as it is."""
    if isinstance(value, datetime):
        return value
    return workday_end(value)


def _start_of(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=timezone.get_default_timezone())


def _due_soon(started: datetime, due: datetime) -> datetime:
    return due - timedelta(seconds=(due - started).total_seconds() * due_soon_share())


class _Clocks:
    """The case's clock rows during one transition, read once and written as they change."""

    def __init__(self, case: Case, flow: Flow) -> None:
        self.case, self.flow = case, flow
        self.rows = {row.name: row for row in CaseClock.objects.filter(case=case)}
        self.calendar = WorkCalendar()

    def _row(self, name: str) -> CaseClock:
        row = self.rows.get(name)
        if row is None:
            row = CaseClock(case=self.case, street_id=self.case.street_id, name=name)
            self.rows[name] = row
        return row

    def _span(self, spec: ClockSpec) -> Span:
        length = spec.length
        if length is None:
            raise TransitionRefused(f"“{spec.label}”须由本步骤给出期限")
        return length if isinstance(length, Span) else length.span(self.case)

    def apply(self, op: ClockOp, step: Step) -> None:
        spec = self.flow.clock_by_name[op.clock]
        row = self._row(op.clock)
        moment = step.moment
        if op.op != Op.START and row.pk is None:
            # Never started (a case from before its flow had this clock): nothing to change.
            if op.record:
                step.data[op.record] = True
            return
        if op.op == Op.START:
            since = _start_of(step.values[op.since]) if op.since else moment
            if op.due:
                due, per = _moment_of(step.values[op.due]), Per.DAYS
            else:
                span = self._span(spec)
                due, per = _lapse(self.calendar, since, span), span.per
            row.started_at, row.due_at, row.per = since, due, per
            row.due_soon_at = _due_soon(since, due)
            row.suspended_at = row.stopped_at = row.met = row.remaining_seconds = None
            row.fired_for = None
        elif op.op == Op.STOP:
            if row.running:
                row.met = row.due_at is None or moment <= row.due_at
                row.stopped_at = moment
            if op.record:
                step.data[op.record] = bool(row.met) if row.met is not None else True
        elif op.op == Op.CANCEL:
            row.stopped_at, row.met = moment, None
            row.due_at = row.due_soon_at = None
        elif op.op == Op.SUSPEND:
            if not row.running or row.due_at is None:
                return
            row.remaining_seconds = self._remaining(row, moment)
            row.suspended_at, row.due_at, row.due_soon_at = moment, None, None
            step.data[f"{op.clock}_remaining_seconds"] = row.remaining_seconds
        elif op.op == Op.RESUME:
            if row.suspended_at is None or row.remaining_seconds is None:
                return
            row.due_at = self._after(row, moment, row.remaining_seconds)
            row.due_soon_at = _due_soon(row.started_at or moment, row.due_at)
            row.suspended_at, row.remaining_seconds = None, None
        elif op.op == Op.EXTEND:
            if row.due_at is None:
                return
            if op.due:
                due = _moment_of(step.values[op.due])
            else:
                span = Span(int(step.values[op.by]), Per(row.per or Per.DAYS))
                due = _lapse(self.calendar, row.due_at, span)
            step.data[f"{op.clock}_due_from"] = row.due_at.isoformat()
            row.due_at = due
            row.due_soon_at = _due_soon(row.started_at or moment, due)
            row.fired_for = None
        row.save()
        self._mirror(spec, row, op)

    def _remaining(self, row: CaseClock, moment: datetime) -> int:
        """The time left, in seconds of the clock's own kind (working time for work clocks)."""
        due = row.due_at
        if due is None or due <= moment:
            return 0
        if row.per in (Per.WORKDAYS, Per.WORK_HOURS):
            return round(self.calendar.work_hours_between(moment, due) * 3600)
        return round((due - moment).total_seconds())

    def _after(self, row: CaseClock, moment: datetime, seconds: int) -> datetime:
        if row.per in (Per.WORKDAYS, Per.WORK_HOURS):
            return self.calendar.add_work_hours(moment, seconds / 3600)
        return moment + timedelta(seconds=seconds)

    def _mirror(self, spec: ClockSpec, row: CaseClock, op: ClockOp) -> None:
        if op.op == Op.STOP:
            return  # a met or missed deadline stays on record for the figures
        case = self.case
        if spec.mirror == "handle":
            case.handle_due_at, case.due_soon_at = row.due_at, row.due_soon_at
        elif spec.mirror == "claim":
            case.claim_due_at = row.due_at


# Moments ---------------------------------------------------------------------------------------


def _handling_minutes(case: Case, calendar: WorkCalendar, moment: datetime) -> int | None:
    """Working minutes from the moment a unit first held the case to `moment`."""
    first = (
        CaseAction.objects.filter(case=case, to_unit__isnull=False)
        .order_by("created_at", "id")
        .values_list("created_at", flat=True)
        .first()
    ) or case.dispatched_at
    if first is None:
        return None
    return round(calendar.work_hours_between(first, moment) * 60)


def _mark(step: Step, marks: tuple[str, ...]) -> None:
    case, moment = step.case, step.moment
    for mark in marks:
        if mark == "accepted":
            case.accepted_at = case.accepted_at or moment
        elif mark == "dispatched":
            case.dispatched_at = moment
        elif mark == "claimed":
            case.claimed_at = moment
        elif mark == "resolved":
            case.resolved_at = moment
            case.handling_minutes = _handling_minutes(case, WorkCalendar(), moment)
            # Each resolution keeps whether it met the deadline then in force, and its time:
            # the figures as of any later moment read them from here.
            due = case.handle_due_at
            step.data.setdefault("on_time", due is None or moment <= due)
            if case.handling_minutes is not None:
                step.data["handling_minutes"] = case.handling_minutes
        elif mark == "archived":
            case.archived_at = moment


def _note(transition: TransitionSpec, values: dict[str, Any]) -> tuple[str, str]:
    """The log row's note: the first text the actor wrote, and which input it came from."""
    for spec in transition.inputs:
        if spec.kind in TEXT_KINDS and values.get(spec.name):
            return str(values[spec.name]), spec.name
    return "", ""


# The engine ------------------------------------------------------------------------------------


def transition_for(case: Case, action: str) -> tuple[Flow, TransitionSpec]:
    """The case's flow and its transition named `action`; refused when the flow has none."""
    flow = flow_of(case)
    transition = flow.transition(action)
    if transition is None:
        raise TransitionRefused(f"“{flow.label}”中没有该操作")
    return flow, transition


def perform(
    *,
    case: Case,
    actor: Any,
    action: str,
    expected_version: int | None = None,
    attachments: Sequence[UploadedFile] = (),
    **values: Any,
) -> Case:
    """Take the transition `action` of the case's flow for `actor` (None: the system itself)."""
    with transaction.atomic():
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("case_type", "unit", "area")
            .get(pk=case.pk)
        )
        if expected_version is not None and locked.version != expected_version:
            raise CaseConflict
        flow, transition = transition_for(locked, action)
        if locked.state not in transition.sources:
            raise TransitionRefused(
                f"事件当前为“{flow.state_label(locked.state)}”,不能{transition.label}"
            )
        if transition.guard is not None and not transition.guard.test(locked):
            raise TransitionRefused(transition.guard.refusal)
        if not policy.can_perform(actor, locked, transition.who):
            raise PermissionDenied(f"无权对该事件执行“{transition.label}”")
        checked = inputs_check(transition, values, attachments)
        step = Step(
            case=locked,
            actor=actor,
            moment=clock.now(),
            values=checked,
            data={},
            flow=flow,
            transition=transition,
            target=transition.target,
        )
        if transition.check is not None:
            transition.check(step)
        log = _apply(step, locked, flow, transition, attachments)
        done = locked
        transaction.on_commit(lambda: notifications_send(done, log))
        then = transition.then
        if then is not None and step.handover == "" and then.test(step):
            locked = perform(case=locked, actor=None, action=then.action, **then.inputs(step))
    return locked


def _apply(
    step: Step,
    case: Case,
    flow: Flow,
    transition: TransitionSpec,
    attachments: Sequence[UploadedFile],
) -> CaseAction:
    values = step.values
    from_state, from_unit = case.state, case.unit
    moments_before = {name: getattr(case, f"{name}_at") for name in MARKS}
    due_before = case.handle_due_at
    for spec in transition.inputs:
        if spec.keep and spec.name in values:
            case.extra = {**case.extra, spec.name: _recorded(spec.kind, values[spec.name])}
    if transition.assigns:
        case.unit = values[transition.assigns]
        case.assignee, case.claimed_at = None, None
    if transition.resolution:
        case.resolution = values[transition.resolution]
    if transition.rates:
        case.satisfaction = values[transition.rates]
    if transition.effect is not None:
        transition.effect(step)
    for branch in transition.branches:
        if branch.test(step):
            step.target = branch.to
            break
    if step.handover:
        handed = FLOWS[step.handover]
        case.flow, case.state = handed.key, handed.initial
        step.data["flow"] = handed.key
    else:
        _mark(step, transition.marks)
        target = step.target or case.state
        running = set(flow.state(target).clocks)
        if transition.clocks:
            clocks = _Clocks(case, flow)
            for op in transition.clocks:
                if op.op in (Op.START, Op.RESUME, Op.EXTEND) and op.clock not in running:
                    continue  # the branch taken leads where this clock does not run
                clocks.apply(op, step)
        if flow.state(target).kind == Kind.CLOSED:
            case.archived_at = step.moment
        elif flow.state(case.state).kind == Kind.CLOSED:
            case.archived_at = None  # taken up again (an objection to a transfer, say)
        case.state = target
    case.version += 1
    case.save()
    # What this step did to the case's moments and deadline, so that its log alone tells every
    # figure as of any moment (shanzhi.analytics.history replays it).
    moments = [name for name in MARKS if getattr(case, f"{name}_at") != moments_before[name]]
    if moments:
        step.data["moments"] = moments
    if case.handle_due_at != due_before:
        step.data["handle_due"] = case.handle_due_at.isoformat() if case.handle_due_at else None
    note, note_input = _note(transition, values)
    for spec in transition.inputs:
        if spec.name in values and spec.name != note_input and spec.kind != InputKind.PHOTOS:
            step.data.setdefault(spec.name, _recorded(spec.kind, values[spec.name]))
    log = CaseAction.objects.create(
        case=case,
        street_id=case.street_id,
        flow=flow.key,
        action=transition.action,
        actor=step.actor,
        from_state=from_state,
        to_state=case.state,
        from_unit=from_unit,
        to_unit=case.unit,
        note=note,
        data=step.data,
        created_at=step.moment,
    )
    for upload in attachments:
        Attachment.objects.create(
            case=case,
            action=log,
            street_id=case.street_id,
            file=upload,
            content_type=getattr(upload, "content_type", "") or "",
            uploaded_by=step.actor,
            created_at=step.moment,
        )
    rollup_case_refresh(case)
    return log
