"""Password rules, in Chinese, and the changes they force: at first sign-in, after a reset, on age.

The validators are Django's password validators (AUTH_PASSWORD_VALIDATORS), so every form that
sets a password (the change page, the admin, `createsuperuser`, the staff import) applies them.
Passwords the system sets itself (the demo's, the tests') are not chosen by a person and are not
checked.
"""

import gzip
import string
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import SecurityEventKind, User
from .security import security_event_record

# Words a Chinese deployment's users reach for first, beyond Django's list of 20,000.
LOCAL_COMMON = frozenset(
    {
        "shanzhi",
        "woaini",
        "aini1314",
        "woaini1314",
        "qwer",
        "qwert",
        "qwerty",
        "asdf",
        "zxcv",
        "admin",
        "administrator",
        "root",
        "password",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "welcome",
        "letmein",
        "abc",
        "abcd",
        "abcdef",
        "zhongguo",
        "china",
        "beijing",
        "hangzhou",
        "jiedao",
        "wangge",
        "gongzuo",
        "123456",
        "654321",
        "888888",
        "666666",
        "5201314",
    }
)


class LengthValidator:
    """At least `min_length` characters."""

    def __init__(self, min_length: int = 10) -> None:
        self.min_length = min_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(
                f"密码太短:至少需要 {self.min_length} 个字符。", code="password_too_short"
            )

    def get_help_text(self) -> str:
        return f"至少 {self.min_length} 个字符。"


def _classes(password: str) -> set[str]:
    found = set()
    for ch in password:
        if ch in string.ascii_uppercase:
            found.add("upper")
        elif ch in string.ascii_lowercase:
            found.add("lower")
        elif ch.isdigit():
            found.add("digit")
        else:
            found.add("other")
    return found


class CharacterClassValidator:
    """At least `min_classes` of: capitals, small letters, digits, other characters."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if len(_classes(password)) < self.min_classes:
            raise ValidationError(
                f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。",
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return f"须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。"


def _fold(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


class NotTheUserValidator:
    """Not the user name (or the name written into it), nor the person's phone number."""

    def validate(self, password: str, user: Any = None) -> None:
        if user is None:
            return
        folded = _fold(password)
        for value in (getattr(user, "username", ""), getattr(user, "phone", "")):
            name = _fold(value or "")
            if len(name) >= 3 and (name in folded or folded in name):
                raise ValidationError("密码不能包含用户名或手机号。", code="password_too_similar")
        full_name = (getattr(user, "full_name", "") or "").strip()
        if len(full_name) >= 2 and full_name in password:
            raise ValidationError("密码不能包含本人姓名。", code="password_too_similar")

    def get_help_text(self) -> str:
        return "不能包含用户名、姓名或手机号。"


@cache
def _common_passwords() -> frozenset[str]:
    django_list = Path(password_validation.__file__).parent / "common-passwords.txt.gz"
    with gzip.open(django_list, "rt", encoding="utf-8") as handle:
        words = {line.strip() for line in handle}
    return frozenset(words | LOCAL_COMMON)


class CommonPasswordValidator:
    """Not a common password, nor one dressed up with a capital, digits or a symbol.

    "Password2026!" folds to "password", which the list has.
    """

    def validate(self, password: str, user: Any = None) -> None:
        common = _common_passwords()
        lowered = password.lower().strip()
        letters = "".join(ch for ch in lowered if ch.isalpha())
        if (
            lowered in common
            or _fold(password) in common
            or (len(letters) >= 3 and letters in common)
        ):
            raise ValidationError("密码过于常见,容易被猜中,请换一个。", code="password_too_common")

    def get_help_text(self) -> str:
        return "不能是常见密码。"


def password_change_due(user: User) -> str:
    """Why `user` must change their password before anything else; empty when they need not."""
    if not user.has_usable_password():
        return ""
    if user.must_change_password:
        return "您的密码由管理员设置,请先修改为只有您知道的密码。"
    max_age = settings.SHANZHI_PASSWORD_MAX_AGE_DAYS
    if max_age > 0 and timezone.now() - user.password_changed_at > timedelta(days=max_age):
        return f"您的密码已使用超过 {max_age} 天,请修改后继续。"
    return ""


@transaction.atomic
def password_change(*, user: User, password: str, address: str = "") -> User:
    """The user sets their own new password (already checked by the rules)."""
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.must_change_password = False
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    security_event_record(
        kind=SecurityEventKind.PASSWORD_CHANGED, user=user, address=address, note="本人修改密码"
    )
    return user
