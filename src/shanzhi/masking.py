"""How personal data looks to those who may not read it: one rule for pages, API, exports.

Whether a viewer may read it unmasked is the policy module's question, not this one's.
"""

import re

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{7,8}(?!\d)")
_EMAIL = re.compile(
    r"(?<![\w.+-])([\w])[\w.+-]*@((?:[\w-]+\.)+[A-Za-z]{2,})(?![\w-])", re.ASCII | re.IGNORECASE
)


def mask_phone(phone: str) -> str:
    """138****1111: enough to recognise a number, not to call it."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_email(email: str) -> str:
    """w****@qq.com: the first letter and the domain, as a phone keeps its ends."""
    return _EMAIL.sub(r"\1****@\2", email)


def mask_personal(text: str) -> str:
    """Hide phone and resident ID numbers and e-mail addresses written into free text."""
    text = mask_email(text)
    text = _RESIDENT_ID.sub(r"\1********\2", text)
    text = _MOBILE.sub(r"\1****\2", text)
    return _LANDLINE.sub(r"\1********", text)


def mask_name(name: str) -> str:
    """张*, 欧阳**: the surname's first character, the rest hidden."""
    name = name.strip()
    return f"{name[0]}{'*' * (len(name) - 1)}" if len(name) > 1 else name
