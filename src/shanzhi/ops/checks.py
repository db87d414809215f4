"""System checks of the running platform: the data key matches the data, and in production the
application does not connect as a role that could erase the audit."""

from collections.abc import Sequence
from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from shanzhi import protection


@register()
def data_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A wrong SHANZHI_DATA_KEY stops every command and the development server at once."""
    try:
        protection.key_check_at_start()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="shanzhi.E001")]
    return []


@register(Tags.database, deploy=True)
def database_role_check(
    app_configs: Any = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """`shanzhi check --deploy --database default`: warn when the application connects as a
    superuser or as the owner of its tables, which could truncate the logs or disable triggers."""
    if not databases or "default" not in databases or connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
                   (SELECT count(*) FROM pg_class c
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = current_schema()
                      AND pg_has_role(current_user, c.relowner, 'USAGE'))
            """
        )
        superuser, owned = cursor.fetchone()
    if not superuser and not owned:
        return []
    who = "超级用户" if superuser else f"{owned} 个表的属主"
    return [
        Warning(
            f"应用以数据库{who}连接,可清空或改写流转记录与查看记录",
            hint="以 shanzhi dbroles 建立的应用角色连接(见 README“生产部署”),迁移时才用属主角色",
            id="shanzhi.W001",
        )
    ]
