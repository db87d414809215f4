from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "shanzhi.areas"
    verbose_name = "辖区"
