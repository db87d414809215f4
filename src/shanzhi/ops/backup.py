"""Backup and restore: the database and the uploaded files together, in one archive, checked.

An archive (.tar.gz) holds `manifest.json` (what was backed up, and how many rows each table and
how many files the media directory had), the database (a consistent SQLite copy, or a pg_dump
taken in the very snapshot the rows were counted in) and `media/`. A restore puts both back and
counts again; any difference is reported and makes the command fail.

The data key is not in the archive: whoever holds the archive must not hold the key with it.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from shanzhi import audit, protection
from shanzhi.errors import DomainError

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
MEDIA_MEMBER = "media"


class BackupError(DomainError):
    code = "backup"


@dataclass
class Check:
    """What a restore found against the archive's manifest."""

    tables: dict[str, tuple[int, int]] = field(default_factory=dict)  # table: (archived, now)
    media: tuple[int, int] = (0, 0)  # files: (archived, now)
    missing_files: list[str] = field(default_factory=list)  # attachments without their file
    key_problem: str = ""

    @property
    def differences(self) -> dict[str, tuple[int, int]]:
        return {name: pair for name, pair in self.tables.items() if pair[0] != pair[1]}

    @property
    def ok(self) -> bool:
        return (
            not self.differences
            and self.media[0] == self.media[1]
            and not self.missing_files
            and not self.key_problem
        )


# Counting ---------------------------------------------------------------------------------------


def _table_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from the catalogue
            counts[table] = int(cursor.fetchone()[0])
    return counts


def _media_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file())


def _migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


# PostgreSQL tools -------------------------------------------------------------------------------


def _pg_environment() -> dict[str, str]:
    options = connection.settings_dict
    env = {**os.environ, "PGDATABASE": options["NAME"], "PGUSER": options["USER"] or ""}
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("PASSWORD", "PGPASSWORD")):
        if options.get(key):
            env[name] = str(options[key])
    return env


def _pg_tool(name: str, *args: str) -> None:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(
            f"找不到 PostgreSQL 客户端工具 {name}:请安装与服务器版本一致的客户端"
            "(Debian:apt install postgresql-client)"
        )
    done = subprocess.run(  # noqa: S603 - a fixed tool with our own arguments
        [tool, *args], env=_pg_environment(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{name} 失败:{done.stderr.strip()[-2000:]}")


# Backup -----------------------------------------------------------------------------------------


@contextmanager
def _snapshot() -> Iterator[str]:
    """A PostgreSQL transaction whose snapshot pg_dump can share: counts and dump agree."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        yield str(cursor.fetchone()[0])


def backup_write(target: Path) -> dict[str, Any]:
    """Write the database and the media directory to the archive `target`; return its manifest."""
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="shanzhi-backup-") as work:
        work_dir = Path(work)
        if connection.vendor == "sqlite":
            database = work_dir / SQLITE_MEMBER
            connection.ensure_connection()
            copy = sqlite3.connect(database)
            try:
                connection.connection.backup(copy)  # a consistent copy, even while in use
            finally:
                copy.close()
            tables = _sqlite_counts(database)
        elif connection.vendor == "postgresql":
            database = work_dir / POSTGRES_MEMBER
            with _snapshot() as snapshot:
                tables = _table_counts()
                _pg_tool(
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={database}",
                )
        else:
            raise BackupError(f"不支持备份 {connection.vendor} 数据库")
        files = _media_files(media_root)
        manifest = {
            "format": FORMAT,
            "created_at": timezone.localtime().isoformat(timespec="seconds"),
            "vendor": connection.vendor,
            "migrations": _migrations(),
            "tables": tables,
            "media": {"files": len(files), "bytes": sum(path.stat().st_size for path in files)},
        }
        (work_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(work_dir / MANIFEST, MANIFEST)
            archive.add(database, database.name)
            for path in files:
                archive.add(path, f"{MEDIA_MEMBER}/{path.relative_to(media_root).as_posix()}")
        partial.replace(target)  # never a half-written archive under the real name
    return manifest


def _sqlite_counts(database: Path) -> dict[str, int]:
    copy = sqlite3.connect(database)
    try:
        names = [
            row[0]
            for row in copy.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            name: int(copy.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # noqa: S608 - names from the catalogue
            for name in sorted(names)
        }
    finally:
        copy.close()


# Restore ----------------------------------------------------------------------------------------


def manifest_read(source: Path) -> dict[str, Any]:
    """The manifest of an archive, or BackupError when it is not one of ours."""
    try:
        with tarfile.open(source, "r:gz") as archive:
            member = archive.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.load(member)
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"“{source}”不是善治的备份文件(缺少 {MANIFEST} 或已损坏)") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"不认识的备份格式 {manifest.get('format')}")
    return manifest


def backup_restore(source: Path) -> tuple[dict[str, Any], Check]:
    """Put the archive's database and media directory in place of the current ones, then count.

    The database is replaced whole (SQLite) or object by object (PostgreSQL, as the owner role);
    the media directory is swapped in, the old one kept beside it as `<media>.before-restore-…`.
    """
    manifest = manifest_read(source)
    if manifest["vendor"] != connection.vendor:
        raise BackupError(
            f"备份来自 {manifest['vendor']} 数据库,不能恢复到当前的 {connection.vendor} 数据库"
        )
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="shanzhi-restore-") as work:
        work_dir = Path(work)
        with tarfile.open(source, "r:gz") as archive:
            archive.extractall(work_dir, filter="data")
        if connection.vendor == "sqlite":
            _sqlite_restore(work_dir / SQLITE_MEMBER)
        else:
            _pg_tool(
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                f"--dbname={connection.settings_dict['NAME']}",
                str(work_dir / POSTGRES_MEMBER),
            )
            connection.close()
            audit.protect(connection)
        _media_swap(work_dir / MEDIA_MEMBER, media_root)
    return manifest, backup_check(manifest)


def _sqlite_restore(database: Path) -> None:
    source = sqlite3.connect(database)
    try:
        connection.close()
        connection.ensure_connection()
        source.backup(connection.connection)
    finally:
        source.close()
    connection.close()


def _media_swap(restored: Path, media_root: Path) -> None:
    restored.mkdir(parents=True, exist_ok=True)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=".restoring-", dir=media_root.parent))
    shutil.move(str(restored), incoming / "media")
    if media_root.exists():
        stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
        media_root.rename(media_root.with_name(f"{media_root.name}.before-restore-{stamp}"))
    (incoming / "media").rename(media_root)
    incoming.rmdir()


def backup_check(manifest: dict[str, Any]) -> Check:
    """The database and media directory counted against `manifest`."""
    from shanzhi.cases.models import Attachment

    now = _table_counts()
    archived: dict[str, int] = manifest["tables"]
    check = Check(
        tables={name: (archived.get(name, 0), now.get(name, 0)) for name in archived},
        media=(int(manifest["media"]["files"]), len(_media_files(Path(settings.MEDIA_ROOT)))),
    )
    storage = Attachment.file.field.storage
    names = Attachment.objects.values_list("file", flat=True).iterator()
    check.missing_files = [name for name in names if name and not storage.exists(name)]
    try:
        protection.key_check()
    except ImproperlyConfigured as exc:
        check.key_problem = str(exc)
    return check
