"""Cases over the API: list, report, read, and one operation per transition of the workflow.

Each operation reads the caller's inputs, finds what they name through the policy module and
calls the same service a page would; the services and the engine decide everything else.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import File, Form, Header, Query, Router, Status, UploadedFile

from shanzhi import policy
from shanzhi.accounts.models import Unit, User
from shanzhi.areas.models import Area
from shanzhi.cases import selectors, services
from shanzhi.cases.models import Case, CaseType, Source, State
from shanzhi.cases.workflow import INPUT_LABELS, TRANSITIONS
from shanzhi.errors import NotFound, PermissionDenied

from . import present
from .auth import acting_user, request_token
from .errors import IdempotencyConflict, InvalidInput
from .schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    AcceptIn,
    CallbackIn,
    CaseCreateIn,
    CaseDetailOut,
    CaseListIn,
    CasePage,
    Code,
    DispatchIn,
    ExtensionRequestIn,
    MergeIn,
    NoteIn,
    PageIn,
    ReasonIn,
    RequiredNoteIn,
    ResolveIn,
    ResolveOnSpotIn,
    SuperviseIn,
    Text,
    TransferIn,
    VersionIn,
)

router = Router(tags=["事件"])

ACTED = {200: CaseDetailOut} | WRITE_ERRORS


def _filters(user: User, params: CaseListIn) -> selectors.CaseFilters:
    return selectors.CaseFilters(
        states=tuple(params.state),
        area=_area(user, params.area) if params.area else None,
        case_type_id=params.case_type,
        category_id=params.category,
        source=params.source or "",
        unit_id=params.unit,
        deadline=params.deadline or "",
        query=params.q.strip(),
        reported_from=params.reported_from,
        reported_to=params.reported_to,
    )


@router.get(
    "/cases",
    response={200: CasePage} | READ_ERRORS,
    operation_id="case_list",
    summary="事件列表",
    description=(
        "调用方辖区范围内的事件,按上报时间倒序;可按状态(可重复)、辖区(含下级)、事项类型、"
        "类别、来源、承办单位、超期或临期、关键词和上报时间筛选。"
    ),
)
def case_list(request: HttpRequest, params: Query[CaseListIn]) -> dict[str, Any]:
    """The cases in the caller's scope, newest first, narrowed by the filters."""
    user = acting_user(request)
    cases = selectors.case_list(user=user, filters=_filters(user, params))
    return present.page(cases, params, present.case_items)


@router.get(
    "/inbox",
    response={200: CasePage} | READ_ERRORS,
    operation_id="inbox",
    summary="我的待办",
    description="等待调用方处理的事件,办理时限最近的在前。",
)
def inbox(request: HttpRequest, params: Query[PageIn]) -> dict[str, Any]:
    """The cases waiting for the caller's action, most urgent first."""
    user = acting_user(request)
    return present.page(selectors.inbox_for(user=user), params, present.case_items)


@router.post(
    "/cases",
    response={200: CaseDetailOut, 201: CaseDetailOut} | WRITE_ERRORS,
    operation_id="case_create",
    summary="上报事件",
    description=(
        "新建事件返回 201;同一幂等键(请求体 client_key 或 Idempotency-Key 请求头)再次提交时"
        "返回 200 和第一次建立的事件。代表人员的密钥以该人员身份上报(来源默认为密钥的渠道);"
        "渠道密钥只能以其渠道匿名上报。"
    ),
)
def case_create(
    request: HttpRequest,
    payload: CaseCreateIn,
    idempotency_key: Annotated[
        Text | None,
        Header(alias="Idempotency-Key", max_length=64, description="幂等键;重复提交返回同一事件"),
    ] = None,
) -> Status[dict[str, Any]]:
    """Report a case: 201 with the new case, or 200 with the first one for a repeated key.

    A user's key reports as that user (by default through the key's channel); a channel's key
    reports anonymously through its channel.
    """
    token = request_token(request)
    actor = token.user
    if actor is None and payload.source not in (None, token.source):
        raise PermissionDenied(f"该接口密钥只能以“{Source(token.source).label}”渠道上报")
    source = str(payload.source or token.source)
    try:
        area = (
            policy.area_for(actor, payload.area_code)
            if actor is not None
            else policy.area_for_public_report(payload.area_code)
        )
    except NotFound as exc:
        raise InvalidInput(exc.message) from exc
    case_type = _case_type(area.street_id, payload.case_type_id) if payload.case_type_id else None
    case, created = services.case_report(
        area=area,
        source=source,
        description=payload.description,
        actor=actor,
        title=payload.title,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        address=payload.address,
        latitude=_decimal(payload.latitude),
        longitude=_decimal(payload.longitude),
        case_type=case_type,
        client_key=payload.client_key or idempotency_key or "",
        extra=payload.extra,
        channel=token,
    )
    if not created and not _same_reporter(actor, source, case):
        raise IdempotencyConflict("该幂等键已被其他上报使用,请换一个")
    return Status(201 if created else 200, present.case_detail(case, user=actor))


