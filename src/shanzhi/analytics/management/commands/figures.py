from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.analytics.docs import figures_markdown


class Command(BaseCommand):
    help = (
        "打印每个指标的口径(Markdown 表格);--write 写入文件(如 docs/figures.md),"
        "--check 检查文件是否一致。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", metavar="文件", help="写入该文件而不是打印")
        parser.add_argument(
            "--check", metavar="文件", help="该文件与指标定义不一致时以非零状态退出"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = figures_markdown()
        if options["check"]:
            path = Path(options["check"])
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                raise CommandError(f"{path} 与指标定义不一致,请运行 shanzhi figures --write {path}")
            self.stdout.write(f"{path} 与指标定义一致")
            return
        if options["write"]:
            Path(options["write"]).write_text(text, encoding="utf-8")
            self.stdout.write(f"已写入 {options['write']}")
            return
        self.stdout.write(text, ending="")
