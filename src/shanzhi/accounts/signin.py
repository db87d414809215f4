"""Signing in and out: locks after repeated failures, idle sessions, and the security log.

Failures are counted in the database per account name and per client address, so every worker
process sees the same counts and a restart forgets nothing. Each lock of the same name or
address lasts twice as long as the one before it (up to a day); a successful sign-in forgets the
account's failures, but not the address's, so that one good password cannot reset a spray.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import logout
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from shanzhi.client_ip import client_ip
from shanzhi.errors import DomainError

from .models import SecurityEventKind, SignInThrottle, ThrottleKind, User
from .security import security_event_record

MAX_LOCK = timedelta(days=1)
# An address's run of locks is forgotten once it has stayed quiet this long after the last one.
ADDRESS_MEMORY = timedelta(days=1)
# The moment of a session's last request, as a Unix time; rewritten at most once a minute.
SEEN_KEY = "shanzhi_seen"
SEEN_RESOLUTION = 60


class SignInLocked(DomainError):
    code = "sign_in_locked"


@dataclass(frozen=True)
class _Counter:
    kind: str
    key: str
    limit: int


def _account_key(username: str) -> str:
    # One lock for every spelling of a name: "Admin" and "admin " are the same attempt.
    return username.strip().lower()[:150]


def _counters(username: str, address: str) -> list[_Counter]:
    counters = [
        _Counter(ThrottleKind.ACCOUNT, _account_key(username), settings.SHANZHI_SIGNIN_MAX_FAILURES)
    ]
    if address:
        counters.append(
            _Counter(ThrottleKind.ADDRESS, address, settings.SHANZHI_SIGNIN_ADDRESS_MAX_FAILURES)
        )
    return [counter for counter in counters if counter.key]


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return f"{local:%H:%M}"
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _locked_message(kind: str, until: datetime) -> str:
    if kind == ThrottleKind.ACCOUNT:
        return (
            f"该账号连续登录失败次数过多,已被锁定,请于 {_when(until)} 后再试,或请系统管理员解锁。"
        )
    return f"您所在的网络登录失败次数过多,已暂停登录,请于 {_when(until)} 后再试。"


def _lock_length(locks_before: int) -> timedelta:
    base = timedelta(minutes=settings.SHANZHI_SIGNIN_LOCK_MINUTES)
    return min(base * (2 ** min(locks_before, 16)), MAX_LOCK)


def _user_named(username: str) -> User | None:
    return User.objects.filter(username=username.strip()).first()


def _throttle_for_update(counter: _Counter) -> SignInThrottle:
    # Insert-if-missing, then lock the row: concurrent failures count one by one.
    SignInThrottle.objects.bulk_create(
        [SignInThrottle(kind=counter.kind, key=counter.key)], ignore_conflicts=True
    )
    return SignInThrottle.objects.select_for_update().get(kind=counter.kind, key=counter.key)


def _log_lapsed(throttle: SignInThrottle, ended: datetime, *, address: str) -> None:
    """Write the end of a lock that ran out since it was last looked at."""
    user = _user_named(throttle.key) if throttle.kind == ThrottleKind.ACCOUNT else None
    security_event_record(
        kind=SecurityEventKind.UNLOCKED,
        user=user,
        username=throttle.key if throttle.kind == ThrottleKind.ACCOUNT else "",
        address=address if throttle.kind == ThrottleKind.ACCOUNT else throttle.key,
        note=f"{throttle.get_kind_display()}锁定已于 {_when(ended)} 到期解除",
    )
    throttle.lock_end_logged = True
    throttle.save(update_fields=["lock_end_logged"])


@transaction.atomic
def signin_lock_check(*, username: str, address: str) -> None:
    """Refuse (SignInLocked) while the name or the address is locked; log locks that ended."""
    now = timezone.now()
    for counter in _counters(username, address):
        throttle = (
            SignInThrottle.objects.select_for_update()
            .filter(kind=counter.kind, key=counter.key, locked_until__isnull=False)
            .first()
        )
        if throttle is None or throttle.locked_until is None:
            continue
        if throttle.locked_until > now:
            raise SignInLocked(_locked_message(counter.kind, throttle.locked_until))
        if not throttle.lock_end_logged:
            _log_lapsed(throttle, throttle.locked_until, address=address)


@transaction.atomic
def signin_failed(*, username: str, address: str) -> SignInLocked | None:
    """Count a wrong password (or unknown name); the lock it set off, if it set one off."""
    now = timezone.now()
    user = _user_named(username)
    security_event_record(
        kind=SecurityEventKind.SIGN_IN_FAILED,
        user=user,
        username=username.strip(),
        address=address,
        note="用户名或密码不正确" if user is not None else "用户名不存在",
    )
    window_minutes = settings.SHANZHI_SIGNIN_WINDOW_MINUTES
    window = timedelta(minutes=window_minutes)
    locked: SignInLocked | None = None
    for counter in _counters(username, address):
        throttle = _throttle_for_update(counter)
        if throttle.window_started_at is None or now - throttle.window_started_at > window:
            throttle.failures = 0
            throttle.window_started_at = now
            if (
                counter.kind == ThrottleKind.ADDRESS
                and throttle.locked_until is not None
                and now - throttle.locked_until > ADDRESS_MEMORY
            ):
                throttle.locks = 0
        throttle.failures += 1
        if throttle.failures >= counter.limit:
            length = _lock_length(throttle.locks)
            throttle.locked_until = now + length
            throttle.lock_end_logged = False
            throttle.locks += 1
            throttle.failures = 0
            throttle.window_started_at = None
            security_event_record(
                kind=SecurityEventKind.LOCKED,
                user=user if counter.kind == ThrottleKind.ACCOUNT else None,
                username=username.strip() if counter.kind == ThrottleKind.ACCOUNT else "",
                address=address,
                note=(
                    f"{ThrottleKind(counter.kind).label}在 {window_minutes} 分钟内"
                    f"登录失败 {counter.limit} 次,锁定 {int(length.total_seconds() // 60)} 分钟,"
                    f"至 {_when(throttle.locked_until)}(第 {throttle.locks} 次)"
                ),
            )
            locked = locked or SignInLocked(_locked_message(counter.kind, throttle.locked_until))
        throttle.save()
    return locked


@transaction.atomic
def signin_succeeded(*, user: User, address: str, second_factor_pending: bool) -> None:
    """Forget the account's failures and log the sign-in."""
    SignInThrottle.objects.filter(
        kind=ThrottleKind.ACCOUNT, key=_account_key(user.username)
    ).delete()
    security_event_record(
        kind=SecurityEventKind.SIGN_IN,
        user=user,
        address=address,
        note="密码正确,待动态口令验证" if second_factor_pending else "登录成功",
    )


