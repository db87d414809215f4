"""Figures benchmark: the dashboard and the report against a raw GROUP BY, at N synthetic cases.

    .venv/bin/python benchmarks/figures.py --cases 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/shanzhi_figbench

It drops and recreates the bench database (on 127.0.0.1, its name must contain "bench"),
migrates it and builds a synthetic city: districts, --streets streets (default: one per 100,000
cases, at least 3), each with communities, grids and microgrids, its units and the built-in
catalogue. Then it writes N cases straight into PostgreSQL with COPY, not through the services
(which take ~30 ms a case): spread over the places (some communities much busier), the channels
and the catalogue as the demo weights them, and over --years years (seasons, weekdays, a yearly
growth), each with consistent moments (reported ≤ accepted ≤ dispatched ≤ claimed ≤ resolved),
mostly archived, some still open and overdue, with callbacks, on-the-spot resolutions, returns,
reopenings and a small share of 督办 actions. The secondary indexes and foreign keys of the
cases table are dropped for the load and made again after it (timed apart). Then the roll-up is
rebuilt with `rollup_rebuild` and the tables analysed.

Measured, each as the median of --runs runs after a first (cold) one:
  (a) a street leader's dashboard for the last year: the nine dashboard KPIs, the monthly trend
      and the breakdown by category, from the roll-up;
  (b) the same for a city leader over all the years;
  (c) the same figures, trend and breakdown counted straight from the cases (GROUP BY over
      the raw table), and the ratio raw ÷ roll-up;
  (d) the street-year report (compose + .docx), when `shanzhi.reports` is there.
Nothing but the local database is contacted. --keep leaves the database in place.
"""

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
LOCAL = "127.0.0.1"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CITY = "3399"  # a made-up city code, clear of the demo's real ones
DASHBOARD_KPIS = (
    "intake",
    "resolution_rate",
    "on_time_rate",
    "satisfaction_rate",
    "overdue",
    "handling_hours",
    "on_spot_rate",
    "dispute_rate",
    "hazard_rate",
)
SENTENCES = (
    "居民反映楼道内堆放杂物较多,影响通行,请尽快处理。",
    "小区门口有车辆长期占用消防通道,多次劝离无果。",
    "路灯损坏已有一周,夜间出行不便,存在安全隐患。",
    "楼上住户装修噪音扰民,早晚施工,请协调。",
    "垃圾分类投放点满溢未及时清运,气味较大。",
    "沿街商铺占道经营,人行道无法通行。",
    "邻里之间因漏水问题发生纠纷,需要调解。",
    "电动自行车在楼道内充电,存在火灾隐患。",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="统计看板、报告与原始分组查询的耗时对比")
    parser.add_argument(
        "--database-url", required=True, help="PostgreSQL 压测库,须在 127.0.0.1 且库名含 bench"
    )
    parser.add_argument("--cases", type=int, default=100_000, help="合成事件数")
    parser.add_argument("--streets", type=int, default=0, help="街道数(默认每十万件一个,至少3个)")
    parser.add_argument("--years", type=int, default=5, help="事件跨越的年数(截至上一整年)")
    parser.add_argument("--last-year", type=int, default=2025, help="最后一个整年")
    parser.add_argument("--runs", type=int, default=3, help="每项预热后计时的次数(取中位数)")
    parser.add_argument("--batch", type=int, default=200_000, help="每次 COPY 的行数")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--keep", action="store_true", help="结束后保留压测库")
    parser.add_argument(
        "--jit", choices=["on", "off"], default="", help="压测库的 PostgreSQL jit 设置(默认不改)"
    )
    args = parser.parse_args()
    url = urlsplit(args.database_url)
    if url.scheme not in {"postgres", "postgresql"} or url.hostname != LOCAL:
        parser.error(f"只在 {LOCAL} 上的 PostgreSQL 压测")
    if "bench" not in url.path.lstrip("/"):
        parser.error("压测会删除并重建数据库,库名须含 bench")
    if args.cases < 1000 or args.years < 1:
        parser.error("至少 1000 件、1 年")
    args.streets = args.streets or max(3, math.ceil(args.cases / 100_000))
    return args


