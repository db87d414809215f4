from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.errors import DomainError
from shanzhi.streets.divisions import source_note
from shanzhi.streets.selectors import street_checklist
from shanzhi.streets.services import street_set_up, street_templates_write


class Command(BaseCommand):
    help = (
        "开通街道:按民政部行政区划代码建立街道(及其所属区县、市)、默认单位、事项清单、排名规则和"
        "首位系统管理员(打印一次性密码,首次登录须修改),并写出导入模板。已开通的街道不作任何改动。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="开通一个街道")
        add.add_argument("code", help="9位乡级行政区划代码,如 330106001")
        add.add_argument("--admin", default="", help="首位系统管理员的用户名,默认为 <代码>.admin")
        add.add_argument(
            "--templates",
            metavar="DIR",
            default="",
            help="把单位、网格与网格员、人员与角色、楼栋、居民、企业、设施的导入模板写入此目录",
        )
        check = sub.add_parser("check", help="列出街道开通后还缺什么")
        check.add_argument("code", help="9位街道编码")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "add":
                self._add(options)
            else:
                self._check(options["code"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc

    def _add(self, options: dict[str, Any]) -> None:
        result = street_set_up(code=options["code"], admin_username=options["admin"])
        self.stdout.write(result.message)
        if result.created:
            self.stdout.write(
                f"一次性密码:{result.password}(只显示这一次,首次登录须修改密码并绑定动态口令)"
            )
        self.stdout.write(f"代码来源:{source_note()}")
        if options["templates"]:
            for path in street_templates_write(directory=Path(options["templates"])):
                self.stdout.write(f"已写出导入模板:{path}")
        if result.created:
            self._check(result.street.code)

    def _check(self, code: str) -> None:
        items = street_checklist(code=code)
        self.stdout.write("开通清单:")
        for item in items:
            mark = "✓" if item.done else "✗"
            self.stdout.write(f"  {mark} {item.label}:{item.detail}")
