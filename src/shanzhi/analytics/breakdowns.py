"""Figures broken down by group — child areas, categories, units, days/weeks/months — for the
dashboard, rankings and reports.

Each breakdown reads the store in one grouped query: the nodes' monthly totals where the
question is about whole nodes of the area tree and whole months (a category breakdown, a monthly
trend), the per-case deltas otherwise — exactly as `selectors` does for a single figure — and
each of its rows equals `figures_compute(scope=<the row's scope>, period=<the row's period>)`:
the row carries that scope and period, so its numbers click through to `kpi_cases` with the
same arguments. Tests hold every row to the direct count.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from shanzhi import clock, policy
from shanzhi.accounts.models import Unit
from shanzhi.areas.models import Area
from shanzhi.cases.models import Case, CaseCategory
from shanzhi.errors import DomainError

from .measures import (
    CASES,
    COLUMN_BY_KEY,
    KPIS,
    LISTED_KINDS,
    MEASURES,
    RESOLUTIONS,
    Kpi,
    Measure,
)
from .models import Baseline, CaseDelta
from .periods import DAY, MONTH, RANGE, WEEK, Period
from .rollup import next_month
from .selectors import (
    YEAR_AGO,
    Change,
    Figure,
    Scope,
    baseline_area,
    baseline_matter,
    default_as_of,
    figure_of,
    figures_compute,
    kpi_cases,
    measure_values_grouped,
    monthly_values,
    resolution_actions,
    visible_q,
)

Values = dict[str, int]
GRAINS = (DAY, WEEK, MONTH)
# A trend per day up to this many days, per month beyond.
DAILY_UP_TO = 62


@dataclass(frozen=True)
class Row:
    """One group of a breakdown: its figures, and the scope and period they were counted for."""

    key: str  # what identifies the group in a URL: area code, category or unit id, period code
    label: str
    scope: Scope
    period: Period
    figures: dict[str, Figure]

    def value(self, kpi: str) -> Decimal | None:
        return self.figures[kpi].value


def _case_kpis(kpis: Iterable[str | Kpi], kinds: tuple[str, ...] = (CASES,)) -> list[Kpi]:
    chosen = []
    for item in kpis:
        kpi = item if isinstance(item, Kpi) else KPIS.get(item)
        if kpi is None:
            raise DomainError(f"没有名为“{item}”的指标")
        if any(MEASURES[key].kind not in kinds for key in kpi.measures):
            raise DomainError(f"“{kpi.name}”不是按事件统计的指标,不能分组")
        chosen.append(kpi)
    return chosen


def _measures_of(kpis: Sequence[Kpi]) -> list[Measure]:
    return [MEASURES[key] for key in dict.fromkeys(k for kpi in kpis for k in kpi.measures)]


def _add(into: dict[Any, Values], key: Any, values: Values) -> None:
    found = into.setdefault(key, dict.fromkeys(values, 0))
    for name, value in values.items():
        found[name] += value


def _grouped(
    measures: Sequence[Measure],
    viewer: Any,
    scope: Scope,
    period: Period,
    moment: datetime,
    fields: Sequence[str],
) -> dict[tuple[Any, ...], Values]:
    return measure_values_grouped(
        measures, viewer=viewer, scope=scope, period=period, moment=moment, by=fields
    )


def _rows_from(
    groups: Sequence[tuple[str, str, Scope]],
    values: dict[str, Values],
    kpis: Sequence[Kpi],
    measures: Sequence[Measure],
    period: Period,
    moment: datetime,
) -> list[Row]:
    empty = {m.key: 0 for m in measures}
    rows = []
    for key, label, scope in groups:
        found: dict[str, int | None] = dict(values.get(key, empty))
        figures = {kpi.key: figure_of(kpi, found, scope, period, moment) for kpi in kpis}
        rows.append(Row(key, label, scope, period, figures))
    return rows


def _has_data(row: Row) -> bool:
    return any(f.numerator or f.denominator for f in row.figures.values())


# By place, category and unit ----------------------------------------------------------------


def child_areas(*, viewer: Any, area: Area | None) -> list[Area]:
    """The nodes one level below `area` the viewer may see; below their scope roots for None."""
    if area is None:
        return policy.scope_roots(viewer)
    return list(policy.areas_visible_to(viewer).filter(parent=area).order_by("code"))


def breakdown_by_area(
    *,
    viewer: Any,
    kpis: Iterable[str | Kpi],
    scope: Scope | None = None,
    period: Period,
    as_of: datetime | None = None,
) -> list[Row]:
    """A row for each child of `scope.area` (every child, with or without cases)."""
    scope = scope or Scope()
    chosen = _case_kpis(kpis)
    measures = _measures_of(chosen)
    moment = as_of or default_as_of(period)
    children = child_areas(viewer=viewer, area=scope.area)
    found = _grouped(measures, viewer, scope, period, moment, ["area__path"])
    # The roll-up is keyed by the case's own node; fold each into the child above it.
    by_child: dict[Any, Values] = {}
    for (path,), values in found.items():
        for child in children:
            if path.startswith(child.path):
                _add(by_child, child.code, values)
                break
    groups = [(c.code, c.name, replace(scope, area=c)) for c in children]
    return _rows_from(groups, by_child, chosen, measures, period, moment)


def breakdown_by_category(
    *,
    viewer: Any,
    kpis: Iterable[str | Kpi],
    scope: Scope | None = None,
    period: Period,
    as_of: datetime | None = None,
) -> list[Row]:
    """A row for each 大类 with cases (a 大类 includes its 小类), most cases first. Below a
    chosen category, a row for each of its 小类."""
    scope = scope or Scope()
    chosen = _case_kpis(kpis)
    measures = _measures_of(chosen)
    moment = as_of or default_as_of(period)
    fields = ["case_type__category", "case_type__category__parent"]
    found = _grouped(measures, viewer, scope, period, moment, fields)
    folded: dict[Any, Values] = {}
    for (category, parent), values in found.items():
        if category is None:
            continue  # merged or rejected reports without a type: no category to count under
        if scope.category is not None and category == scope.category.pk:
            top = category
        else:
            top = parent if scope.category is None and parent is not None else category
        _add(folded, top, values)
    names = CaseCategory.objects.in_bulk(list(folded))
    groups = [
        (str(pk), names[pk].name, replace(scope, category=names[pk]))
        for pk in folded
        if pk in names
    ]
    rows = _rows_from(
        groups, {str(k): v for k, v in folded.items()}, chosen, measures, period, moment
    )
    return _largest_first([r for r in rows if _has_data(r)])


def breakdown_by_unit(
    *,
    viewer: Any,
    kpis: Iterable[str | Kpi],
    scope: Scope | None = None,
    period: Period,
    as_of: datetime | None = None,
) -> list[Row]:
    """A row for each handling unit with cases, most cases first (cases never dispatched have
    no unit and no row)."""
    scope = scope or Scope()
    chosen = _case_kpis(kpis)
    measures = _measures_of(chosen)
    moment = as_of or default_as_of(period)
    found = _grouped(measures, viewer, scope, period, moment, ["unit"])
    values = {str(unit): v for (unit,), v in found.items() if unit is not None}
    units = Unit.objects.in_bulk([int(pk) for pk in values])
    groups = [(str(pk), unit.name, replace(scope, unit=unit)) for pk, unit in units.items()]
    rows = _rows_from(groups, values, chosen, measures, period, moment)
    return _largest_first([r for r in rows if _has_data(r)])


def _largest_first(rows: list[Row]) -> list[Row]:
    def size(row: Row) -> tuple[int, str]:
        first = next(iter(row.figures.values()))
        return (-(first.denominator or first.numerator or 0), row.label)

    return sorted(rows, key=size)


# Over time ---------------------------------------------------------------------------------


def trend_grain(period: Period) -> str:
    return DAY if period.days <= DAILY_UP_TO else MONTH


def _bucket_start(day: date, grain: str) -> date:
    if grain == DAY:
        return day
    if grain == WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_bucket(start: date, grain: str) -> date:
    if grain == DAY:
        return start + timedelta(days=1)
    if grain == WEEK:
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def trend_periods(period: Period, grain: str) -> list[Period]:
    """The days, weeks or months of `period`, the first and last cut to it (a cut one is a
    range: its code and label say so)."""
    if grain not in GRAINS:
        raise DomainError("趋势只能按日、周或月")
    buckets = []
    start = period.start
    while start < period.end:
        whole_start = _bucket_start(start, grain)
        end = min(_next_bucket(whole_start, grain), period.end)
        whole = whole_start == start and end == _next_bucket(whole_start, grain)
        if whole and grain == DAY:
            buckets.append(Period.day(start))
        elif whole and grain == WEEK:
            iso = start.isocalendar()
            buckets.append(Period.week(iso.year, iso.week))
        elif whole:
            buckets.append(Period.month(start.year, start.month))
        else:
            buckets.append(Period.between(start, end - timedelta(days=1)))
        start = end
    return buckets


# PostgreSQL refuses a select list of over 1,664 entries: a year by day of every measure has more.
SELECT_LIMIT = 1500


def _bucket_values(
    measures: Sequence[Measure], viewer: Any, scope: Scope, over: Sequence[Period]
) -> dict[str, Any]:
    """The buckets' case measures from the deltas, one aggregate per bucket and measure, each
    with the bucket's own "as of" moment: for buckets that are not whole months of a node."""
    rows = CaseDelta.objects.filter(
        visible_q(viewer),
        scope.q(),
        count_day__gte=over[0].start,
        count_day__lt=over[-1].end,
        at__lt=over[-1].end_at,
    )
    aggregates = {
        f"b{i}_{m.key}": Coalesce(
            Sum(
                COLUMN_BY_KEY[m.column].key,
                filter=Q(count_day__gte=b.start, count_day__lt=b.end, at__lt=b.end_at)
                & (Q(flow=m.flow) if m.flow else Q()),
            ),
            0,
        )
        for i, b in enumerate(over)
        for m in measures
    }
    names = list(aggregates)
    found: dict[str, Any] = {}
    for first in range(0, len(names), SELECT_LIMIT):
        chunk = names[first : first + SELECT_LIMIT]
        found |= rows.aggregate(**{name: aggregates[name] for name in chunk})
    return found


