from django.contrib.auth.models import AbstractUser
from django.db import models

from shanzhi.areas.models import Area


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


class User(AbstractUser):
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

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username


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
