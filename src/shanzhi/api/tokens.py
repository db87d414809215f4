"""Issuing, checking and revoking API keys; REST and Open311 both authenticate through here.

Every key expires (SHANZHI_API_TOKEN_DAYS by default, a year at most) and carries scopes. Uses
and refusals of a known key go to the security log, at most once a minute per key so that a
busy client does not write a row per request.
"""

import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from shanzhi.accounts.models import SecurityEventKind, User
from shanzhi.accounts.security import security_event_record
from shanzhi.errors import DomainError, PermissionDenied

from .models import ApiToken, hash_key
from .scopes import ALL_SCOPES, CHANNEL_SCOPES, Scope, scopes_text

LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_DAYS = 366


class TokenRuleError(DomainError):
    code = "token_rule"


def api_token_create(
    *,
    name: str,
    user: User | None = None,
    source: str = "api",
    scopes: Iterable[str] | None = None,
    days: int | None = None,
    actor: User | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw key, which is never stored or shown again.

    Without `scopes`, a user's key may do all that its user may, and a channel's key reports.
    """
    days = settings.SHANZHI_API_TOKEN_DAYS if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise TokenRuleError(f"有效期须为 1 到 {MAX_DAYS} 天")
    granted = list(
        dict.fromkeys(
            scopes if scopes is not None else (ALL_SCOPES if user is not None else CHANNEL_SCOPES)
        )
    )
    unknown = [scope for scope in granted if scope not in Scope.values]
    if unknown or not granted:
        raise TokenRuleError("权限范围无效:可选 " + "、".join(Scope.values))
    if user is None and set(granted) - set(CHANNEL_SCOPES):
        raise TokenRuleError("渠道密钥(不代表人员)只能上报事件(report)")
    raw = "sz_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name.strip() or "接口密钥",
            user=user,
            source=source,
            prefix=raw[:8],
            key_hash=hash_key(raw),
            scopes=granted,
            expires_at=timezone.now() + timedelta(days=days),
        )
        security_event_record(
            kind=SecurityEventKind.TOKEN_ISSUED,
            user=user,
            actor=actor,
            username="" if user else f"渠道:{token.name}",
            note=f"{token}:{scopes_text(granted)};{days} 天后到期",
        )
    return token, raw


def _log_once_a_minute(token: ApiToken, kind: str, note: str) -> None:
    if cache.add(f"security:{kind}:{token.key_hash[:16]}", 1, timeout=60):
        security_event_record(
            kind=kind,
            user=token.user,
            username="" if token.user else f"渠道:{token.name}",
            note=note,
        )


def api_token_authenticate(raw: str, *, scope: str | None = None) -> ApiToken | None:
    """The live token for a raw key, or None (unknown, revoked, expired, or its user inactive).

    With `scope`, a live token lacking it raises PermissionDenied (403, not 401: the key is good).
    """
    if not raw:
        return None
    token = (
        ApiToken.objects.select_related("user__unit__area")
        .filter(key_hash=hash_key(raw.strip()))
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.revoked_at is not None or token.expires_at <= now:
        why = "已吊销" if token.revoked_at is not None else "已过期"
        _log_once_a_minute(token, SecurityEventKind.TOKEN_REFUSED, f"{token}{why},请求被拒")
        return None
    if token.user is not None and not token.user.is_active:
        return None
    if scope is not None and scope not in token.scopes:
        _log_once_a_minute(
            token, SecurityEventKind.TOKEN_REFUSED, f"{token}未被授予“{scopes_text([scope])}”"
        )
        if token.user is None:
            raise PermissionDenied("该接口密钥代表上报渠道,只能上报事件")
        raise PermissionDenied(f"该接口密钥未被授予“{scopes_text([scope])}”权限")
    # Every request of a busy client would otherwise queue on this one row.
    # Two single statements, no transaction: a lost log row of a use is the worst a crash does.
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        security_event_record(
            kind=SecurityEventKind.TOKEN_USED,
            user=token.user,
            username="" if token.user else f"渠道:{token.name}",
            note=f"{token}(同一密钥每分钟至多记录一次)",
        )
    return token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None = None) -> ApiToken:
    """Revoke a key at once; it answers 401 from the next request on."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise TokenRuleError("该密钥已吊销")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    security_event_record(
        kind=SecurityEventKind.TOKEN_REVOKED,
        user=token.user,
        actor=actor,
        username="" if token.user else f"渠道:{token.name}",
        note=str(token),
    )
    return token
