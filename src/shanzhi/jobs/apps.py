from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "shanzhi.jobs"
    verbose_name = "后台任务"

    def ready(self) -> None:
        # The Celery app binds every task to the settings' broker (none: run them at once).
        from shanzhi import celery  # noqa: F401
