"""A fixed-window request limit for the anonymous ways in (QR page, Open311), shared by every
worker process: counted in Redis when REDIS_URL is set, in the database otherwise.

A count kept in one process's memory would let each worker take its own share, and forget it
when the worker restarts.
"""

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest

from shanzhi import clock
from shanzhi.client_ip import client_ip

if TYPE_CHECKING:
    import redis

# Windows end a little after their time, so that a clock a second off never resets a count early.
_GRACE_SECONDS = 5


def client_address(request: HttpRequest) -> str:
    """The address requests are counted by (see shanzhi.client_ip)."""
    return client_ip(request)


@cache
def _redis(url: str) -> "redis.Redis":
    import redis

    return redis.Redis.from_url(url)


def _redis_count(name: str, ttl: int) -> int:
    client = _redis(settings.REDIS_URL)
    prefix = str(getattr(settings, "SHANZHI_RATELIMIT_PREFIX", "shanzhi:ratelimit:"))
    with client.pipeline() as pipe:
        pipe.set(prefix + name, 0, ex=ttl, nx=True)
        pipe.incr(prefix + name)
        _, count = pipe.execute()
    return int(count)


def _database_count(bucket: str, slot: int, ttl: int) -> int:
    from shanzhi.ops.models import RateCounter

    now = clock.now()
    table = connection.ops.quote_name(RateCounter._meta.db_table)
    # One statement that both workers may run at once: the row is made or counted up atomically.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (bucket, slot, count, expires_at) VALUES (%s, %s, 1, %s) "  # noqa: S608 - the table name is the model's own
            f"ON CONFLICT (bucket, slot) DO UPDATE SET count = {table}.count + 1 "
            "RETURNING count",
            [bucket, slot, now + timedelta(seconds=ttl)],
        )
        (count,) = cursor.fetchone()
        if count == 1:
            # A new window: the counters of windows long over go.
            RateCounter.objects.filter(expires_at__lt=now).delete()
    return int(count)


def hit(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one request; False once `limit` requests came within the current window."""
    slot = int(clock.now().timestamp()) // window_seconds
    bucket = f"{scope}:{key}"[:200]
    ttl = window_seconds + _GRACE_SECONDS
    if settings.REDIS_URL:
        count = _redis_count(f"{bucket}:{slot}", ttl)
    else:
        count = _database_count(bucket, slot, ttl)
    return count <= limit
