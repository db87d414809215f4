from django.db import models

from shanzhi.accounts.models import Unit, User
from shanzhi.areas.models import Area
from shanzhi.cases.models import Case, CaseCategory, CaseType, Source

from .measures import COLUMNS


class CaseDelta(models.Model):
    """One change in what a case counts for, at the moment it happened (see `history`).

    A figure as of a moment M is the sum of the deltas before M of the cases counted in its
    period; the rows of a case are replaced from its log whenever it moves, so they always equal
    its replay. The key is the case's street, flow, place, type, channel, its unit from that
    moment, and the day it counts in; one column per `measures.COLUMNS` entry (added below).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deltas")
    street = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    flow = models.CharField("流程", max_length=20)
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    case_type = models.ForeignKey(
        CaseType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    count_day = models.DateField("计数日")
    count_month = models.DateField("计数月")
    at = models.DateTimeField("发生时刻")
    month = models.DateField("发生月")

    class Meta:
        verbose_name = "统计变化"
        verbose_name_plural = "统计变化"
        indexes = [
            models.Index(fields=["street", "count_day"], name="delta_street_day"),
            models.Index(fields=["street", "month"], name="delta_street_month"),
            models.Index(fields=["area", "count_day"], name="delta_area_day"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}@{self.at:%Y-%m-%d %H:%M}"


class NodeMonth(models.Model):
    """The deltas of one month, added up for a node of the area tree (city, district, street,
    zone or community), a flow and the category of the case's type, by the month the cases
    count in: what figures, trends and category breakdowns over whole nodes and whole months
    are read from — a few thousand rows for a city's five years, whatever the cases. Only months
    that are over are kept here (`RollupState`); the month that runs is read from the deltas
    themselves, so transitions of the running month never write these rows."""

    node = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    flow = models.CharField("流程", max_length=20)
    # The type's own category (a 小类 or a 大类; None for reports never given a type) for a
    # street and the nodes below it. A category belongs to one street, so the rows of a district
    # or the city are kept over all categories (None): a handful per month, whatever the streets.
    category = models.ForeignKey(
        CaseCategory, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    count_month = models.DateField("计数月")
    month = models.DateField("发生月")

    class Meta:
        verbose_name = "月汇总"
        verbose_name_plural = "月汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["node", "flow", "category", "count_month", "month"],
                name="nodemonth_once",
            )
        ]
        indexes = [models.Index(fields=["node", "count_month"], name="nodemonth_node_count")]

    def __str__(self) -> str:
        return f"{self.node_id}:{self.flow}:{self.count_month}/{self.month}"


class AreaNode(models.Model):
    """Which nodes a monthly total of `NodeMonth` is kept for, for each place a case can be on:
    its ancestors (itself included) at the levels of `rollup.NODE_LEVELS`."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="rollup_nodes")
    node = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["area", "node"], name="areanode_once")]

    def __str__(self) -> str:
        return f"{self.area_id}->{self.node_id}"


class RollupState(models.Model):
    """Up to which month a street's `NodeMonth` rows are complete: every month before
    `closed_until` is added up there, later ones are read from the deltas."""

    street = models.OneToOneField(Area, on_delete=models.CASCADE, related_name="+")
    closed_until = models.DateField("汇总至(不含)")

    def __str__(self) -> str:
        return f"{self.street_id}<{self.closed_until}"


for _column in COLUMNS:
    # Changes are small (−1, 0, 1) for counts; sums of minutes need the wider type.
    CaseDelta.add_to_class(
        _column.key,
        models.IntegerField(default=0) if _column.summed else models.SmallIntegerField(default=0),
    )
    NodeMonth.add_to_class(_column.key, models.BigIntegerField(default=0))


class Baseline(models.Model):
    """A figure of a period before the system was used, entered by hand so that 同比 works from
    the first year. Shown as entered, never as counted. It is for a place, optionally narrowed
    to one channel and to one category (大类, with its 小类) or one case type, as the offices kept
    their books (信访 by channel, 火警 by matter)."""

    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(Area, verbose_name="辖区", on_delete=models.PROTECT, related_name="+")
    key = models.CharField("指标", max_length=40)
    source = models.CharField(
        "来源渠道", max_length=20, choices=Source.choices, blank=True, help_text="为空表示全部渠道"
    )
    category = models.ForeignKey(
        CaseCategory,
        verbose_name="事项类别",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="为空表示全部类别",
    )
    case_type = models.ForeignKey(
        CaseType,
        verbose_name="事项",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="为空表示全部事项",
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
        # One standing figure per place, figure, channel, matter and period. NULLs are distinct
        # in unique indexes, so the whole-street, by-category and by-type rows each get theirs.
        constraints = [
            models.UniqueConstraint(
                fields=["area", "key", "source", "period_start", "period_end"],
                condition=models.Q(category__isnull=True, case_type__isnull=True),
                name="baseline_once",
                violation_error_message="该辖区该期间的这项指标已录入",
            ),
            models.UniqueConstraint(
                fields=["area", "key", "source", "category", "period_start", "period_end"],
                condition=models.Q(category__isnull=False),
                name="baseline_once_category",
                violation_error_message="该辖区该期间该类别的这项指标已录入",
            ),
            models.UniqueConstraint(
                fields=["area", "key", "source", "case_type", "period_start", "period_end"],
                condition=models.Q(case_type__isnull=False),
                name="baseline_once_case_type",
                violation_error_message="该辖区该期间该事项的这项指标已录入",
            ),
            models.CheckConstraint(
                condition=models.Q(category__isnull=True) | models.Q(case_type__isnull=True),
                name="baseline_category_or_type",
                violation_error_message="历史基数只能按类别或按事项之一录入",
            ),
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
    category = models.ForeignKey(
        CaseCategory,
        verbose_name="事项类别",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    case_type = models.ForeignKey(
        CaseType,
        verbose_name="事项",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
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
    and the value that earns none (floor), between which marks rise in a straight line; when
    neither is given, marks follow the value's distance to the ranked set's mean (see
    `rankings`). The direction is the KPI's own (lower is better for 超期数, 重办率…)."""

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