def breakdown_by_time(
    *,
    viewer: Any,
    kpis: Iterable[str | Kpi],
    scope: Scope | None = None,
    period: Period,
    grain: str = "",
    now: datetime | None = None,
) -> list[Row]:
    """A row per day, week or month of `period` that has begun, each counted as of its own
    default moment (its end once over, now while it runs) — the figure that bucket's own page
    and case list show. The buckets that are over come from one roll-up query; the running one,
    if any, through `figures_compute`."""
    scope = scope or Scope()
    # 当月办结 (resolved in the bucket, whenever accepted) is a trend's figure too.
    chosen = _case_kpis(kpis, (CASES, RESOLUTIONS))
    every = _measures_of(chosen)
    measures = [m for m in every if m.kind == CASES]
    resolutions = [m for m in every if m.kind == RESOLUTIONS]
    now = now or clock.now()
    buckets = [b for b in trend_periods(period, grain or trend_grain(period)) if b.start_at <= now]
    over = [b for b in buckets if b.end_at <= now]
    running = [b for b in buckets if b.end_at > now]
    rows_out: list[Row] = []
    whole = [b.start for b in over if b.start.day == 1 and b.end == next_month(b.start)]
    monthly = (
        monthly_values(measures, viewer=viewer, scope=scope, months=whole)
        if over and len(whole) == len(over)
        else None
    )
    if over:
        found = _bucket_values(measures, viewer, scope, over) if monthly is None else {}
        if monthly is not None:
            # Whole months of a whole node: their totals, in one query.
            for i, b in enumerate(over):
                found |= {f"b{i}_{key}": value for key, value in monthly[b.start].items()}
        if resolutions:
            # The cases resolved in each bucket, whenever accepted: one count per bucket.
            span = Period(over[0].start, over[-1].end, RANGE)
            found |= (
                resolution_actions(scope, span, over[-1].end_at)
                .filter(visible_q(viewer, "case__area__path"))
                .aggregate(
                    **{
                        f"b{i}_{m.key}": Count(
                            "case_id",
                            distinct=True,
                            filter=Q(created_at__gte=b.start_at, created_at__lt=b.end_at),
                        )
                        for i, b in enumerate(over)
                        for m in resolutions
                    }
                )
            )
        for i, b in enumerate(over):
            values: dict[str, int | None] = {
                m.key: int(found[f"b{i}_{m.key}"]) for m in [*measures, *resolutions]
            }
            figures = {kpi.key: figure_of(kpi, values, scope, b, b.end_at) for kpi in chosen}
            rows_out.append(Row(b.code, b.label, scope, b, figures))
    for b in running:
        figures = figures_compute(
            viewer=viewer, kpis=chosen, scope=scope, period=b, as_of=b.as_of(now)
        )
        rows_out.append(Row(b.code, b.label, scope, b, figures))
    return rows_out


