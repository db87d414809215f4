"""Rate limits shared by every worker process (the database, or Redis when configured), keyed on
the client address the trusted proxies report."""

import multiprocessing
import os
import uuid

import pytest
from django.db import connection, connections
from django.test import RequestFactory

from shanzhi import ratelimit
from shanzhi.client_ip import client_ip
from shanzhi.ops.models import RateCounter

REDIS_TEST_URL = os.environ.get("SHANZHI_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
LIMIT, PER_WORKER = 10, 20


def _request(remote: str = "10.0.0.9", **headers):
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_only_remote_addr_counts_unless_a_proxy_header_is_configured(settings):
    settings.SHANZHI_PROXY_IP_HEADER = ""
    assert client_ip(_request(HTTP_X_FORWARDED_FOR="1.2.3.4")) == "10.0.0.9"


def test_the_client_is_as_many_places_from_the_right_as_there_are_proxies(settings):
    settings.SHANZHI_PROXY_IP_HEADER = "X-Forwarded-For"
    settings.SHANZHI_TRUSTED_PROXIES = 1
    forged = _request(HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_ip(forged) == "203.0.113.7"  # the client wrote 6.6.6.6 itself
    settings.SHANZHI_TRUSTED_PROXIES = 2
    assert client_ip(forged) == "6.6.6.6"
    assert client_ip(_request(HTTP_X_FORWARDED_FOR="203.0.113.7")) == "203.0.113.7"
    assert client_ip(_request(HTTP_X_FORWARDED_FOR="not-an-ip, junk")) == "10.0.0.9"
    assert client_ip(_request()) == "10.0.0.9"


def test_a_single_address_header_and_ports_and_ipv6(settings):
    settings.SHANZHI_PROXY_IP_HEADER = "X-Real-IP"
    settings.SHANZHI_TRUSTED_PROXIES = 1
    assert client_ip(_request(HTTP_X_REAL_IP="198.51.100.4:51234")) == "198.51.100.4"
    assert client_ip(_request(HTTP_X_REAL_IP="[2001:db8::1]:443")) == "2001:db8::1"


@pytest.mark.django_db
def test_the_database_counts_a_window_and_clears_old_ones(settings):
    settings.REDIS_URL = ""
    results = [ratelimit.hit(scope="t", key="a", limit=3, window_seconds=60) for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert ratelimit.hit(scope="t", key="b", limit=3, window_seconds=60)
    assert RateCounter.objects.get(bucket="t:a").count == 5


def _hits(database_name: str, barrier, out) -> None:
    """One worker process: its own connections, then PER_WORKER requests as fast as it can."""
    if database_name:
        connections["default"].settings_dict["NAME"] = database_name
    connections.close_all()
    barrier.wait(timeout=30)
    allowed = sum(
        ratelimit.hit(scope="shared", key="203.0.113.7", limit=LIMIT, window_seconds=3600)
        for _ in range(PER_WORKER)
    )
    out.put(allowed)
    connections.close_all()


def _two_workers(database_name: str = "") -> list[int]:
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(2), context.Queue()
    connections.close_all()  # a forked child must not share the parent's connection
    workers = [context.Process(target=_hits, args=(database_name, barrier, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    return results


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_share_the_database_limit(settings, tmp_path):
    settings.REDIS_URL = ""
    database_name = ""
    if connection.vendor == "sqlite":
        # The test database lives in this process's memory; the workers share a copy on disk.
        database_name = str(tmp_path / "shared.sqlite3")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [database_name])
    allowed = _two_workers(database_name)
    # Counted per process, each would have let LIMIT through.
    assert sum(allowed) == LIMIT, allowed


@pytest.fixture
def redis_db(settings):
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"没有可用的 Redis({REDIS_TEST_URL})")
    prefix = f"shanzhi-test:{uuid.uuid4().hex}:"
    settings.REDIS_URL = REDIS_TEST_URL
    settings.SHANZHI_RATELIMIT_PREFIX = prefix
    ratelimit._redis.cache_clear()
    yield client
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    ratelimit._redis.cache_clear()


def test_two_worker_processes_share_the_redis_limit(redis_db):
    allowed = _two_workers()
    assert sum(allowed) == LIMIT, allowed
    (key,) = list(redis_db.scan_iter(f"{ratelimit.settings.SHANZHI_RATELIMIT_PREFIX}*"))
    assert int(redis_db.get(key)) == 2 * PER_WORKER
    assert 0 < redis_db.ttl(key) <= 3600 + 5
