"""Figures for a viewer, scope and period: the one computation path every surface calls.

The dashboard, rankings, report, API and case list all come here. A figure counts only the part
of the grid the viewer's role grants cover (an area subtree each), whatever else the scope says.
Case figures come from the daily roll-up (`source="rollup"`) or straight from the cases
(`source="direct"`); both give the same numbers, and tests hold them to it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from shanzhi import clock, policy
from shanzhi.accounts.models import Unit
from shanzhi.areas.models import Area
from shanzhi.cases.models import Case, CaseAction, CaseCategory, CaseType, Source
from shanzhi.errors import DomainError
from shanzhi.registry.models import ItemStatus, TagKind, VerificationItem

from .measures import (
    ACTIONS,
    CARE_RESIDENTS_VISITED,
    CASES,
    COLUMN_BY_KEY,
    ENTERPRISE_VISITS,
    ENTERPRISES_VISITED,
    KPIS,
    MEASURES,
    VERIFICATION_DONE,
    VERIFICATION_ITEMS,
    Kpi,
    Measure,
    counted_between,
    when_q,
    when_q_days,
)
from .models import Baseline, CaseDay
from .periods import Period, local_midnight

ROLLUP, DIRECT = "rollup", "direct"
YEAR_AGO, PREVIOUS = "year_ago", "previous"
NOT_APPLICABLE = "该指标不按承办单位、事项类型或来源渠道区分"


@dataclass(frozen=True)
class Scope:
    """Which cases a figure is about; every part optional, all parts combined."""

    area: Area | None = None
    unit: Unit | None = None
    case_type: CaseType | None = None
    category: CaseCategory | None = None  # a 大类 includes its 小类
    source: str = ""

    def __post_init__(self) -> None:
        if self.source and self.source not in Source.values:
            raise DomainError(f"来源渠道“{self.source}”无效")

    @property
    def has_case_dims(self) -> bool:
        """Whether it narrows by more than place (which registry figures cannot)."""
        return bool(self.unit or self.case_type or self.category or self.source)

    def q(self, prefix: str = "", unit_field: str = "unit") -> Q:
        """The scope over cases (prefix "") or their roll-up rows, which share these lookups."""
        condition = Q()
        if self.area is not None:
            condition &= Q(**{f"{prefix}area__path__startswith": self.area.path})
        if self.unit is not None:
            condition &= Q(**{unit_field: self.unit})
        if self.case_type is not None:
            condition &= Q(**{f"{prefix}case_type": self.case_type})
        if self.category is not None:
            condition &= Q(**{f"{prefix}case_type__category": self.category}) | Q(
                **{f"{prefix}case_type__category__parent": self.category}
            )
        if self.source:
            condition &= Q(**{f"{prefix}source": self.source})
        return condition

    @property
    def label(self) -> str:
        parts = [self.area.name if self.area else "全部辖区"]
        parts += [str(x) for x in (self.unit, self.category, self.case_type) if x is not None]
        if self.source:
            parts.append(Source(self.source).label)
        return "·".join(parts)


def visible_q(viewer: Any, field_name: str = "area__path", roles: Iterable[str] | None = None) -> Q:
    """The viewer's part of the grid, as a condition on an area path."""
    return policy.scope_q(viewer, field_name, roles)


def _measures(keys: Iterable[str]) -> list[Measure]:
    unknown = [key for key in keys if key not in MEASURES]
    if unknown:
        raise DomainError(f"没有名为“{unknown[0]}”的统计量")
    return [MEASURES[key] for key in dict.fromkeys(keys)]


def measure_aggregate(measure: Measure, moment: datetime) -> Any:
    column = COLUMN_BY_KEY[measure.column]
    condition = column.q & measure.dims & when_q(measure.when, moment)
    if column.sum_of:
        return Coalesce(Sum(column.sum_of, filter=condition), 0)
    return Count("pk", filter=condition)


def case_base(viewer: Any, scope: Scope) -> QuerySet[Case]:
    return Case.objects.filter(visible_q(viewer), scope.q())


def _direct(
    measures: Sequence[Measure], cases: QuerySet[Case], period: Period, moment: datetime
) -> dict[str, int]:
    window = counted_between(period.start_at, min(period.end_at, moment))
    aggregates = {f"m_{m.key}": measure_aggregate(m, moment) for m in measures}
    values = cases.filter(window).aggregate(**aggregates)
    return {m.key: int(values[f"m_{m.key}"] or 0) for m in measures}


