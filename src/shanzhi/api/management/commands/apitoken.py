from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from shanzhi.accounts.models import User
from shanzhi.api.models import ApiToken
from shanzhi.api.scopes import CHANNEL_SCOPES, Scope, scopes_text
from shanzhi.api.tokens import MAX_DAYS, api_token_create, api_token_revoke
from shanzhi.cases.models import Source
from shanzhi.errors import DomainError

SCOPE_HELP = ";".join(f"{scope.value}={scope.label}" for scope in Scope)


class Command(BaseCommand):
    help = "签发、列出、吊销接口密钥(REST 与 Open311 共用);密钥只在签发时显示一次"

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
        create.add_argument(
            "--scope",
            action="append",
            choices=Scope.values,
            help=f"权限范围,可重复;代表人员的密钥默认只有 read,渠道密钥只能 report。{SCOPE_HELP}",
        )
        create.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"有效天数(1–{MAX_DAYS}),默认 {settings.SHANZHI_API_TOKEN_DAYS}",
        )
        listing = commands.add_parser("list", help="列出密钥:前缀、代表、范围、到期、最近使用")
        listing.add_argument("--all", action="store_true", help="也列出已吊销和已过期的")
        revoke = commands.add_parser("revoke", help="立即吊销一个密钥")
        revoke.add_argument("prefix", help="密钥前缀(list 中显示的前 8 个字符)")

    def handle(self, *args: Any, **options: Any) -> None:
        {"create": self._create, "list": self._list, "revoke": self._revoke}[options["command"]](
            options
        )

    def _create(self, options: dict[str, Any]) -> None:
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"没有用户名为“{options['user']}”的人员")
            if not user.is_active:
                raise CommandError(f"人员“{user}”已停用,不能为其签发密钥")
        scopes = options["scope"] or ([Scope.READ.value] if user else list(CHANNEL_SCOPES))
        try:
            token, raw = api_token_create(
                name=options["name"],
                user=user,
                source=options["source"],
                scopes=scopes,
                days=options["days"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        holder = f"代表人员“{user}”" if user else f"渠道“{Source(token.source).label}”,只能上报事件"
        self.stdout.write(self.style.SUCCESS(f"已签发接口密钥“{token.name}”({holder})。"))
        expires = timezone.localtime(token.expires_at)
        self.stdout.write(f"权限范围:{scopes_text(token.scopes)};到期:{expires:%Y-%m-%d %H:%M}")
        self.stdout.write("密钥只显示这一次,请妥善保存:")
        self.stdout.write(raw)

    def _list(self, options: dict[str, Any]) -> None:
        now = timezone.now()
        tokens = ApiToken.objects.select_related("user").order_by("-created_at")
        if not options["all"]:
            tokens = tokens.filter(revoked_at__isnull=True, expires_at__gt=now)
        for token in tokens:
            if token.revoked_at is not None:
                state = "已吊销"
            elif token.expires_at <= now:
                state = "已过期"
            else:
                state = f"{timezone.localtime(token.expires_at):%Y-%m-%d} 到期"
            used = (
                f"{timezone.localtime(token.last_used_at):%Y-%m-%d %H:%M}"
                if token.last_used_at
                else "从未使用"
            )
            holder = token.user.username if token.user else f"渠道:{Source(token.source).label}"
            self.stdout.write(
                f"{token.prefix}\t{token.name}\t{holder}\t{scopes_text(token.scopes)}\t{state}\t{used}"
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        matches = list(ApiToken.objects.filter(prefix=options["prefix"], revoked_at__isnull=True))
        if not matches:
            raise CommandError(f"没有前缀为“{options['prefix']}”且未吊销的密钥")
        if len(matches) > 1:
            raise CommandError("有多个密钥使用该前缀,请在管理后台中吊销")
        try:
            api_token_revoke(token=matches[0])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"已吊销接口密钥“{matches[0]}”"))
