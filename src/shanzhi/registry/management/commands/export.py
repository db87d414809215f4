from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models

from shanzhi import policy
from shanzhi.accounts.models import User
from shanzhi.errors import DomainError
from shanzhi.registry.exports import ALIASES, EXPORTS, registry_export
from shanzhi.registry.models import (
    AccessVia,
    EnterpriseScale,
    FacilityKind,
    HouseholdType,
    HouseUse,
    Library,
)
from shanzhi.registry.selectors import RecordFilters

# Filter options that name a choice, by its code or its Chinese label.
CHOICE_OPTIONS: dict[str, type[models.TextChoices]] = {
    "use": HouseUse,
    "household_type": HouseholdType,
    "scale": EnterpriseScale,
    "library": Library,
    "facility_kind": FacilityKind,
}


def _choice(choices: type[models.TextChoices], text: str) -> str:
    for value, label in choices.choices:
        if text in (value, str(label)):
            return str(value)
    options = "、".join(str(label) for _, label in choices.choices)
    raise CommandError(f"“{text}”无效,可选:{options}")


class Command(BaseCommand):
    help = (
        "把某类登记清单导出为 Excel,列与导入模板一致。按该用户的辖区范围导出,"
        "身份证号和电话默认脱敏;--personal 导出完整信息须有相应权限并填写 --reason,导出留痕。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[*EXPORTS, *ALIASES], help="导出类别")
        parser.add_argument("--user", required=True, help="以该用户的查看范围和权限导出")
        parser.add_argument("-o", "--output", required=True, help="导出到的 .xlsx 文件")
        parser.add_argument("--area", help="只导出该辖区(含下级)的记录,填辖区编码")
        parser.add_argument("--q", default="", help="搜索:姓名、地址、名称,或完整身份证号/电话")
        parser.add_argument("--tag", default="", help="居民标签编码,如 living_alone")
        parser.add_argument("--use", default="", help="房屋用途")
        parser.add_argument("--household-type", default="", help="户籍类型")
        parser.add_argument("--scale", default="", help="企业规模")
        parser.add_argument("--library", default="", help="企业库(在库)")
        parser.add_argument("--facility-kind", default="", help="设施类别")
        parser.add_argument("--personal", action="store_true", help="导出完整身份证号和电话")
        parser.add_argument("--reason", default="", help="导出完整信息的原因(留存备查)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"没有用户名为“{options['user']}”的在用账号")
        choices = {
            name: _choice(choices, options[name]) if options[name] else ""
            for name, choices in CHOICE_OPTIONS.items()
        }
        try:
            area = policy.area_for(user, options["area"]) if options["area"] else None
            count = registry_export(
                user=user,
                kind=options["kind"],
                target=options["output"],
                filters=RecordFilters(area=area, q=options["q"], tag=options["tag"], **choices),
                personal=options["personal"],
                reason=options["reason"],
                via=AccessVia.COMMAND,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        masked = "完整信息,已记录导出日志" if options["personal"] else "已脱敏"
        self.stdout.write(f"已导出 {count} 条({masked}):{options['output']}")
