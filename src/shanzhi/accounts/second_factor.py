"""The second factor (动态口令, TOTP) with recovery codes, on django-otp.

Required for the roles in SHANZHI_OTP_REQUIRED_ROLES (administrators by default, and platform
superusers with them); anyone else may enrol one, and is then asked for it at every sign-in.
The signed-in session counts as verified only once a code was accepted (django-otp's session
step); until then the sign-in guard lets the session reach nothing but this step.
"""

import secrets
from base64 import b32encode
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shanzhi.errors import DomainError
from shanzhi.protection import digest

from .models import (
    RecoveryCode,
    RecoveryCodeDevice,
    Role,
    RoleGrant,
    SecurityEventKind,
    TotpDevice,
    User,
    normalise_recovery_code,
)
from .security import security_event_record

RECOVERY_CODES = 10


class SecondFactorError(DomainError):
    code = "second_factor"


def second_factor_required(user: Any) -> bool:
    """Whether the user's roles oblige them to sign in with a second factor."""
    required = set(settings.SHANZHI_OTP_REQUIRED_ROLES)
    if not required or not isinstance(user, User):
        return False
    if user.is_superuser and Role.ADMINISTRATOR in required:
        return True
    return RoleGrant.objects.filter(user=user, role__in=required, revoked_at__isnull=True).exists()


def totp_device_of(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user, confirmed=True).first()


def second_factor_enrolled(user: Any) -> bool:
    return isinstance(user, User) and TotpDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_owed(user: Any) -> bool:
    """Whether signing in as `user` takes a second factor: enrolled, or required of them."""
    return second_factor_enrolled(user) or second_factor_required(user)


def second_factor_pending(user: Any) -> bool:
    """Signed in with the password, and a second factor is owed before anything else."""
    if not getattr(user, "is_authenticated", False) or not isinstance(user, User):
        return False
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return False
    return second_factor_owed(user)


def _issued_at(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


@transaction.atomic
def totp_enrol_start(*, user: User) -> TotpDevice:
    """The unconfirmed device the enrolment page shows (kept until confirmed or replaced)."""
    device = TotpDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TotpDevice.objects.create(
            user=user, name="手机动态口令", confirmed=False, secret=secrets.token_hex(20)
        )
    return device


def totp_secret_text(device: TotpDevice) -> str:
    """The secret as an authenticator app asks for it when typed in: base32 in groups of four."""
    text = b32encode(bytes.fromhex(device.secret)).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def totp_config_uri(device: TotpDevice) -> str:
    issuer = settings.OTP_TOTP_ISSUER
    label = quote(f"{issuer}:{device.user.username}")
    query = urlencode(
        {
            "secret": b32encode(bytes.fromhex(device.secret)).decode(),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": TotpDevice.DIGITS,
            "period": TotpDevice.STEP,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def totp_qr_svg(device: TotpDevice) -> str:
    """The enrolment QR code as inline SVG (no image request, nothing for the CSP to allow)."""
    return segno.make(totp_config_uri(device), error="m").svg_inline(scale=5, border=2)


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="恢复码")
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = b32encode(secrets.token_bytes(10)).decode().lower()[:10]
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(device=device, digest=digest(normalise_recovery_code(c))) for c in codes]
    )
    return codes


@transaction.atomic
def totp_enrol_confirm(*, user: User, code: str, address: str = "") -> tuple[TotpDevice, list[str]]:
    """Confirm the new device with a code it shows; returns it and fresh recovery codes."""
    device = TotpDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise SecondFactorError("绑定已过期,请刷新页面重新扫码")
    if not device.verify_token(code):
        raise SecondFactorError("动态口令不正确,请核对手机上显示的 6 位数字(注意手机时间须准确)")
    TotpDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    security_event_record(
        kind=SecurityEventKind.OTP_ENROLLED,
        user=user,
        address=address,
        note=f"绑定手机动态口令,生成恢复码 {len(codes)} 个",
    )
    return device, codes


def _throttled(device: Any) -> str:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return ""
    until = (data or {}).get("locked_until")
    if until is None:
        return "错误次数过多,请稍后再试"
    seconds = max(1, int((until - timezone.now()).total_seconds()) + 1)
    return f"错误次数过多,请 {seconds} 秒后再试"


def second_factor_verify(
    *, user: User, code: str, address: str = ""
) -> TotpDevice | RecoveryCodeDevice:
    """The device that accepts `code` (a 6-digit code or a recovery code); else an error, logged.

    Each device makes the next try wait twice as long after every wrong code (django-otp).
    """
    code = code.strip()
    digits = code.replace(" ", "")
    with transaction.atomic():
        if digits.isdigit():
            device: Any = (
                TotpDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            )
            kind, used = SecurityEventKind.OTP_VERIFIED, "动态口令验证通过"
        else:
            device = RecoveryCodeDevice.objects.select_for_update().filter(user=user).first()
            kind, used = SecurityEventKind.RECOVERY_CODE_USED, "使用恢复码登录"
        if device is None:
            raise SecondFactorError("动态口令不正确")
        wait = _throttled(device)
        if wait:
            raise SecondFactorError(wait)
        if device.verify_token(digits if digits.isdigit() else code):
            note = used
            if isinstance(device, RecoveryCodeDevice):
                left = device.codes.filter(used_at__isnull=True).count()
                note = f"{used},剩余 {left} 个"
            security_event_record(kind=kind, user=user, address=address, note=note)
            return device
    security_event_record(
        kind=SecurityEventKind.OTP_FAILED,
        user=user,
        address=address,
        note=f"第 {device.throttling_failure_count} 次连续错误",
    )
    raise SecondFactorError("动态口令不正确,请重新输入")


@transaction.atomic
def recovery_codes_renew(*, user: User, address: str = "") -> list[str]:
    """New recovery codes for an enrolled user; the old ones stop working."""
    if not second_factor_enrolled(user):
        raise SecondFactorError("尚未绑定动态口令")
    codes = _new_recovery_codes(user)
    security_event_record(
        kind=SecurityEventKind.RECOVERY_CODES_ISSUED,
        user=user,
        address=address,
        note=f"重新生成恢复码 {len(codes)} 个,原恢复码作废",
    )
    return codes


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(device__user=user, used_at__isnull=True).count()


@transaction.atomic
def second_factor_remove(*, user: User, actor: User | None = None, address: str = "") -> bool:
    """Remove the user's second factor (a lost phone; the administrator's reset). False if none.

    If their roles require one, they enrol again at their next sign-in.
    """
    removed, _ = TotpDevice.objects.filter(user=user).delete()
    RecoveryCodeDevice.objects.filter(user=user).delete()
    if not removed:
        return False
    security_event_record(
        kind=SecurityEventKind.OTP_REMOVED,
        user=user,
        actor=actor,
        address=address,
        note="管理员解除动态口令绑定" if actor is not None and actor.pk != user.pk else "本人解除",
    )
    return True


def enrolment_summary(user: User) -> dict[str, Any]:
    """What the account page says about the second factor."""
    device = totp_device_of(user)
    return {
        "enrolled": device is not None,
        "required": second_factor_required(user),
        "since": _issued_at(device.created_at) if device and device.created_at else "",
        "recovery_left": recovery_codes_left(user) if device else 0,
    }
