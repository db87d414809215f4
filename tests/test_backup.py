"""`shanzhi backup` and `shanzhi restore`: the database and the media directory go together, and
a restore counts every table and file against the archive. A fresh data directory, with no
static files collected yet, still serves its pages."""

import io
import json
import tarfile
from contextlib import nullcontext
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from PIL import Image

from shanzhi.cases import services
from shanzhi.cases.models import Attachment, Case, State

from . import db_roles
from .case_factories import make_case

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "data" / "media"
    return Path(settings.MEDIA_ROOT)


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 9), (10, 160, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile("现场.png", buffer.getvalue())


def _as_owner():
    """Restore replaces tables: on PostgreSQL that is the owner's to do, as in production."""
    return db_roles.connected_as(db_roles.ACTIVE[0].owner) if db_roles.ACTIVE else nullcontext()


def _restore(archive: Path) -> str:
    out = io.StringIO()
    with _as_owner():
        call_command("restore", str(archive), "--yes", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_backup_and_restore_round_trip_with_media(world, media, tmp_path):
    case = make_case(world, State.IN_PROGRESS)
    services.case_resolve(case=case, actor=world.handler, result="已清理", photos=[_photo()])
    photo = Attachment.objects.get(case=case)
    stored = media / photo.file.name
    original = stored.read_bytes()
    archive = tmp_path / "备份.tar.gz"
    out = io.StringIO()
    call_command("backup", "-o", str(archive), stdout=out)
    assert "已备份到" in out.getvalue() and "上传文件 1 个" in out.getvalue()
    with tarfile.open(archive) as opened:
        manifest = json.load(opened.extractfile("manifest.json"))
        assert f"media/{photo.file.name}" in opened.getnames()
    assert manifest["tables"]["cases_case"] == 1 and manifest["media"]["files"] == 1

    # Afterwards: the photo is lost, a case added, a stray file written.
    stored.unlink()
    make_case(world, text="备份之后才上报的事件")
    (media / "stray.txt").write_text("x")
    assert Case.objects.count() == 2

    said = _restore(archive)
    assert "与备份一致" in said
    assert Case.objects.count() == 1 and Case.objects.get().pk == case.pk
    assert stored.read_bytes() == original
    assert not (media / "stray.txt").exists()
    kept = [p for p in media.parent.iterdir() if p.name.startswith("media.before-restore-")]
    assert len(kept) == 1 and (kept[0] / "stray.txt").exists()  # nothing is thrown away


@pytest.mark.skipif(connection.vendor != "postgresql", reason="数据库角色只在 PostgreSQL 上")
def test_a_restored_postgresql_database_keeps_the_application_role_in_its_place(
    world, media, tmp_path
):
    make_case(world)
    archive = tmp_path / "b.tar.gz"
    call_command("backup", "-o", str(archive), stdout=io.StringIO())
    _restore(archive)
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        connection.cursor().execute("TRUNCATE cases_caseaction")
    make_case(world, text="恢复后照常上报")
    assert Case.objects.count() == 2


def test_a_restore_that_does_not_add_up_fails_and_says_where(world, media, tmp_path):
    make_case(world)
    archive = tmp_path / "b.tar.gz"
    call_command("backup", "-o", str(archive), stdout=io.StringIO())
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(tampered, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else b""
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["tables"]["cases_case"] += 1
                data = json.dumps(manifest).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    err = io.StringIO()
    with pytest.raises(CommandError, match="核对不一致"), _as_owner():
        call_command("restore", str(tampered), "--yes", stdout=io.StringIO(), stderr=err)
    assert "表 cases_case:备份中 2 行,恢复后 1 行" in err.getvalue()


def test_a_file_that_is_not_a_backup_is_refused_unchanged(world, media, tmp_path):
    make_case(world)
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(b"not an archive")
    with pytest.raises(CommandError, match="不是善治的备份文件"):
        call_command("restore", str(bogus), "--yes", stdout=io.StringIO())
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_pages_work_before_collectstatic_has_written_a_manifest(client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "shanzhi.ops.storage.ManifestStaticStorage"},
    }
    settings.STATIC_ROOT = tmp_path / "static"  # a fresh data directory: nothing collected
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'href="/static/web/site.css"' in response.content.decode()
    stylesheet = client.get("/static/web/site.css")
    assert stylesheet.status_code == 200
