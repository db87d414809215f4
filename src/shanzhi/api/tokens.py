"""Issuing and checking API keys; REST and Open311 both authenticate through here."""

import secrets
from datetime import timedelta

from django.utils import timezone

from shanzhi.accounts.models import User

from .models import ApiToken, hash_key

LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_token_create(
    *, name: str, user: User | None = None, source: str = "api"
) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw key, which is never stored or shown again."""
    raw = "sz_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name.strip() or "接口密钥",
        user=user,
        source=source,
        prefix=raw[:8],
        key_hash=hash_key(raw),
    )
    return token, raw


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The live token for a raw key, or None; a revoked token or inactive user is refused."""
    if not raw:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(raw.strip())).first()
    if token is None or token.revoked_at is not None:
        return None
    if token.user is not None and not token.user.is_active:
        return None
    # Every request of a busy client would otherwise queue on this one row.
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
