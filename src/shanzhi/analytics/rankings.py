"""比拼晾晒: communities, grids or units of a period ranked by a weighted scoring rule.

Each group's figures are the figures the dashboard and the API show for that place or unit
(same measures, same formulas, same viewer scope); they are counted for every group at once by
one grouped query over the daily roll-up, and tests hold each group's numbers to
`figures_compute` for the same scope.

Scoring. For each KPI of the rule, a group earns a mark between 0 and 1: in a straight line
from the worst to the best value of the ranked set (inverted where lower is better), or between
the rule's floor (零分值) and target (满分值) when it sets them. The score is the weighted mean
of the marks, out of 100. A KPI a group has no value for (no callbacks, so no 满意率) is left out
of its mean and the row says so; a group with no cases at all is not scored and ranks last.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

import openpyxl
from django.db.models import Case as SqlCase
from django.db.models import (
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.urls import reverse

from shanzhi import policy
from shanzhi.accounts.models import Unit
from shanzhi.areas.models import Area, Level
from shanzhi.errors import DomainError, PermissionDenied
from shanzhi.spreadsheets import row_safe

from .formatting import figure_value_text
from .measures import (
    CASES,
    KPIS,
    LISTED_KINDS,
    MEASURES,
    Kpi,
    Measure,
)
from .models import RankingRule, RankingWeight, RankLevel
from .periods import Period
from .selectors import (
    Figure,
    Scope,
    default_as_of,
    figure_of,
    measure_values,
    measure_values_grouped,
)

DEFAULT_LIST_SIZE = 5
NO_CASES = "期间内无受理事件,不参与排名"
NO_FIGURES = "各项指标均无数据,不参与排名"
AREA_LEVELS = {
    RankLevel.COMMUNITY: (Level.COMMUNITY,),
    RankLevel.GRID: (Level.GRID, Level.DEDICATED_GRID),
}
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class RankCell:
    """One KPI of one group: the figure, the mark it earned (0–1, None when left out) and the
    weighted points it adds to the score."""

    weight: RankingWeight
    figure: Figure
    mark: Decimal | None
    link: str

    @property
    def kpi(self) -> Kpi:
        return self.figure.kpi

    @property
    def text(self) -> str:
        return figure_value_text(self.figure)


@dataclass
class RankRow:
    subject: Area | Unit
    cells: list[RankCell]
    intake: int
    score: Decimal | None = None
    rank: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.subject.name

    @property
    def code(self) -> str:
        return self.subject.code if isinstance(self.subject, Area) else str(self.subject.pk)

    @property
    def scored(self) -> bool:
        return self.score is not None

    @property
    def note(self) -> str:
        return ";".join(self.notes)

    def cell(self, kpi: str) -> RankCell | None:
        return next((c for c in self.cells if c.kpi.key == kpi), None)


class RankingError(DomainError):
    code = "invalid_ranking"


# Rules ---------------------------------------------------------------------------------------


def rules_for(viewer: Any, level: str | None = None) -> QuerySet[RankingRule]:
    """The active rules the viewer may rank by: their streets' own first, then the platform's."""
    streets = policy.streets_visible_to(viewer)
    rules = RankingRule.objects.filter(
        Q(street__isnull=True) | Q(street__in=streets), is_active=True
    )
    if level:
        rules = rules.filter(level=level)
    return rules.order_by(F("street").asc(nulls_last=True), "name", "pk")


def rule_for(viewer: Any, pk: int) -> RankingRule:
    rule = rules_for(viewer).filter(pk=pk).first()
    if rule is None:
        raise RankingError("没有找到该排名规则,或它已停用")
    return rule


def rule_check(weights: Iterable[tuple[str, int, Decimal | None, Decimal | None]]) -> None:
    """Refuse, in Chinese, weights a rule cannot rank by: (kpi, weight, target, floor) each."""
    seen: set[str] = set()
    count = 0
    for key, weight, target, floor in weights:
        count += 1
        if key not in KPIS:
            raise RankingError(f"没有名为“{key}”的指标")
        kpi = KPIS[key]
        if kpi.higher_is_better is None:
            raise RankingError(f"“{kpi.name}”是数量,没有好坏之分,不能用于排名")
        if key in seen:
            raise RankingError(f"“{kpi.name}”重复出现")
        seen.add(key)
        if weight <= 0:
            raise RankingError(f"“{kpi.name}”的权重须大于0")
        if target is not None and floor is not None:
            wrong = target <= floor if kpi.higher_is_better else target >= floor
            if wrong:
                better = "高于" if kpi.higher_is_better else "低于"
                raise RankingError(f"“{kpi.name}”的满分值须{better}零分值")
    if not count:
        raise RankingError("排名规则至少要有一项指标")


# Groups --------------------------------------------------------------------------------------


def ranked_subjects(*, viewer: Any, level: str, area: Area) -> list[Area] | list[Unit]:
    """The communities, grids or units under `area` the viewer may see, in code order."""
    if level == RankLevel.UNIT:
        return list(
            policy.units_visible_to(viewer)
            .filter(area__path__startswith=area.path, is_active=True)
            .order_by("area__path", "name")
        )
    if level not in AREA_LEVELS:
        raise RankingError("排名对象只能是社区、网格或承办单位")
    return list(
        policy.areas_visible_to(viewer)
        .filter(path__startswith=area.path, level__in=AREA_LEVELS[RankLevel(level)])
        .order_by("path")
    )


def _grouped_case_values(
    measures: Sequence[Measure],
    *,
    viewer: Any,
    scope: Scope,
    group: Any,
    period: Period,
    moment: datetime,
) -> dict[int, dict[str, int]]:
    """The case measures of every group at once, as `selectors.measure_values` counts them
    for one scope; `group` names each row's ranked subject (None: outside them all)."""
    found = measure_values_grouped(
        measures,
        viewer=viewer,
        scope=scope,
        period=period,
        moment=moment,
        by=["group"],
        annotations={"group": group},
    )
    return {key: values for (key,), values in found.items() if key is not None}


