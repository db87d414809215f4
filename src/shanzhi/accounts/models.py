import time
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from shanzhi.areas.models import Area
from shanzhi.protection import SealedTextField, digest


class Role(models.TextChoices):
    RESIDENT = "resident", "居民"
    GRID_WORKER = "grid_worker", "网格员"
    DISPATCHER = "dispatcher", "指挥中心坐席"
    HANDLER = "handler", "办理人"
    LEADER = "leader", "领导"
    ADMINISTRATOR = "administrator", "系统管理员"


class UnitKind(models.TextChoices):
    STREET_OFFICE = "street_office", "街道科室"
    COMMUNITY_COMMITTEE = "community_committee", "社区居委会"
    STATION = "station", "站所"
    PROPERTY = "property", "物业公司"
    DISTRICT_DEPARTMENT = "district_department", "区级部门"
    OTHER = "other", "其他"


class Unit(models.Model):
    """A unit that handles matters: a street office, a community committee, a station, a company."""

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类别", max_length=30, choices=UnitKind.choices)
    area = models.ForeignKey(
        Area, verbose_name="所在辖区", on_delete=models.PROTECT, related_name="units"
    )
    street = models.ForeignKey(
        Area,
        verbose_name="所属街道",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    phone = models.CharField("联系电话", max_length=30, blank=True)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["area__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "name"],
                name="unit_name_unique_in_area",
                violation_error_message="该辖区下已有同名单位",
            )
        ]

    def __str__(self) -> str:
        return self.name