# 同比 for several KPIs at once -------------------------------------------------------------


def changes_compute(
    *,
    viewer: Any,
    current: dict[str, Figure],
    scope: Scope | None = None,
    period: Period,
) -> dict[str, Change]:
    """同比 of figures already counted by `figures_compute`, by the rule of `kpi_compare` (an
    entered baseline wins over the count), in two queries for all of them instead of three per
    KPI: the year-ago figures in one pass, the baselines in one."""
    scope = scope or Scope()
    if not current:
        return {}
    earlier_period = period.year_ago()
    moment = next(iter(current.values())).as_of
    earlier = figures_compute(
        viewer=viewer,
        kpis=[f.kpi for f in current.values()],
        scope=scope,
        period=earlier_period,
        as_of=period.matching_moment(earlier_period, moment),
    )
    baselines: dict[str, Baseline] = {}
    area = baseline_area(viewer, scope)
    matter = baseline_matter(scope)
    if matter is not None and area is not None and policy.can_view_area(viewer, area):
        for entered in Baseline.objects.filter(
            area=area,
            key__in=list(current),
            period_start=earlier_period.start,
            period_end=earlier_period.end,
            **matter,
        ):
            baselines.setdefault(entered.key, entered)
    changes = {}
    for key, figure in current.items():
        before = earlier[key]
        baseline = baselines.get(key)
        if baseline is not None:
            before = Figure(
                figure.kpi,
                scope,
                earlier_period,
                earlier_period.end_at,
                baseline.value,
                None,
                baseline=baseline,
                note=f"录入数:{baseline.note}",
            )
        ratio = None
        if figure.value is not None and before.has_data and before.value:
            ratio = (figure.value - before.value) * 100 / before.value
        changes[key] = Change(YEAR_AGO, figure, before, ratio)
    return changes