def _area_group(subjects: Sequence[Area]) -> Any:
    """A SQL expression naming the ranked area a row's place lies in (None outside them all)."""
    return SqlCase(
        *[When(area__path__startswith=a.path, then=Value(a.pk)) for a in subjects],
        default=None,
        output_field=IntegerField(),
    )


def counts_cases(kpi: Kpi) -> bool:
    """Whether a KPI's numerator counts cases, and so opens on a case list."""
    return all(MEASURES[key].kind in LISTED_KINDS for key in kpi.numerator)


def cases_url(kpi: Kpi, period: Period, scope: Scope) -> str:
    """The case list behind a figure (its numerator); "" for figures that do not count cases."""
    if not counts_cases(kpi):
        return ""
    params = {"kpi": kpi.key, "part": "numerator", "period": period.code}
    if scope.area is not None:
        params["area"] = scope.area.code
    for name, value in (
        ("unit", scope.unit),
        ("case_type", scope.case_type),
        ("category", scope.category),
    ):
        if value is not None:
            params[name] = str(value.pk)
    if scope.source:
        params["source"] = scope.source
    return f"{reverse('case_list')}?{urlencode(params)}"


# Scoring -------------------------------------------------------------------------------------


def _mark(
    value: Decimal, present: Sequence[Decimal], weight: RankingWeight, higher_is_better: bool
) -> Decimal:
    """0 for the worst (or the floor), 1 for the best (or the target), a straight line between."""
    if higher_is_better:
        best = weight.target if weight.target is not None else max(present)
        worst = weight.floor if weight.floor is not None else min(present)
        if best <= worst:
            return Decimal(1) if value >= best else Decimal(0)
        share = (value - worst) / (best - worst)
    else:
        best = weight.target if weight.target is not None else min(present)
        worst = weight.floor if weight.floor is not None else max(present)
        if best >= worst:
            return Decimal(1) if value <= best else Decimal(0)
        share = (worst - value) / (worst - best)
    return min(Decimal(1), max(Decimal(0), share))


def _score(rows: list[RankRow], weights: Sequence[RankingWeight]) -> None:
    for index, weight in enumerate(weights):
        kpi = KPIS[weight.kpi]
        present = [value for row in rows if (value := row.cells[index].figure.value) is not None]
        for row in rows:
            figure = row.cells[index].figure
            mark = None
            if figure.value is not None and present:
                mark = _mark(figure.value, present, weight, bool(kpi.higher_is_better))
            row.cells[index] = RankCell(weight, figure, mark, row.cells[index].link)
    for row in rows:
        counted = [c for c in row.cells if c.mark is not None]
        total = sum((c.weight.weight for c in counted), 0)
        if not total:
            row.notes.append(NO_FIGURES)
            continue
        points = sum((c.mark * c.weight.weight for c in counted if c.mark is not None), Decimal(0))
        row.score = (points * _HUNDRED / total).quantize(_CENT, rounding=ROUND_HALF_UP)
        missing = [c.kpi.name for c in row.cells if c.mark is None]
        if missing:
            row.notes.append(f"{'、'.join(missing)}无数据,按其余指标折算")


