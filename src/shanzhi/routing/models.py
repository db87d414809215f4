"""What the routing app keeps: each street's trained router and each street's settings."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from shanzhi.areas.models import Area


class RouterModel(models.Model):
    """One training run of a street's router. The fitted pipeline is kept here, in the database,
    rather than as a file: every app server and worker reads the same row, a backup of the
    database carries it, and it is small (a few MB). The newest row is the one in use."""

    street = models.ForeignKey(
        Area, verbose_name="街道", on_delete=models.PROTECT, related_name="+"
    )
    trained_at = models.DateTimeField("训练时间")
    cases = models.PositiveIntegerField("训练事件数")
    types = models.PositiveIntegerField("事项类型数")
    held_out = models.PositiveIntegerField("留出检验事件数", default=0)
    accuracy = models.FloatField("留出检验准确率", null=True, blank=True)
    macro_f1 = models.FloatField("留出检验宏F1", null=True, blank=True)
    # (type id, community path) → {unit id: weight}, learnt from who finally handled the cases.
    units = models.JSONField("承办单位统计", default=dict)
    payload = models.BinaryField("模型")

    class Meta:
        verbose_name = "分拨模型"
        verbose_name_plural = "分拨模型"
        ordering = ["-trained_at", "-id"]
        indexes = [models.Index(fields=["street", "-trained_at"], name="router_street_latest")]

    def __str__(self) -> str:
        return f"{self.street} {self.trained_at:%Y-%m-%d %H:%M}"


class StreetSettings(models.Model):
    """What a street decides for routing and for finding recurring problems (源头治理)."""

    street = models.OneToOneField(
        Area, verbose_name="街道", on_delete=models.PROTECT, related_name="routing_settings"
    )
    min_training_cases = models.PositiveIntegerField(
        "启用模型所需的已办结事件数",
        default=50,
        validators=[MinValueValidator(10)],
        help_text="已办结且有事项类型的事件少于此数时,只按关键词推荐",
    )
    preselect_confidence = models.FloatField(
        "自动预选事项类型的置信度",
        default=0.6,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="首选建议的置信度不低于此值时,受理表单预先选中该事项类型",
    )
    hotspot_window_days = models.PositiveIntegerField(
        "高发问题统计窗口(天)", default=30, validators=[MinValueValidator(1)]
    )
    hotspot_min_cases = models.PositiveIntegerField(
        "同地同类达到几件算高发", default=3, validators=[MinValueValidator(2)]
    )
    hotspot_radius_m = models.PositiveIntegerField(
        "有坐标时的同地距离(米)", default=100, validators=[MinValueValidator(10)]
    )
    similar_window_days = models.PositiveIntegerField(
        "相似诉求跨月比对窗口(天)", default=180, validators=[MinValueValidator(7)]
    )
    similar_threshold = models.FloatField(
        "相似诉求的文本相似度",
        default=0.3,
        validators=[MinValueValidator(0.1), MaxValueValidator(1.0)],
    )
    review_days = models.PositiveIntegerField(
        "源头治理观察期(天)",
        default=30,
        validators=[MinValueValidator(1)],
        help_text="观察期内该地点不再出现同类事件,源头治理任务方可销号",
    )

    class Meta:
        verbose_name = "分拨与源头治理设置"
        verbose_name_plural = "分拨与源头治理设置"

    def __str__(self) -> str:
        return f"{self.street} 分拨与源头治理设置"
