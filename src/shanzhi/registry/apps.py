from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "shanzhi.registry"
    verbose_name = "人房企事物"
    default_auto_field = "django.db.models.BigAutoField"
