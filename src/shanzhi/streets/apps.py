from django.apps import AppConfig


class StreetsConfig(AppConfig):
    name = "shanzhi.streets"
    verbose_name = "街道开通"
