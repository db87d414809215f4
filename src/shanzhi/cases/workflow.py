"""The case workflow as a table, and the one engine that runs every transition.

Each transition says where it may start, where it ends, who may take it (kinds of actor that the
policy module resolves against roles, scope and unit), what it requires and what it does to the
deadlines. `perform` locks the case, checks its version, state, actor and inputs, applies the
transition's effect, bumps the version and appends the action-log row, all in one transaction.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from shanzhi import clock, policy
from shanzhi.accounts.models import Unit, User
from shanzhi.analytics.rollup import rollup_case_refresh
from shanzhi.areas.models import Area
from shanzhi.errors import DomainError, PermissionDenied
from shanzhi.workdays.calendar import (
    add_work_hours,
    add_workdays,
    work_hours_between,
    workday_end,
)

from .models import (
    LEVEL_ORDER,
    OPEN_STATES,
    Attachment,
    Case,
    CaseAction,
    CaseType,
    HandlingLevel,
    Satisfaction,
    State,
)
from .notifications import notify_transition


class CaseConflict(DomainError):
    code = "version_conflict"

    def __init__(self) -> None:
        super().__init__("该事件已被他人处理,请刷新")


class TransitionRefused(DomainError):
    code = "transition_refused"


class MissingInput(DomainError):
    code = "missing_input"


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: the case stays in its state
    who: frozenset[str]  # actor kinds, resolved by policy.can_perform
    requires: tuple[str, ...] = ()
    deadline: str = ""  # what happens to the clocks, as WORKFLOW.md states it


def _t(
    action: str,
    label: str,
    sources: set[str],
    target: str | None,
    who: set[str],
    requires: tuple[str, ...] = (),
    deadline: str = "",
) -> Transition:
    return Transition(action, label, frozenset(sources), target, frozenset(who), requires, deadline)


S = State
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("accept", "受理", {S.REPORTED}, S.ACCEPTED, {"dispatcher"}, ("case_type", "area")),
        _t("reject", "不予受理", {S.REPORTED}, S.REJECTED, {"dispatcher"}, ("reason",)),
        _t("dispatch", "交办", {S.ACCEPTED}, S.DISPATCHED, {"dispatcher"}, ("unit",), "start"),
        _t("claim", "签收", {S.DISPATCHED}, S.IN_PROGRESS, {"unit_handler"}, (), "claim"),
        _t(
            "return",
            "退回",
            {S.DISPATCHED, S.IN_PROGRESS},
            S.ACCEPTED,
            {"unit_handler"},
            ("reason",),
            "stop",
        ),
        _t(
            "transfer",
            "转办",
            {S.ACCEPTED, S.DISPATCHED},
            S.DISPATCHED,
            {"dispatcher"},
            ("unit", "reason"),
            "restart",
        ),
        _t(
            "escalate",
            "上报",
            {S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS},
            S.ACCEPTED,
            {"escalator"},
            ("reason",),
            "stop",
        ),
        _t(
            "request_extension",
            "申请延期",
            {S.IN_PROGRESS},
            None,
            {"unit_handler"},
            ("due_at", "reason"),
        ),
        _t(
            "approve_extension",
            "批准延期",
            {S.IN_PROGRESS},
            None,
            {"dispatcher", "leader"},
            (),
            "extend",
        ),
        _t(
            "deny_extension", "驳回延期", {S.IN_PROGRESS}, None, {"dispatcher", "leader"}, ("note",)
        ),
        _t("supervise", "督办", set(OPEN_STATES), None, {"leader", "system"}, ("requirement",)),
        _t(
            "resolve",
            "办结",
            {S.IN_PROGRESS},
            S.RESOLVED,
            {"unit_handler"},
            ("result", "evidence"),
            "handle",
        ),
        _t(
            "resolve_on_spot",
            "就地处置",
            {S.REPORTED},
            S.RESOLVED,
            {"grid_worker"},
            ("case_type", "result", "photo"),
        ),
        _t(
            "callback",
            "回访",
            {S.RESOLVED},
            S.ARCHIVED,
            {"dispatcher", "system"},
            ("satisfaction",),
        ),
        # To the same unit; a case resolved on the spot has none and goes back to the desk.
        _t(
            "reopen",
            "重办",
            {S.RESOLVED},
            S.DISPATCHED,
            {"dispatcher", "system"},
            ("reason",),
            "renew",
        ),
        _t(
            "close_without_callback",
            "无法回访归档",
            {S.RESOLVED},
            S.ARCHIVED,
            {"dispatcher"},
            ("reason",),
        ),
        _t("merge", "合并", {S.REPORTED, S.ACCEPTED}, S.MERGED, {"dispatcher"}, ("target_case",)),
    ]
}

INPUT_LABELS = {
    "case_type": "事项类型",
    "area": "发生地",
    "reason": "理由",
    "unit": "承办单位",
    "due_at": "延期至",
    "note": "意见",
    "requirement": "督办要求",
    "result": "办理结果",
    "evidence": "办理凭证(照片或文字说明)",
    "photo": "现场照片",
    "satisfaction": "满意度",
    "target_case": "保留的事件",
}


# Deadlines ------------------------------------------------------------------------------------


def due_soon_share() -> float:
    """The share of handling time left under which a case counts as due soon."""
    return float(getattr(settings, "SHANZHI_DUE_SOON_SHARE", 0.2))


def _due_soon(start: datetime, due: datetime) -> datetime:
    return due - timedelta(seconds=(due - start).total_seconds() * due_soon_share())


def _start_clocks(case: Case, moment: datetime) -> None:
    case_type = case.case_type
    if case_type is None:
        raise TransitionRefused("事件尚未确定事项类型,不能交办")
    case.claim_due_at = add_work_hours(moment, case_type.claim_limit_hours)
    if case_type.handle_limit_hours is not None:
        # Urgent matters do not wait for Monday: their limit runs in natural hours.
        due = moment + timedelta(hours=case_type.handle_limit_hours)
    else:
        days = case_type.handle_limit_days or 0
        due = workday_end(add_workdays(timezone.localdate(moment), days))
    case.handle_due_at = due
    case.due_soon_at = _due_soon(moment, due)


def _stop_clocks(case: Case) -> None:
    case.claim_due_at = case.handle_due_at = case.due_soon_at = None
    case.extension_requested_until = None
    case.extension_reason = ""


# Effects: each changes the locked case in memory and may name a different target state. -----

Params = dict[str, Any]
Effect = Callable[[Case, User | None, datetime, Params], str | None]


def _check_unit(case: Case, unit: Unit) -> None:
    if not unit.is_active:
        raise TransitionRefused(f"单位“{unit.name}”已停用")
    if unit.street_id is not None and unit.street_id != case.street_id:
        raise TransitionRefused(f"单位“{unit.name}”不属于本街道")


def _accept(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    case_type: CaseType = p["case_type"]
    area: Area = p["area"]
    if case_type.street_id != case.street_id or not case_type.is_active:
        raise TransitionRefused("该事项类型不属于本街道或已停用")
    if area.street_id != case.street_id:
        raise TransitionRefused("发生地不在本街道")
    case.case_type, case.area, case.accepted_at = case_type, area, moment
    case.priority = p.get("priority") or case_type.priority


def _dispatch(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    _check_unit(case, p["unit"])
    case.unit, case.assignee, case.dispatched_at = p["unit"], None, moment
    case.claimed_at = None
    _start_clocks(case, moment)


def _claim(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    case.assignee, case.claimed_at = actor, moment
    p["data"]["claim_on_time"] = case.claim_due_at is None or moment <= case.claim_due_at


def _return(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    case.unit, case.assignee = None, None
    case.return_count += 1
    _stop_clocks(case)


def _transfer(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    if case.unit_id == p["unit"].pk:
        raise TransitionRefused("转办的单位与当前承办单位相同")
    _dispatch(case, actor, moment, p)


def _escalate(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    position = LEVEL_ORDER.index(HandlingLevel(case.level))
    if position == len(LEVEL_ORDER) - 1:
        raise TransitionRefused("事件已在区县层级,不能再上报")
    p["data"]["from_level"] = case.level
    case.level = LEVEL_ORDER[position + 1]
    p["data"]["to_level"] = case.level
    case.unit, case.assignee = None, None
    _stop_clocks(case)


def _request_extension(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    due_at: datetime = p["due_at"]
    if case.extension_requested_until is not None:
        raise TransitionRefused("已有待审批的延期申请")
    if case.handle_due_at is not None and due_at <= case.handle_due_at:
        raise TransitionRefused("申请延期的日期须晚于当前办理时限")
    case.extension_requested_until, case.extension_reason = due_at, p["reason"]
    p["data"]["due_at"] = due_at.isoformat()


def _approve_extension(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    if case.extension_requested_until is None:
        raise TransitionRefused("没有待审批的延期申请")
    p["data"]["from_due_at"] = case.handle_due_at.isoformat() if case.handle_due_at else None
    p["data"]["due_at"] = case.extension_requested_until.isoformat()
    case.handle_due_at = case.extension_requested_until
    case.due_soon_at = _due_soon(case.dispatched_at or moment, case.handle_due_at)
    case.extension_count += 1
    case.extension_requested_until, case.extension_reason = None, ""


def _deny_extension(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    if case.extension_requested_until is None:
        raise TransitionRefused("没有待审批的延期申请")
    case.extension_requested_until, case.extension_reason = None, ""


def _supervise(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    case.supervise_count += 1
    p["data"]["requirement"] = p["requirement"]
    if p.get("auto_deadline"):
        p["data"]["auto_deadline"] = p["auto_deadline"]


def _handling_minutes(case: Case, moment: datetime) -> int | None:
    """Working minutes from the case's first dispatch (dispatch, transfer or reopen) to `moment`."""
    first = (
        CaseAction.objects.filter(case=case, to_state=State.DISPATCHED)
        .order_by("created_at", "id")
        .values_list("created_at", flat=True)
        .first()
    ) or case.dispatched_at
    if first is None:
        return None
    return round(work_hours_between(first, moment) * 60)


