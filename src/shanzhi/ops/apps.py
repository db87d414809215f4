from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _after_migrate(using: str = "default", **kwargs: Any) -> None:
    """Every migration may add a table: the grants of the protected ones are derived again; and
    the data key's check value is stored with the data once it has a place to go."""
    from shanzhi import audit, protection

    audit.protect(connections[using])
    if using == "default":
        protection.key_check()


class OpsConfig(AppConfig):
    name = "shanzhi.ops"
    verbose_name = "运维"

    def ready(self) -> None:
        post_migrate.connect(_after_migrate, sender=self)
        from . import checks  # noqa: F401 - registers the system checks
