from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi import policy
from shanzhi.accounts.models import User
from shanzhi.analytics.periods import HELP
from shanzhi.errors import DomainError
from shanzhi.reports.compose import operator, report_area, report_compose, report_period
from shanzhi.reports.writers import FORMATS, report_write


class Command(BaseCommand):
    help = "工作总结:把一个街道或社区在某期间的数据写成报告(docx、html 或 md)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", required=True, metavar="CODE", help="街道、片区或社区编码")
        parser.add_argument("--period", required=True, metavar="PERIOD", help=HELP)
        parser.add_argument(
            "--format", choices=sorted(FORMATS), default="docx", help="输出格式,默认 docx"
        )
        parser.add_argument("-o", "--output", required=True, metavar="FILE", help="输出文件")
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="按该用户的查看范围统计;不指定时统计全部数据",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        viewer: Any = operator()
        username = options.get("user")
        if username:
            viewer = User.objects.filter(username=username, is_active=True).first()
            if viewer is None:
                raise CommandError(f"没有用户名为“{username}”的在用账号")
            if not policy.can_view_figures(viewer):
                raise CommandError(f"用户“{username}”无权查看统计数据")
        try:
            period = report_period(options["period"])
            area = report_area(viewer=viewer, code=options["area"])
        except DomainError as error:
            raise CommandError(error.message) from None
        report = report_compose(viewer=viewer, area=area, period=period)
        output = Path(options["output"])
        try:
            output.write_bytes(report_write(report, options["format"]))
        except OSError as error:
            raise CommandError(f"无法写入文件“{output}”:{error.strerror}") from None
        self.stdout.write(self.style.SUCCESS(f"已生成《{report.title}》:{output}"))