@dataclass(frozen=True)
class MatterChange:
    """同比 of one category or case type whose year-ago figure was entered (录入数)."""

    name: str  # "社会治安类", "消防通道堵塞占用"
    change: Change


def baseline_matter_text(baseline: Baseline) -> str:
    """Which matters an entered figure is for, as the pages write it: 信访类, the case type's
    name, or "" for all of them."""
    if baseline.category is not None:
        return f"{baseline.category}类"
    if baseline.case_type is not None:
        return baseline.case_type.name
    return ""


def changes_by_matter(
    *, viewer: Any, scope: Scope | None = None, period: Period, as_of: datetime | None = None
) -> list[MatterChange]:
    """同比 for every category and case type that a figure was entered for, for the year before
    `period`, at `scope`'s place and channel: so an office that kept its books by matter (信访,
    火警) sees its 同比 by matter too. Categories first, each in the order entered."""
    scope = scope or Scope()
    area = baseline_area(viewer, scope)
    if scope.unit or scope.case_type or scope.category or area is None:
        return []
    if not policy.can_view_area(viewer, area):
        return []
    earlier = period.year_ago()
    entered = (
        Baseline.objects.filter(
            area=area,
            source=scope.source,
            period_start=earlier.start,
            period_end=earlier.end,
        )
        .filter(Q(category__isnull=False) | Q(case_type__isnull=False))
        .select_related("category__parent", "case_type")
        .order_by(F("case_type_id").asc(nulls_first=True), "pk")
    )
    found = []
    for baseline in entered:
        matter = replace(scope, area=area, category=baseline.category, case_type=baseline.case_type)
        current = figures_compute(
            viewer=viewer, kpis=[baseline.key], scope=matter, period=period, as_of=as_of
        )
        change = changes_compute(viewer=viewer, current=current, scope=matter, period=period)
        found.append(MatterChange(baseline_matter_text(baseline), change[baseline.key]))
    return found


