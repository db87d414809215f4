"""Checks for identifiers typed into the registry: 身份证号, 统一社会信用代码, phone numbers.

Pure functions without models, so forms, services, API schemas and the import of spreadsheets
all share one reading of each standard. Bad input raises `DomainError` with a Chinese message.
"""

import re
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from shanzhi import clock
from shanzhi.errors import DomainError

# --- 公民身份号码 (GB 11643-1999) -------------------------------------------------------------

# First two digits of the address code (GB/T 2260 provinces); 83 heads the residence permits
# issued to residents of Taiwan, which carry the same number format.
PROVINCE_CODES = frozenset(
    [
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    ]
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH = date(1900, 1, 1)
# `str.isdigit` and `\d` accept full-width and other Unicode digits, which no register holds.
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: str
    upgraded: bool


def _resident_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _resident_birth_date(digits: str) -> date:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise DomainError("身份证号中的出生日期无效", code="resident_id_birth_date") from None
    if born < _EARLIEST_BIRTH:
        raise DomainError("身份证号中的出生日期早于1900年", code="resident_id_birth_date")
    # The clock runs in UTC; the day a person can have been born by is the day in China.
    if born > timezone.localdate(clock.now()):
        raise DomainError("身份证号中的出生日期晚于今天", code="resident_id_birth_date")
    return born


def _resident_body(first17: str) -> date:
    """Check the address and birth-date parts of the 17 digits before the check character."""
    if int(first17[:2]) not in PROVINCE_CODES:
        raise DomainError("身份证号的地区码无效", code="resident_id_region")
    return _resident_birth_date(first17[6:14])


def resident_id_check(value: str) -> ResidentId:
    """Validate a 身份证号 (18 digits, or a 15-digit old number, which is upgraded to 18)."""
    number = value.strip().upper()
    if len(number) not in (15, 18):
        raise DomainError("身份证号应为18位(或15位旧号码)", code="resident_id_length")
    upgraded = len(number) == 15
    first17 = number[:6] + "19" + number[6:] if upgraded else number[:17]
    if not _DIGITS.fullmatch(first17) or not (upgraded or number[17] in "0123456789X"):
        raise DomainError("身份证号只能由数字和末位X组成", code="resident_id_characters")
    born = _resident_body(first17)
    check = _resident_check_char(first17)
    if not upgraded and number[17] != check:
        raise DomainError("身份证号校验位不正确", code="resident_id_checksum")
    return ResidentId(
        number=first17 + check,
        birth_date=born,
        sex="male" if int(first17[16]) % 2 else "female",
        upgraded=upgraded,
    )


def resident_id_complete(first17: str) -> str:
    """Append the check character to the first 17 digits of a 身份证号."""
    body = first17.strip()
    if len(body) != 17:
        raise DomainError("身份证号本体应为17位", code="resident_id_length")
    if not _DIGITS.fullmatch(body):
        raise DomainError("身份证号本体只能由数字组成", code="resident_id_characters")
    _resident_body(body)
    return body + _resident_check_char(body)


# --- 统一社会信用代码 (GB 32100-2015) --------------------------------------------------------

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Letters left out of the alphabet because they are easily mistaken for digits or each other.
_CREDIT_FORBIDDEN = "IOZSV"
_CREDIT_AUTHORITIES = "123456789ABCDEFGNY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714 values letters by their place in the whole Latin alphabet (A=10 … Z=35), not by
# their index in the credit-code alphabet.
_ORG_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _organization_check_char(first8: str) -> str:
    total = sum(_ORG_VALUES.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _credit_check_char(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def _credit_characters(code: str) -> None:
    for char in code:
        if char in _CREDIT_FORBIDDEN:
            raise DomainError(
                f"统一社会信用代码不能含有字母{char}", code="credit_code_forbidden_letter"
            )
        if char not in CREDIT_ALPHABET:
            raise DomainError(
                f"统一社会信用代码含有无效字符“{char}”,只能由数字和大写字母组成",
                code="credit_code_characters",
            )


def _credit_body(first17: str) -> None:
    """Check the parts of the 17 characters before the check character."""
    _credit_characters(first17)
    if first17[0] not in _CREDIT_AUTHORITIES:
        raise DomainError("统一社会信用代码的登记管理部门代码无效", code="credit_code_authority")
    if not _DIGITS.fullmatch(first17[2:8]):
        raise DomainError("统一社会信用代码的行政区划码应为6位数字", code="credit_code_region")
    if first17[16] != _organization_check_char(first17[8:16]):
        raise DomainError(
            "统一社会信用代码中的组织机构代码校验位不正确",
            code="credit_code_organization_checksum",
        )


def credit_code_check(value: str) -> str:
    """Validate a 统一社会信用代码 and return it upper-cased without surrounding whitespace."""
    code = value.strip().upper()
    if len(code) != 18:
        raise DomainError("统一社会信用代码应为18位", code="credit_code_length")
    _credit_characters(code)
    _credit_body(code[:17])
    if code[17] != _credit_check_char(code[:17]):
        raise DomainError("统一社会信用代码校验位不正确", code="credit_code_checksum")
    return code


def credit_code_complete(first17: str) -> str:
    """Append the check character to the first 17 characters of a 统一社会信用代码."""
    body = first17.strip().upper()
    if len(body) != 17:
        raise DomainError("统一社会信用代码本体应为17位", code="credit_code_length")
    _credit_body(body)
    return body + _credit_check_char(body)


def organization_code_complete(first8: str) -> str:
    """Append the GB 11714 check character to 8 characters, giving positions 9–17 of a code."""
    body = first8.strip().upper()
    if len(body) != 8:
        raise DomainError("组织机构代码本体应为8位", code="credit_code_length")
    _credit_characters(body)
    return body + _organization_check_char(body)


# --- 电话号码 ----------------------------------------------------------------------------------

_MOBILE = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")
# Two-digit area codes are 10 and 20–29, all others have three digits and start with 3–9, so
# the area code can be told apart even when the hyphen is left out.
_LANDLINE = re.compile(r"(0(?:10|2[0-9]|[3-9][0-9]{2}))-?([2-9][0-9]{6,7})(?:-([0-9]{1,6}))?")


def phone_check(value: str) -> str:
    """Validate a mainland mobile or landline number; return "13800138000" or "0571-86001234"."""
    compact = re.sub(r"\s+", "", value)
    # People group mobiles as 138-0013-8000; landlines keep their hyphens to mark the extension.
    mobile = _MOBILE.fullmatch(compact.replace("-", ""))
    if mobile:
        return mobile.group(1)
    landline = _LANDLINE.fullmatch(compact)
    if landline:
        area, local, extension = landline.groups()
        return f"{area}-{local}" + (f"-{extension}" if extension else "")
    raise DomainError("手机号或电话号码格式不正确", code="phone_format")
