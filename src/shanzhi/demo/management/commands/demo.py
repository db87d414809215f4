import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.accounts.models import Role, RoleGrant, Unit
from shanzhi.analytics.formatting import figure_value_text
from shanzhi.areas.models import Area
from shanzhi.areas.selectors import area_level_counts
from shanzhi.cases.flows import state_choices
from shanzhi.cases.models import CaseType
from shanzhi.demo.cases import CaseYearReport, RaisedCase, demo_cases, previous_year
from shanzhi.demo.generator import DEMO_PASSWORD, SCALES, DemoAccount, DemoStreet, demo_build
from shanzhi.demo.places import KNOWN_STREETS, StreetSpec
from shanzhi.demo.registry import RegistryReport, demo_case_links, demo_registry
from shanzhi.errors import DomainError

# One account of each kind is enough to try every role; the rest follow the same pattern.
SHOWN_ROLES = (
    Role.ADMINISTRATOR,
    Role.LEADER,
    Role.DISPATCHER,
    Role.HANDLER,
    Role.GRID_WORKER,
    Role.RESIDENT,
)


class Command(BaseCommand):
    help = (
        "生成演示街道(网格、单位、人员与角色、事项清单)、人房企事物登记及其一年的事件,"
        "同一种子结果相同。事件逐件经由真实的受理、交办、签收、办结、回访等业务操作生成,"
        "完整规模约需数分钟;只要街道结构时用 --no-registry --no-cases"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1, help="随机种子,默认 1")
        parser.add_argument("--scale", choices=sorted(SCALES), default="full", help="规模")
        parser.add_argument(
            "--street",
            default="330109001",
            help="街道的9位统计用区划代码,默认城厢街道 330109001",
        )
        parser.add_argument("--street-name", help="不在内置列表中的街道:街道名称")
        parser.add_argument("--district-code", help="不在内置列表中的街道:所属区县6位代码")
        parser.add_argument("--district-name", help="不在内置列表中的街道:所属区县名称")
        parser.add_argument(
            "--if-empty", action="store_true", help="数据库中已有辖区时不生成,只列出演示账号"
        )
        parser.add_argument(
            "--year",
            type=int,
            default=previous_year(),
            help="生成哪一年的事件,默认上一个完整年度",
        )
        parser.add_argument("--no-cases", action="store_true", help="不生成事件")
        parser.add_argument(
            "--no-registry", action="store_true", help="不生成人房企事物登记和走访、核查"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        spec = self._spec(options)
        if options["if_empty"] and Area.objects.exists():
            self.stdout.write("数据库中已有数据,未生成演示街道。")
            self._print_existing(spec)
            return
        started = time.monotonic()
        try:
            demo = demo_build(spec=spec, seed=options["seed"], scale=options["scale"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        elapsed = time.monotonic() - started
        counts = area_level_counts(area=demo.street)
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成演示街道:{spec.name}(编码 {spec.code}),用时 {elapsed:.1f} 秒"
            )
        )
        self.stdout.write(
            f"片区 {counts['zone']} 个,社区 {counts['community']} 个,网格 {counts['grid']} 个,"
            f"专属网格 {counts['dedicated_grid']} 个,微网格 {counts['microgrid']} 个;"
            f"单位 {Unit.objects.filter(street=demo.street).count()} 个,"
            f"人员 {len(demo.accounts)} 名,"
            f"事项清单 {CaseType.objects.filter(street=demo.street).count()} 项"
        )
        with_cases = not options["no_cases"]
        raised: list[RaisedCase] = []
        if not options["no_registry"]:
            raised = self._registry(demo, options["year"], options["scale"], with_cases)
        if with_cases:
            self._cases(demo, options["year"], options["scale"], raised)
            if not options["no_registry"]:
                self._links(demo)
        self._print_accounts(demo.accounts)

    def _registry(
        self, demo: DemoStreet, year: int, scale: str, with_cases: bool
    ) -> list[RaisedCase]:
        self.stdout.write("正在生成人房企事物登记、走访和核查……")
        try:
            report = demo_registry(
                demo=demo,
                year=year,
                scale=scale,
                raise_cases=with_cases,
                progress=lambda line: self.stdout.write(line),
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self._print_registry(report)
        return report.raised

    def _print_registry(self, report: RegistryReport) -> None:
        self.stdout.write(self.style.SUCCESS(f"已生成人房企事物登记,用时 {report.seconds:.1f} 秒"))
        self.stdout.write(
            "、".join(f"{label} {count:,}" for label, count in report.counts.items())
            + f";核查完成 {report.verified:,} 条"
        )
        tags = "、".join(f"{name} {count:,}" for name, count in report.tags.items())
        self.stdout.write(f"人员标签:{tags}")
        if report.raised:
            self.stdout.write(f"走访中企业反映的问题 {len(report.raised)} 个,随事件一并转为诉求")

    def _links(self, demo: DemoStreet) -> None:
        report = demo_case_links(demo=demo)
        self.stdout.write(
            self.style.SUCCESS(
                f"已将 {report.cases:,} 件事件关联到 {report.links:,} 条登记记录,"
                f"用时 {report.seconds:.1f} 秒"
            )
        )

    def _cases(self, demo: DemoStreet, year: int, scale: str, raised: list[RaisedCase]) -> None:
        self.stdout.write(f"正在按真实流程生成{year}年的事件……")
        try:
            report = demo_cases(
                demo=demo,
                year=year,
                scale=scale,
                progress=lambda line: self.stdout.write(line),
                raised=raised,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self._print_year(report)

    def _print_year(self, report: CaseYearReport) -> None:
        labels = dict(state_choices())
        states = "、".join(
            f"{labels.get(state, state)} {count} 件"
            for state, count in report.by_state.items()
            if count
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成{report.year}年事件 {report.cases} 件,用时 {report.seconds:.1f} 秒"
            )
        )
        self.stdout.write(f"按状态:{states}")
        f = report.figures
        self.stdout.write(
            f"网格自办率 {figure_value_text(f['on_spot_rate'])};"
            f"回访 {f['callback_rate'].numerator} 件,"
            f"回访率 {figure_value_text(f['callback_rate'])};"
            f"满意率 {figure_value_text(f['satisfaction_rate'])}"
            f"(首次满意率 {figure_value_text(f['first_satisfaction_rate'])},"
            f"满意率(严格){figure_value_text(f['strict_satisfaction_rate'])}),"
            f"不满意重办 {figure_value_text(f['unsatisfied_reopened'])};"
            f"超期 {figure_value_text(f['overdue'])},督办 {figure_value_text(f['supervised'])},"
            f"重办 {f['reopen_rate'].numerator} 件"
        )

    def _spec(self, options: dict[str, Any]) -> StreetSpec:
        code = options["street"]
        if code in KNOWN_STREETS:
            return KNOWN_STREETS[code]
        missing = [
            flag
            for flag, key in (
                ("--street-name", "street_name"),
                ("--district-code", "district_code"),
                ("--district-name", "district_name"),
            )
            if not options[key]
        ]
        if missing:
            known = "、".join(f"{s.code} {s.name}" for s in KNOWN_STREETS.values())
            raise CommandError(
                f"街道 {code} 不在内置列表({known})中,请同时给出 {'、'.join(missing)}"
            )
        return StreetSpec(
            code=code,
            name=options["street_name"],
            district_code=options["district_code"],
            district_name=options["district_name"],
            slug=f"s{code}",
        )

    def _print_existing(self, spec: StreetSpec) -> None:
        grants = (
            RoleGrant.objects.filter(
                revoked_at__isnull=True, user__username__startswith=f"{spec.slug}."
            )
            .select_related("user", "area")
            .order_by("user__username")
        )
        accounts = [
            DemoAccount(g.user.username, g.user.full_name, g.role, g.area.name) for g in grants
        ]
        if accounts:
            self._print_accounts(accounts)

    def _print_accounts(self, accounts: list[DemoAccount]) -> None:
        self.stdout.write(f"\n演示账号(密码均为 {DEMO_PASSWORD}):")
        for role in SHOWN_ROLES:
            for account in [a for a in accounts if a.role == role][:2]:
                self.stdout.write(
                    f"  {Role(role).label:<8} {account.username:<28} "
                    f"{account.full_name:<6} {account.scope}"
                )
        required = [
            Role(role).label for role in settings.SHANZHI_OTP_REQUIRED_ROLES if role in Role.values
        ]
        if required:
            self.stdout.write(
                f"{'、'.join(required)}首次登录须用手机上的动态口令应用(TOTP)扫码绑定;"
                "只在本机试用时可设置 SHANZHI_OTP_REQUIRED_ROLES= 关闭这一要求。"
            )
