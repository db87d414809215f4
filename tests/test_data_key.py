"""The data key is checked at start against a value sealed with the data: a wrong key refuses
to start, saying why in Chinese, instead of failing on every reveal afterwards."""

import base64
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from shanzhi import protection
from shanzhi.ops.checks import data_key_check
from shanzhi.ops.models import KeyCheck

from .registry_factories import make_person

OTHER_KEY = base64.urlsafe_b64encode(b"\x07" * 32).decode()


def _forget_key() -> None:
    for cached in (protection._master_key, protection._sealer, protection._digest_key):
        cached.cache_clear()


@pytest.fixture(autouse=True)
def _key_caches():
    _forget_key()
    yield
    _forget_key()


@pytest.mark.django_db
def test_the_right_key_passes_and_the_check_value_is_kept_with_the_data():
    protection.key_check()
    assert KeyCheck.objects.count() == 1
    assert protection._KEY_CHECK_TEXT not in KeyCheck.objects.get().sealed
    assert data_key_check() == []


@pytest.mark.django_db
def test_a_wrong_key_is_refused_in_chinese(settings):
    protection.key_check()
    settings.DATA_KEY = OTHER_KEY
    _forget_key()
    with pytest.raises(ImproperlyConfigured, match="数据密钥 SHANZHI_DATA_KEY 与数据库中"):
        protection.key_check()
    (error,) = data_key_check()
    assert error.id == "shanzhi.E001" and "拒绝启动" in error.msg


@pytest.mark.django_db
def test_data_sealed_before_the_check_existed_is_tried_first(world, settings):
    make_person(world)
    KeyCheck.objects.all().delete()
    settings.DATA_KEY = OTHER_KEY
    _forget_key()
    with pytest.raises(ImproperlyConfigured):
        protection.key_check()
    assert not KeyCheck.objects.exists()  # a wrong key is never written down as the right one


@pytest.mark.django_db
def test_the_embedded_key_file_still_works(settings, tmp_path):
    KeyCheck.objects.all().delete()
    settings.DATA_KEY = ""
    settings.DATA_DIR = tmp_path
    protection.key_check()
    assert (tmp_path / "data.key").exists()
    _forget_key()
    protection.key_check()  # read back from the file: the same key
    assert KeyCheck.objects.count() == 1


def _database_url(tmp_path: Path) -> str:
    if connection.vendor == "sqlite":
        copy = tmp_path / "copy.sqlite3"
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(copy)])
        return f"sqlite:///{copy}"
    s = connection.settings_dict
    login = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return f"postgres://{login}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_worker_with_the_wrong_key_refuses_to_boot(tmp_path, settings):
    # The key this suite runs with, written out, so that the worker can be given it too.
    settings.DATA_KEY = base64.urlsafe_b64encode(protection._master_key()).decode()
    protection.key_check()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(tmp_path),
        "DJANGO_SETTINGS_MODULE": "shanzhi.settings",
    }

    def boot(key: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", "import shanzhi.wsgi"],
            env=env | {"SHANZHI_DATA_KEY": key},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert boot(settings.DATA_KEY).returncode == 0
    refused = boot(OTHER_KEY)
    assert refused.returncode != 0
    assert "与数据库中数据加密时所用的密钥不一致" in refused.stderr
