"""Transitions benchmark: steps per second through the engine, against the database's ceiling.

    .venv/bin/python benchmarks/transitions.py --cases 300 \\
        --database-url postgres://postgres@127.0.0.1:5432/shanzhi_transbench

It drops and recreates the bench database (its name must contain "bench"), migrates it and builds
the small demo street with its catalogue and staff. Then, in this one process, `--cases` reports
are each taken through the general flow's loop by the typed services (受理, 交办, 签收, 办结,
回访: five transitions, each its own transaction with the version check, the policy, the engine,
the clocks, the action-log row and the figures' roll-up upkeep), and the transitions per second
are printed. Beside it, the same number of transactions go straight through psycopg with no
application in them: lock the case row, update its state and version, insert one log row —
the physical ceiling on this machine. A profile of `--profile` more cases shows where one
transition's time goes, layer by layer (benchmarks/layers.py).

With `--clients 1,32`, the same steps (受理, 交办, 签收, 办结) also go through the REST API as
production takes them: gunicorn with `--workers` processes, that many client threads for
`--seconds` each, every thread taking its own cases through the loop over keep-alive connections.
Only the typed services and the public API are used, so the script runs unchanged on earlier
versions of the project, to compare before and after.
"""

import argparse
import http.client
import io
import json
import os
import queue
import statistics
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import psycopg
from intake import LOCAL, Run, free_port, run_threads, start_gunicorn, stop
from layers import Layers
from psycopg import sql

STREET = "330109001"
STEPS = ("accept", "dispatch", "claim", "resolve", "callback")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="经流程引擎的流转吞吐量与数据库写入上限对比")
    parser.add_argument(
        "--database-url", required=True, help="压测库,须在 127.0.0.1 且库名含 bench"
    )
    parser.add_argument("--cases", type=int, default=300, help="走完闭环的事件数")
    parser.add_argument("--profile", type=int, default=60, help="分层计时的事件数")
    parser.add_argument("--clients", default="", help="经接口压测的并发客户端数,逗号分隔")
    parser.add_argument("--seconds", type=float, default=10, help="每个并发数持续的秒数")
    parser.add_argument("--backlog", type=int, default=1500, help="经接口压测预先建立的事件数")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn 进程数")
    parser.add_argument("--threads", type=int, default=4, help="每个 gunicorn 进程的线程数")
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


