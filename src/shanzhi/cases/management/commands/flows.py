from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.cases.flows import FLOWS
from shanzhi.cases.flows.docs import flows_markdown


class Command(BaseCommand):
    help = (
        "打印每个流程的状态、步骤(谁可以做、需要填写什么)、时限和文书(Markdown 表格),"
        "与事件页面、接口和巡检所用的是同一份声明。--write 写入文件(如 docs/flows.md),"
        "--check 检查文件是否与声明一致。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("keys", nargs="*", help=f"只看这些流程:{'、'.join(FLOWS)}")
        parser.add_argument("--write", metavar="文件", help="写入该文件而不是打印")
        parser.add_argument("--check", metavar="文件", help="该文件与声明不一致时以非零状态退出")

    def handle(self, *args: Any, **options: Any) -> None:
        unknown = [key for key in options["keys"] if key not in FLOWS]
        if unknown:
            raise CommandError(f"没有流程“{unknown[0]}”,可选:{'、'.join(FLOWS)}")
        text = flows_markdown(options["keys"] or None)
        if options["check"]:
            path = Path(options["check"])
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                raise CommandError(f"{path} 与流程声明不一致,请运行 shanzhi flows --write {path}")
            self.stdout.write(f"{path} 与流程声明一致")
            return
        if options["write"]:
            Path(options["write"]).write_text(text, encoding="utf-8")
            self.stdout.write(f"已写入 {options['write']}")
            return
        self.stdout.write(text, ending="")
