"""Who a request acts as: the user behind its API key, or a reporting channel without one."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from shanzhi.accounts.models import User
from shanzhi.errors import PermissionDenied

from .models import ApiToken
from .scopes import scope_for
from .tokens import api_token_authenticate


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <key>`; an unknown, revoked or expired key gets 401, a live key
    without the scope the request needs 403."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return api_token_authenticate(token, scope=scope_for(request.method or "", request.path))


def request_token(request: HttpRequest) -> ApiToken:
    token = getattr(request, "auth", None)
    if not isinstance(token, ApiToken):
        raise RuntimeError("该接口未配置密钥认证")
    return token


def acting_user(request: HttpRequest) -> User:
    """The user the key acts as. A channel's key (no user) may only report cases."""
    user = request_token(request).user
    if user is None:
        raise PermissionDenied("该接口密钥代表上报渠道,只能上报事件")
    return user
