from django.db import models

from shanzhi.accounts.models import Unit, User
from shanzhi.areas.models import Area
from shanzhi.cases.models import Case, CaseType, Source


class CaseDay(models.Model):
    """One row of the daily roll-up: the cases sharing a key, counted by the columns of
    `measures.COLUMNS`. A row is recomputed from its raw cases whenever one of them changes, so it
    always equals the direct count.

    The key is the case's street, place, type, channel and unit, the day it counts in (受理, or
    the report for on-the-spot, merged and rejected cases), the day of its last resolution and
    the day its handling deadline runs out: exactly what a figure "as of" a day needs.
    """

    key = models.CharField("键", max_length=160, unique=True)
    street = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
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
    rejected = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)

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
