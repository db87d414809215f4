import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection

from shanzhi import audit


class Command(BaseCommand):
    help = (
        "在 PostgreSQL 上建立(或校正)两个数据库角色:属主角色拥有全部表并执行迁移,"
        "应用角色不拥有任何对象,对流转记录、查看记录、安全日志只能追加和读取,"
        "对登记记录不能物理删除。须以超级用户的 DATABASE_URL 运行;可重复执行。"
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--owner", default="shanzhi_owner", help="属主角色名,默认 shanzhi_owner"
        )
        parser.add_argument("--app", default="shanzhi_app", help="应用角色名,默认 shanzhi_app")

    def handle(self, *args: Any, **options: Any) -> None:
        owner, app = options["owner"], options["app"]
        if connection.vendor != "postgresql":
            raise CommandError("数据库角色只适用于 PostgreSQL:嵌入式 SQLite 无需设置")
        if owner == app:
            raise CommandError("属主角色与应用角色必须不同")
        try:
            statements = audit.roles_set_up(
                connection,
                owner=owner,
                app=app,
                owner_password=os.environ.get("SHANZHI_DB_OWNER_PASSWORD", ""),
                app_password=os.environ.get("SHANZHI_DB_APP_PASSWORD", ""),
            )
        except DatabaseError as exc:
            raise CommandError(f"设置数据库角色失败(须以超级用户连接):{exc}") from exc
        if options["verbosity"] > 1:
            for statement in statements:
                self.stdout.write(statement)
        protected = ", ".join(audit.append_only_tables())
        self.stdout.write(self.style.SUCCESS(f"已设置数据库角色:属主 {owner},应用 {app}。"))
        self.stdout.write(f"只追加的表:{protected}")
        self.stdout.write(f"执行迁移请用属主角色连接,例如 DATABASE_URL=postgres://{owner}@…")
        self.stdout.write(f"应用(gunicorn、定时任务)请用应用角色连接:postgres://{app}@…")