def engine_run(
    count: int, profiled: int
) -> tuple[float, dict[str, list[float]], list[int], Layers]:
    """Report `count` cases, then take each through the loop; the seconds the loop took, and
    the layers of `profiled` more cases taken through it."""
    from django.core.management import call_command

    from shanzhi.accounts.models import Role, RoleGrant, Unit
    from shanzhi.areas.models import Area, Level
    from shanzhi.cases import services
    from shanzhi.cases.models import CaseType, Source

    call_command("migrate", verbosity=0)
    call_command("demo", "--scale", "small", "--no-registry", "--no-cases", stdout=io.StringIO())
    street = Area.objects.get(code=STREET)
    grants = RoleGrant.objects.filter(area=street, revoked_at__isnull=True).select_related("user")
    dispatcher = next(g.user for g in grants if g.role == Role.DISPATCHER)
    case_type = CaseType.objects.get(street=street, code="CG-SZ-01")
    unit = Unit.objects.filter(street=street, name__endswith="派出所").first()
    handler = (
        RoleGrant.objects.filter(role=Role.HANDLER, user__unit=unit, revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if unit is None or handler is None:
        raise SystemExit("演示街道缺少派出所或其办理人")
    place = Area.objects.filter(street=street, level=Level.MICROGRID).first()
    cases = [
        services.case_report(
            area=place,
            source=Source.HOTLINE,
            actor=dispatcher,
            description=f"路灯不亮,压测第{n}件",
            reporter_phone="13800001111",
        )[0]
        for n in range(count + profiled)
    ]
    cases, extra = cases[:count], cases[count:]
    timings: dict[str, list[float]] = {step: [] for step in STEPS}
    calls = {
        "accept": lambda c: services.case_accept(case=c, actor=dispatcher, case_type=case_type),
        "dispatch": lambda c: services.case_dispatch(case=c, actor=dispatcher, unit=unit),
        "claim": lambda c: services.case_claim(case=c, actor=handler.user),
        "resolve": lambda c: services.case_resolve(
            case=c, actor=handler.user, result="已修复", evidence="更换灯泡"
        ),
        "callback": lambda c: services.case_callback(
            case=c, actor=dispatcher, satisfaction="satisfied"
        ),
    }
    started = time.perf_counter()
    for case in cases:
        for step in STEPS:
            before = time.perf_counter()
            case = calls[step](case)
            timings[step].append(time.perf_counter() - before)
    seconds = time.perf_counter() - started
    layers = Layers(root="服务调用")
    with layers.patched():
        for case in extra:
            for step in STEPS:
                case = layers.run(lambda c=case, s=step: calls[s](c))
    return seconds, timings, [case.pk for case in cases], layers


API_STEPS = ("accept", "dispatch", "claim", "resolve")


Backlog = queue.Queue[tuple[str, int]]  # the cases still to take through the loop: number, version


def api_prepare(count: int) -> tuple[str, str, dict[str, dict[str, object]], Backlog]:
    """`count` new cases, a dispatcher's and a handler's key, and each step's request body."""
    from shanzhi.accounts.models import Role, RoleGrant, Unit, User
    from shanzhi.api.tokens import api_token_create
    from shanzhi.areas.models import Area, Level
    from shanzhi.cases import services
    from shanzhi.cases.models import CaseType, Source

    street = Area.objects.get(code=STREET)
    grants = RoleGrant.objects.filter(area=street, revoked_at__isnull=True)
    dispatcher = User.objects.get(pk=next(g.user_id for g in grants if g.role == Role.DISPATCHER))
    unit = Unit.objects.filter(street=street, name__endswith="派出所").first()
    handler = RoleGrant.objects.filter(
        role=Role.HANDLER, user__unit=unit, revoked_at__isnull=True
    ).first()
    if unit is None or handler is None:
        raise SystemExit("演示街道缺少派出所或其办理人")
    case_type = CaseType.objects.get(street=street, code="CG-SZ-01")
    place = Area.objects.filter(street=street, level=Level.MICROGRID).first()
    numbers: Backlog = queue.Queue()
    for n in range(count):
        case, _ = services.case_report(
            area=place,
            source=Source.HOTLINE,
            actor=dispatcher,
            description=f"路灯不亮,接口压测第{n}件",
            reporter_phone="13800001111",
        )
        numbers.put((case.number, case.version))
    _, dispatcher_key = api_token_create(name="压测坐席", user=dispatcher)
    _, handler_key = api_token_create(name="压测办理人", user=handler.user)
    bodies: dict[str, dict[str, object]] = {
        "accept": {"case_type_id": case_type.pk},
        "dispatch": {"unit_id": unit.pk},
        "claim": {},
        "resolve": {"result": "已修复", "evidence": "更换灯泡"},
    }
    return dispatcher_key, handler_key, bodies, numbers


def api_client(
    port: int,
    keys: dict[str, str],
    bodies: dict[str, dict[str, object]],
    numbers: Backlog,
) -> Callable[[float, Run, int], None]:
    def work(deadline: float, run: Run, n: int) -> None:
        done = failed = 0
        latencies: list[float] = []
        conn = http.client.HTTPConnection(LOCAL, port, timeout=60)
        while time.monotonic() < deadline:
            try:
                number, version = numbers.get_nowait()
            except queue.Empty:
                break
            for step in API_STEPS:
                if time.monotonic() >= deadline:
                    break
                body = json.dumps(bodies[step] | {"version": version})
                started = time.perf_counter()
                conn.request(
                    "POST",
                    f"/api/v1/cases/{number}/{step}",
                    body,
                    {"Authorization": keys[step], "Content-Type": "application/json"},
                )
                response = conn.getresponse()
                answer = response.read()
                if response.status != 200:
                    failed += 1
                    break
                done += 1
                latencies.append(time.perf_counter() - started)
                version = json.loads(answer)["version"]
        conn.close()
        run.add(done, failed, latencies)

    return work


def api_run(args: argparse.Namespace) -> list[tuple[int, Run]]:
    """The loop's steps through the REST API at each client count, under gunicorn."""
    from django.db import connection

    needed = args.backlog
    print(f"经接口压测:先建 {needed} 件事件……", flush=True)
    dispatcher_key, handler_key, bodies, numbers = api_prepare(needed)
    connection.close()
    keys = {
        step: f"Bearer {dispatcher_key if step in ('accept', 'dispatch') else handler_key}"
        for step in API_STEPS
    }
    port = free_port()
    server = start_gunicorn(args.database_url, port, args.workers, args.threads)
    results = []
    try:
        client = api_client(port, keys, bodies, numbers)
        run_threads(2, 1.0, client)
        for clients in args.client_counts:
            print(f"接口流转:{clients} 个客户端,{args.seconds:g} 秒……", flush=True)
            results.append((clients, run_threads(clients, args.seconds, client)))
            if numbers.empty():
                print("预先建立的事件已用完,请加大 --backlog 再测", flush=True)
    finally:
        stop(server)
    return results


def ceiling_run(database_url: str, case_ids: list[int]) -> float:
    """The same transactions with nothing of ours in them: lock, update, insert one log row."""
    url = urlsplit(database_url)
    with psycopg.connect(urlunsplit(url._replace(scheme="postgresql"))) as conn:
        street = conn.execute("SELECT street_id FROM cases_case LIMIT 1").fetchone()
        if street is None:
            raise SystemExit("没有事件")
        # Earlier versions' log had no flow column; the row written is the one the schema has.
        has_flow = conn.execute(
            "SELECT 1 FROM information_schema.columns"
            " WHERE table_name = 'cases_caseaction' AND column_name = 'flow'"
        ).fetchone()
        insert = sql.SQL(
            "INSERT INTO cases_caseaction (case_id, street_id, action, from_state, to_state,"
            " note, data, created_at{}) VALUES (%s, %s, %s, '', '', '', '{{}}', now(){})"
        ).format(sql.SQL(", flow" if has_flow else ""), sql.SQL(", 'general'" if has_flow else ""))
        started = time.perf_counter()
        for case_id in case_ids:
            for step in STEPS:
                with conn.transaction():
                    conn.execute(
                        "SELECT version FROM cases_case WHERE id = %s FOR UPDATE", (case_id,)
                    )
                    conn.execute(
                        "UPDATE cases_case SET version = version + 1 WHERE id = %s", (case_id,)
                    )
                    conn.execute(insert, (case_id, street[0], step))
        return time.perf_counter() - started


def ceiling_writer(database_url: str, case_ids: list[int]) -> Callable[[float, Run, int], None]:
    """Each thread its own cases, the ceiling's transaction over and over, for the API's run."""
    url = urlunsplit(urlsplit(database_url)._replace(scheme="postgresql"))

    def work(deadline: float, run: Run, n: int) -> None:
        done = 0
        mine = case_ids[n :: max(1, len(case_ids) // 64)] or case_ids
        with psycopg.connect(url) as conn:
            street = conn.execute("SELECT street_id FROM cases_case LIMIT 1").fetchone()
            while time.monotonic() < deadline:
                case_id = mine[done % len(mine)]
                with conn.transaction():
                    conn.execute(
                        "SELECT version FROM cases_case WHERE id = %s FOR UPDATE", (case_id,)
                    )
                    conn.execute(
                        "UPDATE cases_case SET version = version + 1 WHERE id = %s", (case_id,)
                    )
                    conn.execute(
                        "INSERT INTO cases_caseaction (case_id, street_id, action, from_state,"
                        " to_state, note, data, created_at, flow) VALUES"
                        " (%s, %s, 'bench', '', '', '', '{}', now(), 'general')",
                        (case_id, street[0] if street else None),
                    )
                done += 1
        run.add(done, 0, [])

    return work


def main() -> None:
    args = parse_args()
    recreate_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.settings")
    import django

    django.setup()
    from django.db import connection

    seconds, timings, ids, layers = engine_run(args.cases, args.profile)
    connection.close()
    transitions = args.cases * len(STEPS)
    ceiling = ceiling_run(args.database_url, ids)
    engine_rate, ceiling_rate = transitions / seconds, transitions / ceiling
    print(f"{args.cases} 件事件走完闭环,共 {transitions} 次流转(单进程,每次一个事务)")
    print(f"经流程引擎:{engine_rate:,.0f} 次/秒")
    print(f"数据库上限(锁行、更新、写一行流转记录):{ceiling_rate:,.0f} 次/秒")
    print(f"比值:{engine_rate / ceiling_rate:.1%}")
    for step in STEPS:
        values = timings[step]
        print(
            f"  {step:<9} 中位数 {statistics.median(values) * 1000:6.2f} ms,"
            f" 平均 {statistics.mean(values) * 1000:6.2f} ms"
        )
    layers.print("一次流转的分层耗时(单进程,直接调用服务)")
    if args.client_counts:
        results = api_run(args)
        ceilings = []
        for clients in args.client_counts:
            print(f"写入上限:{clients} 个连接,{args.seconds:g} 秒……", flush=True)
            ceilings.append(
                run_threads(clients, args.seconds, ceiling_writer(args.database_url, ids))
            )
        print()
        print(f"{'clients':>7} {'steps/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
              f"{'ceiling/s':>10} {'ratio':>6}")  # fmt: skip
        for (clients, run), ceiling in zip(results, ceilings, strict=True):
            rate, limit = run.done / args.seconds, ceiling.done / args.seconds
            print(
                f"{clients:>7} {rate:>9.1f} {run.percentile(0.5):>8.1f} "
                f"{run.percentile(0.99):>8.1f} {run.failed:>6} {limit:>10.1f} "
                f"{rate / limit if limit else 0:>6.1%}"
            )
        print("ceiling: 同样多的连接,每个事务锁行、更新版本、写一行流转记录,没有应用逻辑")


if __name__ == "__main__":
    main()