def _same_reporter(actor: User | None, source: str, case: Case) -> bool:
    # A repeated key returns the first case only to whoever could have sent it.
    if actor is not None:
        return policy.can_view_case(actor, case)
    return case.reporter_id is None and case.source == source


def _decimal(value: float | None) -> Decimal | None:
    return Decimal(f"{value:.6f}") if value is not None else None


@router.get(
    "/cases/{number}",
    response={200: CaseDetailOut} | READ_ERRORS,
    operation_id="case_detail",
    summary="事件详情",
    description=(
        "事件及其流转记录;不存在或不在调用方辖区范围内时返回 404。"
        "上报人电话仅对指挥中心坐席、承办单位办理人和上报人本人完整显示,其他人看到掩码。"
    ),
)
def case_detail(request: HttpRequest, number: Code) -> dict[str, Any]:
    """A case with its timeline; 404 when it does not exist or lies outside the caller's scope."""
    user = acting_user(request)
    return present.case_detail(policy.case_for(user, number), user=user)


# Transitions ---------------------------------------------------------------------------------


def _acting_on(request: HttpRequest, number: str, action: str) -> tuple[User, Case]:
    """The caller and the case, once the caller may take `action` on it at all.

    Asked before the inputs are looked up, so that whoever may not act learns that, rather than
    that a unit or type they named is unknown to them.
    """
    user = acting_user(request)
    case = policy.case_for(user, number)
    transition = TRANSITIONS[action]
    if not policy.can_perform(user, case, transition.who):
        raise PermissionDenied(f"无权对该事件执行“{transition.label}”")
    return user, case


def _case_type(street_id: int | None, case_type_id: int) -> CaseType:
    case_type = CaseType.objects.filter(pk=case_type_id, street_id=street_id).first()
    if case_type is None:
        raise InvalidInput("没有找到该事项类型,或它不属于本街道")
    return case_type


def _area(user: User, code: str) -> Area:
    try:
        return policy.area_for(user, code)
    except NotFound as exc:
        raise InvalidInput(exc.message) from exc


def _unit(user: User, case: Case, unit_id: int) -> Unit:
    unit = policy.units_dispatchable_by(user, case).filter(pk=unit_id).first()
    if unit is None:
        raise InvalidInput("没有找到该承办单位,或不能交办给该单位")
    return unit


def _kept(user: User, number: str) -> Case:
    try:
        return policy.case_for(user, number)
    except NotFound as exc:
        raise InvalidInput("没有找到要保留的事件,或您无权查看") from exc


def _done(user: User, case: Case) -> dict[str, Any]:
    return present.case_detail(case, user=user)


ACTORS = {
    "dispatcher": "指挥中心坐席",
    "leader": "领导",
    "unit_handler": "承办单位办理人",
    "grid_worker": "本网格网格员",
    "escalator": "网格员、社区或承办单位",
}


def _describe(action: str) -> str:
    """The transition as the workflow table states it, for the OpenAPI document."""
    transition = TRANSITIONS[action]
    sources = "、".join(State(source).label for source in sorted(transition.sources))
    target = State(transition.target).label if transition.target else "状态不变"
    who = "、".join(ACTORS[kind] for kind in sorted(transition.who) if kind in ACTORS)
    needs = "、".join(INPUT_LABELS[name] for name in transition.requires) or "无"
    return (
        f"{transition.label}:{sources} → {target}。执行者:{who}。需要:{needs}。"
        "请求体的 version 须为调用方所见的事件版本,不符时返回 409;成功时返回更新后的事件详情。"
    )


