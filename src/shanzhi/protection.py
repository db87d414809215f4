"""Personal data at rest: sealed with AES-GCM, found again through a keyed hash.

ID numbers and phones are stored three ways: sealed (only the key opens it), as an HMAC digest
(so that an exact value can still be searched and kept unique), and masked (what most eyes see).
The master key comes from SHANZHI_DATA_KEY; the embedded run keeps one in the data directory so
that a new user's demo works without setting anything, as the SQLite database beside it does.
"""

import base64
import hashlib
import hmac
import logging
import os
import secrets
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, models

logger = logging.getLogger(__name__)

# Sealed values name the scheme, so that a later key or algorithm can live beside this one.
_SCHEME = "g1"
_NONCE_BYTES = 12
# What the key-check row seals: a key that cannot open it is not the data's key.
_KEY_CHECK_TEXT = "善治数据密钥校验"
WRONG_KEY = (
    "数据密钥 SHANZHI_DATA_KEY 与数据库中数据加密时所用的密钥不一致,善治拒绝启动:"
    "请设置原来的密钥(嵌入式运行时为数据目录中的 data.key)。"
    "密钥一旦更换,已加密的身份证号和电话将无法读取。"
)


def _key_from_text(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except ValueError as exc:
        raise ImproperlyConfigured("SHANZHI_DATA_KEY 须为 base64 编码的32字节密钥") from exc
    if len(key) != 32:
        raise ImproperlyConfigured("SHANZHI_DATA_KEY 须为 base64 编码的32字节密钥")
    return key


def _key_file_read_or_create(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        # O_EXCL: two processes starting at once must not each write a different key.
        with (
            suppress(FileExistsError),
            os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle,
        ):
            handle.write(text + "\n")
    return _key_from_text(path.read_text())


@cache
def _master_key() -> bytes:
    if settings.DATA_KEY:
        return _key_from_text(settings.DATA_KEY)
    if settings.REQUIRE_DATA_KEY:
        raise ImproperlyConfigured("生产环境必须设置 SHANZHI_DATA_KEY 环境变量")
    return _key_file_read_or_create(Path(settings.DATA_DIR) / "data.key")


def _derived(purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(_master_key())


@cache
def _sealer() -> AESGCM:
    return AESGCM(_derived(b"shanzhi personal data seal"))


@cache
def _digest_key() -> bytes:
    return _derived(b"shanzhi personal data digest")


def seal(value: str) -> str:
    """Encrypt `value`; the empty string stays empty."""
    if not value:
        return ""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = _sealer().encrypt(nonce, value.encode(), None)
    return f"{_SCHEME}:{base64.b64encode(nonce + sealed).decode()}"


def unseal(sealed: str) -> str:
    """The value `seal` was given."""
    if not sealed:
        return ""
    scheme, _, body = sealed.partition(":")
    if scheme != _SCHEME:
        raise ValueError("unknown sealing scheme")
    raw = base64.b64decode(body)
    return _sealer().decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None).decode()


def digest(value: str) -> str:
    """A keyed hash of `value` for exact search; the empty string stays empty."""
    if not value:
        return ""
    return hmac.new(_digest_key(), value.encode(), hashlib.sha256).hexdigest()


class SealedTextField(models.TextField):
    """A text column kept sealed in the database and clear in Python.

    For values that are read whole but never searched by (a reporter's phone): each write seals
    afresh, so equality lookups cannot match; only the empty value is comparable. Values written
    before the column was sealed are read as they are until they are next saved.
    """

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return seal(value) if value else value

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if not value or not value.startswith(f"{_SCHEME}:"):
            return value
        return unseal(value)


def _opens(sealed: str) -> bool:
    try:
        unseal(sealed)
    except (InvalidTag, ValueError):
        return False
    return True


def _sealed_sample() -> str:
    """One value sealed before the check existed (a database from an older version), or ""."""
    from shanzhi.registry.models import Person

    return (
        Person.objects.exclude(id_number_sealed="")
        .values_list("id_number_sealed", flat=True)
        .order_by("pk")
        .first()
        or ""
    )


def key_check() -> None:
    """Refuse to run with a data key other than the one the data was sealed with.

    The check value is stored with the data (ops.KeyCheck) the first time, after making sure
    the data already sealed opens with this key. Raises ImproperlyConfigured with the reason.
    Before the migrations have made its table there is nothing to check.
    """
    from shanzhi.ops.models import KeyCheck
    from shanzhi.registry.models import Person

    tables = connection.introspection.table_names()
    if KeyCheck._meta.db_table not in tables or Person._meta.db_table not in tables:
        return
    row = KeyCheck.objects.order_by("pk").first()
    if row is not None:
        if not _opens(row.sealed) or unseal(row.sealed) != _KEY_CHECK_TEXT:
            raise ImproperlyConfigured(WRONG_KEY)
        return
    sample = _sealed_sample()
    if sample and not _opens(sample):
        raise ImproperlyConfigured(WRONG_KEY)
    KeyCheck.objects.create(sealed=seal(_KEY_CHECK_TEXT))


def key_check_at_start() -> None:
    """`key_check` as a process starts, on a connection of its own. A database that cannot be
    reached yet does not stop the start (the pages answer that themselves); a wrong key does."""
    try:
        key_check()
    except DatabaseError:
        logger.warning("启动时无法连接数据库,本次未校验数据密钥", exc_info=True)
    finally:
        connection.close()
