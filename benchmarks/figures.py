"""Figures benchmark: the dashboard and the report against a raw GROUP BY, at N synthetic cases.

    .venv/bin/python benchmarks/figures.py --cases 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/shanzhi_figbench

It drops and recreates the bench database (on 127.0.0.1, its name must contain "bench"),
migrates it and builds a synthetic city: districts, --streets streets (default: one per 100,000
cases, at least 3), each with communities, grids and microgrids, its units and the built-in
catalogue. Then it writes N cases straight into PostgreSQL with COPY, not through the services
(which take ~30 ms a case): spread over the places (some communities much busier), the channels
and the catalogue as the demo weights them, and over --years years (seasons, weekdays, a yearly
growth), each with its whole action log as the engine writes it for the general flow (accept,
dispatch with its deadline, claim on time or late, extension, 督办, resolution with its outcome
and working minutes, callback with its rating, a reopen after a first 不满意, archive): mostly
archived, some still open and overdue. The secondary indexes and foreign keys of the cases table
are dropped for the load and made again after it (timed apart). Then the store is rebuilt from
the logs with `rollup_rebuild` (the deltas replayed, the months added up) and analysed.

Measured, each as the median of --runs runs after a first (cold) one:
  (a) a street leader's dashboard for the last year: the nine dashboard KPIs, the monthly trend
      and the breakdown by category, through the project's selectors;
  (b) the same for a city leader over all the years;
  (c) the same numbers from one GROUP BY each over the raw cases table in PostgreSQL, and from
      DuckDB scanning the same rows (exported to parquet; with the `bench` extra), each checked
      equal to (a)/(b): the nine KPIs' numerators and denominators, every category's, and the
      trend's 受理 by month;
  (d) the street-year report (compose + .docx), when `shanzhi.reports` is there.
Nothing but the local database is contacted. --keep leaves the database in place.
"""

