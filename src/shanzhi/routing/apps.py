from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "shanzhi.routing"
    verbose_name = "智能分拨与源头治理"
