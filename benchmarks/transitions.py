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
the physical ceiling on this machine. Only the typed services are used, so the script runs
unchanged on earlier versions of the project, to compare before and after.
"""

import argparse
import io
import os
import statistics
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

LOCAL = "127.0.0.1"
STREET = "330109001"
STEPS = ("accept", "dispatch", "claim", "resolve", "callback")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="经流程引擎的流转吞吐量与数据库写入上限对比")
    parser.add_argument(
        "--database-url", required=True, help="压测库,须在 127.0.0.1 且库名含 bench"
    )
    parser.add_argument("--cases", type=int, default=300, help="走完闭环的事件数")
    args = parser.parse_args()
    url = urlsplit(args.database_url)
    if url.scheme not in {"postgres", "postgresql"} or url.hostname != LOCAL:
        parser.error(f"只在 {LOCAL} 上的 PostgreSQL 压测")
    if "bench" not in url.path.lstrip("/"):
        parser.error("压测会删除并重建数据库,库名须含 bench")
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


def engine_run(count: int) -> tuple[float, dict[str, list[float]], list[int]]:
    """Report `count` cases, then take each through the loop; the seconds the loop took."""
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
        for n in range(count)
    ]
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
    return time.perf_counter() - started, timings, [case.pk for case in cases]


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


def main() -> None:
    args = parse_args()
    recreate_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.settings")
    import django

    django.setup()
    from django.db import connection

    seconds, timings, ids = engine_run(args.cases)
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


if __name__ == "__main__":
    main()
