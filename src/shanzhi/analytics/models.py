from django.db import models

from shanzhi.accounts.models import Unit, User
from shanzhi.areas.models import Area
from shanzhi.cases.models import Case, CaseType, Source


class CaseDay(models.Model):
    """One row of the daily roll-up: the cases sharing a key, counted by the columns of
    `measures.COLUMNS`. A row is recomputed from its raw cases whenever one of them changes, so it
    always equals the direct count.

    The key is the case's street, flow, place, type, channel and unit, the day it counts in (受理,
    or the report for on-the-spot, merged and rejected cases), the day of its last resolution and
    the day its handling deadline runs out: exactly what a figure "as of" a day needs.
    """

    key = models.CharField("键", max_length=160, unique=True)
    street = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    flow = models.CharField("流程", max_length=20, default="general")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    case_type = models.ForeignKey(
        CaseType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    count_day = models.DateField("计数日")
    resolved_day = models.DateField("办结日", null=True, blank=True)
    due_day = models.DateField("办理时限日", null=True, blank=True)

    intake = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    due_set = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    handling_minutes = models.BigIntegerField(default=0)
    dispatched = models.PositiveIntegerField(default=0)
    claim_timely = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    reachable = models.PositiveIntegerField(default=0)
    called_back = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    basically = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    on_spot = models.PositiveIntegerField(default=0)
    settled = models.PositiveIntegerField(default=0)
    major = models.PositiveIntegerField(default=0)
    major_resolved = models.PositiveIntegerField(default=0)
    ungraded = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    registered = models.PositiveIntegerField(default=0)
    notice_on_time = models.PositiveIntegerField(default=0)
    review_asked = models.PositiveIntegerField(default=0)
    recheck_asked = models.PositiveIntegerField(default=0)
    repeat = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "日汇总"
        verbose_name_plural = "日汇总"
        indexes = [
            models.Index(fields=["street", "count_day"], name="caseday_street_day"),
            models.Index(fields=["area", "count_day"], name="caseday_area_day"),
        ]

    def __str__(self) -> str:
        return self.key


class CaseDayKey(models.Model):
    """The roll-up row a case counts in now, so a change can recompute the row it leaves."""

    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.CASCADE, related_name="day_key"
    )
    key = models.CharField(max_length=160, db_index=True)

    def __str__(self) -> str:
        return f"{self.case_id}:{self.key}"


class Baseline(models.Model):
    """A figure of a period before the system was used, entered by hand so that 同比 works from
    the first year. Shown as entered, never as counted."""

    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(Area, verbose_name="辖区", on_delete=models.PROTECT, related_name="+")
    key = models.CharField("指标", max_length=40)
    source = models.CharField(
        "来源渠道", max_length=20, choices=Source.choices, blank=True, help_text="为空表示全部渠道"
    )
    period_kind = models.CharField("期间类型", max_length=10)
    period_start = models.DateField("期间开始")
    period_end = models.DateField("期间结束(不含)")
    value = models.DecimalField("数值", max_digits=16, decimal_places=4)
    note = models.CharField("来源说明", max_length=200)
    entered_by = models.ForeignKey(
        User, verbose_name="录入人", on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField("录入时间")

    class Meta:
        verbose_name = "历史基数"
        verbose_name_plural = "历史基数"
        ordering = ["area", "key", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "key", "source", "period_start", "period_end"],
                name="baseline_once",
                violation_error_message="该辖区该期间的这项指标已录入",
            )
        ]

    def __str__(self) -> str:
        return f"{self.area_id}:{self.key}:{self.period_start}"


class BaselineAction(models.TextChoices):
    CORRECTED = "corrected", "更正"
    WITHDRAWN = "withdrawn", "撤回"


class BaselineHistory(models.Model):
    """What an entered figure was before it was corrected or withdrawn, and why.

    `Baseline` holds only the figures that stand (one per place, figure and period, which is what
    同比 reads); every earlier version is kept here, append-only, so nothing entered is lost."""

    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(Area, verbose_name="辖区", on_delete=models.PROTECT, related_name="+")
    key = models.CharField("指标", max_length=40)
    source = models.CharField("来源渠道", max_length=20, choices=Source.choices, blank=True)
    period_kind = models.CharField("期间类型", max_length=10)
    period_start = models.DateField("期间开始")
    period_end = models.DateField("期间结束(不含)")
    value = models.DecimalField("原数值", max_digits=16, decimal_places=4)
    note = models.CharField("原来源说明", max_length=200)
    entered_by = models.ForeignKey(
        User, verbose_name="原录入人", on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField("原录入时间")
    action = models.CharField("操作", max_length=10, choices=BaselineAction.choices)
    new_value = models.DecimalField(
        "更正后数值", max_digits=16, decimal_places=4, null=True, blank=True
    )
    reason = models.CharField("理由", max_length=200)
    acted_by = models.ForeignKey(
        User, verbose_name="操作人", on_delete=models.PROTECT, related_name="+"
    )
    acted_at = models.DateTimeField("操作时间")

    class Meta:
        verbose_name = "历史基数变更记录"
        verbose_name_plural = "历史基数变更记录"
        ordering = ["-acted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.area_id}:{self.key}:{self.period_start}:{self.action}"


class RankLevel(models.TextChoices):
    COMMUNITY = "community", "社区"
    GRID = "grid", "网格"
    UNIT = "unit", "承办单位"


class RankingRule(models.Model):
    """How 比拼晾晒 scores the communities, grids or units of a period: weighted KPIs.

    A rule without a street is the platform's (seeded, one per level); a street may keep its own
    rules, which its administrators edit. The page offers the street's active rules first."""

    name = models.CharField("名称", max_length=60)
    level = models.CharField("排名对象", max_length=20, choices=RankLevel.choices)
    street = models.ForeignKey(
        Area,
        verbose_name="所属街道",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="为空表示全平台通用的规则,只有平台管理员可以修改",
    )
    description = models.CharField("说明", max_length=300, blank=True)
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "排名规则"
        verbose_name_plural = "排名规则"
        ordering = ["level", "street__code", "name"]

    def __str__(self) -> str:
        return self.name


class RankingWeight(models.Model):
    """One KPI of a rule: its weight and, optionally, the value that earns full marks (target)
    and the value that earns none (floor); between them, or between the best and worst of the
    ranked set when they are not given, marks rise in a straight line. The direction is the
    KPI's own (lower is better for 超期数, 重办率…)."""

    rule = models.ForeignKey(
        RankingRule, verbose_name="规则", on_delete=models.CASCADE, related_name="weights"
    )
    kpi = models.CharField("指标", max_length=40)
    weight = models.PositiveSmallIntegerField("权重")
    target = models.DecimalField("满分值", max_digits=12, decimal_places=2, null=True, blank=True)
    floor = models.DecimalField("零分值", max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = "指标权重"
        verbose_name_plural = "指标权重"
        ordering = ["rule", "-weight", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "kpi"],
                name="ranking_weight_once",
                violation_error_message="同一规则中每项指标只能出现一次",
            ),
            models.CheckConstraint(
                condition=models.Q(weight__gt=0), name="ranking_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi}×{self.weight}"
