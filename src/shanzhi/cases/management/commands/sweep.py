from argparse import RawDescriptionHelpFormatter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser, DjangoHelpFormatter

from shanzhi.cases.services import sweep_run


class _HelpFormatter(DjangoHelpFormatter, RawDescriptionHelpFormatter):
    """Keeps the cron line of the description on a line of its own."""


class Command(BaseCommand):
    help = (
        "巡检时限:给临近办理时限的事件的承办单位发临期提醒,对已超期的事件自动督办。\n"
        "每条提醒、每个时限的督办只做一次,重复运行不会重复提醒或督办,可每分钟运行一次。\n"
        "月份结束后,也在这里把该月的统计数据汇总到各级区域。\n"
        "crontab 示例(每分钟一次):\n"
        "  * * * * * cd /srv/shanzhi && .venv/bin/shanzhi sweep >> var/sweep.log 2>&1"
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = _HelpFormatter
        return parser

    def handle(self, *args: Any, **options: Any) -> None:
        report = sweep_run()
        line = (
            f"临期提醒 {report.reminded} 条,自动督办 {report.supervised} 件,"
            f"时限到期自动办理 {report.expired} 件"
        )
        if report.months_closed:
            line += f",汇总已结束月份 {report.months_closed} 个街道"
        self.stdout.write(line)
