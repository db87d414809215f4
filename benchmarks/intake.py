"""Intake benchmark: cases reported per second through the REST API, against the database's ceiling.

    .venv/bin/python benchmarks/intake.py --seconds 10 --clients 1,8,32 \\
        --database-url postgres://postgres@127.0.0.1:5432/shanzhi_bench

It drops and recreates the bench database (its name must contain "bench"), migrates it, builds the
small demo street with its catalogue and a dispatcher's API key, and starts gunicorn on a free
port of 127.0.0.1. For each client count, that many threads POST /api/v1/cases over keep-alive
connections for the given time, each request with its own Idempotency-Key. Then the same number
of threads write the same rows straight through psycopg for the same time (the case row and its
action-log row, one transaction each, nothing else: no counter, no application): the physical
ceiling the API is measured against. Last, `--profile` requests go through the whole Django stack
in this process (no socket) with each layer timed on its own — HTTP and authentication, policy,
validation, the engine, the figures' roll-up upkeep, notifications — to show where one request's
time goes. gunicorn is stopped at the end, whatever happens. Nothing but 127.0.0.1 is contacted.
"""

import argparse
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from layers import Layers
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
LOCAL = "127.0.0.1"
STREET = "330109001"  # 城厢街道, the demo's first street


@dataclass
class Setup:
    key: str
    area_codes: list[str]
    case_columns: list[str] = field(default_factory=list)
    case_values: dict[str, Any] = field(default_factory=dict)
    action_columns: list[str] = field(default_factory=list)
    action_values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    done: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, done: int, failed: int, latencies: list[float]) -> None:
        with self.lock:
            self.done += done
            self.failed += failed
            self.latencies.extend(latencies)

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="事件上报接口的吞吐量与数据库写入上限对比")
    parser.add_argument(
        "--database-url", required=True, help="压测库,须在 127.0.0.1 且库名含 bench"
    )
    parser.add_argument("--seconds", type=float, default=10, help="每个并发数持续的秒数")
    parser.add_argument("--clients", default="1,8,32", help="并发客户端数,逗号分隔")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn 进程数")
    parser.add_argument("--threads", type=int, default=4, help="每个 gunicorn 进程的线程数")
    parser.add_argument("--profile", type=int, default=300, help="分层计时的请求数(进程内)")
    args = parser.parse_args()
    url = urlsplit(args.database_url)
    if url.scheme not in {"postgres", "postgresql"} or url.hostname != LOCAL:
        parser.error(f"只在 {LOCAL} 上的 PostgreSQL 压测")
    if "bench" not in url.path.lstrip("/"):
        parser.error("压测会删除并重建数据库,库名须含 bench")
    args.client_counts = [int(n) for n in args.clients.split(",") if n.strip()]
    return args


def recreate_database(database_url: str) -> None:
    url = urlsplit(database_url)
    name = url.path.lstrip("/")
    maintenance = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare(database_url: str) -> Setup:
    """Migrate, build the demo street and its catalogue, and issue a dispatcher's key."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from shanzhi.accounts.models import Role, User
    from shanzhi.api.tokens import api_token_create
    from shanzhi.cases.services import catalogue_seed
    from shanzhi.demo.generator import demo_build
    from shanzhi.demo.places import KNOWN_STREETS

    call_command("migrate", verbosity=0)
    demo = demo_build(spec=KNOWN_STREETS[STREET], seed=1, scale="small")
    catalogue_seed(street=demo.street)
    dispatcher = next(a for a in demo.accounts if a.role == Role.DISPATCHER)
    _, key = api_token_create(name="压测", user=User.objects.get(username=dispatcher.username))
    return Setup(key=key, area_codes=[area.code for area in demo.microgrids])


def learn_rows(setup: Setup) -> None:
    """Copy the rows the API wrote for one case: the ceiling writes exactly these again."""
    from django.db import connection

    from shanzhi.cases.models import Case, CaseAction

    case = Case.objects.filter(client_key__startswith="bench-").order_by("id").first()
    if case is None:
        raise SystemExit("接口没有建立任何事件,无法测写入上限")
    action = CaseAction.objects.get(case=case, action="report")

    def row(obj: Any) -> tuple[list[str], dict[str, Any]]:
        fields = [f for f in obj._meta.concrete_fields if not f.primary_key]
        values = {f.column: f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields}
        return [f.column for f in fields], values

    setup.case_columns, setup.case_values = row(case)
    setup.action_columns, setup.action_values = row(action)
    connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOCAL, 0))
        return int(probe.getsockname()[1])


def start_gunicorn(database_url: str, port: int, workers: int, threads: int) -> subprocess.Popen:
    env = os.environ | {
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "shanzhi.settings",
        # The API serves no static files; whitenoise need not warn that none were collected.
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    command = [
        sys.executable, "-m", "gunicorn", "shanzhi.wsgi:application",
        "--bind", f"{LOCAL}:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", str(threads),
        "--keep-alive", "30",
        "--log-level", "warning",
        "--timeout", "120",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603 - our own interpreter
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn 启动失败")
        try:
            conn = http.client.HTTPConnection(LOCAL, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop(server)
    raise SystemExit("gunicorn 未在 180 秒内就绪")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def run_threads(clients: int, seconds: float, work: Callable[[float, Run, int], None]) -> Run:
    run = Run()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=work, args=(deadline, run, n), daemon=True) for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run


def report_body(setup: Setup, n: int, i: int) -> str:
    return json.dumps(
        {
            "area_code": setup.area_codes[(n * 7919 + i) % len(setup.area_codes)],
            "description": f"压测上报:第{n}号客户端第{i}件,楼道灯不亮",
            "reporter_name": "压测",
            "reporter_phone": "13800001111",
        }
    )


def profile(setup: Setup, count: int) -> Layers:
    """`count` reports through the whole Django stack in this process, each layer timed."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {setup.key}")
    layers = Layers()

    def one(i: int) -> None:
        response = client.post(
            "/api/v1/cases",
            report_body(setup, 99, i),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"bench-{uuid.uuid4()}",
        )
        if response.status_code != 201:
            raise SystemExit(f"分层计时的上报失败:{response.status_code}")

    for i in range(10):  # warm the caches, as the workers are
        one(-i - 1)
    with layers.patched():
        for i in range(count):
            layers.run(lambda i=i: one(i))
    connection.close()
    return layers


