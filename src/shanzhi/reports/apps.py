from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "shanzhi.reports"
    verbose_name = "工作总结"
    default_auto_field = "django.db.models.BigAutoField"