@transaction.atomic
def signin_unlock(*, actor: User, user: User, address: str = "") -> bool:
    """An administrator lifts the lock of `user` now; False when there was none."""
    throttle = (
        SignInThrottle.objects.select_for_update()
        .filter(kind=ThrottleKind.ACCOUNT, key=_account_key(user.username))
        .first()
    )
    if throttle is None:
        return False
    was_locked = throttle.locked_until is not None and throttle.locked_until > timezone.now()
    throttle.delete()
    if was_locked:
        security_event_record(
            kind=SecurityEventKind.UNLOCKED,
            user=user,
            actor=actor,
            address=address,
            note="管理员解除登录锁定",
        )
    return was_locked


def sign_out_everywhere(request: HttpRequest) -> None:
    """End this session and every other session of the account, and log it."""
    user = request.user
    if isinstance(user, User):
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
            security_event_record(
                kind=SecurityEventKind.SIGN_OUT,
                user=user,
                address=client_ip(request),
                note="退出登录,该账号的全部会话均已结束",
            )
    logout(request)


def session_idle_expired(request: HttpRequest) -> bool:
    """End the session if it sat idle too long (True, logged); otherwise note this request."""
    user = request.user
    if not user.is_authenticated:
        return False
    now = int(time.time())
    seen = request.session.get(SEEN_KEY)
    idle = settings.SHANZHI_SESSION_IDLE_MINUTES * 60
    if isinstance(seen, int) and now - seen > idle:
        if isinstance(user, User):
            security_event_record(
                kind=SecurityEventKind.SESSION_EXPIRED,
                user=user,
                address=client_ip(request),
                note=f"超过 {settings.SHANZHI_SESSION_IDLE_MINUTES} 分钟未操作,会话结束",
            )
        logout(request)
        return True
    if not isinstance(seen, int) or now - seen >= SEEN_RESOLUTION:
        request.session[SEEN_KEY] = now
    return False
