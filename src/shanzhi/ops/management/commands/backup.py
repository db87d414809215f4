from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from shanzhi.ops.backup import BackupError, backup_write


class Command(BaseCommand):
    help = "把数据库(SQLite 或 PostgreSQL)与上传文件目录一起备份为一个 .tar.gz 文件,附各表行数"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "-o", "--output", help="备份文件路径,默认 shanzhi-backup-<时间>.tar.gz(当前目录)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        target = Path(options["output"] or f"shanzhi-backup-{stamp}.tar.gz")
        try:
            manifest = backup_write(target)
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        rows = sum(manifest["tables"].values())
        media = manifest["media"]
        self.stdout.write(
            self.style.SUCCESS(
                f"已备份到 {target}:{len(manifest['tables'])} 张表共 {rows} 行,"
                f"上传文件 {media['files']} 个({media['bytes'] / (1024 * 1024):.1f}MB)。"
            )
        )
        self.stdout.write(
            "备份不含数据密钥:请另行妥善保管 SHANZHI_DATA_KEY(嵌入式运行时为数据目录中的 "
            "data.key),恢复时须用同一密钥。"
        )
