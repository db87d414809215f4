from django.apps import AppConfig


class ParticipationConfig(AppConfig):
    name = "shanzhi.participation"
    verbose_name = "民生实事与志愿服务"
    default_auto_field = "django.db.models.BigAutoField"