def _maintenance(database_url: str) -> tuple[str, str]:
    url = urlsplit(database_url)
    return url.path.lstrip("/"), urlunsplit(url._replace(path="/postgres"))


def recreate_database(database_url: str, jit: str = "") -> None:
    name, maintenance = _maintenance(database_url)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        if jit:
            setting = sql.SQL("ALTER DATABASE {} SET jit = {}")
            conn.execute(setting.format(sql.Identifier(name), sql.Literal(jit)))


def drop_database(database_url: str) -> None:
    name, maintenance = _maintenance(database_url)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def say(text: str) -> None:
    print(text, flush=True)


# The city ----------------------------------------------------------------------------------


@dataclass
class City:
    city: Any
    streets: list[Any]
    street_leader: Any
    city_leader: Any
    codes: list[str]  # the catalogue's type codes, in one order for every street
    # Per microgrid: its street index, community unit id, weight.
    microgrids: list[int] = field(default_factory=list)
    micro_street: list[int] = field(default_factory=list)
    micro_unit: list[int] = field(default_factory=list)
    micro_weight: list[float] = field(default_factory=list)
    type_ids: Any = None  # [street, code] -> CaseType id
    unit_ids: Any = None  # [street, code] -> Unit id (its default unit, or -1: the community's)
    street_codes: list[str] = field(default_factory=list)


