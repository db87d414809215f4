from django.conf import settings
from django.db import models

NOTE_MAX_LENGTH = 100


class CalendarDay(models.Model):
    """An administrator's ruling on one date, which wins over the holiday package.

    The package is updated once the State Council publishes a year's holidays; rows here fill the
    gap before that, or correct a local arrangement.
    """

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是否工作日")
    note = models.CharField("说明", max_length=NOTE_MAX_LENGTH, help_text="例如“2027年国庆节”")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="设置人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "日历调整"
        verbose_name_plural = "日历调整"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {'工作日' if self.is_workday else '休息日'}({self.note})"
