from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "shanzhi.cases"
    verbose_name = "事件"