def _place(rows: list[RankRow]) -> list[RankRow]:
    """Best first; equal scores share a rank (1, 2, 2, 4); groups without a score last."""
    scored = sorted((r for r in rows if r.scored), key=lambda r: (-(r.score or 0), r.code))
    for position, row in enumerate(scored, start=1):
        before = scored[position - 2] if position > 1 else None
        row.rank = before.rank if before is not None and before.score == row.score else position
    return scored + [r for r in rows if not r.scored]


# Ranking -------------------------------------------------------------------------------------


def ranking_compute(
    *,
    viewer: Any,
    rule: RankingRule,
    area: Area,
    period: Period,
    as_of: datetime | None = None,
) -> list[RankRow]:
    """Rank the groups of `rule.level` under `area` for `period`, best first, within the
    viewer's scope (figures count only what the viewer may see)."""
    if not policy.can_view_figures(viewer):
        raise PermissionDenied("无权查看统计数据")
    if not policy.can_view_area(viewer, area):
        raise RankingError("没有找到该辖区,或您无权查看")
    weights = list(rule.weights.all())
    if not weights:
        raise RankingError(f"排名规则“{rule.name}”还没有设置指标")
    moment = as_of or default_as_of(period)
    subjects = ranked_subjects(viewer=viewer, level=rule.level, area=area)
    if not subjects:
        return []
    kpis = [KPIS[w.kpi] for w in weights]
    keys = list(dict.fromkeys(["intake", *(k for kpi in kpis for k in kpi.measures)]))
    case_measures = [MEASURES[k] for k in keys if MEASURES[k].kind == CASES]
    by_unit = rule.level == RankLevel.UNIT
    base = Scope(area=area)
    group = F("unit_id") if by_unit else _area_group([s for s in subjects if isinstance(s, Area)])
    counted = _grouped_case_values(
        case_measures, viewer=viewer, scope=base, group=group, period=period, moment=moment
    )
    others = [k for k in keys if MEASURES[k].kind != CASES]
    rows = []
    for subject in subjects:
        scope = Scope(area=area, unit=subject) if isinstance(subject, Unit) else Scope(area=subject)
        values: dict[str, int | None] = {
            m.key: counted.get(subject.pk, {}).get(m.key, 0) for m in case_measures
        }
        if others:
            # 督办数 and registry figures are direct counts of their own logs; few rules use them.
            values |= measure_values(
                viewer=viewer, keys=others, scope=scope, period=period, as_of=moment
            )
        cells = [
            RankCell(
                w,
                figure_of(kpi, values, scope, period, moment),
                None,
                cases_url(kpi, period, scope),
            )
            for w, kpi in zip(weights, kpis, strict=True)
        ]
        rows.append(RankRow(subject, cells, int(values["intake"] or 0)))
    active = []
    for row in rows:
        if row.intake or any(c.figure.has_data for c in row.cells):
            active.append(row)
        else:
            row.notes.append(NO_CASES)
    _score(active, weights)
    return _place(rows)


def red_list(rows: Sequence[RankRow], size: int = DEFAULT_LIST_SIZE) -> list[RankRow]:
    """红榜: the best `size` scored groups; of a set too small for two full lists, the better
    half (so that nobody is on both lists)."""
    scored = [r for r in rows if r.scored]
    return scored[: min(size, (len(scored) + 1) // 2)]


def black_list(rows: Sequence[RankRow], size: int = DEFAULT_LIST_SIZE) -> list[RankRow]:
    """黑榜: the worst `size` scored groups, worst first; of a small set, the worse half."""
    scored = [r for r in rows if r.scored]
    return scored[::-1][: min(size, len(scored) // 2)]


def ranking_workbook_write(
    rows: Sequence[RankRow],
    *,
    rule: RankingRule,
    area: Area,
    period: Period,
    size: int = DEFAULT_LIST_SIZE,
    target: Any,
) -> None:
    """The ranking as xlsx: the full table (values as the page writes them, and the score), then
    the red and black lists."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has its sheet
    sheet.title = "排名"
    weights = list(rule.weights.all())
    level = RankLevel(rule.level).label
    sheet.append(row_safe([f"{area.name}{period.label}{level}比拼晾晒(规则:{rule.name})"]))
    headers = [f"{KPIS[w.kpi].name}(权重{w.weight})" for w in weights]
    sheet.append(["名次", level, "编码", *headers, "总分", "说明"])
    for row in rows:
        sheet.append(
            row_safe(
                [row.rank, row.name, row.code]
                + [cell.text for cell in row.cells]
                + [float(row.score) if row.score is not None else None, row.note]
            )
        )
    for title, chosen in (("红榜", red_list(rows, size)), ("黑榜", black_list(rows, size))):
        board = book.create_sheet(title)
        board.append(["名次", level, "总分"])
        for row in chosen:
            board.append(row_safe([row.rank, row.name, float(row.score or 0)]))
    book.save(target)