def _resolve(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    case.resolution, case.resolved_at = p["result"], moment
    case.handling_minutes = _handling_minutes(case, moment)
    p["data"]["on_time"] = case.handle_due_at is None or moment <= case.handle_due_at


def _resolve_on_spot(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    case_type: CaseType = p["case_type"]
    if case_type.street_id != case.street_id:
        raise TransitionRefused("该事项类型不属于本街道")
    case.case_type, case.level, case.on_spot = case_type, HandlingLevel.GRID, True
    case.resolution, case.resolved_at = p["result"], moment


def _callback(case: Case, actor: User | None, moment: datetime, p: Params) -> str | None:
    satisfaction = p["satisfaction"]
    if satisfaction not in Satisfaction.values:
        raise MissingInput("满意度只能是满意、基本满意或不满意")
    case.satisfaction = satisfaction
    p["data"]["satisfaction"] = satisfaction
    if satisfaction == Satisfaction.UNSATISFIED:
        # 不满意 does not close the case: it stays resolved and is reopened right after.
        return State.RESOLVED
    case.archived_at = moment
    return None


def _reopen(case: Case, actor: User | None, moment: datetime, p: Params) -> str | None:
    case.reopen_count += 1
    case.assignee, case.claimed_at = None, None
    if case.unit is None:
        # Resolved on the spot, so no unit holds it: it goes back to the desk to be dispatched.
        case.accepted_at = case.accepted_at or moment
        _stop_clocks(case)
        return State.ACCEPTED
    case.dispatched_at = moment
    _start_clocks(case, moment)
    return None


def _close_without_callback(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    case.archived_at = moment


def _merge(case: Case, actor: User | None, moment: datetime, p: Params) -> None:
    kept: Case = p["target_case"]
    if kept.pk == case.pk:
        raise TransitionRefused("不能把事件合并到它自己")
    if kept.street_id != case.street_id or kept.state not in OPEN_STATES | {State.RESOLVED}:
        raise TransitionRefused("只能合并到本街道尚未归档的事件")
    if kept.merged_into_id is not None:
        raise TransitionRefused("保留的事件本身已被合并")
    case.merged_into = kept
    p["data"]["kept"] = kept.number


EFFECTS: dict[str, Effect] = {
    "accept": _accept,
    "reject": lambda case, actor, moment, p: None,
    "dispatch": _dispatch,
    "claim": _claim,
    "return": _return,
    "transfer": _transfer,
    "escalate": _escalate,
    "request_extension": _request_extension,
    "approve_extension": _approve_extension,
    "deny_extension": _deny_extension,
    "supervise": _supervise,
    "resolve": _resolve,
    "resolve_on_spot": _resolve_on_spot,
    "callback": _callback,
    "reopen": _reopen,
    "close_without_callback": _close_without_callback,
    "merge": _merge,
}


def _missing(
    transition: Transition, params: Params, attachments: Sequence[UploadedFile]
) -> list[str]:
    missing = []
    for name in transition.requires:
        value = params.get(name)
        if name in {"photo", "evidence"}:
            # Evidence may be a photo or a text; an on-the-spot resolution needs the photo.
            value = (value if name == "evidence" else None) or list(attachments)
        if not value or (isinstance(value, str) and not value.strip()):
            missing.append(INPUT_LABELS[name])
    return missing


def perform(
    *,
    case: Case,
    actor: User | None,
    action: str,
    expected_version: int | None = None,
    attachments: Sequence[UploadedFile] = (),
    **params: Any,
) -> Case:
    """Run one transition of the table on `case` for `actor` (None: the system itself)."""
    transition = TRANSITIONS[action]
    with transaction.atomic():
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("case_type", "unit", "area")
            .get(pk=case.pk)
        )
        if expected_version is not None and locked.version != expected_version:
            raise CaseConflict
        if locked.state not in transition.sources:
            raise TransitionRefused(
                f"事件当前为“{State(locked.state).label}”,不能{transition.label}"
            )
        if not policy.can_perform(actor, locked, transition.who):
            raise PermissionDenied(f"无权对该事件执行“{transition.label}”")
        missing = _missing(transition, params, attachments)
        if missing:
            raise MissingInput(f"{transition.label}需要填写:{'、'.join(missing)}")
        moment = clock.now()
        from_state, from_unit = locked.state, locked.unit
        params["data"] = {}
        target = EFFECTS[action](locked, actor, moment, params) or transition.target
        locked.state = target or locked.state
        locked.version += 1
        locked.save()
        note = str(
            params.get("reason")
            or params.get("note")
            or params.get("result")
            or params.get("requirement")
            or params.get("evidence")
            or ""
        )
        log = CaseAction.objects.create(
            case=locked,
            street_id=locked.street_id,
            action=action,
            actor=actor,
            from_state=from_state,
            to_state=locked.state,
            from_unit=from_unit,
            to_unit=locked.unit,
            note=note,
            data=params["data"],
            created_at=moment,
        )
        for upload in attachments:
            Attachment.objects.create(
                case=locked,
                action=log,
                street_id=locked.street_id,
                file=upload,
                content_type=getattr(upload, "content_type", "") or "",
                uploaded_by=actor,
                created_at=moment,
            )
        rollup_case_refresh(locked)
        done = locked
        transaction.on_commit(lambda: notify_transition(done, action))
    return locked
