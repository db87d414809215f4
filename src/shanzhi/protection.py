"""Personal data at rest: sealed with AES-GCM, found again through a keyed hash.

ID numbers and phones are stored three ways: sealed (only the key opens it), as an HMAC digest
(so that an exact value can still be searched and kept unique), and masked (what most eyes see).
The master key comes from SHANZHI_DATA_KEY; the embedded run keeps one in the data directory so
that a new user's demo works without setting anything, as the SQLite database beside it does.
"""

import base64
import hashlib
import hmac
import os
import secrets
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

# Sealed values name the scheme, so that a later key or algorithm can live beside this one.
_SCHEME = "g1"
_NONCE_BYTES = 12


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
