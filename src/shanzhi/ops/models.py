"""Rows the platform keeps for itself: shared request counters and the data key's check value."""

from django.db import models


class RateCounter(models.Model):
    """Requests counted in one window for one client of one limit, shared by every worker."""

    bucket = models.CharField("计数键", max_length=200)
    slot = models.BigIntegerField("时间窗序号")
    count = models.PositiveIntegerField("次数", default=0)
    expires_at = models.DateTimeField("过期时间", db_index=True)

    class Meta:
        verbose_name = "限流计数"
        verbose_name_plural = "限流计数"
        constraints = [models.UniqueConstraint(fields=["bucket", "slot"], name="rate_counter_once")]

    def __str__(self) -> str:
        return f"{self.bucket}@{self.slot}:{self.count}"


class KeyCheck(models.Model):
    """A known text sealed with the data key, kept with the data it guards: a process started
    with another key cannot open it, and refuses to run rather than fail on every reveal."""

    sealed = models.TextField("校验密文")
    created_at = models.DateTimeField("建立时间", auto_now_add=True)

    class Meta:
        verbose_name = "数据密钥校验值"
        verbose_name_plural = "数据密钥校验值"

    def __str__(self) -> str:
        return f"key check {self.created_at:%Y-%m-%d}"
