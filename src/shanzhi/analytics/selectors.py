"""Figures for a viewer, scope and period: the one computation path every surface calls.

The dashboard, rankings, report, API and case list all come here. A figure counts only the part
of the grid the viewer's role grants cover (an area subtree each), whatever else the scope says.
Case figures come from the daily roll-up (`source="rollup"`) or straight from the cases
(`source="direct"`); both give the same numbers, and tests hold them to it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from shanzhi import clock, policy
from shanzhi.accounts.models import Unit
from shanzhi.areas.models import Area, Level
from shanzhi.cases.flows import FLOWS
from shanzhi.cases.models import Case, CaseAction, CaseCategory, CaseType, Source
from shanzhi.errors import DomainError
from shanzhi.registry.models import ItemStatus, TagKind, VerificationItem

from .history import case_state_at, rows_of
from .measures import (
    ACTIONS,
    CARE_RESIDENTS_VISITED,
    CASES,
    COLUMN_BY_KEY,
    COLUMN_INDEX,
    ENTERPRISE_VISITS,
    ENTERPRISES_VISITED,
    KPIS,
    MEASURES,
    PARTICIPATION_KINDS,
    RESOLUTIONS,
    VERIFICATION_DONE,
    VERIFICATION_ITEMS,
    Kpi,
    Measure,
)
from .models import Baseline, CaseDelta, NodeMonth, RollupState
from .periods import RANGE, Period
from .rollup import (
    NODE_LEVELS,
    ROW_FIELDS,
    facts_of,
    month_of,
    month_start,
    next_month,
)

ROLLUP, DIRECT = "rollup", "direct"
# The steps that resolve a case (办结), in every flow: what 当月办结 counts.
RESOLVING_ACTIONS = sorted(
    {t.action for flow in FLOWS.values() for t in flow.transitions if "resolved" in t.marks}
)
YEAR_AGO, PREVIOUS = "year_ago", "previous"
NOT_APPLICABLE = "该指标不按承办单位、事项类型或来源渠道区分"
UNRECORDED = "期间内的事件都没有记录这一项"


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

    def without_unit(self) -> "Scope":
        """The scope but its unit: a case's unit changes over time, and the direct count checks
        it as of the moment."""
        return Scope(self.area, None, self.case_type, self.category, self.source)

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


def case_base(viewer: Any, scope: Scope) -> QuerySet[Case]:
    return Case.objects.filter(visible_q(viewer), scope.q())


def _flow_q(measure: Measure) -> Q:
    return Q(flow=measure.flow) if measure.flow else Q()


def _delta_sum(measure: Measure, extra: Q | None = None) -> Any:
    condition = _flow_q(measure) & (extra if extra is not None else Q())
    return Coalesce(Sum(COLUMN_BY_KEY[measure.column].key, filter=condition), 0)


def _deltas(viewer: Any, scope: Scope, period: Period, moment: datetime) -> QuerySet[CaseDelta]:
    """The deltas of the cases counted in the period, before the moment, within the scope."""
    return CaseDelta.objects.filter(
        visible_q(viewer),
        scope.q(),
        count_day__gte=period.start,
        count_day__lt=period.end,
        at__lt=moment,
    )


def _whole_months(period: Period) -> list[date]:
    """The calendar months that lie wholly inside the period."""
    months, start = [], month_of(period.start)
    if start < period.start:
        start = next_month(start)
    while next_month(start) <= period.end:
        months.append(start)
        start = next_month(start)
    return months


def _rollup_nodes(viewer: Any, scope: Scope) -> list[Area] | None:
    """The nodes whose monthly totals make up exactly what the viewer may see of the scope; None
    when that part of the grid is not a union of such nodes (or the scope cuts by more than
    place), and the deltas must be read instead."""
    if scope.has_case_dims:
        return None
    if policy.is_platform_admin(viewer):
        nodes = (
            [scope.area]
            if scope.area is not None
            else list(Area.objects.filter(parent__isnull=True))
        )
    else:
        roots = policy.scope_roots(viewer)
        if scope.area is None:
            nodes = roots
        elif any(scope.area.is_within(root) for root in roots):
            nodes = [scope.area]
        else:
            nodes = [root for root in roots if root.is_within(scope.area)]
    if not nodes or any(node.level not in NODE_LEVELS for node in nodes):
        return None
    return nodes


def _closed_until(nodes: Sequence[Area]) -> date | None:
    """The first month not yet added up for every street under (or above) the nodes; None when
    some street has nothing added up. One query."""
    condition = Q(pk__in=[])
    for node in nodes:
        condition |= Q(path__startswith=node.path) | Q(pk=node.street_id)
    closed = RollupState.objects.filter(street_id=OuterRef("pk")).values("closed_until")[:1]
    months = list(
        Area.objects.filter(condition, level=Level.STREET)
        .annotate(closed=Subquery(closed))
        .values_list("closed", flat=True)
    )
    if not months or any(month is None for month in months):
        return None
    return min(months)


# What a breakdown may group the nodes' totals by: the deltas' lookup and the totals' own.
TOTALS_FIELDS = {
    "case_type__category": "category",
    "case_type__category__parent": "category__parent",
}


def _local_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=timezone.get_current_timezone())


def _aggregates(measures: Sequence[Measure], extra: Q | None = None) -> dict[str, Any]:
    """One sum per measure, over deltas or over totals (which share the column names)."""
    return {f"m_{m.key}": _delta_sum(m, extra) for m in measures}


def _collect(
    into: dict[tuple[Any, ...], dict[str, int]],
    rows: QuerySet[Any],
    by: Sequence[str],
    keys: Sequence[str],
    aggregates: dict[str, Any],
) -> None:
    """Add the grouped sums of `rows` (grouped by `by`, keyed by `keys`) to `into`."""
    results = (
        list(rows.values(*by).order_by().annotate(**aggregates))
        if by
        else [rows.aggregate(**aggregates)]
    )
    for row in results:
        group = tuple(row[f] for f in by)
        found = into.setdefault(group, dict.fromkeys(keys, 0))
        for key in keys:
            found[key] += int(row[f"m_{key}"] or 0)


def _from_totals(
    measures: Sequence[Measure],
    viewer: Any,
    scope: Scope,
    nodes: Sequence[Area],
    period: Period,
    moment: datetime,
    by: Sequence[str] = (),
) -> dict[tuple[Any, ...], dict[str, int]] | None:
    """Whole months of the period as of whole months before the moment, from the nodes' totals;
    the rest (the whole months' changes after their closing, the period's partial months) from
    the deltas, which are read only when there is such a rest. None when no month is added up
    for these nodes yet."""
    months = _whole_months(period)
    closed = _closed_until(nodes)
    if not months or closed is None:
        return None
    boundary = min(closed, month_start(moment))
    keys = [m.key for m in measures]
    found: dict[tuple[Any, ...], dict[str, int]] = {}
    if by:
        # Above streets the totals are kept over all categories: read the streets' own.
        nodes = [
            street
            for node in nodes
            for street in (
                [node]
                if node.level not in (Level.CITY, Level.DISTRICT)
                else Area.objects.filter(level=Level.STREET, path__startswith=node.path)
            )
        ]
    totals = NodeMonth.objects.filter(
        node__in=list(nodes), count_month__in=months, month__lt=boundary
    )
    _collect(found, totals, [TOTALS_FIELDS[f] for f in by], keys, _aggregates(measures))
    rest = Q(pk__in=[])
    if moment > _local_start(boundary):
        rest |= Q(count_month__in=months, month__gte=boundary)
    if months[0] > period.start or next_month(months[-1]) < period.end:
        rest |= ~Q(count_month__in=months)
    if rest != Q(pk__in=[]):
        deltas = _deltas(viewer, scope, period, moment).filter(rest)
        _collect(found, deltas, by, keys, _aggregates(measures))
    return {group: values for group, values in found.items() if any(values.values()) or not by}


def monthly_values(
    measures: Sequence[Measure],
    *,
    viewer: Any,
    scope: Scope,
    months: Sequence[date],
) -> dict[date, dict[str, int]] | None:
    """Case measures for each of `months` (months that are over), each as of its own end: a
    trend over whole months, read from the nodes' totals in one query (plus the deltas of any
    month not yet added up). None when the scope is not a union of nodes with totals."""
    nodes = _rollup_nodes(viewer, scope)
    closed = _closed_until(nodes) if nodes is not None else None
    if nodes is None or closed is None or not months:
        return None
    keys = [m.key for m in measures]
    found: dict[tuple[Any, ...], dict[str, int]] = {}
    totals = NodeMonth.objects.filter(
        node__in=list(nodes), count_month__in=list(months), month__lt=closed
    ).filter(month__lte=F("count_month"))
    _collect(found, totals, ["count_month"], keys, _aggregates(measures))
    late = [month for month in months if next_month(month) > closed]
    if late:
        # Changes not yet added up, each month's before its own end: one grouped query.
        span = Period(late[0], next_month(late[-1]), RANGE)
        deltas = _deltas(viewer, scope, span, span.end_at).filter(
            count_month__in=late, month__gte=closed, month__lte=F("count_month")
        )
        _collect(found, deltas, ["count_month"], keys, _aggregates(measures))
    return {month: found.get((month,), dict.fromkeys(keys, 0)) for month in months}


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
    """Case measures per value of the lookups `by` (which deltas share with cases: area__path,
    unit, case_type__category…, or names in `annotations`); with no `by`, one group keyed ().

    Each is the sum of the deltas before `moment` of the cases counted in the period — exact as
    of any moment. A figure or a breakdown by category over whole nodes of the area tree reads
    the months that are over from the nodes' totals. The breakdowns, the rankings and every
    figure come here.
    """
    if not annotations and all(f in TOTALS_FIELDS for f in by):
        nodes = _rollup_nodes(viewer, scope)
        if nodes is not None:
            values = _from_totals(measures, viewer, scope, nodes, period, moment, by)
            if values is not None:
                return values
    rows = _deltas(viewer, scope, period, moment)
    if annotations:
        rows = rows.annotate(**annotations)
    found: dict[tuple[Any, ...], dict[str, int]] = {}
    _collect(found, rows, by, [m.key for m in measures], _aggregates(measures))
    return found


def _direct(
    measures: Sequence[Measure], viewer: Any, scope: Scope, period: Period, moment: datetime
) -> dict[str, int]:
    """Each case replayed from its log up to the moment, without the store: what the store must
    always equal (the tests hold it to)."""
    values = {m.key: 0 for m in measures}
    cases = list(case_base(viewer, scope.without_unit()))
    rows: dict[int, list[Any]] = {case.pk: [] for case in cases}
    for action in (
        CaseAction.objects.filter(case_id__in=list(rows), created_at__lt=moment)
        .order_by("created_at", "id")
        .values("case_id", *ROW_FIELDS)
    ):
        rows[action["case_id"]].append(action)
    for case in cases:
        state = case_state_at(facts_of(case), rows_of(rows[case.pk]), moment)
        key = state.key
        if key is None or not period.start <= key.count_day < period.end:
            continue
        if scope.unit is not None and key.unit_id != scope.unit.pk:
            continue
        for m in measures:
            if not m.flow or m.flow == key.flow:
                values[m.key] += state.values[COLUMN_INDEX[m.column]]
    return values


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


def resolution_actions(scope: Scope, period: Period, moment: datetime) -> QuerySet[Any]:
    """The resolutions of the period before the moment (当月办结 counts their cases once)."""
    lo, hi = _window(period, moment)
    return CaseAction.objects.filter(
        scope.q(prefix="case__", unit_field="to_unit"),
        action__in=RESOLVING_ACTIONS,
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
            values.update(_direct(case_measures, viewer, scope, period, as_of))
    for measure in measures:
        if measure.kind == ACTIONS:
            values[measure.key] = (
                _actions(measure, scope, period, as_of)
                .filter(visible_q(viewer, "case__area__path"))
                .count()
            )
        elif measure.kind == RESOLUTIONS:
            values[measure.key] = (
                resolution_actions(scope, period, as_of)
                .filter(visible_q(viewer, "case__area__path"))
                .values("case_id")
                .distinct()
                .count()
            )
        elif measure.kind in PARTICIPATION_KINDS:
            values[measure.key] = (
                None
                if scope.has_case_dims
                else _participation(measure, viewer, scope, period, as_of)
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
    unrecorded: bool = False  # the input it rests on was recorded for none of its cases

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
    if kpi.recorded is not None:
        missing, total = (values[key] or 0 for key in kpi.recorded)
        if total and missing == total:
            return Figure(kpi, scope, period, as_of, None, None, note=UNRECORDED, unrecorded=True)
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


def baseline_matter(scope: Scope) -> dict[str, Any] | None:
    """How the entered figures of `scope`'s matter are found: by its channel and its category
    or case type (none of them: the whole place's); None for a scope no figure is entered for
    (cut by unit, or by both a category and a type)."""
    if scope.unit or (scope.case_type and scope.category):
        return None
    return {"source": scope.source, "category": scope.category, "case_type": scope.case_type}


def baseline_for(*, viewer: Any, kpi: str | Kpi, scope: Scope, period: Period) -> Baseline | None:
    """The entered figure standing for this KPI, place, matter and period, if any."""
    matter = baseline_matter(scope)
    if matter is None:
        return None
    area = baseline_area(viewer, scope)
    if area is None or not policy.can_view_area(viewer, area):
        return None
    return Baseline.objects.filter(
        area=area,
        key=_kpi(kpi).key,
        period_start=period.start,
        period_end=period.end,
        **matter,
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
    visible = policy.cases_visible_to(viewer).filter(visible_q(viewer))
    condition = Q(pk__in=[])
    for measure in measures:
        if measure.kind == ACTIONS:
            acted = _actions(measure, scope, period, moment)
            condition |= Q(pk__in=acted.values("case_id"))
        elif measure.kind == RESOLUTIONS:
            condition |= Q(pk__in=resolution_actions(scope, period, moment).values("case_id"))
        elif measure.kind == CASES:
            column = COLUMN_BY_KEY[measure.column]
            # A sum (minutes) clicks through to the cases it adds up.
            counted = COLUMN_BY_KEY[column.cases] if column.cases else column
            members = (
                _deltas(viewer, scope, period, moment)
                .filter(_flow_q(measure))
                .values("case_id")
                .order_by()
                .annotate(v=Sum(counted.key))
                .filter(v__gt=0)
                .values("case_id")
            )
            condition |= Q(pk__in=members)
        else:
            raise DomainError(f"“{measure.name}”统计的不是事件,没有对应的事件列表")
    return visible.filter(condition)


@dataclass(frozen=True)
class Medians:
    """The middle case's durations, beside the means the KPIs give: working hours from first
    dispatch to (last) resolution over the cases timed, and calendar days from report to (last)
    resolution over the cases resolved. None where there is no case to take the middle of."""

    handled: int
    handling_hours: Decimal | None
    resolved: int
    wait_days: Decimal | None


def _median(values: list[int]) -> Decimal | None:
    if not values:
        return None
    ordered, middle = sorted(values), len(values) // 2
    if len(ordered) % 2:
        return Decimal(ordered[middle])
    return Decimal(ordered[middle - 1] + ordered[middle]) / 2


def duration_medians(
    *, viewer: Any, scope: Scope | None = None, period: Period, as_of: datetime | None = None
) -> Medians:
    """The medians of 处置时长 and of the resident's wait, as of the moment: each case's own
    durations are the sums of its deltas, so a case resolved again later counts its last time."""
    scope = scope or Scope()
    moment = as_of or default_as_of(period)
    per_case = (
        _deltas(viewer, scope, period, moment)
        .values("case_id")
        .order_by()
        .annotate(
            h=Sum("handled"), hm=Sum("handling_minutes"), r=Sum("resolved"), w=Sum("wait_minutes")
        )
    )
    handling, waits = [], []
    for row in per_case:
        if row["h"] > 0:
            handling.append(row["hm"])
        if row["r"] > 0:
            waits.append(row["w"])
    hours, days = _median(handling), _median(waits)
    return Medians(
        handled=len(handling),
        handling_hours=hours / 60 if hours is not None else None,
        resolved=len(waits),
        wait_days=days / (60 * 24) if days is not None else None,
    )


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


# 民生实事 and 志愿服务 (participation) ----------------------------------------------------------
# Counted from the participation app's own tables, within the viewer's part of the grid.
from shanzhi.participation.selectors import participation_count  # noqa: E402


def _participation(
    measure: Measure, viewer: Any, scope: Scope, period: Period, moment: datetime
) -> int:
    lo, hi = _window(period, moment)
    paths = None if policy.is_platform_admin(viewer) else policy.scope_paths(viewer)
    return participation_count(measure.kind, paths=paths, area=scope.area, lo=lo, hi=hi)
