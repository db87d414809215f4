from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "shanzhi.api"
    verbose_name = "接口"
