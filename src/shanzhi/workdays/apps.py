from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    name = "shanzhi.workdays"
    verbose_name = "工作日历"
