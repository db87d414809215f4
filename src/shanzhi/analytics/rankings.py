"""比拼晾晒: communities, grids or units of a period ranked by a weighted scoring rule.

Each group's figures are the figures the dashboard and the API show for that place or unit
(same measures, same formulas, same viewer scope); they are counted for every group at once by
one grouped query over the daily roll-up, and tests hold each group's numbers to
`figures_compute` for the same scope.

Scoring. For each criterion (KPI) of the rule, a group earns a mark between 0 and 1:
- by default, from its distance to the ranked set's mean in standard deviations (z-score),
  z = (value − mean) ÷ max(σ, the unit's floor `SPREAD_FLOOR`), mark = 0.5 + z ÷ 4 kept within
  0–1 (two deviations above the mean earn full marks; inverted where lower is better). The
  floor keeps a gap that is noise from swinging a whole mark: 99.9% against 99.8% differ by a
  fraction of a point, where scaling from the worst to the best of the set made it 0 against 1;
  and unlike a rank-based mark, a small gap stays small however few groups there are;
- between the rule's floor (零分值) and target (满分值) in a straight line when it sets them.
The score is the weighted mean of the marks, out of 100; each criterion's contribution (its
mark × its weight ÷ the weights counted × 100) is kept with the mark, so every score can be
read back as a sum. A KPI a group has no value for (no callbacks, so no 满意率) is left out of
its mean and the row says so; a group with no cases at all is not scored and ranks last.
Counts are compared per 1,000 cases (每千件超期数), not raw, so that size does not decide.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
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
    COUNT,
    DAYS,
    HOURS,
    KPIS,
    LISTED_KINDS,
    MEASURES,
    NATURAL_DAYS,
    PER_THOUSAND,
    PERCENT,
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
_HALF = Decimal("0.5")
# The smallest spread (standard deviation) a ranked set is scored against, in each unit: gaps
# within it are what any two places differ by in an ordinary year, not a difference in work.
SPREAD_FLOOR: dict[str, Decimal] = {
    PERCENT: Decimal(2),  # percentage points
    PER_THOUSAND: Decimal(5),  # cases per 1,000
    HOURS: Decimal(4),
    DAYS: Decimal("0.5"),
    NATURAL_DAYS: Decimal(1),
    COUNT: Decimal(1),
}
# A z-score of ±Z_FULL earns full marks / none.
Z_FULL = Decimal(2)
ZSCORE, TARGETS = "zscore", "targets"
SCORING_RULE = (
    "每项指标按排名范围内的平均值和标准差折算得分:等于平均值得50分,每高出(越低越好的指标为低于)"
    "一个标准差加25分,0–100分封顶;标准差小于该类指标的下限(百分比2个百分点、每千件5件)时按下限计,"
    "细微差距不会被放大。规则设定了满分值、零分值的指标按两值之间折算。"
    "总分 = 各项得分按权重加权平均(满分100);某项无数据的按其余指标折算。"
)


@dataclass(frozen=True)
class Criterion:
    """How one KPI of a rule was scored over the ranked set: against the set's mean and spread
    (`ZSCORE`), or between the rule's floor and target (`TARGETS`)."""

    weight: RankingWeight
    method: str
    mean: Decimal | None = None
    sigma: Decimal | None = None  # the set's own standard deviation
    spread: Decimal | None = None  # the one scored against: sigma, or the floor when larger

    @property
    def kpi(self) -> Kpi:
        return KPIS[self.weight.kpi]

    @property
    def floored(self) -> bool:
        return self.spread is not None and self.sigma is not None and self.spread > self.sigma

    @property
    def explanation(self) -> str:
        """In words, how a value of this KPI turns into a mark."""
        kpi = self.kpi
        unit = "个百分点" if kpi.is_rate else kpi.unit
        direction = "越高越好" if kpi.higher_is_better else "越低越好"
        if self.method == TARGETS:
            target, floor = self.weight.target, self.weight.floor
            parts = []
            if target is not None:
                parts.append(f"达到{_plain(target)}得满分")
            if floor is not None:
                parts.append(f"{'低于' if kpi.higher_is_better else '高于'}{_plain(floor)}得0分")
            edges = "、".join(parts)
            return f"{kpi.name}({direction}):按规则设定的满分值与零分值折算,{edges}"
        if self.mean is None or self.spread is None:
            return f"{kpi.name}({direction}):无数据"
        spread = f"标准差{_plain(self.sigma or Decimal(0))}{unit}"
        if self.floored:
            spread += f",小于下限,按{_plain(self.spread)}{unit}计"
        mean = f"{_plain(self.mean)}{'%' if kpi.is_rate else kpi.unit}"
        better, worse = ("高于", "低于") if kpi.higher_is_better else ("低于", "高于")
        return (
            f"{kpi.name}({direction}):平均{mean},{spread};等于平均值得50分,"
            f"每{better}平均值一个标准差加25分、{worse}一个标准差减25分,0–100分封顶"
        )


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def _plain(value: Decimal) -> str:
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_UP):f}"


@dataclass(frozen=True)
class RankCell:
    """One KPI of one group: the figure, the mark it earned (0–1, None when left out), its
    z-score when scored against the set, and the points it adds to the score (`contribution`,
    the marks × weights share; the contributions of a row add up to its score)."""

    weight: RankingWeight
    figure: Figure
    mark: Decimal | None
    link: str
    z: Decimal | None = None
    contribution: Decimal | None = None
    criterion: Criterion | None = None

    @property
    def points(self) -> Decimal | None:
        """The mark out of 100, as the page shows it (得分)."""
        return None if self.mark is None else (self.mark * _HUNDRED).quantize(_CENT, ROUND_HALF_UP)

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
    def explanation(self) -> str:
        """The score as a sum: each criterion's 得分 × its share of the weight."""
        if self.score is None:
            return ""
        parts = [
            f"{c.kpi.name}{c.points}分×{c.weight.weight}权重→{_plain(c.contribution)}"
            for c in self.cells
            if c.contribution is not None
        ]
        return f"{' + '.join(parts)} = {self.score}分"

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


