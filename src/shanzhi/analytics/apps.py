from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "shanzhi.analytics"
    verbose_name = "统计指标"
    default_auto_field = "django.db.models.BigAutoField"
