"""Registry import benchmark: persons per second through the import `shanzhi import` runs.

    .venv/bin/python benchmarks/registry_import.py --rows 50000
    .venv/bin/python benchmarks/registry_import.py --rows 50000 \\
        --database-url postgres://postgres@127.0.0.1:5432/shanzhi_bench

Without --database-url it works in a new SQLite file in a temporary directory; with one, it drops
and recreates that PostgreSQL database (on 127.0.0.1, its name must contain "bench"). Either way
it migrates, builds the small demo street, writes an xlsx of --rows persons spread over the
street's microgrids (valid ID numbers, a phone each, a care tag on one in twenty), and times the
import three times: a dry run (reading and checking only), the import (every row new), and the
same file again (every row an update). The data key is a throwaway one; nothing but the local
database is contacted.
"""

import argparse
import base64
import os
import secrets
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
LOCAL = "127.0.0.1"
STREET = "330109001"  # 城厢街道, the demo's first street


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="居民导入的速度(行/秒)")
    parser.add_argument("--rows", type=int, default=50_000, help="导入文件的行数")
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL 压测库,须在 127.0.0.1 且库名含 bench"
    )
    args = parser.parse_args()
    if args.database_url:
        url = urlsplit(args.database_url)
        if url.scheme not in {"postgres", "postgresql"} or url.hostname != LOCAL:
            parser.error(f"只在 {LOCAL} 上的 PostgreSQL 压测(不填则用临时 SQLite)")
        if "bench" not in url.path.lstrip("/"):
            parser.error("压测会删除并重建数据库,库名须含 bench")
    return args


def recreate_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    url = urlsplit(database_url)
    name = url.path.lstrip("/")
    maintenance = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def write_persons(path: Path, rows: int, areas: list[str]) -> None:
    import openpyxl

    from shanzhi.registry.imports import SPECS
    from shanzhi.registry.validators import resident_id_complete

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("居民")
    sheet.append([column.header for column in SPECS["persons"].columns])
    first = date(1940, 1, 1)
    for n in range(rows):
        born = first + timedelta(days=n // 499)
        number = resident_id_complete(f"330109{born:%Y%m%d}{n % 499 * 2 + 1:03d}")
        tags = "独居老人" if n % 20 == 0 else ""
        sheet.append(
            [areas[n % len(areas)], f"居民{n}", number, f"139{n:08d}", "户籍", "", tags, ""]
        )
    book.save(path)


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="shanzhi-import-bench-") as work:
        run(args, Path(work))


def run(args: argparse.Namespace, work: Path) -> None:
    database_url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    if args.database_url:
        print(f"重建压测库 {urlsplit(database_url).path.lstrip('/')} ……", flush=True)
        recreate_database(database_url)
    os.environ["DATABASE_URL"] = database_url
    os.environ["SHANZHI_DATA_DIR"] = str(work)
    os.environ["SHANZHI_DATA_KEY"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from shanzhi.demo.generator import demo_build
    from shanzhi.demo.places import KNOWN_STREETS
    from shanzhi.registry.imports import registry_import
    from shanzhi.registry.models import Person

    print("迁移并生成演示街道……", flush=True)
    call_command("migrate", verbosity=0)
    demo = demo_build(spec=KNOWN_STREETS[STREET], seed=1, scale="small")
    path = work / "persons.xlsx"
    print(f"生成 {args.rows} 行的居民文件……", flush=True)
    write_persons(path, args.rows, [area.code for area in demo.microgrids])

    results = []
    for label, dry_run in (
        ("仅校验", True),
        ("导入(全部新增)", False),
        ("再次导入(全部更新)", False),
    ):
        started = time.perf_counter()
        result = registry_import(
            actor=None, kind="persons", source=path, street=demo.street, dry_run=dry_run
        )
        seconds = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"导入失败:{result.errors[:3]}")
        results.append((label, seconds, result.summary()))
        print(f"{label}:{seconds:.1f} 秒", flush=True)
    if Person.objects.count() != args.rows:
        raise SystemExit("导入后的居民数与文件行数不符")

    print()
    print(f"数据库:{connection.vendor},{args.rows} 行")
    print(f"{'run':<20} {'seconds':>8} {'rows/s':>8}  result")
    for label, seconds, summary in results:
        print(f"{label:<16} {seconds:>8.1f} {args.rows / seconds:>8.0f}  {summary}")


if __name__ == "__main__":
    main()
