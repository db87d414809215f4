from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.analytics.rollup import rollup_close, rollup_rebuild
from shanzhi.areas.models import Area, Level


class Command(BaseCommand):
    help = "统计数据:按事件记录重建,或把已结束的月份汇总(导入数据或修复后运行 rebuild)"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="子命令")
        rebuild = actions.add_parser("rebuild", help="从事件记录重建统计数据")
        rebuild.add_argument("--street", metavar="CODE", help="只重建该街道(街道编码)")
        actions.add_parser("close", help="汇总已结束的月份(定时巡检也会做)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "close":
            streets = rollup_close()
            self.stdout.write(self.style.SUCCESS(f"已汇总已结束月份:{streets} 个街道"))
            return
        street = None
        code = options.get("street")
        if code:
            street = Area.objects.filter(code=code, level=Level.STREET).first()
            if street is None:
                raise CommandError(f"没有编码为“{code}”的街道")
        rows = rollup_rebuild(street=street)
        where = street.name if street else "全部街道"
        self.stdout.write(self.style.SUCCESS(f"已重建{where}的统计数据:{rows} 条变化"))
