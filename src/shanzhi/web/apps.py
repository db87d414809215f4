from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "shanzhi.web"
    verbose_name = "网页"