def measure_values_grouped(
    measures: Sequence[Measure],
    *,
    viewer: Any,
    scope: Scope,
    period: Period,
    moment: datetime,
    by: Sequence[str] = (),
    annotations: dict[str, Any] | None = None,
) -> dict[tuple[Any, ...], dict[str, int]]:
    """Case measures per value of the lookups `by` (which a case and its roll-up row share, or
    names in `annotations`); with no `by`, one group keyed ().

    Whole days come from the roll-up; when the moment falls inside a day, that day's cases are
    counted directly (the rows cannot tell before from after within a day). The breakdowns,
    the rankings and every single figure go through here.
    """
    day = timezone.localdate(moment)
    at_midnight = local_midnight(day) == moment
    rows = CaseDay.objects.filter(
        visible_q(viewer),
        scope.q(),
        count_day__gte=period.start,
        count_day__lt=min(period.end, day),
    )
    if not at_midnight:
        rows = rows.exclude(resolved_day=day).exclude(due_day=day)
    found: dict[tuple[Any, ...], dict[str, int]] = {}
    summed = {
        f"m_{m.key}": Coalesce(Sum(m.column, filter=m.dims & when_q_days(m.when, day)), 0)
        for m in measures
    }
    _add_grouped(found, rows, measures, by, annotations, summed)
    if not at_midnight:
        start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
        touched = (
            counted_between(start, end)
            | Q(resolved_at__gte=start, resolved_at__lt=end)
            | Q(handle_due_at__gte=start, handle_due_at__lt=end)
        )
        today = case_base(viewer, scope).filter(
            touched, counted_between(period.start_at, min(period.end_at, moment))
        )
        counted = {f"m_{m.key}": measure_aggregate(m, moment) for m in measures}
        _add_grouped(found, today, measures, by, annotations, counted)
    return found


def _add_grouped(
    into: dict[tuple[Any, ...], dict[str, int]],
    query: QuerySet[Any],
    measures: Sequence[Measure],
    by: Sequence[str],
    annotations: dict[str, Any] | None,
    aggregates: dict[str, Any],
) -> None:
    if annotations:
        query = query.annotate(**annotations)
    if by:
        results = list(query.values(*by).order_by().annotate(**aggregates))
    else:
        results = [query.aggregate(**aggregates)]
    for row in results:
        group = into.setdefault(tuple(row[f] for f in by), {m.key: 0 for m in measures})
        for m in measures:
            group[m.key] += int(row[f"m_{m.key}"] or 0)


def _rollup(
    measures: Sequence[Measure], viewer: Any, scope: Scope, period: Period, moment: datetime
) -> dict[str, int]:
    grouped = measure_values_grouped(
        measures, viewer=viewer, scope=scope, period=period, moment=moment
    )
    return grouped.get((), {m.key: 0 for m in measures})


def _window(period: Period, moment: datetime) -> tuple[datetime, datetime]:
    return period.start_at, min(period.end_at, moment)


def _actions(measure: Measure, scope: Scope, period: Period, moment: datetime) -> QuerySet[Any]:
    """The log rows of the measure's action taken in the period, within the scope; the unit a
    row counts against is the one holding the case after it."""
    lo, hi = _window(period, moment)
    return CaseAction.objects.filter(
        scope.q(prefix="case__", unit_field="to_unit"),
        action=measure.action,
        created_at__gte=lo,
        created_at__lt=hi,
    )


def _registry(measure: Measure, viewer: Any, scope: Scope, period: Period, moment: datetime) -> int:
    lo, hi = _window(period, moment)
    area = Q(area__path__startswith=scope.area.path) if scope.area is not None else Q()
    if measure.kind in (VERIFICATION_ITEMS, VERIFICATION_DONE):
        items = VerificationItem.objects.filter(
            visible_q(viewer, roles=policy.REGISTRY_ROLES),
            area,
            task__created_at__gte=lo,
            task__created_at__lt=hi,
        )
        if measure.kind == VERIFICATION_DONE:
            items = items.exclude(status=ItemStatus.PENDING).filter(checked_at__lt=moment)
        return items.count()
    visits = policy.visits_visible_to(viewer).filter(area, visited_at__gte=lo, visited_at__lt=hi)
    if measure.kind == ENTERPRISE_VISITS:
        return visits.filter(enterprise__isnull=False).count()
    if measure.kind == ENTERPRISES_VISITED:
        return visits.filter(enterprise__isnull=False).values("enterprise").distinct().count()
    if measure.kind == CARE_RESIDENTS_VISITED:
        visits = visits.filter(person__taggings__tag__kind=TagKind.CARE)
    return visits.filter(person__isnull=False).values("person").distinct().count()


