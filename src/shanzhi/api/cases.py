"""Cases over the API: list, report and read (the transitions are `api.actions`).

Each operation reads the caller's inputs, finds what they name through the policy module and
calls the same service a page would; the services and the engine decide everything else.
"""

from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Field, Header, Query, Router, Status

from shanzhi import policy
from shanzhi.accounts.models import User
from shanzhi.areas.models import Area
from shanzhi.cases import selectors, services
from shanzhi.cases.documents import DOCX, case_document, document_docx
from shanzhi.cases.models import Case, CaseType, Source
from shanzhi.errors import NotFound, PermissionDenied

from . import present
from .auth import acting_user, request_token
from .errors import IdempotencyConflict, InvalidInput
from .schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    CaseCreateIn,
    CaseDetailOut,
    CaseListIn,
    CasePage,
    Code,
    PageIn,
    Text,
)

router = Router(tags=["事件"])
DocumentKey = Annotated[str, Field(pattern=r"^[a-z_]{1,40}$", description="文书键,如 opinion")]

ACTED = {200: CaseDetailOut} | WRITE_ERRORS


def _filters(user: User, params: CaseListIn) -> selectors.CaseFilters:
    return selectors.CaseFilters(
        states=tuple(params.state),
        flow=params.flow or "",
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


@router.get(
    "/cases/{number}/documents/{key}",
    response={200: bytes} | READ_ERRORS,
    operation_id="case_document",
    summary="下载流程文书",
    description=(
        "流程出具的文书(整改通知书、受理告知书、处理意见书、调解协议书等),Word(.docx)格式;"
        "key 见事件详情的 documents。事件没有该文书时返回 404。"
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "成功",
                "content": {DOCX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def case_document_download(request: HttpRequest, number: Code, key: DocumentKey) -> HttpResponse:
    """A paper the case's flow issued, as .docx."""
    user = acting_user(request)
    document = case_document(policy.case_for(user, number), key)
    response = HttpResponse(document_docx(document), content_type=DOCX)
    response["Content-Disposition"] = content_disposition_header(True, document.filename) or ""
    return response


# Look-ups the operations above share -----------------------------------------------------------


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