# Numbers made of two measures (a difference), with the cases behind them --------------------


@dataclass(frozen=True)
class Derived:
    key: str
    name: str
    whole: str  # measure key
    minus: tuple[str, ...]  # measure keys, each a part of `whole`


DERIVED: dict[str, Derived] = {
    d.key: d
    for d in [
        Derived("unsatisfied", "不满意件数", "called_back", ("satisfied", "basically")),
        Derived("not_called_back", "未回访件数", "reachable", ("called_back",)),
    ]
}


def derived_value(derived: Derived, values: dict[str, int | None]) -> int:
    return (values[derived.whole] or 0) - sum(values[k] or 0 for k in derived.minus)


def figure_cases(
    *,
    viewer: Any,
    key: str,
    scope: Scope | None = None,
    period: Period,
    as_of: datetime | None = None,
    part: str = "numerator",
) -> QuerySet[Case]:
    """`kpi_cases`, and also the cases of a `DERIVED` number (the whole less its parts)."""
    derived = DERIVED.get(key)
    if derived is None:
        return kpi_cases(viewer=viewer, key=key, scope=scope, period=period, as_of=as_of, part=part)
    moment = as_of or default_as_of(period)
    whole = kpi_cases(viewer=viewer, key=derived.whole, scope=scope, period=period, as_of=moment)
    for key_minus in derived.minus:
        parts = kpi_cases(viewer=viewer, key=key_minus, scope=scope, period=period, as_of=moment)
        whole = whole.exclude(pk__in=parts.values("pk"))
    return whole


def figure_name(key: str, part: str = "numerator") -> str:
    """What a click-through list counts, in the words of the figure: "办结量", "超期数"."""
    if key in DERIVED:
        return DERIVED[key].name
    if key in KPIS:
        kpi = KPIS[key]
        if not kpi.denominator:
            return kpi.name
        keys = kpi.denominator if part == "denominator" else kpi.numerator
        return "与".join(MEASURES[k].name for k in keys)
    if key in MEASURES:
        return MEASURES[key].name
    raise DomainError(f"没有名为“{key}”的指标")


def figure_known(key: str) -> bool:
    """Whether `key` names a number whose cases can be listed."""
    if key in DERIVED:
        return True
    measures = KPIS[key].measures if key in KPIS else (key,) if key in MEASURES else ()
    return bool(measures) and all(MEASURES[k].kind in LISTED_KINDS for k in measures)
