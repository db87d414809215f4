"""A fixed-window request limit kept in the cache, for the anonymous ways in (QR page, Open311)."""

from django.core.cache import cache
from django.http import HttpRequest

from shanzhi import clock


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def hit(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one request; False once `limit` requests came within the current window."""
    window = int(clock.now().timestamp()) // window_seconds
    name = f"ratelimit:{scope}:{key}:{window}"
    cache.add(name, 0, timeout=window_seconds + 5)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=window_seconds + 5)
        count = 1
    return count <= limit
