from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "shanzhi.demo"
    verbose_name = "演示数据"