import argparse
import math
import os
import statistics
import sys
import tempfile
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
    "description, area_id, address, reporter_name, reporter_phone, priority, flow, state, level, "
    "unit_id, extra, reported_at, accepted_at, dispatched_at, claimed_at, resolved_at, "
    "archived_at, claim_due_at, handle_due_at, extension_reason, resolution, satisfaction, "
    "on_spot, return_count, reopen_count, supervise_count, extension_count, handling_minutes, "
    "version"
)
ACTION_COLUMNS = (
    "case_id, street_id, flow, action, from_state, to_state, to_unit_id, note, data, created_at"
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
    # Every case the centre accepts is dispatched (the general flow resolves only what a unit
    # claimed); the last few of the data's "now" are still waiting.
    dispatched = accepted + rng.exponential(25 * 60, n).astype(np.int64) + 60
    dispatched_ok = accepted_ok & ~on_spot & (dispatched < plan.now)
    claimed = dispatched + rng.exponential(50 * 60, n).astype(np.int64) + 60
    claim_due = dispatched + plan.claim_hours[code] * 3600
    claimed_ok = dispatched_ok & (claimed < plan.now)
    limit = (plan.limit_minutes[code] * 60).astype(np.int64)
    due = dispatched + limit
    extended = claimed_ok & (rng.random(n) < 0.03) & (claimed + 60 < plan.now)
    first_due = due
    due = due + extended * (3 * 86400)
    # Most finish well within the limit; a tail runs over it.
    took = (limit * rng.lognormal(math.log(0.35), 0.7, n)).astype(np.int64) + 600
    stuck = claimed_ok & (rng.random(n) < 0.006)  # left open, long overdue
    reachable_source = np.isin(
        np.array(plan.sources)[source], ["resident", "hotline", "enterprise", "petition"]
    )
    has_phone = reachable_source & (rng.random(n) < 0.92)
    mood = rng.random(n)
    rating = np.where(mood < 0.8, "satisfied", np.where(mood < 0.95, "basically", "unsatisfied"))
    # A first callback 不满意 reopens the case (the engine does it), once here.
    first_at = np.where(on_spot, reported + rng.integers(300, 3600, n), claimed + took)
    first_called = has_phone & (rng.random(n) < 0.88) & ~stuck
    reopened = (
        claimed_ok
        & ~on_spot
        & first_called
        & (rating == "unsatisfied")
        & (first_at + 3 * 3600 < plan.now)
    )
    reopen_at = first_at + 3600
    second_claim = reopen_at + 1800
    second_due = reopen_at + limit
    resolved = np.where(reopened, second_claim + took // 2 + 600, first_at)
    last_rating = np.where(reopened, np.where(mood < 0.97, "satisfied", "basically"), rating)
    resolved_ok = (on_spot | (claimed_ok & ~stuck)) & (resolved < plan.now)
    callback_at = resolved + 86400
    called = resolved_ok & first_called & (callback_at < plan.now)
    archived_ok = resolved_ok & (called | (resolved + 3 * 86400 < plan.now))
    archived_at = np.where(called, callback_at, resolved + 3 * 86400)
    handled = resolved_ok & dispatched_ok
    # Working minutes: about a quarter of the calendar minutes (8 of 24 hours, 5 of 7 days).
    first_minutes = ((first_at - dispatched) / 60 * 0.24).astype(np.int64) + 1
    minutes = ((resolved - dispatched) / 60 * 0.24).astype(np.int64) + 1
    current_due = np.where(reopened, second_due, due)
    on_time = resolved <= current_due
    satisfaction = np.where(called, last_rating, np.where(reopened, "unsatisfied", ""))
    open_ = accepted_ok & ~resolved_ok
    state = np.select(
        [
            rejected,
            merged,
            archived_ok,
            resolved_ok,
            open_ & reopened & (second_claim < plan.now),
            open_ & reopened,
            open_ & claimed_ok,
            open_ & dispatched_ok,
        ],
        [
            "rejected",
            "merged",
            "archived",
            "resolved",
            "in_progress",
            "dispatched",
            "in_progress",
            "dispatched",
        ],
        "accepted",
    )
    supervise = np.where(claimed_ok & (rng.random(n) < 0.015), rng.integers(1, 3, n), 0)
    ids = np.arange(first_id, first_id + n)
    street_codes = np.array(city.street_codes)[street]
    numbers = np.char.add(np.char.add(street_codes, "F"), ids.astype(str))
    names = np.array(plan.names)[code]
    description = np.array(SENTENCES)[ids % len(SENTENCES)]
    street_ids = np.array([s.pk for s in city.streets])[street]
    phone = np.where(has_phone, "13800001111", "")
    level = np.where(on_spot, "grid", np.where(dispatched_ok, "street", "community"))
    unit_held = dispatched_ok
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
        ["general"] * n,
        state.tolist(),
        level.tolist(),
        _ints(unit_id, unit_held),
        ["{}"] * n,
        _times(reported, np.ones(n, dtype=bool)),
        _times(accepted, accepted_ok),
        _times(np.where(reopened, reopen_at, dispatched), dispatched_ok),
        _times(np.where(reopened, second_claim, claimed), claimed_ok),
        _times(resolved, resolved_ok),
        _times(archived_at, archived_ok),
        _times(claim_due, dispatched_ok),
        _times(current_due, dispatched_ok),
        [""] * n,
        np.where(resolved_ok, "已处理完毕", "").tolist(),
        satisfaction.tolist(),
        np.where(on_spot, "t", "f").tolist(),
        ["0"] * n,
        _ints(reopened.astype(np.int64)),
        _ints(supervise),
        _ints(extended.astype(np.int64)),
        _ints(minutes, handled),
        ["1"] * n,
    ]
    text = "".join("\t".join(row) + "\n" for row in zip(*columns, strict=True))
    log = _log(
        plan,
        rng,
        ids=ids,
        street_ids=street_ids,
        unit_id=unit_id,
        reported=reported,
        rejected=rejected,
        merged=merged,
        on_spot=on_spot,
        accepted=accepted,
        accepted_ok=accepted_ok,
        dispatched=dispatched,
        dispatched_ok=dispatched_ok,
        claimed=claimed,
        claimed_ok=claimed_ok,
        claim_due=claim_due,
        first_due=first_due,
        due=due,
        extended=extended,
        first_at=first_at,
        first_minutes=first_minutes,
        reopened=reopened,
        reopen_at=reopen_at,
        second_claim=second_claim,
        second_due=second_due,
        resolved=resolved,
        resolved_ok=resolved_ok,
        minutes=minutes,
        on_time=on_time,
        called=called,
        callback_at=callback_at,
        last_rating=last_rating,
        archived_ok=archived_ok,
        archived_at=archived_at,
        supervise=supervise,
    )
    return text, "".join(log), len(log)


def _iso(seconds: Any) -> Any:
    return np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s", timezone="UTC")


def _log(plan: Plan, rng: np.random.Generator, **a: Any) -> list[str]:
    """Each case's action log as the engine writes it for the general flow (the moments each
    step set, deadlines, claim and resolution outcomes, ratings), as COPY lines: what
    `rollup_rebuild` replays. Built per kind of step over all cases at once."""
    lines: list[str] = []
    case, street = a["ids"].astype(str), a["street_ids"].astype(str)
    unit = a["unit_id"].astype(str)

    def add(
        mask: Any, action: str, old: str, new: str, at: Any, data: Any, with_unit: bool
    ) -> None:
        chosen = np.nonzero(mask & (at < plan.now))[0]
        if not len(chosen):
            return
        when = _iso(at[chosen])
        units = unit[chosen] if with_unit else np.full(len(chosen), NULL)
        payload = data[chosen] if isinstance(data, np.ndarray) else np.full(len(chosen), data)
        for i, c in enumerate(chosen):
            lines.append(
                f"{case[c]}\t{street[c]}\tgeneral\t{action}\t{old}\t{new}\t{units[i]}\t\t"
                f"{payload[i]}\t{when[i]}\n"
            )

    add(a["rejected"], "reject", "reported", "rejected", a["accepted"], '{"moments": []}', False)
    add(a["merged"], "merge", "reported", "merged", a["accepted"], '{"moments": []}', False)
    normal = a["accepted_ok"] & ~a["on_spot"]
    add(normal, "accept", "reported", "accepted", a["accepted"], '{"moments": ["accepted"]}', False)
    due = np.char.add(
        np.char.add('{"moments": ["dispatched"], "handle_due": "', _iso(a["first_due"])), '"}'
    )
    add(a["dispatched_ok"], "dispatch", "accepted", "dispatched", a["dispatched"], due, True)
    on_time_claim = a["claimed"] <= a["claim_due"]
    claim = np.where(
        on_time_claim,
        '{"moments": ["claimed"], "claim_on_time": true}',
        '{"moments": ["claimed"], "claim_on_time": false}',
    )
    add(a["claimed_ok"], "claim", "dispatched", "in_progress", a["claimed"], claim, True)
    extension = np.char.add(np.char.add('{"moments": [], "handle_due": "', _iso(a["due"])), '"}')
    add(a["extended"], "approve_extension", "in_progress", "in_progress", a["claimed"] + 60,
        extension, True)  # fmt: skip
    # 督办: between the claim and the (first) resolution.
    for round_ in (1, 2):
        at = a["claimed"] + ((a["first_at"] - a["claimed"]) * (round_ / 3)).astype(np.int64)
        add(a["supervise"] >= round_, "supervise", "in_progress", "in_progress", at,
            '{"moments": []}', True)  # fmt: skip

    def resolution(minutes: Any, on_time: Any) -> Any:
        text = np.char.add(
            '{"moments": ["resolved"], "on_time": ', np.where(on_time, "true", "false")
        )
        return np.char.add(
            np.char.add(np.char.add(text, ', "handling_minutes": '), minutes.astype(str)), "}"
        )

    first_on_time = a["first_at"] <= a["due"]
    first = resolution(a["first_minutes"], first_on_time)
    add(a["reopened"], "resolve", "in_progress", "resolved", a["first_at"], first, True)
    add(a["reopened"], "callback", "resolved", "resolved", a["first_at"] + 3599,
        '{"moments": [], "satisfaction": "unsatisfied"}', True)  # fmt: skip
    second = np.char.add(
        np.char.add('{"moments": ["dispatched"], "handle_due": "', _iso(a["second_due"])), '"}'
    )
    add(a["reopened"], "reopen", "resolved", "dispatched", a["reopen_at"], second, True)
    add(a["reopened"], "claim", "dispatched", "in_progress", a["second_claim"],
        '{"moments": ["claimed"], "claim_on_time": true}', True)  # fmt: skip
    last = resolution(a["minutes"], a["on_time"])
    done = a["resolved_ok"] & ~a["on_spot"]
    add(done, "resolve", "in_progress", "resolved", a["resolved"], last, True)
    add(a["resolved_ok"] & a["on_spot"], "resolve_on_spot", "reported", "resolved", a["resolved"],
        '{"moments": ["resolved"], "on_time": true}', False)  # fmt: skip
    rated = np.char.add(
        np.char.add('{"moments": ["archived"], "satisfaction": "', a["last_rating"]), '"}'
    )
    held = a["dispatched_ok"]
    add(a["called"] & held, "callback", "resolved", "archived", a["callback_at"], rated, True)
    add(a["called"] & ~held, "callback", "resolved", "archived", a["callback_at"], rated, False)
    closing = a["archived_ok"] & ~a["called"]
    add(closing & held, "close_without_callback", "resolved", "archived", a["archived_at"],
        '{"moments": ["archived"]}', True)  # fmt: skip
    add(closing & ~held, "close_without_callback", "resolved", "archived", a["archived_at"],
        '{"moments": ["archived"]}', False)  # fmt: skip
    return lines


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


# The raw count: one GROUP BY over the cases, in PostgreSQL and in DuckDB -------------------

# As of the data's "now" (the end of the last year) the cases table says what the log does: a
# case's state, its last resolution and rating, its deadline in force. The general flow only.
_INTAKE = "state NOT IN ('rejected', 'merged') AND (on_spot OR accepted_at IS NOT NULL)"
_RESOLVED = f"{_INTAKE} AND state IN ('resolved', 'archived')"
_ON_TIME = "(handle_due_at IS NULL OR resolved_at <= handle_due_at)"
RAW_COLUMNS = {
    "intake": _INTAKE,
    "resolved": _RESOLVED,
    "on_time": f"{_RESOLVED} AND {_ON_TIME}",
    "late": f"{_RESOLVED} AND NOT {_ON_TIME}",
    "open_overdue": f"{_INTAKE} AND state IN ('dispatched', 'in_progress') "
    "AND handle_due_at < {moment}",
    "handled": f"{_RESOLVED} AND handling_minutes IS NOT NULL",
    "called_back": f"{_RESOLVED} AND satisfaction <> ''",
    "satisfied": f"{_RESOLVED} AND satisfaction = 'satisfied'",
    "basically": f"{_RESOLVED} AND satisfaction = 'basically'",
    "on_spot": f"{_INTAKE} AND on_spot",
    "settled": "FALSE",  # no dispute cases in the synthetic data
}
RAW_SUMS = {"handling_minutes": f"{_RESOLVED} AND handling_minutes IS NOT NULL"}
_COUNTED_AT = (
    "(CASE WHEN on_spot OR state IN ('merged', 'rejected') THEN reported_at ELSE accepted_at END)"
)


def _raw_measures() -> list[Any]:
    from shanzhi.analytics.measures import KPIS, MEASURES

    keys = dict.fromkeys(k for kpi in DASHBOARD_KPIS for k in KPIS[kpi].measures)
    return [MEASURES[k] for k in keys]


def raw_sql(dialect: str, moment: datetime, period: Any, street_id: int | None, by: str) -> str:
    """The dashboard's measures over the raw cases rows, grouped by `by` ("", "month" or
    "category"), in PostgreSQL's or DuckDB's spelling (DuckDB's copy holds UTC timestamps)."""

    def at(value: datetime) -> str:
        utc = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"TIMESTAMPTZ '{utc}+00'" if dialect == "pg" else f"TIMESTAMP '{utc}'"

    parts = []
    for m in _raw_measures():
        flow = f" AND flow = '{m.flow}'" if m.flow else ""
        if m.column in RAW_SUMS:
            cond = RAW_SUMS[m.column] + flow
            parts.append(f"coalesce(sum(handling_minutes) FILTER (WHERE {cond}), 0) AS m_{m.key}")
        else:
            cond = RAW_COLUMNS[m.column].format(moment=at(moment)) + flow
            parts.append(f"count(*) FILTER (WHERE {cond}) AS m_{m.key}")
    local = (
        f"{_COUNTED_AT} AT TIME ZONE 'Asia/Shanghai'"
        if dialect == "pg"
        else f"({_COUNTED_AT} + INTERVAL 8 HOUR)"
    )
    group = {"": "", "month": f"date_trunc('month', {local})", "category": "top_category"}[by]
    table = (
        "(SELECT c.*, coalesce(g.parent_id, g.id) AS top_category FROM cases_case c "
        "LEFT JOIN cases_casetype t ON t.id = c.case_type_id "
        "LEFT JOIN cases_casecategory g ON g.id = t.category_id) AS c"
        if dialect == "pg" and by == "category"
        else ("cases_case" if dialect == "pg" else "cases")
    )
    where = [f"{_COUNTED_AT} >= {at(period.start_at)}", f"{_COUNTED_AT} < {at(period.end_at)}"]
    if street_id is not None:
        where.append(f"street_id = {street_id}")
    select = f"{group} AS g, " if group else ""
    tail = f" GROUP BY {group}" if group else ""
    return f"SELECT {select}{', '.join(parts)} FROM {table} WHERE {' AND '.join(where)}{tail}"  # noqa: S608


def raw_figures(values: dict[str, int], period: Any) -> dict[str, Any]:
    from shanzhi.analytics.measures import KPIS
    from shanzhi.analytics.selectors import Scope, figure_of

    return {
        k: figure_of(KPIS[k], dict(values), Scope(), period, period.end_at) for k in DASHBOARD_KPIS
    }


def raw_parts(street_id: int | None, period: Any) -> dict[str, Callable[[], Any]]:
    """The same numbers from one GROUP BY each over the raw cases table in PostgreSQL."""
    from django.db import connection

    def run(by: str) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(raw_sql("pg", period.end_at, period, street_id, by))
            return cursor.fetchall()

    return {
        "指标": lambda: run(""),
        "月趋势": lambda: run("month"),
        "分类": lambda: run("category"),
    }


def duck_export(database_url: str, folder: Path) -> tuple[Any, float]:
    """The cases rows DuckDB scans: copied out of PostgreSQL (with their top category) into a
    parquet file; returns a DuckDB connection with a view `cases` over it, and the seconds."""
    import duckdb

    t0 = time.perf_counter()
    csv_path, parquet = folder / "cases.csv", folder / "cases.parquet"
    columns = (
        "c.street_id, c.flow, c.state, c.on_spot, c.satisfaction, c.handling_minutes, "
        + ", ".join(
            f"c.{name} AT TIME ZONE 'UTC' AS {name}"
            for name in ("reported_at", "accepted_at", "resolved_at", "handle_due_at")
        )
        + ", coalesce(g.parent_id, g.id) AS top_category"
    )
    query = (
        f"COPY (SELECT {columns} FROM cases_case c "  # noqa: S608 - our own column names
        "LEFT JOIN cases_casetype t ON t.id = c.case_type_id "
        "LEFT JOIN cases_casecategory g ON g.id = t.category_id) TO STDOUT WITH CSV"
    )
    with psycopg.connect(database_url) as conn, open(csv_path, "wb") as out:
        with conn.cursor().copy(query) as copy:
            for chunk in copy:
                out.write(chunk)
    duck = duckdb.connect()
    duck.execute(
        f"COPY (SELECT * FROM read_csv('{csv_path}', header = false, columns = {{"
        "'street_id': 'BIGINT', 'flow': 'VARCHAR', 'state': 'VARCHAR', 'on_spot': 'BOOLEAN', "
        "'satisfaction': 'VARCHAR', 'handling_minutes': 'BIGINT', 'reported_at': 'TIMESTAMP', "
        "'accepted_at': 'TIMESTAMP', 'resolved_at': 'TIMESTAMP', 'handle_due_at': 'TIMESTAMP', "
        f"'top_category': 'BIGINT'}})) TO '{parquet}' (FORMAT parquet)"
    )
    csv_path.unlink()
    duck.execute(f"CREATE VIEW cases AS SELECT * FROM read_parquet('{parquet}')")
    return duck, time.perf_counter() - t0


def duck_parts(duck: Any, street_id: int | None, period: Any) -> dict[str, Callable[[], Any]]:
    def run(by: str) -> list[tuple[Any, ...]]:
        return duck.execute(raw_sql("duck", period.end_at, period, street_id, by)).fetchall()

    return {
        "指标": lambda: run(""),
        "月趋势": lambda: run("month"),
        "分类": lambda: run("category"),
    }


def report(viewer: Any, area: Any, period: Any) -> tuple[float, float, int]:
    from shanzhi.reports.compose import report_compose
    from shanzhi.reports.writers import report_write

    t0 = time.perf_counter()
    composed = report_compose(viewer=viewer, area=area, period=period)
    t1 = time.perf_counter()
    docx = report_write(composed, "docx")
    return t1 - t0, time.perf_counter() - t1, len(docx)


def _equal_to_raw(results: dict[Any, Any], raw: str, period: Any) -> list[str]:
    """What of the dashboard differs from the raw GROUP BY `raw` ("原始" or "DuckDB"): its nine
    KPIs (numerators and denominators), the breakdown by category, the trend's 受理 by month."""
    keys = [m.key for m in _raw_measures()]

    def values(row: tuple[Any, ...]) -> dict[str, int]:
        return {k: int(v) for k, v in zip(keys, row[-len(keys) :], strict=True)}

    def parts(figures: dict[str, Any]) -> dict[str, Any]:
        return {k: (figures[k].numerator, figures[k].denominator) for k in DASHBOARD_KPIS}

    wrong = []
    if parts(results["汇总表", "指标"]) != parts(
        raw_figures(values(results[raw, "指标"][0]), period)
    ):
        wrong.append("指标")
    shown = {int(row.key): parts(row.figures) for row in results["汇总表", "分类"]}
    counted = {
        int(row[0]): parts(raw_figures(values(row), period))
        for row in results[raw, "分类"]
        if row[0] is not None and any(values(row).values())
    }
    if shown != counted:
        wrong.append("分类")
    trend = {
        row.period.start: row.figures["intake"].numerator for row in results["汇总表", "月趋势"]
    }
    raw_trend = {
        (row[0].date() if hasattr(row[0], "date") else row[0]): values(row)["intake"]
        for row in results[raw, "月趋势"]
    }
    if {k: v for k, v in trend.items() if v} != {k: v for k, v in raw_trend.items() if v}:
        wrong.append("月趋势")
    return wrong


def measure(city: City, args: argparse.Namespace, duck: Any) -> None:
    from shanzhi.analytics.periods import Period

    street = city.streets[0]
    year = Period.year(args.last_year)
    first = date(args.last_year - args.years + 1, 1, 1)
    years = Period.between(first, date(args.last_year, 12, 31))
    rows: list[Timing] = []
    checks = []
    for label, viewer, area, street_id, period in (
        (f"街道·{args.last_year}年", city.street_leader, street, street.pk, year),
        (f"全市·{args.years}年", city.city_leader, city.city, None, years),
    ):
        totals = {}
        results = {}
        kinds = [
            ("汇总表", dashboard_parts(viewer, area, period)),
            ("原始", raw_parts(street_id, period)),
        ]
        if duck is not None:
            kinds.append(("DuckDB", duck_parts(duck, street_id, period)))
        for kind, parts in kinds:
            cold = warm = 0.0
            for part, work in parts.items():
                timing, results[kind, part] = timed(f"{label} {kind} {part}", args.runs, work)
                rows.append(timing)
                cold += timing.cold
                warm += timing.warm
            totals[kind] = Timing(f"{label} {kind} 合计", cold, warm)
            rows.append(totals[kind])
        shown = results["汇总表", "指标"]
        verdicts = []
        for kind, _ in kinds[1:]:
            wrong = _equal_to_raw(results, kind, period)
            verdicts.append(f"与{kind}{'一致' if not wrong else '不一致:' + '、'.join(wrong)}")
        ratios = ",".join(
            f"{kind} ÷ 汇总表 {totals[kind].warm / totals['汇总表'].warm:.2f}"
            for kind, _ in kinds[1:]
        )
        checks.append(
            f"{label}:受理 {shown['intake'].numerator:,} 件,"
            f"{len(results['汇总表', '月趋势'])} 个月,{len(results['汇总表', '分类'])} 个大类;"
            f"九项指标、分类与逐月受理{';'.join(verdicts)};合计耗时 {ratios}"
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
            "cases_caseaction",
            "analytics_casedelta",
            "analytics_nodemonth",
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
        duck = None
        try:
            import duckdb  # noqa: F401
        except ImportError:
            say("DuckDB 未安装(pip install -e '.[bench]'),跳过其对比")
        else:
            with tempfile.TemporaryDirectory() as folder:
                duck, exported = duck_export(args.database_url, Path(folder))
                say(f"导出至 DuckDB(parquet):{exported:.1f} 秒")
                measure(city, args, duck)
                duck.close()
        if duck is None:
            measure(city, args, None)
    finally:
        connection.close()
        if not args.keep:
            drop_database(args.database_url)
            say("已删除压测库")


if __name__ == "__main__":
    main()