# django-otp is untyped, so the stubs' plugin cannot see the devices' reverse managers.
class User(AbstractUser):  # type: ignore[django-manager-missing]
    """A person who signs in: staff of a unit, or a resident."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name="所在单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    street = models.ForeignKey(
        Area,
        verbose_name="所属街道",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    password_changed_at = models.DateTimeField("密码设置时间", default=timezone.now)
    must_change_password = models.BooleanField(
        "下次登录须修改密码",
        default=False,
        help_text="由他人设置或重置的密码,本人登录后须先修改。",
    )
    # Raised by signing out: every session signed in before it stops matching the account.
    session_epoch = models.PositiveIntegerField("会话代数", default=0, editable=False)

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django ties a session to the password hash; the epoch ties it to the last sign-out too,
        # so that signing out in one browser ends the account's sessions in all of them.
        return salted_hmac(
            "shanzhi.accounts.User.session",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class RoleGrant(models.Model):
    """A role held by a user over an area node (the scope). Revoked grants stay as history."""

    user = models.ForeignKey(
        User, verbose_name="人员", on_delete=models.PROTECT, related_name="grants"
    )
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    area = models.ForeignKey(
        Area, verbose_name="辖区范围", on_delete=models.PROTECT, related_name="grants"
    )
    street = models.ForeignKey(
        Area,
        verbose_name="所属街道",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_by = models.ForeignKey(
        User,
        verbose_name="授权人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField("授权时间", auto_now_add=True)
    revoked_by = models.ForeignKey(
        User,
        verbose_name="撤销人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        ordering = ["area__path", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "area"],
                condition=models.Q(revoked_at__isnull=True),
                name="grant_active_unique",
                violation_error_message="该人员在此辖区已拥有该角色",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=[choice.value for choice in Role]),
                name="grant_role_valid",
            ),
        ]
        indexes = [models.Index(fields=["area", "role"], name="grant_area_role")]

    def __str__(self) -> str:
        return f"{self.user}:{self.get_role_display()}@{self.area.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SecurityEventKind(models.TextChoices):
    SIGN_IN = "sign_in", "登录"
    SIGN_IN_FAILED = "sign_in_failed", "登录失败"
    LOCKED = "locked", "登录锁定"
    UNLOCKED = "unlocked", "解除锁定"
    SIGN_OUT = "sign_out", "退出登录"
    SESSION_EXPIRED = "session_expired", "会话超时"
    PASSWORD_CHANGED = "password_changed", "修改密码"
    PASSWORD_RESET = "password_reset", "重置密码"
    OTP_ENROLLED = "otp_enrolled", "绑定动态口令"
    OTP_VERIFIED = "otp_verified", "动态口令验证"
    OTP_FAILED = "otp_failed", "动态口令错误"
    RECOVERY_CODE_USED = "recovery_code_used", "使用恢复码"
    RECOVERY_CODES_ISSUED = "recovery_codes_issued", "生成恢复码"
    OTP_REMOVED = "otp_removed", "解除动态口令"
    USER_CREATED = "user_created", "新增人员"
    USER_DEACTIVATED = "user_deactivated", "停用账号"
    USER_ACTIVATED = "user_activated", "启用账号"
    GRANT_ADDED = "grant_added", "授予角色"
    GRANT_REVOKED = "grant_revoked", "撤销角色"
    TOKEN_ISSUED = "token_issued", "签发接口密钥"
    TOKEN_USED = "token_used", "使用接口密钥"
    TOKEN_REFUSED = "token_refused", "接口密钥被拒"
    TOKEN_REVOKED = "token_revoked", "吊销接口密钥"


class SecurityEvent(models.Model):
    """One row of the security log: who signed in or failed to, locks, passwords, second
    factors, grants and API keys. Append-only: on PostgreSQL a trigger refuses UPDATE and DELETE.

    `area` is where the account belongs (its unit's area, else its outermost grant), so that
    leaders and administrators read the events of their own part of the grid.
    """

    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    kind = models.CharField("事件", max_length=30, choices=SecurityEventKind.choices)
    user = models.ForeignKey(
        User,
        verbose_name="账号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # As typed at sign-in (also for names that match no account), or the account's name.
    username = models.CharField("用户名", max_length=150, blank=True)
    actor = models.ForeignKey(
        User,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="为他人操作时(授权、重置密码、解锁)是操作的管理员;空为本人或系统。",
    )
    address = models.CharField("来源地址", max_length=45, blank=True)
    area = models.ForeignKey(
        Area,
        verbose_name="所属辖区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "安全日志"
        verbose_name_plural = "安全日志"
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["user", "at"], name="secevent_user_at"),
            models.Index(fields=["kind", "at"], name="secevent_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()} {self.username}"


class ThrottleKind(models.TextChoices):
    ACCOUNT = "account", "账号"
    ADDRESS = "address", "来源地址"


class SignInThrottle(models.Model):
    """Failed sign-ins counted per account name and per client address, and the lock they led to.

    The name is counted whether or not an account has it, so a lock tells nothing of which
    names exist.
    """

    kind = models.CharField("类别", max_length=10, choices=ThrottleKind.choices)
    key = models.CharField("账号或地址", max_length=150)
    failures = models.PositiveIntegerField("窗口内失败次数", default=0)
    window_started_at = models.DateTimeField("计数开始", null=True, blank=True)
    locks = models.PositiveIntegerField("连续锁定次数", default=0)
    # The end of the last lock, kept after it passes; whether that end is in the log yet.
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)
    lock_end_logged = models.BooleanField("解除已记录", default=False)

    class Meta:
        verbose_name = "登录失败计数"
        verbose_name_plural = "登录失败计数"
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="signin_throttle_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"


class TotpDevice(TimestampMixin, ThrottlingMixin, Device):
    """A phone's authenticator (TOTP, RFC 6238). The secret is sealed at rest like personal data;
    django-otp supplies the algorithm, the growing delay after wrong codes, and the session step.
    """

    secret = SealedTextField("密钥")
    # The time step of the last code accepted: a code is never accepted twice.
    last_t: "models.BigIntegerField[int, int]" = models.BigIntegerField(default=-1)
    drift: "models.SmallIntegerField[int, int]" = models.SmallIntegerField(default=0)

    STEP = 30
    DIGITS = 6

    class Meta:
        verbose_name = "动态口令设备"
        verbose_name_plural = "动态口令设备"

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token: Any) -> bool:
        """Whether `token` is the current code (one step either way is allowed for clock drift)."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        code = str(token).strip().replace(" ", "")
        if not (code.isdigit() and len(code) == self.DIGITS):
            self.throttle_increment(commit=True)
            return False
        totp = TOTP(bytes.fromhex(self.secret), self.STEP, 0, self.DIGITS, self.drift)
        totp.time = time.time()
        if totp.verify(int(code), 1, self.last_t + 1):
            self.last_t = totp.t()
            self.drift = totp.drift
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment(commit=True)
        return False


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """One-time recovery codes for a lost phone; only their keyed digests are stored."""

    class Meta:
        verbose_name = "恢复码"
        verbose_name_plural = "恢复码"

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token: Any) -> bool:
        """Use up the unused code `token`, if it is one."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        code = normalise_recovery_code(str(token))
        used = RecoveryCode.objects.filter(
            device=self, digest=digest(code), used_at__isnull=True
        ).update(used_at=timezone.now())
        if used:
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment(commit=True)
        return False


def normalise_recovery_code(code: str) -> str:
    """Recovery codes are read off paper: case, spaces and dashes do not matter."""
    return "".join(ch for ch in code.lower() if ch.isalnum())


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)

    class Meta:
        verbose_name = "恢复码"
        verbose_name_plural = "恢复码"
        indexes = [models.Index(fields=["device", "digest"], name="recovery_code_lookup")]

    def __str__(self) -> str:
        return f"恢复码 {self.pk}"
