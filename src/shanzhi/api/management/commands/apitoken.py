from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.accounts.models import User
from shanzhi.api.tokens import api_token_create
from shanzhi.cases.models import Source


class Command(BaseCommand):
    help = "签发接口密钥(REST 与 Open311 共用);密钥只显示这一次"

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="签发一个新密钥")
        create.add_argument("--name", required=True, help="密钥名称,如“12345热线对接”")
        create.add_argument("--user", help="密钥代表的人员用户名;不填则为只能上报的渠道密钥")
        create.add_argument(
            "--source",
            choices=Source.values,
            default=Source.API,
            help="上报渠道,默认 api(接口接入)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"没有用户名为“{options['user']}”的人员")
            if not user.is_active:
                raise CommandError(f"人员“{user}”已停用,不能为其签发密钥")
        token, raw = api_token_create(name=options["name"], user=user, source=options["source"])
        holder = f"代表人员“{user}”" if user else f"渠道“{Source(token.source).label}”,只能上报事件"
        self.stdout.write(self.style.SUCCESS(f"已签发接口密钥“{token.name}”({holder})。"))
        self.stdout.write("密钥只显示这一次,请妥善保存:")
        self.stdout.write(raw)
