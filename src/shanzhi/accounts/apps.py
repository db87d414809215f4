from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shanzhi.accounts"
    verbose_name = "单位与人员"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .middleware import session_begin

        # Every way into a session (the sign-in page, the test client, createsuperuser's
        # first login) starts the same bookkeeping: the idle clock and the second-factor debt.
        user_logged_in.connect(session_begin, dispatch_uid="shanzhi.accounts.session_begin")
