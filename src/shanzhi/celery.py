"""The task queue: Celery with Redis as broker (`CELERY_BROKER_URL`).

Without a broker (the embedded default) every task runs in the process that asks for it, at
once, so `make run` needs nothing more. In production a worker and one beat run beside the web
servers (README: 后台任务):

    celery -A shanzhi worker --loglevel=INFO
    celery -A shanzhi beat --loglevel=INFO
"""

import os

from celery import Celery  # type: ignore[import-untyped]

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.settings")

app = Celery("shanzhi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