def api_client(port: int, setup: Setup) -> Callable[[float, Run, int], None]:
    headers = {"Authorization": f"Bearer {setup.key}", "Content-Type": "application/json"}

    def work(deadline: float, run: Run, n: int) -> None:
        done = failed = 0
        latencies: list[float] = []
        conn = http.client.HTTPConnection(LOCAL, port, timeout=60)
        i = 0
        while time.monotonic() < deadline:
            i += 1
            body = report_body(setup, n, i)
            started = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    "/api/v1/cases",
                    body,
                    headers | {"Idempotency-Key": f"bench-{uuid.uuid4()}"},
                )
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection(LOCAL, port, timeout=60)
                continue
            if response.status == 201:
                done += 1
                latencies.append(time.perf_counter() - started)
            else:
                failed += 1
        conn.close()
        run.add(done, failed, latencies)

    return work


def ceiling_writer(database_url: str, setup: Setup) -> Callable[[float, Run, int], None]:
    """One case row and its log row per transaction, numbered by the client: the raw ceiling."""
    insert_case = sql.SQL("INSERT INTO cases_case ({}) VALUES ({}) RETURNING id").format(
        sql.SQL(", ").join(map(sql.Identifier, setup.case_columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(setup.case_columns)),
    )
    insert_action = sql.SQL("INSERT INTO cases_caseaction ({}) VALUES ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, setup.action_columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(setup.action_columns)),
    )

    def work(deadline: float, run: Run, n: int) -> None:
        done = 0
        with psycopg.connect(database_url) as conn:
            while time.monotonic() < deadline:
                with conn.transaction():
                    case = setup.case_values | {
                        "number": f"C{n:03d}-{uuid.uuid4().hex[:24]}",
                        "tracking_token": secrets.token_urlsafe(16),
                        "client_key": f"ceiling-{uuid.uuid4()}",
                    }
                    row = conn.execute(
                        insert_case, [case[c] for c in setup.case_columns]
                    ).fetchone()
                    action = setup.action_values | {"case_id": row[0] if row else None}
                    conn.execute(insert_action, [action[c] for c in setup.action_columns])
                done += 1
        run.add(done, 0, [])

    return work


def main() -> None:
    args = parse_args()
    print(f"重建压测库 {urlsplit(args.database_url).path.lstrip('/')} 并生成演示街道……", flush=True)
    recreate_database(args.database_url)
    setup = prepare(args.database_url)
    port = free_port()
    server = start_gunicorn(args.database_url, port, args.workers, args.threads)
    results: list[tuple[int, Run]] = []
    try:
        client = api_client(port, setup)
        run_threads(2, 1.0, client)  # warm the workers and their connections
        for clients in args.client_counts:
            print(f"接口:{clients} 个客户端,{args.seconds:g} 秒……", flush=True)
            results.append((clients, run_threads(clients, args.seconds, client)))
    finally:
        stop(server)
    learn_rows(setup)
    layers = profile(setup, args.profile) if args.profile else None
    ceilings = []
    for clients in args.client_counts:
        print(f"写入上限:{clients} 个连接,{args.seconds:g} 秒……", flush=True)
        ceilings.append(
            run_threads(clients, args.seconds, ceiling_writer(args.database_url, setup))
        )

    print()
    print(f"{'clients':>7} {'cases/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
          f"{'ceiling rows/s':>14} {'ratio':>6}")  # fmt: skip
    for (clients, run), ceiling in zip(results, ceilings, strict=True):
        rate = run.done / args.seconds
        limit = ceiling.done / args.seconds
        print(
            f"{clients:>7} {rate:>9.1f} {run.percentile(0.5):>8.1f} {run.percentile(0.99):>8.1f} "
            f"{run.failed:>6} {limit:>14.1f} {rate / limit if limit else 0:>6.1%}"
        )
    print("ceiling: 每个事务只写一行事件和一行流转记录,没有编号计数行,也没有应用逻辑")
    if layers is not None:
        layers.print("一次上报的分层耗时(进程内,不经网络)")


if __name__ == "__main__":
    main()
