"""The demo street's figures for the year before its cases, entered as baselines (录入数) in the
proportions the seed reports give, so that its dashboard and report show 同比 as a street
that has just started using the system would see it.

Each baseline is the demo year's own figure taken back by a year-on-year change a seed report
states (南星街道: 信访同比下降43.88%, and so on): last year = this year ÷ (1 + change), a count
rounded to whole cases. The street's whole 受理量 is this year's with the entered matters taken
back and every other matter held level, so the parts and the whole agree.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from shanzhi.accounts.models import Role, User
from shanzhi.analytics.formatting import change_text
from shanzhi.analytics.measures import KPIS
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.selectors import Scope, figures_compute, kpi_compare
from shanzhi.analytics.services import baseline_enter
from shanzhi.cases.models import CaseCategory, CaseType, Source

from .generator import DemoStreet


@dataclass(frozen=True)
class SeedChange:
    """A year-on-year change a seed report states, and the figure of the demo it stands for."""

    kpi: str
    change: Decimal  # percent; negative for a fall
    quoted: str  # the seed's own words, kept in the baseline's note
    source: str = ""
    category: str = ""  # top-level category name
    case_type: str = ""  # catalogue code
    in_total: bool = True  # taken back in the street's whole 受理量 (a channel overlaps matters)


SEED_CHANGES = (
    SeedChange("petitions", Decimal("-43.88"), "南星街道2024年信访同比下降43.88%"),
    SeedChange(
        "intake",
        Decimal("-27.48"),
        "南苑街道受理传统侵权案件同比下降27.48%",
        category="社会治安",
    ),
    SeedChange(
        "intake",
        Decimal("-34.78"),
        "城厢街道火警火灾同比下降34.78%",
        case_type="AQ-XF-01",
    ),
    SeedChange(
        "intake",
        Decimal("-13.5"),
        "南苑街道有效警情数同比下降13.5%",
        source=Source.POLICE,
        in_total=False,
    ),
)
# Rates the seeds state for a year, entered as they are.
SEED_RATES = (
    ("satisfaction_rate", Decimal("99.2"), "文新街道西湖码办件满意率99.2%"),
    ("petition_resolution_rate", Decimal("100"), "南星街道信访件办结率100%"),
)
_ONE = Decimal(1)


def _entering_user(demo: DemoStreet) -> User:
    return User.objects.filter(grants__role=Role.ADMINISTRATOR, grants__area=demo.street).order_by(
        "pk"
    )[0]


def _taken_back(value: Decimal, change: Decimal) -> Decimal:
    return (value / (_ONE + change / 100)).quantize(_ONE, rounding=ROUND_HALF_UP)


@transaction.atomic
def demo_baselines(*, demo: DemoStreet, year: int) -> list[str]:
    """Enter the year before `year` for the demo street (see the module); one line per figure
    entered, with the 同比 it now gives, for the command to print."""
    actor = _entering_user(demo)
    street = demo.street
    period, before = period_parse(str(year)), period_parse(str(year - 1))
    total = figures_compute(viewer=actor, kpis=["intake"], scope=Scope(area=street), period=period)[
        "intake"
    ]
    total_before = Decimal(total.numerator or 0)
    entered: list[tuple[str, Scope]] = []
    for seed in SEED_CHANGES:
        category = (
            CaseCategory.objects.get(street=street, parent__isnull=True, name=seed.category)
            if seed.category
            else None
        )
        case_type = (
            CaseType.objects.get(street=street, code=seed.case_type) if seed.case_type else None
        )
        scope = Scope(area=street, source=seed.source, category=category, case_type=case_type)
        now = figures_compute(viewer=actor, kpis=[seed.kpi], scope=scope, period=period)
        value = now[seed.kpi].value
        if not value:
            continue  # nothing this year: a change from it would say nothing
        last = _taken_back(value, seed.change)
        if seed.kpi == "intake" and seed.in_total and not seed.source:
            total_before += last - value
        baseline_enter(
            actor=actor,
            area=street,
            kpi=seed.kpi,
            period=before,
            value=last,
            note=f"演示数据:按{seed.quoted}的比例推算",
            source=seed.source,
            category=category,
            case_type=case_type,
        )
        entered.append((seed.kpi, scope))
    if total.numerator:
        baseline_enter(
            actor=actor,
            area=street,
            kpi="intake",
            period=before,
            value=total_before,
            note="演示数据:上列各项按种子报告的比例推算,其余事项按与本年持平计",
        )
        entered.append(("intake", Scope(area=street)))
    for kpi, rate, quoted in SEED_RATES:
        baseline_enter(
            actor=actor,
            area=street,
            kpi=kpi,
            period=before,
            value=rate,
            note=f"演示数据:取{quoted}",
        )
        entered.append((kpi, Scope(area=street)))
    lines = []
    for kpi, scope in entered:
        change = kpi_compare(viewer=actor, kpi=kpi, scope=scope, period=period)
        matter = scope.category or scope.case_type
        where = (
            f"{matter.name if matter else ''}{Source(scope.source).label if scope.source else ''}"
        )
        lines.append(f"{where}{KPIS[kpi].name}:{change_text(change) or '无同比'}")
    return lines