def measure_values(
    *,
    viewer: Any,
    keys: Iterable[str],
    scope: Scope,
    period: Period,
    as_of: datetime,
    source: str = ROLLUP,
) -> dict[str, int | None]:
    """The measures' values; None for a registry measure under a scope it cannot be cut by."""
    measures = _measures(keys)
    if source not in (ROLLUP, DIRECT):
        raise DomainError("计算方式只能是 rollup 或 direct")
    case_measures = [m for m in measures if m.kind == CASES]
    values: dict[str, int | None] = {}
    if case_measures:
        if source == ROLLUP:
            values.update(_rollup(case_measures, viewer, scope, period, as_of))
        else:
            values.update(_direct(case_measures, case_base(viewer, scope), period, as_of))
    for measure in measures:
        if measure.kind == ACTIONS:
            values[measure.key] = (
                _actions(measure, scope, period, as_of)
                .filter(visible_q(viewer, "case__area__path"))
                .count()
            )
        elif measure.kind != CASES:
            values[measure.key] = (
                None if scope.has_case_dims else _registry(measure, viewer, scope, period, as_of)
            )
    return values


# Figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    kpi: Kpi
    scope: Scope
    period: Period
    as_of: datetime
    value: Decimal | None  # None: nothing to divide by, or not applicable
    numerator: int | None
    denominator: int | None = None
    baseline: Baseline | None = None  # set when the value was entered, not counted
    note: str = ""

    @property
    def baseline_used(self) -> bool:
        return self.baseline is not None

    @property
    def has_data(self) -> bool:
        if self.baseline is not None:
            return True
        if self.value is None:
            return False
        return bool(self.numerator or self.denominator)


def _kpi(key: str | Kpi) -> Kpi:
    if isinstance(key, Kpi):
        return key
    if key not in KPIS:
        raise DomainError(f"没有名为“{key}”的指标")
    return KPIS[key]


def figure_of(
    kpi: Kpi, values: dict[str, int | None], scope: Scope, period: Period, as_of: datetime
) -> Figure:
    parts = [values[key] for key in kpi.measures]
    if any(part is None for part in parts):
        return Figure(kpi, scope, period, as_of, None, None, note=NOT_APPLICABLE)
    numerator = sum(values[key] or 0 for key in kpi.numerator)
    if not kpi.denominator:
        return Figure(kpi, scope, period, as_of, Decimal(numerator) * kpi.scale, numerator)
    denominator = sum(values[key] or 0 for key in kpi.denominator)
    value = Decimal(numerator) * kpi.scale / (denominator * kpi.divisor) if denominator else None
    return Figure(kpi, scope, period, as_of, value, numerator, denominator)


def default_as_of(period: Period) -> datetime:
    """Now for a running period, its end for one that is over."""
    return period.as_of(clock.now())


def figures_compute(
    *,
    viewer: Any,
    kpis: Iterable[str | Kpi],
    scope: Scope | None = None,
    period: Period,
    as_of: datetime | None = None,
    source: str = ROLLUP,
) -> dict[str, Figure]:
    """Several KPIs at once, their measures counted in one pass; keyed by KPI key."""
    scope = scope or Scope()
    chosen = [_kpi(k) for k in kpis]
    moment = as_of or default_as_of(period)
    keys = [key for kpi in chosen for key in kpi.measures]
    values = measure_values(
        viewer=viewer, keys=keys, scope=scope, period=period, as_of=moment, source=source
    )
    return {kpi.key: figure_of(kpi, values, scope, period, moment) for kpi in chosen}


def kpi_compute(
    *,
    viewer: Any,
    kpi: str | Kpi,
    scope: Scope | None = None,
    period: Period,
    as_of: datetime | None = None,
    source: str = ROLLUP,
) -> Figure:
    """One KPI for the viewer, scope and period, as of `as_of` (default: `default_as_of`)."""
    chosen = _kpi(kpi)
    return figures_compute(
        viewer=viewer, kpis=[chosen], scope=scope, period=period, as_of=as_of, source=source
    )[chosen.key]


# 同比 / 环比 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    kind: str  # YEAR_AGO or PREVIOUS
    current: Figure
    earlier: Figure
    ratio: Decimal | None  # percent; None when there is nothing to compare with

    @property
    def label(self) -> str:
        return "同比" if self.kind == YEAR_AGO else "环比"

    @property
    def baseline_used(self) -> bool:
        return self.earlier.baseline_used


def baseline_area(viewer: Any, scope: Scope) -> Area | None:
    if scope.area is not None:
        return scope.area
    roots = policy.scope_roots(viewer)
    return roots[0] if len(roots) == 1 else None


def baseline_for(*, viewer: Any, kpi: str | Kpi, scope: Scope, period: Period) -> Baseline | None:
    """The entered figure standing for this KPI, place and period, if any. Entered figures are
    for a place (and optionally a channel) only, so a scope cut by unit or type has none."""
    if scope.unit or scope.case_type or scope.category:
        return None
    area = baseline_area(viewer, scope)
    if area is None or not policy.can_view_area(viewer, area):
        return None
    return Baseline.objects.filter(
        area=area,
        key=_kpi(kpi).key,
        source=scope.source,
        period_start=period.start,
        period_end=period.end,
    ).first()


