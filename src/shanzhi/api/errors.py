"""Every error of the REST API as JSON `{"code": ..., "message": ...}`, the message in Chinese.

Status codes:
- 401 `unauthorized`: no key, an unknown one, a revoked one or an expired one.
- 403 `permission_denied`: the key's user may not do this, the key lacks the scope the request
  needs (shanzhi.api.scopes), or a channel key tried more than report.
- 404 `not_found`: no such case or area, or one outside the caller's scope (the two look alike).
- 409 `version_conflict`: the case changed since the caller read it; refresh and try again.
  `idempotency_conflict`: the idempotency key belongs to someone else's report.
- 422 everything the request itself cannot do: `validation_error` (malformed parameters, with
  `errors` naming each field), `missing_input`, `invalid_input`, `invalid_report`, and
  `transition_refused` (the case's state does not allow the action, or an input breaks a rule).
  A refused transition is 422 rather than 409 so that 409 always means "refresh and retry".
- 500 `server_error`.
"""

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from shanzhi.cases.errors import InvalidInput
from shanzhi.cases.flows import actions
from shanzhi.errors import DomainError

__all__ = ["IdempotencyConflict", "InvalidInput", "register"]

logger = logging.getLogger(__name__)

DOMAIN_STATUS = {
    "version_conflict": 409,
    "idempotency_conflict": 409,
    "permission_denied": 403,
    "not_found": 404,
}

HTTP_ERRORS = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "缺少或无效的接口密钥,请在 Authorization 头中提供 Bearer 密钥"),
    403: ("permission_denied", "无权执行该操作"),
    404: ("not_found", "没有找到该资源"),
    405: ("method_not_allowed", "不支持该请求方法"),
    429: ("throttled", "请求过于频繁,请稍后再试"),
}

# The Chinese names of the parameters, for validation messages.
FIELD_LABELS = {
    "id": "编号",
    "name": "名称",
    "id_number": "身份证号",
    "phone": "联系电话",
    "household_type": "户籍类型",
    "house_id": "居住房屋",
    "tags": "标签",
    "tag": "标签",
    "credit_code": "统一社会信用代码",
    "scale": "企业规模",
    "industry": "行业",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "employees": "从业人数",
    "building_id": "所在楼宇",
    "person_id": "居民",
    "enterprise_id": "企业",
    "person": "居民",
    "enterprise": "企业",
    "summary": "走访情况",
    "problems": "反映问题",
    "raise_case": "转为诉求事件",
    "visited_at": "走访时间",
    "visited_from": "走访时间起",
    "visited_to": "走访时间止",
    "field": "查看项",
    "kind": "类别",
    "use": "房屋用途",
    "library": "企业库",
    "version": "版本号",
    "reason": "理由",
    "note": "意见",
    "unit_id": "承办单位",
    "case_type_id": "事项类型",
    "area_code": "发生地",
    "priority": "优先级",
    "due_at": "延期至",
    "requirement": "督办要求",
    "result": "办理结果",
    "evidence": "办理凭证",
    "satisfaction": "满意度",
    "target_number": "保留的事件",
    "photos": "现场照片",
    "description": "描述",
    "title": "标题",
    "source": "来源",
    "reporter_name": "上报人",
    "reporter_phone": "联系电话",
    "address": "地址",
    "latitude": "纬度",
    "longitude": "经度",
    "client_key": "幂等键",
    "Idempotency-Key": "幂等键",
    "page": "页码",
    "page_size": "每页条数",
    "state": "状态",
    "area": "辖区",
    "case_type": "事项类型",
    "category": "事项类别",
    "unit": "承办单位",
    "deadline": "时限状态",
    "q": "关键词",
    "reported_from": "上报时间起",
    "reported_to": "上报时间止",
    "number": "事件编号",
    "code": "辖区编码",
    "parent": "上级辖区",
    "level": "层级",
    "street": "街道",
    "payload": "请求体",
}
# Every input a step of a flow declares, by the name the API gives it.
for _transition in actions().values():
    for _spec in _transition.inputs:
        FIELD_LABELS.setdefault(_spec.api_name, _spec.label)


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"