def _between(
    value: Decimal, weight: RankingWeight, present: Sequence[Decimal], higher_is_better: bool
) -> Decimal:
    """0 at the rule's floor, 1 at its target, a straight line between; where the rule sets
    only one of them, the other end is the worst (or best) of the set."""
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


def criterion_of(weight: RankingWeight, present: Sequence[Decimal]) -> Criterion:
    """How `weight`'s KPI is scored over the values `present` in the ranked set."""
    if weight.target is not None or weight.floor is not None:
        return Criterion(weight, TARGETS)
    if not present:
        return Criterion(weight, ZSCORE)
    mean = sum(present, Decimal(0)) / len(present)
    sigma = (sum(((v - mean) ** 2 for v in present), Decimal(0)) / len(present)).sqrt()
    floor = SPREAD_FLOOR.get(KPIS[weight.kpi].unit, Decimal(1))
    return Criterion(weight, ZSCORE, mean, sigma, max(sigma, floor))


def mark_of(
    value: Decimal, criterion: Criterion, present: Sequence[Decimal]
) -> tuple[Decimal, Decimal | None]:
    """The mark (0–1) a value earns by `criterion`, and its z-score when scored against the set."""
    higher = bool(criterion.kpi.higher_is_better)
    if criterion.method == TARGETS:
        return _between(value, criterion.weight, present, higher), None
    assert criterion.mean is not None and criterion.spread  # noqa: S101 - set with `present`
    z = (value - criterion.mean) / criterion.spread
    if not higher:
        z = -z
    mark = min(Decimal(1), max(Decimal(0), _HALF + z / (2 * Z_FULL)))
    return mark, z


def _score(rows: list[RankRow], weights: Sequence[RankingWeight]) -> None:
    for index, weight in enumerate(weights):
        present = [value for row in rows if (value := row.cells[index].figure.value) is not None]
        criterion = criterion_of(weight, present)
        for row in rows:
            cell = row.cells[index]
            mark = z = None
            if cell.figure.value is not None and present:
                mark, z = mark_of(cell.figure.value, criterion, present)
            row.cells[index] = RankCell(weight, cell.figure, mark, cell.link, z, None, criterion)
    for row in rows:
        counted = [c for c in row.cells if c.mark is not None]
        total = sum((c.weight.weight for c in counted), 0)
        if not total:
            row.notes.append(NO_FIGURES)
            continue
        row.cells = [
            replace(c, contribution=c.mark * c.weight.weight * _HUNDRED / total)
            if c.mark is not None
            else c
            for c in row.cells
        ]
        points = sum((c.contribution for c in row.cells if c.contribution is not None), Decimal(0))
        row.score = points.quantize(_CENT, rounding=ROUND_HALF_UP)
        missing = [c.kpi.name for c in row.cells if c.mark is None]
        if missing:
            row.notes.append(f"{'、'.join(missing)}无数据,按其余指标折算")


def criteria_of(rows: Sequence[RankRow]) -> list[Criterion]:
    """How each KPI of the ranking was scored (the same for every row), in the rule's order."""
    for row in rows:
        if all(c.criterion is not None for c in row.cells):
            return [c.criterion for c in row.cells if c.criterion is not None]
    return []


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
    """The ranking as xlsx: the full table (for each KPI its value as the page writes it, the
    得分 it earned and the points it adds), the score and how it adds up; then how each KPI was
    scored, and the red and black lists."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has its sheet
    sheet.title = "排名"
    weights = list(rule.weights.all())
    level = RankLevel(rule.level).label
    sheet.append(row_safe([f"{area.name}{period.label}{level}比拼晾晒(规则:{rule.name})"]))
    headers = []
    for w in weights:
        name = KPIS[w.kpi].name
        headers += [f"{name}(权重{w.weight})", f"{name}得分", f"{name}加权得分"]
    sheet.append(["名次", level, "编码", *headers, "总分", "计算", "说明"])
    for row in rows:
        cells: list[Any] = []
        for cell in row.cells:
            cells += [cell.text, _number(cell.points), _number(cell.contribution)]
        sheet.append(
            row_safe(
                [
                    row.rank,
                    row.name,
                    row.code,
                    *cells,
                    _number(row.score),
                    row.explanation,
                    row.note,
                ]
            )
        )
    method = book.create_sheet("评分说明")
    method.append(["指标", "权重", "方向", "平均值", "标准差", "计分所用标准差", "折算方法"])
    for criterion in criteria_of(rows):
        method.append(
            row_safe(
                [
                    criterion.kpi.name,
                    criterion.weight.weight,
                    "越高越好" if criterion.kpi.higher_is_better else "越低越好",
                    _number(criterion.mean),
                    _number(criterion.sigma),
                    _number(criterion.spread),
                    criterion.explanation,
                ]
            )
        )
    method.append([])
    method.append([SCORING_RULE])
    for title, chosen in (("红榜", red_list(rows, size)), ("黑榜", black_list(rows, size))):
        board = book.create_sheet(title)
        board.append(["名次", level, "总分"])
        for row in chosen:
            board.append(row_safe([row.rank, row.name, float(row.score or 0)]))
    book.save(target)