def build_city(streets: int, rng: np.random.Generator) -> City:
    from shanzhi.accounts.models import Role, UnitKind, User
    from shanzhi.accounts.services import role_grant, unit_create
    from shanzhi.areas.models import Level
    from shanzhi.areas.services import area_create, area_create_many
    from shanzhi.cases.catalogue import CATALOGUE
    from shanzhi.cases.models import CaseType
    from shanzhi.cases.services import catalogue_seed
    from shanzhi.demo.places import STREET_UNITS

    city = area_create(code=CITY, name="压测市", level=Level.CITY)
    districts = [
        area_create(
            code=f"{CITY}{d + 1:02d}", name=f"第{d + 1}区", level=Level.DISTRICT, parent=city
        )
        for d in range(max(2, min(12, streets // 8)))
    ]
    codes = [spec.code for spec in CATALOGUE]
    built = City(city, [], None, None, codes)
    type_ids = np.zeros((streets, len(codes)), dtype=np.int64)
    unit_ids = np.zeros((streets, len(codes)), dtype=np.int64)
    for s in range(streets):
        district = districts[s % len(districts)]
        street = area_create(
            code=f"{district.code}{s // len(districts) + 1:03d}",
            name=f"压测{s + 1}街道",
            level=Level.STREET,
            parent=district,
        )
        built.streets.append(street)
        built.street_codes.append(street.code)
        for name, kind in STREET_UNITS:
            unit_create(actor=None, name=name, kind=kind, area=street)
        street_weight = rng.uniform(0.5, 1.5)
        count = int(rng.integers(5, 9))
        communities = area_create_many(
            parent=street,
            nodes=[(f"{street.code}{c + 1:02d}", f"压测{s + 1}-{c + 1}社区", Level.COMMUNITY)
                   for c in range(count)],
        )  # fmt: skip
        for community in communities:
            unit = unit_create(
                actor=None,
                name=f"{community.name}居委会",
                kind=UnitKind.COMMUNITY_COMMITTEE,
                area=community,
            )
            # A few communities are much busier than the rest (old estates, markets).
            busy = street_weight * float(rng.pareto(1.5) + 0.3)
            grids = area_create_many(
                parent=community,
                nodes=[(f"{community.code}{g + 1:02d}", f"第{g + 1}网格", Level.GRID)
                       for g in range(3)],
            )  # fmt: skip
            for grid in grids:
                micro = area_create_many(
                    parent=grid,
                    nodes=[(f"{grid.code}{m + 1:02d}", f"第{m + 1}微网格", Level.MICROGRID)
                           for m in range(2)],
                )  # fmt: skip
                for area in micro:
                    built.microgrids.append(area.pk)
                    built.micro_street.append(s)
                    built.micro_unit.append(unit.pk)
                    built.micro_weight.append(busy * float(rng.uniform(0.6, 1.4)))
        catalogue_seed(street=street)
        types = {t.code: t for t in CaseType.objects.filter(street=street)}
        for i, code in enumerate(codes):
            type_ids[s, i] = types[code].pk
            unit_ids[s, i] = types[code].default_unit_id or -1
    built.type_ids, built.unit_ids = type_ids, unit_ids
    first = built.streets[0]
    built.street_leader = User.objects.create_user(
        username="figbench.street", password=None, full_name="压测街道领导"
    )
    role_grant(granter=None, user=built.street_leader, role=Role.LEADER, area=first)
    built.city_leader = User.objects.create_user(
        username="figbench.city", password=None, full_name="压测市领导"
    )
    role_grant(granter=None, user=built.city_leader, role=Role.LEADER, area=city)
    return built


# The cases ---------------------------------------------------------------------------------


@dataclass
class Plan:
    """What the generator draws from, as arrays."""

    sources: list[str]
    source_p: Any
    type_p: Any  # [source, code]
    day_p: Any  # [source, day]
    hour_p: Any  # [source, hour]
    days: Any  # local midnights as epoch seconds
    limit_minutes: Any  # [code] handling limit in calendar minutes (approximate)
    has_limit_hours: Any  # [code] bool
    on_spot_ok: Any  # [code] bool
    workflow: list[str]  # [code]
    claim_hours: Any  # [code]
    names: list[str]  # [code]
    micro_p: Any
    now: int  # epoch seconds: the data's "now", the start of the year after the last


def make_plan(city: City, years: int, last_year: int) -> Plan:
    from shanzhi.cases.catalogue import CATALOGUE
    from shanzhi.demo.cases import (
        CATEGORY_MIX,
        DAY_KINDS,
        HOURS,
        ON_SPOT_TYPES,
        SEASON,
        SOURCE_SHARES,
        TYPE_WEIGHTS,
    )

    sources = [str(s) for s in SOURCE_SHARES]
    source_p = np.array(list(SOURCE_SHARES.values()))
    source_p /= source_p.sum()
    by_category: dict[str, float] = {}
    for spec in CATALOGUE:
        by_category[spec.category] = by_category.get(spec.category, 0) + TYPE_WEIGHTS.get(
            spec.code, 1.0
        )
    type_p = np.zeros((len(sources), len(CATALOGUE)))
    for i, source in enumerate(sources):
        mix = CATEGORY_MIX[source]
        for j, spec in enumerate(CATALOGUE):
            share = mix.get(spec.category, 0) / by_category[spec.category]
            type_p[i, j] = share * TYPE_WEIGHTS.get(spec.code, 1.0)
        type_p[i] /= type_p[i].sum()
    first = date(last_year - years + 1, 1, 1)
    count = (date(last_year + 1, 1, 1) - first).days
    all_days = [first + timedelta(days=n) for n in range(count)]
    days = np.array(
        [datetime(d.year, d.month, d.day, tzinfo=SHANGHAI).timestamp() for d in all_days],
        dtype=np.int64,
    )
    season = np.array([SEASON[d.month - 1] * 1.08 ** (d.year - first.year) for d in all_days])
    rest = np.array([d.weekday() >= 5 for d in all_days])
    day_p = np.zeros((len(sources), count))
    hour_p = np.zeros((len(sources), 24))
    for i, source in enumerate(sources):
        work, off = DAY_KINDS[source]
        day_p[i] = season * np.where(rest, off, work)
        day_p[i] /= day_p[i].sum()
        hour_p[i] = np.array(HOURS[source], dtype=float)
        hour_p[i] /= hour_p[i].sum()
    # A working day is about 1.4 calendar days; an hour limit runs in calendar time.
    limit_minutes = np.array(
        [
            (spec.handle_hours * 60) if spec.handle_hours else (spec.handle_days or 5) * 1.4 * 1440
            for spec in CATALOGUE
        ]
    )
    micro_p = np.array(city.micro_weight)
    micro_p /= micro_p.sum()
    return Plan(
        sources=sources,
        source_p=source_p,
        type_p=type_p,
        day_p=day_p,
        hour_p=hour_p,
        days=days,
        limit_minutes=limit_minutes,
        has_limit_hours=np.array([bool(spec.handle_hours) for spec in CATALOGUE]),
        on_spot_ok=np.array([spec.code in ON_SPOT_TYPES for spec in CATALOGUE]),
        workflow=[spec.workflow for spec in CATALOGUE],
        claim_hours=np.array([spec.claim_hours for spec in CATALOGUE]),
        names=[spec.name for spec in CATALOGUE],
        micro_p=micro_p,
        now=int(datetime(last_year + 1, 1, 1, tzinfo=SHANGHAI).timestamp()),
    )


NULL = "\\N"


def _times(seconds: Any, present: Any) -> list[str]:
    """Epoch seconds as timestamptz text, NULL where not `present`."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s", timezone="UTC")
    return np.where(present, text, NULL).tolist()


def _ints(values: Any, present: Any | None = None) -> list[str]:
    text = values.astype(np.int64).astype(str)
    return (text if present is None else np.where(present, text, NULL)).tolist()


CASE_COLUMNS = (
    "id, street_id, number, tracking_token, client_key, source, case_type_id, title, "
    "description, area_id, address, reporter_name, reporter_phone, priority, state, level, "
    "unit_id, extra, reported_at, accepted_at, dispatched_at, claimed_at, resolved_at, "
    "archived_at, claim_due_at, handle_due_at, extension_reason, resolution, satisfaction, "
    "on_spot, return_count, reopen_count, supervise_count, extension_count, handling_minutes, "
    "version"
)
ACTION_COLUMNS = (
    "case_id, street_id, action, from_state, to_state, to_unit_id, note, data, created_at"
)


def case_batch(
    city: City, plan: Plan, rng: np.random.Generator, first_id: int, n: int
) -> tuple[str, str, int]:
    """`n` cases as COPY text (ids from `first_id`), their 督办 actions as COPY text, and how
    many actions."""
    micro = rng.choice(len(city.microgrids), size=n, p=plan.micro_p)
    street = np.asarray(city.micro_street)[micro]
    area_id = np.asarray(city.microgrids)[micro]
    source = rng.choice(len(plan.sources), size=n, p=plan.source_p)
    code = np.empty(n, dtype=np.int64)
    day = np.empty(n, dtype=np.int64)
    hour = np.empty(n, dtype=np.int64)
    for i in range(len(plan.sources)):
        mask = source == i
        k = int(mask.sum())
        if k:
            code[mask] = rng.choice(plan.type_p.shape[1], size=k, p=plan.type_p[i])
            day[mask] = rng.choice(len(plan.days), size=k, p=plan.day_p[i])
            hour[mask] = rng.choice(24, size=k, p=plan.hour_p[i])
    reported = plan.days[day] + hour * 3600 + rng.integers(0, 3600, size=n)
    type_id = city.type_ids[street, code]
    unit_id = city.unit_ids[street, code]
    unit_id = np.where(unit_id < 0, np.asarray(city.micro_unit)[micro], unit_id)
    grid_patrol = np.array(plan.sources)[source] == "grid_patrol"
    u = rng.random(n)
    rejected = u < 0.02
    merged = (u >= 0.02) & (u < 0.05)
    on_spot = ~rejected & ~merged & grid_patrol & plan.on_spot_ok[code] & (rng.random(n) < 0.7)
    accepted_ok = ~rejected & ~merged
    accepted = reported + np.where(on_spot, 0, rng.exponential(40 * 60, n).astype(np.int64) + 60)
    dispatched_ok = accepted_ok & ~on_spot & (rng.random(n) < 0.92)
    dispatched = accepted + rng.exponential(25 * 60, n).astype(np.int64) + 60
    claimed = dispatched + rng.exponential(50 * 60, n).astype(np.int64) + 60
    limit = plan.limit_minutes[code] * 60
    due = accepted + limit.astype(np.int64)
    due_ok = accepted_ok & ~on_spot
    # Most finish well within the limit; a tail runs over it.
    took = (limit * rng.lognormal(math.log(0.35), 0.7, n)).astype(np.int64) + 600
    start = np.where(dispatched_ok, claimed, accepted)
    resolved = np.where(on_spot, reported + rng.integers(300, 3600, n), start + took)
    stuck = accepted_ok & ~on_spot & (rng.random(n) < 0.006)  # left open, long overdue
    resolved_ok = accepted_ok & (resolved < plan.now) & ~stuck
    open_ = accepted_ok & ~resolved_ok
    claimed_ok = dispatched_ok & (claimed < plan.now)
    archived_ok = resolved_ok & (resolved + 3 * 86400 < plan.now)
    state = np.select(
        [rejected, merged, archived_ok, resolved_ok, open_ & claimed_ok, open_ & dispatched_ok],
        ["rejected", "merged", "archived", "resolved", "in_progress", "dispatched"],
        "accepted",
    )
    reachable_source = np.isin(
        np.array(plan.sources)[source], ["resident", "hotline", "enterprise", "petition"]
    )
    has_phone = reachable_source & (rng.random(n) < 0.92)
    called = resolved_ok & has_phone & (rng.random(n) < 0.88)
    mood = rng.random(n)
    satisfaction = np.where(
        called,
        np.where(mood < 0.8, "satisfied", np.where(mood < 0.95, "basically", "unsatisfied")),
        "",
    )
    returns = np.where(dispatched_ok & (rng.random(n) < 0.05), 1, 0)
    reopens = np.where(resolved_ok & ~on_spot & (rng.random(n) < 0.02), 1, 0)
    supervise = np.where(dispatched_ok & (rng.random(n) < 0.015), rng.integers(1, 3, n), 0)
    extended = np.where(due_ok & (rng.random(n) < 0.03), 1, 0)
    due = due + extended * (3 * 86400)
    handled = resolved_ok & dispatched_ok
    # Working minutes: about a quarter of the calendar minutes (8 of 24 hours, 5 of 7 days).
    minutes = ((resolved - dispatched) / 60 * 0.24).astype(np.int64) + 1
    workflow = np.array(plan.workflow)[code]
    hazard = workflow == "hazard"
    major = hazard & (rng.random(n) < 0.03)
    extra = np.where(
        major,
        '{"hazard_grade": "重大"}',
        np.where(hazard, '{"hazard_grade": "一般"}', "{}"),
    )
    ids = np.arange(first_id, first_id + n)
    street_codes = np.array(city.street_codes)[street]
    numbers = np.char.add(np.char.add(street_codes, "F"), ids.astype(str))
    names = np.array(plan.names)[code]
    description = np.array(SENTENCES)[ids % len(SENTENCES)]
    street_ids = np.array([s.pk for s in city.streets])[street]
    phone = np.where(has_phone, "13800001111", "")
    level = np.where(on_spot, "grid", np.where(dispatched_ok, "street", "community"))
    columns = [
        _ints(ids),
        _ints(street_ids),
        numbers.tolist(),
        np.char.add("fb", ids.astype(str)).tolist(),
        [""] * n,
        np.array(plan.sources)[source].tolist(),
        _ints(type_id, ~rejected),
        names.tolist(),
        description.tolist(),
        _ints(area_id),
        [""] * n,
        np.where(has_phone, "居民", "").tolist(),
        phone.tolist(),
        ["normal"] * n,
        state.tolist(),
        level.tolist(),
        _ints(unit_id, accepted_ok),
        extra.tolist(),
        _times(reported, np.ones(n, dtype=bool)),
        _times(accepted, accepted_ok),
        _times(dispatched, dispatched_ok),
        _times(claimed, claimed_ok),
        _times(resolved, resolved_ok),
        _times(resolved + 3 * 86400, archived_ok),
        _times(dispatched + plan.claim_hours[code] * 3600, dispatched_ok),
        _times(due, due_ok),
        [""] * n,
        np.where(resolved_ok, "已处理完毕", "").tolist(),
        satisfaction.tolist(),
        np.where(on_spot, "t", "f").tolist(),
        _ints(returns),
        _ints(reopens),
        _ints(supervise),
        _ints(extended),
        _ints(minutes, handled),
        ["1"] * n,
    ]
    text = "".join("\t".join(row) + "\n" for row in zip(*columns, strict=True))
    # 督办: one action per supervision, between the claim and the resolution (or now).
    chosen = np.nonzero(supervise)[0]
    lines = []
    end = np.where(resolved_ok, resolved, plan.now)
    for i in chosen:
        for _ in range(int(supervise[i])):
            lo, hi = int(claimed[i]), max(int(claimed[i]) + 60, int(end[i]))
            at = int(rng.integers(lo, hi))
            if at >= plan.now:
                continue
            moment = datetime.fromtimestamp(at, UTC).isoformat()
            lines.append(
                f"{ids[i]}\t{street_ids[i]}\tsupervise\tin_progress\tin_progress\t"
                f"{unit_id[i]}\t请加快办理\t{{}}\t{moment}\n"
            )
    return text, "".join(lines), len(lines)


def _case_constraints(conn: psycopg.Connection) -> tuple[list[str], list[str]]:
    """Drop the cases table's foreign keys, unique constraints and secondary indexes; return the
    statements that make them again."""
    table = "cases_case"
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('f', 'u')",
        (table,),
    ).fetchall()
    redo_constraints = [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for name, definition in constraints
    ]
    for name, _ in constraints:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
        (table,),
    ).fetchall()
    redo_indexes = [definition for _, definition in indexes]
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    return redo_indexes, redo_constraints


def load_cases(database_url: str, city: City, plan: Plan, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    actions = 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        redo_indexes, redo_constraints = _case_constraints(conn)
        started = time.perf_counter()
        generated = 0.0
        done = 0
        while done < args.cases:
            n = min(args.batch, args.cases - done)
            t0 = time.perf_counter()
            cases, supervisions, count = case_batch(city, plan, rng, done + 1, n)
            generated += time.perf_counter() - t0
            with conn.cursor() as cur:
                with cur.copy(f"COPY cases_case ({CASE_COLUMNS}) FROM STDIN") as copy:
                    copy.write(cases)
                if supervisions:
                    with cur.copy(f"COPY cases_caseaction ({ACTION_COLUMNS}) FROM STDIN") as copy:
                        copy.write(supervisions)
            done += n
            actions += count
            elapsed = time.perf_counter() - started
            if done == args.cases or done // args.batch % 10 == 0:
                say(
                    f"  已写入 {done:,} 件({done / elapsed:,.0f} 件/秒,其中生成 {generated:.0f} 秒)"
                )
        copied = time.perf_counter() - started
        t0 = time.perf_counter()
        for statement in redo_indexes + redo_constraints:
            conn.execute(statement)
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('cases_case', 'id'), "
            "(SELECT max(id) FROM cases_case))"
        )
        indexed = time.perf_counter() - t0
    say(
        f"载入:{args.cases:,} 件 + {actions:,} 条督办记录,COPY {copied:.1f} 秒"
        f"({args.cases / copied:,.0f} 件/秒,Python 生成占 {generated:.1f} 秒);"
        f"重建 {len(redo_indexes)} 个索引与 {len(redo_constraints)} 个约束 {indexed:.1f} 秒"
    )
    RESULTS["load_s"] = copied
    RESULTS["index_s"] = indexed


# Measuring ---------------------------------------------------------------------------------

RESULTS: dict[str, float] = {}


@dataclass
class Timing:
    label: str
    cold: float
    warm: float  # median of the warm runs

    @property
    def text(self) -> str:
        width = 34 - sum(1 for c in self.label if ord(c) > 0x2E7F)  # wide characters
        return f"{self.label:<{width}}{self.cold * 1000:>11.1f}{self.warm * 1000:>11.1f}"


def timed(label: str, runs: int, work: Callable[[], Any]) -> tuple[Timing, Any]:
    from django.db import reset_queries

    t0 = time.perf_counter()
    result = work()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(runs):
        reset_queries()
        t0 = time.perf_counter()
        result = work()
        warm.append(time.perf_counter() - t0)
    return Timing(label, cold, statistics.median(warm)), result


def dashboard_parts(viewer: Any, area: Any, period: Any) -> dict[str, Callable[[], Any]]:
    """What the dashboard counts, from the roll-up: its KPIs, the monthly trend and the
    breakdown by category."""
    from shanzhi.analytics.breakdowns import breakdown_by_category, breakdown_by_time
    from shanzhi.analytics.selectors import Scope, figures_compute

    scope = Scope(area=area)
    args = {"viewer": viewer, "kpis": DASHBOARD_KPIS, "scope": scope, "period": period}
    return {
        "指标": lambda: figures_compute(**args),
        # The dashboard's trend chart draws intake and closure only (web/views_dashboard.py).
        "月趋势": lambda: breakdown_by_time(
            **(args | {"kpis": ["intake", "resolved"]}), grain="month"
        ),
        "分类": lambda: breakdown_by_category(**args),
    }


def raw_parts(viewer: Any, area: Any, period: Any) -> dict[str, Callable[[], Any]]:
    """The same numbers straight from the cases: the KPIs (figures_compute direct), and one
    GROUP BY per month and per 大类 over the raw table, with the same measure definitions."""
    from django.db.models import Case as Choose
    from django.db.models import F, Q, When
    from django.db.models.functions import Coalesce, TruncMonth

    from shanzhi.analytics.measures import KPIS, MEASURES, counted_between
    from shanzhi.analytics.selectors import (
        Scope,
        case_base,
        figures_compute,
        measure_aggregate,
    )
    from shanzhi.cases.models import State

    scope = Scope(area=area)
    moment = period.end_at
    keys = list(dict.fromkeys(k for kpi in DASHBOARD_KPIS for k in KPIS[kpi].measures))
    aggregates = {f"m_{k}": measure_aggregate(MEASURES[k], moment) for k in keys}
    trend_aggregates = {f"m_{k}": aggregates[f"m_{k}"] for k in ("intake", "resolved")}
    cases = case_base(viewer, scope).filter(counted_between(period.start_at, moment)).order_by()
    by_report = Q(on_spot=True) | Q(state__in=[State.MERGED, State.REJECTED])
    counted_at = Choose(When(by_report, then=F("reported_at")), default=F("accepted_at"))
    top = Coalesce("case_type__category__parent_id", "case_type__category_id")
    return {
        "指标": lambda: figures_compute(
            viewer=viewer, kpis=DASHBOARD_KPIS, scope=scope, period=period, source="direct"
        ),
        "月趋势": lambda: list(
            cases.values(month=TruncMonth(counted_at)).annotate(**trend_aggregates)
        ),
        "分类": lambda: list(cases.values(top=top).annotate(**aggregates)),
    }


def report(viewer: Any, area: Any, period: Any) -> tuple[float, float, int]:
    from shanzhi.reports.compose import report_compose
    from shanzhi.reports.writers import report_write

    t0 = time.perf_counter()
    composed = report_compose(viewer=viewer, area=area, period=period)
    t1 = time.perf_counter()
    docx = report_write(composed, "docx")
    return t1 - t0, time.perf_counter() - t1, len(docx)


def measure(city: City, args: argparse.Namespace) -> None:
    from shanzhi.analytics.periods import Period

    street = city.streets[0]
    year = Period.year(args.last_year)
    first = date(args.last_year - args.years + 1, 1, 1)
    years = Period.between(first, date(args.last_year, 12, 31))
    rows: list[Timing] = []
    checks = []
    for label, viewer, area, period in (
        (f"街道·{args.last_year}年", city.street_leader, city.streets[0], year),
        (f"全市·{args.years}年", city.city_leader, city.city, years),
    ):
        totals = {}
        results = {}
        for kind, parts in (
            ("汇总表", dashboard_parts(viewer, area, period)),
            ("原始", raw_parts(viewer, area, period)),
        ):
            cold = warm = 0.0
            for part, work in parts.items():
                timing, results[kind, part] = timed(f"{label} {kind} {part}", args.runs, work)
                rows.append(timing)
                cold += timing.cold
                warm += timing.warm
            totals[kind] = Timing(f"{label} {kind} 合计", cold, warm)
            rows.append(totals[kind])
        shown, direct = results["汇总表", "指标"], results["原始", "指标"]
        same = all(
            (shown[k].numerator, shown[k].denominator)
            == (direct[k].numerator, direct[k].denominator)
            for k in DASHBOARD_KPIS
        )
        ratio = totals["原始"].warm / totals["汇总表"].warm
        ratio_kpis = next(r.warm for r in rows if r.label == f"{label} 原始 指标") / next(
            r.warm for r in rows if r.label == f"{label} 汇总表 指标"
        )
        checks.append(
            f"{label}:受理 {shown['intake'].numerator:,} 件,"
            f"{len(results['汇总表', '月趋势'])} 个月,{len(results['汇总表', '分类'])} 个大类;"
            f"九项指标汇总表与原始计数{'一致' if same else '不一致!'};"
            f"原始 ÷ 汇总表:合计 {ratio:.2f},仅指标 {ratio_kpis:.2f}"
        )
    say("")
    say(f"{'测量(毫秒)':<31}{'首次(冷)':>9}{'中位(热)':>9}")
    for row in rows:
        say(row.text)
    try:
        import shanzhi.reports.compose  # noqa: F401
    except ImportError:
        say("(d) 报告:shanzhi.reports 尚不存在,跳过")
    else:
        try:
            runs = [report(city.street_leader, street, year) for _ in range(args.runs + 1)]
        except Exception as error:  # the report is built by others right now
            say(f"(d) 报告生成失败:{type(error).__name__}: {error}")
        else:
            compose = statistics.median(r[0] for r in runs[1:])
            write = statistics.median(r[1] for r in runs[1:])
            say(Timing(f"街道·{args.last_year}年 报告组稿", runs[0][0], compose).text)
            say(
                Timing(f"街道·{args.last_year}年 报告写.docx", runs[0][1], write).text
                + f"  ({runs[0][2] / 1024:.0f} KB)"
            )
    say("")
    for line in checks:
        say(line)


def table_sizes(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        for table in (
            "cases_case",
            "analytics_caseday",
            "analytics_casedaykey",
            "cases_caseaction",
        ):
            count = sql.SQL("SELECT (SELECT count(*) FROM {}), ").format(sql.Identifier(table))
            rows, size = conn.execute(
                count + sql.SQL("pg_size_pretty(pg_total_relation_size(%s))"), (table,)
            ).fetchone() or (0, "")
            say(f"  {table:<22} {rows:>12,} 行 {size:>10}")


def main() -> None:
    args = parse_args()
    say(
        f"重建压测库 {urlsplit(args.database_url).path.lstrip('/')}:{args.cases:,} 件,"
        f"{args.streets} 个街道,{args.years} 年" + (f",jit={args.jit}" if args.jit else "")
    )
    recreate_database(args.database_url, args.jit)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from shanzhi.analytics.rollup import rollup_rebuild

    try:
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        rng = np.random.default_rng(args.seed)
        city = build_city(args.streets, rng)
        plan = make_plan(city, args.years, args.last_year)
        say(
            f"建库与城市:{time.perf_counter() - t0:.1f} 秒({len(city.streets)} 街道,"
            f"{len(city.microgrids)} 个微网格)"
        )
        connection.close()
        load_cases(args.database_url, city, plan, args)
        t0 = time.perf_counter()
        rows = rollup_rebuild()
        rebuilt = time.perf_counter() - t0
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        analysed = time.perf_counter() - t0
        say(
            f"重建日汇总:{rebuilt:.1f} 秒({rows:,} 行,{args.cases / rebuilt:,.0f} 件/秒);"
            f"ANALYZE {analysed:.1f} 秒"
        )
        table_sizes(args.database_url)
        measure(city, args)
    finally:
        connection.close()
        if not args.keep:
            drop_database(args.database_url)
            say("已删除压测库")


if __name__ == "__main__":
    main()