def error_response(
    status: int, code: str, message: str, errors: list[dict[str, str]] | None = None
) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="shanzhi"'
    return response


def http_error_response(status: int) -> JsonResponse:
    code, message = HTTP_ERRORS.get(status, ("http_error", "请求无法处理"))
    return error_response(status, code, message)


def _explain(error: dict[str, Any]) -> str:
    """One pydantic error type in Chinese."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    simple = {
        "missing": "必填",
        "int_parsing": "须为整数",
        "int_type": "须为整数",
        "int_from_float": "须为整数",
        "float_parsing": "须为数字",
        "float_type": "须为数字",
        "finite_number": "须为有限的数字",
        "bool_parsing": "须为布尔值",
        "bool_type": "须为布尔值",
        "string_type": "须为字符串",
        "string_unicode": "须为有效的 UTF-8 文本",
        "string_pattern_mismatch": "格式不正确",
        "datetime_parsing": "须为日期时间,如 2026-01-31T17:00:00+08:00",
        "datetime_type": "须为日期时间,如 2026-01-31T17:00:00+08:00",
        "datetime_from_date_parsing": "须为日期时间,如 2026-01-31T17:00:00+08:00",
        "model_attributes_type": "须为 JSON 对象",
        "dict_type": "须为 JSON 对象",
        "model_type": "须为 JSON 对象",
        "list_type": "须为数组",
        "json_invalid": "不是有效的 JSON",
        "json_type": "不是有效的 JSON",
    }
    if kind in simple:
        return simple[kind]
    bounds = {
        "string_too_long": ("不能超过{}个字符", "max_length"),
        "string_too_short": ("不能少于{}个字符", "min_length"),
        "too_long": ("最多{}项", "max_length"),
        "too_short": ("至少{}项", "min_length"),
        "greater_than_equal": ("不能小于{}", "ge"),
        "greater_than": ("须大于{}", "gt"),
        "less_than_equal": ("不能大于{}", "le"),
        "less_than": ("须小于{}", "lt"),
    }
    if kind in bounds:
        template, key = bounds[kind]
        return template.format(ctx.get(key, ""))
    if kind in {"enum", "literal_error"}:
        return f"须为以下之一:{ctx.get('expected', '')}"
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return "取值无效"


def _field(loc: Any) -> str:
    # ninja puts the source (query, body, path, ...) first, then for a schema parameter its
    # name, then the field; the innermost name is the one the caller knows.
    names = [str(part) for part in loc[1:] if not isinstance(part, int)]
    return names[-1] if names else "请求"


def validation_response(errors: list[dict[str, Any]]) -> JsonResponse:
    details = [
        {"field": _field(error.get("loc", ())), "message": _explain(error)} for error in errors
    ]
    described = [
        f"{FIELD_LABELS.get(d['field'], d['field'])}({d['field']}){d['message']}" for d in details
    ]
    return error_response(422, "validation_error", "请求参数有误:" + ";".join(described), details)


def domain_response(exc: DomainError) -> JsonResponse:
    return error_response(DOMAIN_STATUS.get(exc.code, 422), exc.code, exc.message)


def register(api: NinjaAPI) -> None:
    """Answer every exception the API's operations raise in the one JSON shape."""

    @api.exception_handler(DomainError)
    def on_domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return domain_response(exc)

    @api.exception_handler(ValidationError)
    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return validation_response(exc.errors)

    @api.exception_handler(HttpError)
    def on_http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and "parse" in exc.message:
            return error_response(400, "bad_request", "请求体不是有效的 JSON 或表单")
        return http_error_response(exc.status_code)

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return http_error_response(404)

    @api.exception_handler(Exception)
    def on_anything(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("接口请求 %s %s 出错", request.method, request.path)
        return error_response(500, "server_error", "服务器内部错误")
