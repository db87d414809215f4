from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.analytics.rollup import rollup_rebuild
from shanzhi.areas.models import Area, Level


class Command(BaseCommand):
    help = "统计日汇总:按原始事件重建(导入数据或修复后运行)"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="子命令")
        rebuild = actions.add_parser("rebuild", help="从原始事件重建日汇总")
        rebuild.add_argument("--street", metavar="CODE", help="只重建该街道(街道编码)")

    def handle(self, *args: Any, **options: Any) -> None:
        street = None
        code = options.get("street")
        if code:
            street = Area.objects.filter(code=code, level=Level.STREET).first()
            if street is None:
                raise CommandError(f"没有编码为“{code}”的街道")
        rows = rollup_rebuild(street=street)
        where = street.name if street else "全部街道"
        self.stdout.write(self.style.SUCCESS(f"已重建{where}的日汇总:{rows} 行"))