def kpi_compare(
    *,
    viewer: Any,
    kpi: str | Kpi,
    scope: Scope | None = None,
    period: Period,
    against: str = YEAR_AGO,
    as_of: datetime | None = None,
    source: str = ROLLUP,
) -> Change:
    """同比 (`against="year_ago"`) or 环比 (`"previous"`), the earlier figure counted through the
    same path up to the matching moment, or taken from an entered baseline, which wins: it is
    entered precisely for periods the system did not fully see."""
    if against not in (YEAR_AGO, PREVIOUS):
        raise DomainError("对比方式只能是同比或环比")
    scope = scope or Scope()
    chosen = _kpi(kpi)
    current = kpi_compute(
        viewer=viewer, kpi=chosen, scope=scope, period=period, as_of=as_of, source=source
    )
    earlier_period = period.year_ago() if against == YEAR_AGO else period.previous()
    baseline = baseline_for(viewer=viewer, kpi=chosen, scope=scope, period=earlier_period)
    if baseline is not None:
        earlier = Figure(
            chosen,
            scope,
            earlier_period,
            earlier_period.end_at,
            baseline.value,
            None,
            baseline=baseline,
            note=f"录入数:{baseline.note}",
        )
    else:
        earlier = kpi_compute(
            viewer=viewer,
            kpi=chosen,
            scope=scope,
            period=earlier_period,
            as_of=period.matching_moment(earlier_period, current.as_of),
            source=source,
        )
    ratio = None
    if current.value is not None and earlier.has_data and earlier.value:
        ratio = (current.value - earlier.value) * 100 / earlier.value
    return Change(against, current, earlier, ratio)


# The cases behind a number -----------------------------------------------------------------


def kpi_cases(
    *,
    viewer: Any,
    key: str,
    scope: Scope | None = None,
    period: Period,
    as_of: datetime | None = None,
    part: str = "numerator",
) -> QuerySet[Case]:
    """The cases a number counts, by the same definition: a measure key, or a KPI key with
    `part` "numerator" or "denominator". Its count equals the measure's value (for a sum, the
    cases summed over; for 督办数, the cases supervised)."""
    scope = scope or Scope()
    moment = as_of or default_as_of(period)
    if key in KPIS:
        kpi = KPIS[key]
        keys = kpi.denominator if part == "denominator" else kpi.numerator
        if not keys:
            raise DomainError(f"指标“{kpi.name}”没有分母")
    else:
        keys = (key,)
    measures = _measures(keys)
    lo, hi = _window(period, moment)
    visible = policy.cases_visible_to(viewer).filter(visible_q(viewer))
    condition = Q(pk__in=[])
    for measure in measures:
        if measure.kind == ACTIONS:
            acted = _actions(measure, scope, period, moment)
            condition |= Q(pk__in=acted.values("case_id"))
        elif measure.kind == CASES:
            column = COLUMN_BY_KEY[measure.column]
            condition |= (
                scope.q()
                & counted_between(lo, hi)
                & column.q
                & measure.dims
                & when_q(measure.when, moment)
            )
        else:
            raise DomainError(f"“{measure.name}”统计的不是事件,没有对应的事件列表")
    return visible.filter(condition)


def residents_visited_by_tag(
    *, viewer: Any, scope: Scope | None = None, period: Period, as_of: datetime | None = None
) -> list[tuple[str, int]]:
    """走访居民数 by care tag: (tag name, distinct persons visited), in the tags' order."""
    scope = scope or Scope()
    moment = as_of or default_as_of(period)
    lo, hi = _window(period, moment)
    visits = policy.visits_visible_to(viewer).filter(
        person__isnull=False, visited_at__gte=lo, visited_at__lt=hi
    )
    if scope.area is not None:
        visits = visits.filter(area__path__startswith=scope.area.path)
    rows = (
        visits.filter(person__taggings__tag__kind=TagKind.CARE)
        .values("person__taggings__tag__name", "person__taggings__tag__sort")
        .annotate(persons=Count("person", distinct=True))
        .order_by("person__taggings__tag__sort", "person__taggings__tag__name")
    )
    return [(row["person__taggings__tag__name"], row["persons"]) for row in rows]


def kpi_catalogue() -> list[Kpi]:
    """Every KPI with its name, unit, direction and definition, for pages that explain them."""
    return list(KPIS.values())


def default_year(*, viewer: Any) -> Period:
    """The year pages open on: this one; until it has cases in the viewer's scope, the latest
    year that has (a deployment's imported past, the demo's 2025)."""
    year = clock.now().year
    latest = policy.cases_visible_to(viewer).aggregate(last=Max("accepted_at"))["last"]
    if latest is not None and timezone.localtime(latest).year < year:
        year = timezone.localtime(latest).year
    return Period.year(year)
