from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.ops.backup import BackupError, backup_restore, manifest_read


class Command(BaseCommand):
    help = (
        "用 shanzhi backup 生成的文件替换当前的数据库与上传文件目录,再逐表核对行数和文件数。"
        "请先停止服务;PostgreSQL 须以属主角色连接。"
    )
    # The database about to be replaced may be one this version cannot check yet.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="备份文件(.tar.gz)")
        parser.add_argument("--yes", action="store_true", help="不再询问,直接恢复")

    def handle(self, *args: Any, **options: Any) -> None:
        source = Path(options["file"])
        if not source.is_file():
            raise CommandError(f"没有找到备份文件“{source}”")
        try:
            manifest = manifest_read(source)
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"备份时间 {manifest['created_at']},{len(manifest['tables'])} 张表,"
            f"上传文件 {manifest['media']['files']} 个。"
        )
        if not options["yes"]:
            answer = input("恢复将替换当前的数据库和上传文件目录,确定吗?输入 yes 继续:")
            if answer.strip().lower() != "yes":
                raise CommandError("已取消,未做任何改动")
        try:
            manifest, check = backup_restore(source)
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        for table, (archived, now) in sorted(check.differences.items()):
            self.stderr.write(f"表 {table}:备份中 {archived} 行,恢复后 {now} 行")
        archived_files, now_files = check.media
        if archived_files != now_files:
            self.stderr.write(f"上传文件:备份中 {archived_files} 个,恢复后 {now_files} 个")
        for name in check.missing_files[:20]:
            self.stderr.write(f"附件文件缺失:{name}")
        if check.key_problem:
            self.stderr.write(check.key_problem)
        if not check.ok:
            raise CommandError("恢复后核对不一致,请查看上面列出的差异")
        rows = sum(now for _, now in check.tables.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"已恢复并核对:{len(check.tables)} 张表共 {rows} 行、上传文件 {now_files} 个,"
                "与备份一致。如代码版本比备份新,请再运行 shanzhi migrate。"
            )
        )