def _transition(action: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return router.post(
        f"/cases/{{number}}/{action}",
        response=ACTED,
        operation_id=f"case_{action}",
        summary=TRANSITIONS[action].label,
        description=_describe(action),
    )


@_transition("accept")
def accept(request: HttpRequest, number: Code, payload: AcceptIn) -> dict[str, Any]:
    """Accept a reported case, fixing its type (and, if given, its place and priority)."""
    user, case = _acting_on(request, number, "accept")
    case = services.case_accept(
        case=case,
        actor=user,
        case_type=_case_type(case.street_id, payload.case_type_id),
        area=_area(user, payload.area_code) if payload.area_code else None,
        priority=payload.priority or "",
        expected_version=payload.version,
    )
    return _done(user, case)


@_transition("reject")
def reject(request: HttpRequest, number: Code, payload: ReasonIn) -> dict[str, Any]:
    user, case = _acting_on(request, number, "reject")
    case = services.case_reject(
        case=case, actor=user, reason=payload.reason, expected_version=payload.version
    )
    return _done(user, case)


@_transition("dispatch")
def dispatch(request: HttpRequest, number: Code, payload: DispatchIn) -> dict[str, Any]:
    user, case = _acting_on(request, number, "dispatch")
    case = services.case_dispatch(
        case=case,
        actor=user,
        unit=_unit(user, case, payload.unit_id),
        note=payload.note,
        expected_version=payload.version,
    )
    return _done(user, case)


@_transition("claim")
def claim(request: HttpRequest, number: Code, payload: VersionIn) -> dict[str, Any]:
    user, case = _acting_on(request, number, "claim")
    case = services.case_claim(case=case, actor=user, expected_version=payload.version)
    return _done(user, case)


@_transition("return")
def return_(request: HttpRequest, number: Code, payload: ReasonIn) -> dict[str, Any]:
    user, case = _acting_on(request, number, "return")
    case = services.case_return(
        case=case, actor=user, reason=payload.reason, expected_version=payload.version
    )
    return _done(user, case)


@_transition("transfer")
def transfer(request: HttpRequest, number: Code, payload: TransferIn) -> dict[str, Any]:
    user, case = _acting_on(request, number, "transfer")
    case = services.case_transfer(
        case=case,
        actor=user,
        unit=_unit(user, case, payload.unit_id),
        reason=payload.reason,
        expected_version=payload.version,
    )
    return _done(user, case)


@_transition("escalate")
def escalate(request: HttpRequest, number: Code, payload: ReasonIn) -> dict[str, Any]:
    user, case = _acting_on(request, number, "escalate")
    case = services.case_escalate(
        case=case, actor=user, reason=payload.reason, expected_version=payload.version
    )
    return _done(user, case)


@_transition("request_extension")
def request_extension(
    request: HttpRequest, number: Code, payload: ExtensionRequestIn
) -> dict[str, Any]:
    user, case = _acting_on(request, number, "request_extension")
    case = services.case_request_extension(
        case=case,
        actor=user,
        due_at=payload.due_at,
        reason=payload.reason,
        expected_version=payload.version,
    )
    return _done(user, case)


@_transition("approve_extension")
def approve_extension(request: HttpRequest, number: Code, payload: NoteIn) -> dict[str, Any]:
    user, case = _acting_on(request, number, "approve_extension")
    case = services.case_approve_extension(
        case=case, actor=user, note=payload.note, expected_version=payload.version
    )
    return _done(user, case)


@_transition("deny_extension")
def deny_extension(request: HttpRequest, number: Code, payload: RequiredNoteIn) -> dict[str, Any]:
    user, case = _acting_on(request, number, "deny_extension")
    case = services.case_deny_extension(
        case=case, actor=user, note=payload.note, expected_version=payload.version
    )
    return _done(user, case)


@_transition("supervise")
def supervise(request: HttpRequest, number: Code, payload: SuperviseIn) -> dict[str, Any]:
    user, case = _acting_on(request, number, "supervise")
    case = services.case_supervise(
        case=case, actor=user, requirement=payload.requirement, expected_version=payload.version
    )
    return _done(user, case)


@_transition("resolve")
def resolve(request: HttpRequest, number: Code, payload: ResolveIn) -> dict[str, Any]:
    """Resolve with the result and a written account of the evidence."""
    user, case = _acting_on(request, number, "resolve")
    case = services.case_resolve(
        case=case,
        actor=user,
        result=payload.result,
        evidence=payload.evidence,
        expected_version=payload.version,
    )
    return _done(user, case)


@_transition("resolve_on_spot")
def resolve_on_spot(
    request: HttpRequest,
    number: Code,
    payload: Form[ResolveOnSpotIn],
    photos: File[list[UploadedFile]],
) -> dict[str, Any]:
    """Resolve a reported case on the spot; multipart/form-data, as it needs site photos."""
    user, case = _acting_on(request, number, "resolve_on_spot")
    case = services.case_resolve_on_spot(
        case=case,
        actor=user,
        case_type=_case_type(case.street_id, payload.case_type_id),
        result=payload.result,
        photos=photos,
        expected_version=payload.version,
    )
    return _done(user, case)


@_transition("callback")
def callback(request: HttpRequest, number: Code, payload: CallbackIn) -> dict[str, Any]:
    """Record the reporter's verdict; 不满意 reopens the case with the same unit at once."""
    user, case = _acting_on(request, number, "callback")
    case = services.case_callback(
        case=case,
        actor=user,
        satisfaction=payload.satisfaction,
        note=payload.note,
        expected_version=payload.version,
    )
    return _done(user, case)


@_transition("reopen")
def reopen(request: HttpRequest, number: Code, payload: ReasonIn) -> dict[str, Any]:
    user, case = _acting_on(request, number, "reopen")
    case = services.case_reopen(
        case=case, actor=user, reason=payload.reason, expected_version=payload.version
    )
    return _done(user, case)


@_transition("close_without_callback")
def close_without_callback(request: HttpRequest, number: Code, payload: ReasonIn) -> dict[str, Any]:
    user, case = _acting_on(request, number, "close_without_callback")
    case = services.case_close_without_callback(
        case=case, actor=user, reason=payload.reason, expected_version=payload.version
    )
    return _done(user, case)


@_transition("merge")
def merge(request: HttpRequest, number: Code, payload: MergeIn) -> dict[str, Any]:
    """Fold a duplicate into the case that is kept."""
    user, case = _acting_on(request, number, "merge")
    case = services.case_merge(
        case=case,
        actor=user,
        kept=_kept(user, payload.target_number),
        expected_version=payload.version,
    )
    return _done(user, case)
