from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shanzhi.accounts"
    verbose_name = "单位与人员"
