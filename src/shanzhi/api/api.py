"""The REST API under /api/v1/: one NinjaAPI, key authentication, JSON errors everywhere."""

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from . import actions, cases, catalogue, errors, figures, participation, registry, routing
from .auth import TokenAuth

STATUS_TEXT = {
    200: "成功",
    201: "已新建",
    400: "请求体不是有效的 JSON 或表单",
    401: "密钥缺失、无效、已吊销或已过期",
    403: "无权执行该操作,或密钥未被授予该操作所需的权限范围",
    404: "不存在,或不在调用方的辖区范围内",
    409: "已被他人修改(请刷新后重试),或幂等键已被占用",
    422: "请求无法执行:参数有误、缺少必填项或事件当前状态不允许",
}


class ShanzhiApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        """The generated document, with each response described in Chinese."""
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, response in operation["responses"].items():
                    response["description"] = STATUS_TEXT.get(int(status), response["description"])
        return schema


api = ShanzhiApi(
    title="善治 API",
    version="1",
    description=(
        "善治街道基层治理平台的接口。以 `Authorization: Bearer <密钥>` 认证,密钥由管理员用"
        " `shanzhi apitoken create` 签发;密钥代表某位人员时,按其角色与辖区范围读写,"
        "代表上报渠道时只能上报事件。每个密钥有到期时间和权限范围:`read` 查询、`report` 上报事件、"
        "`cases` 办理事件、`registry` 维护登记库、`personal` 查看个人信息原文;"
        "GET 请求需要 `read`,缺少所需范围时返回 403。\n\n"
        '错误一律返回 JSON `{"code": 错误码, "message": 中文说明}`:'
        "401 `unauthorized` 密钥缺失、无效、已吊销或已过期;403 `permission_denied` 无权操作"
        "或密钥缺少所需的权限范围;"
        "404 `not_found` 不存在或不在您的辖区范围内;"
        "409 `version_conflict` 事件已被他人处理(请刷新后重试),"
        "`idempotency_conflict` 幂等键已被占用;"
        "422 请求本身无法执行:`validation_error`(参数格式,`errors` 列出各字段)、`missing_input`、"
        "`invalid_input`、`invalid_report`、`transition_refused`(事件当前状态不允许该动作,"
        "或输入违反规则);500 `server_error`。"
    ),
    urls_namespace="api-v1",
    auth=TokenAuth(),
)
api.add_router("", cases.router)
api.add_router("", actions.router)
api.add_router("", catalogue.router)
api.add_router("", registry.router)
api.add_router("", figures.router)
api.add_router("", participation.router)
api.add_router("", routing.router)
errors.register(api)
