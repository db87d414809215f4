import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.accounts.models import User
from shanzhi.errors import DomainError
from shanzhi.registry.imports import (
    PROGRESS_EVERY,
    SPECS,
    ImportResult,
    import_street,
    registry_import,
    report_write,
    template_write,
)

# The command prints this many errors; --report writes them all.
SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = (
        "从 Excel 导入网格和网格员、楼栋房屋、居民、企业或设施。"
        "逐行校验,任何一行有误则整个文件不导入,列出行号、列名和原因;"
        "同一文件再次导入只更新,不重复登记。--template 生成带示例行的导入模板。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=list(SPECS), help="导入类别")
        parser.add_argument("file", nargs="?", help="要导入的 .xlsx 文件")
        parser.add_argument("--template", metavar="FILE", help="生成该类别的导入模板到此文件")
        parser.add_argument("--street", help="导入到哪个街道(9位街道编码)")
        parser.add_argument(
            "--user", help="以该用户的权限导入(须为相应网格的系统管理员);不填为平台运维"
        )
        parser.add_argument("--dry-run", action="store_true", help="仅校验,不写入")
        parser.add_argument("--report", metavar="FILE", help="把错误报告写入 .xlsx 或 .csv 文件")
        parser.add_argument(
            "--progress-every", type=int, default=PROGRESS_EVERY, help="每多少行报告一次进度"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        if options["template"]:
            if options["file"]:
                raise CommandError("生成模板时不要同时给出要导入的文件")
            template_write(kind, options["template"])
            self.stdout.write(f"已生成{SPECS[kind].title}导入模板:{options['template']}")
            return
        if not options["file"] or not options["street"]:
            raise CommandError("请给出要导入的文件和 --street 街道编码(或用 --template 生成模板)")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件:{path}")
        actor = None
        if options["user"]:
            actor = User.objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"没有用户名为“{options['user']}”的在用账号")
        started = time.monotonic()
        try:
            street = import_street(options["street"])
            result = registry_import(
                actor=actor,
                kind=kind,
                source=path,
                street=street,
                dry_run=options["dry_run"],
                notify=lambda message: self.stdout.write(message),
                every=options["progress_every"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        seconds = time.monotonic() - started
        self._report(result, options["report"])
        if not result.ok:
            raise CommandError(f"文件中有 {len(result.errors)} 处错误,未导入任何数据", returncode=1)
        rate = result.rows / seconds if seconds else 0.0
        done = "校验通过,将" if options["dry_run"] else "导入完成:"
        self.stdout.write(
            self.style.SUCCESS(f"{done}{result.summary()}")
            + f"(共 {result.rows} 行,用时 {seconds:.1f} 秒,每秒 {rate:.0f} 行)"
        )

    def _report(self, result: ImportResult, report: str | None) -> None:
        for error in result.errors[:SHOWN_ERRORS]:
            place = f"第{error.row}行" if error.row else "文件"
            column = f" {error.column}" if error.column else ""
            self.stderr.write(f"{place}{column}:{error.reason}")
        hidden = len(result.errors) - SHOWN_ERRORS
        if hidden > 0:
            self.stderr.write(
                f"……另有 {hidden} 处错误" + ("" if report else ",用 --report 导出全部")
            )
        if report:
            report_write(result.errors, report)
            self.stdout.write(f"错误报告已写入:{report}" if result.errors else "没有错误")
