"""Routing benchmark: how long one suggestion takes, with the router trained on a street's cases.

    .venv/bin/python benchmarks/routing.py [--calls 500] [--database-url postgres://…bench…]

Without --database-url it works in a throw-away SQLite file. It migrates, builds the small demo
street (no registry, no cases), and takes one case per message of the development sample
(../shared/data/complaints_dev.csv beside the repository, its seven categories mapped onto
seven case types; a few keyword-made messages when the file is absent) through 受理, 交办, 签收
and 办结, trains the street's router with `router_train`, then times, over --calls messages
after a warm-up:
  (0) the fitted router alone (its top three, no database);
  (a) `suggestions_for` itself: the model's top three with their units (what every surface calls);
  (b) the desk's htmx fragment /routing/suggest/ through the whole Django stack;
  (c) the API's GET /api/v1/routing/suggestions.
Printed: p50 and p99 in milliseconds of each, and the machine's load average while it ran
(the timings are wall-clock, so a busy machine shows in them). Nothing but the local database
is contacted.
"""

import argparse
import csv
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
DEV = ROOT.parent / "shared" / "data" / "complaints_dev.csv"
STREET = "330109001"
# The sample's categories as the demo street's catalogue would file them (general flow types).
TYPE_OF = {
    "劳动和社会保障": "MS-SB-01",
    "城乡建设": "CG-WJ-01",
    "教育文体": "MS-WB-01",
    "卫生计生": "HW-BM-01",
    "交通运输": "CG-TC-01",
    "商贸旅游": "CG-SR-01",
    "环境保护": "HW-DQ-01",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="分拨建议的耗时(模型已训练)")
    parser.add_argument("--calls", type=int, default=500, help="计时的建议次数")
    parser.add_argument("--database-url", help="PostgreSQL 压测库(127.0.0.1,库名含 bench)")
    args = parser.parse_args()
    if args.database_url:
        url = urlsplit(args.database_url)
        if url.hostname != "127.0.0.1" or "bench" not in url.path:
            parser.error("只在 127.0.0.1 上、库名含 bench 的库里压测")
    return args


def messages() -> list[tuple[str, str, str]]:
    if DEV.exists():
        with DEV.open(encoding="utf-8-sig", newline="") as handle:
            return [(r["title"], r["text"], TYPE_OF[r["label"]]) for r in csv.DictReader(handle)]
    from shanzhi.cases.catalogue import CATALOGUE

    specs = {spec.code: spec for spec in CATALOGUE}
    return [
        (keyword, f"{keyword}的问题,请尽快处理,第{n}次反映", code)
        for code in TYPE_OF.values()
        for n, keyword in enumerate(specs[code].keywords * 4)
    ]


def percentiles(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"p50 {statistics.median(ms):.2f} ms  p99 {p99:.2f} ms  ({len(ms)} 次)"


def main() -> None:
    args = parse_args()
    workdir = tempfile.mkdtemp(prefix="routing-bench-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from shanzhi.accounts.models import Role, RoleGrant, Unit
    from shanzhi.api.tokens import api_token_create
    from shanzhi.areas.models import Area, Level
    from shanzhi.cases import services
    from shanzhi.cases.models import CaseType, Source
    from shanzhi.routing.selectors import suggestions_for
    from shanzhi.routing.services import router_train

    if args.database_url:
        call_command("flush", "--no-input", verbosity=0)
    call_command("migrate", verbosity=0)
    call_command("demo", "--scale", "small", "--no-registry", "--no-cases", stdout=io.StringIO())
    street = Area.objects.get(code=STREET)
    grants = RoleGrant.objects.filter(area__path__startswith=street.path, revoked_at__isnull=True)
    dispatcher = next(g.user for g in grants.select_related("user") if g.role == Role.DISPATCHER)
    unit = Unit.objects.get(street=street, name__endswith="派出所")
    handler = RoleGrant.objects.filter(role=Role.HANDLER, user__unit=unit).first()
    if handler is None:
        raise SystemExit("演示街道缺少派出所的办理人")
    places = list(Area.objects.filter(street=street, level=Level.MICROGRID).order_by("path"))
    rows = messages()
    started = time.perf_counter()
    for n, (title, text, code) in enumerate(rows):
        case, _ = services.case_report(
            area=places[n % len(places)],
            source=Source.HOTLINE,
            actor=dispatcher,
            title=title[:200],
            description=text[:2000] or title,
        )
        case = services.case_accept(
            case=case, actor=dispatcher, case_type=CaseType.objects.get(street=street, code=code)
        )
        case = services.case_dispatch(case=case, actor=dispatcher, unit=unit)
        case = services.case_claim(case=case, actor=handler.user)
        services.case_resolve(case=case, actor=handler.user, result="已办理", evidence="已办理")
    print(f"已办结事件 {len(rows)} 件,用时 {time.perf_counter() - started:.1f} 秒")
    started = time.perf_counter()
    report = router_train(street=street)
    model = report.model
    if model is None:
        raise SystemExit(report.reason)
    print(
        f"训练 {model.cases} 件、{model.types} 类,用时 {time.perf_counter() - started:.1f} 秒;"
        f"留出 {model.held_out} 件准确率 {model.accuracy:.1%}"
    )
    texts = [(t, x[:2000] or t) for t, x, _ in rows]
    place = places[0]
    for title, text in texts[:20]:  # warm-up: load the model, fill the caches
        suggestions_for(street=street, title=title, text=text, area=place)

    def timed(call) -> list[float]:
        seconds = []
        for i in range(args.calls):
            title, text = texts[i % len(texts)]
            before = time.perf_counter()
            call(title, text)
            seconds.append(time.perf_counter() - before)
        return seconds

    from shanzhi.routing.pipeline import Doc
    from shanzhi.routing.selectors import _router_for

    loaded = _router_for(street)
    assert loaded is not None  # noqa: S101 - trained above
    model_only = timed(lambda title, text: loaded.router.top(Doc(title, text)))
    print(f"(0) 模型本身 router.top   {percentiles(model_only)}")
    direct = timed(
        lambda title, text: suggestions_for(street=street, title=title, text=text, area=place)
    )
    print(f"(a) suggestions_for      {percentiles(direct)}")
    client = Client()
    client.force_login(dispatcher)
    fragment = timed(
        lambda _title, text: client.get(
            "/routing/suggest/", {"description": text[:500], "area": place.code}
        )
    )
    print(f"(b) 受理台建议片段 htmx   {percentiles(fragment)}")
    bearer = {"authorization": f"Bearer {api_token_create(name='压测', user=dispatcher)[1]}"}
    api = timed(
        lambda _title, text: client.get(
            "/api/v1/routing/suggestions",
            {"text": text[:500], "area_code": place.code},
            headers=bearer,
        )
    )
    print(f"(c) API 建议              {percentiles(api)}")
    one, five, fifteen = os.getloadavg()
    print(f"load average {one:.2f} {five:.2f} {fifteen:.2f}(CPU {os.cpu_count()} 核)")


if __name__ == "__main__":
    main()
