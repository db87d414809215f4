"""驾驶舱: the leaders' full-screen dashboard.

The page shell renders at once with the headline figures (one `figures_compute` call, plus one
for 同比); each chart then fetches its own JSON and each list its own htmx fragment, so no panel
waits on another. Panel data is cached per (viewer's scope, period, area) for a short while.
Every number links to the case list of exactly the cases it counts
(/cases/?kpi=…&part=…&period=…&area=…), which shows `kpi_cases` with the same arguments.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from shanzhi import clock, policy
from shanzhi.analytics import formatting
from shanzhi.analytics.breakdowns import (
    DERIVED,
    Row,
    breakdown_by_area,
    breakdown_by_category,
    breakdown_by_time,
    changes_by_matter,
    changes_compute,
    derived_value,
    figure_cases,
    figure_name,
    trend_grain,
)
from shanzhi.analytics.measures import AVERAGE_UNITS, KPIS, PARTICIPATION_KPIS
from shanzhi.analytics.periods import DAY, MONTH, WEEK, Period, PeriodError, period_parse
from shanzhi.analytics.selectors import (
    Scope,
    default_as_of,
    default_year,
    duration_medians,
    figures_compute,
    measure_values,
)
from shanzhi.areas.models import Area, Level
from shanzhi.errors import NotFound
from shanzhi.headers import allow_style_attributes

from .views_cases import staff_page

CACHE_SECONDS = 60
FIRST_YEAR = 2025  # the demo year; periods before it have no cases
HEADLINE = (
    "intake",
    "resolution_rate",
    "on_time_rate",
    "satisfaction_rate",
    "overdue",
    "handling_hours",
    "on_spot_rate",
    "dispute_rate",
    "hazard_rate",
)
LIST_SIZE = 10

figures_page = staff_page(policy.can_view_figures)


# Filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    period: Period
    area: Area | None
    errors: tuple[str, ...] = ()
    period_refused: bool = False

    @property
    def scope(self) -> Scope:
        return Scope(area=self.area)

    @property
    def query(self) -> str:
        params = {"period": self.period.code}
        if self.area is not None:
            params["area"] = self.area.code
        return urlencode(params)


def _default_area(viewer: Any) -> Area | None:
    roots = policy.scope_roots(viewer)
    return roots[0] if len(roots) == 1 else None


def choice_from(request: HttpRequest) -> Choice:
    """The period and area asked for; what is wrong is named and the default used instead."""
    viewer = request.user
    errors = []
    text = request.GET.get("period", "").strip()
    first, last = request.GET.get("from", "").strip(), request.GET.get("to", "").strip()
    if first and last:
        text = f"{first}..{last}"
    period = None
    if text:
        try:
            period = period_parse(text)
        except PeriodError as exc:
            errors.append(exc.message)
    refused = bool(text) and period is None
    if period is None:
        period = default_year(viewer=viewer)
    area = _default_area(viewer)
    code = request.GET.get("area", "").strip()
    if code:
        try:
            area = policy.area_for(viewer, code)
        except NotFound as exc:
            errors.append(exc.message)
    return Choice(period, area, tuple(errors), refused)


def period_options(period: Period) -> list[tuple[str, list[tuple[str, str]]]]:
    """Years (this, last, and the demo year), and the halves, quarters and months of the
    chosen period's year, grouped for a select."""
    now = clock.now().year
    years = sorted({now, now - 1, FIRST_YEAR, period.start.year}, reverse=True)
    year = period.start.year
    groups = [
        ("年度", [(str(y), f"{y}年") for y in years]),
        (
            f"{year}年 半年/季度",
            [(p.code, p.label) for p in (Period.half(year, 1), Period.half(year, 2))]
            + [(Period.quarter(year, q).code, Period.quarter(year, q).label) for q in range(1, 5)],
        ),
        (f"{year}年 月份", [(Period.month(year, m).code, f"{m}月") for m in range(1, 13)]),
    ]
    known = {code for _, options in groups for code, _ in options}
    if period.code not in known:
        groups.insert(0, ("当前", [(period.code, period.label)]))
    return groups


def area_options(viewer: Any) -> list[tuple[str, str]]:
    """The nodes of the viewer's scope down to grids, indented as a tree."""
    areas = (
        policy.areas_visible_to(viewer)
        .exclude(level=Level.MICROGRID)
        .order_by("path")
        .only("code", "name", "depth")
    )
    rows = list(areas)
    top = min((a.depth for a in rows), default=0)
    return [(a.code, "\u3000" * (a.depth - top) + a.name) for a in rows]


# Links to the cases behind a number -----------------------------------------------------------


def cases_url(key: str, period: Period, scope: Scope, part: str = "numerator") -> str:
    params = {"kpi": key, "part": part, "period": period.code}
    if scope.area is not None:
        params["area"] = scope.area.code
    if scope.category is not None:
        params["category"] = str(scope.category.pk)
    if scope.unit is not None:
        params["unit"] = str(scope.unit.pk)
    if scope.case_type is not None:
        params["case_type"] = str(scope.case_type.pk)
    if scope.source:
        params["source"] = scope.source
    return f"{reverse('case_list')}?{urlencode(params)}"


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(round(value, 2))


# The page shell --------------------------------------------------------------------------


def headline_cards(viewer: Any, choice: Choice) -> list[dict[str, Any]]:
    return figure_cards(viewer, choice, HEADLINE)


def _main_part(key: str) -> str:
    # A rate clicks through to what it counts; an average to the cases averaged over.
    return "denominator" if KPIS[key].unit in AVERAGE_UNITS else "numerator"


def _beside(viewer: Any, choice: Choice, key: str, figures: dict[str, Any]) -> list[dict[str, Any]]:
    """What the card shows under its value: the KPIs declared beside it, and for a duration
    the median beside the mean."""
    items = [
        {
            "name": KPIS[other].name,
            "value": formatting.figure_value_text(figures[other]),
            "url": cases_url(other, choice.period, choice.scope, _main_part(other)),
        }
        for other in KPIS[key].beside
    ]
    if key == "handling_hours":
        medians = duration_medians(viewer=viewer, scope=choice.scope, period=choice.period)
        unit = KPIS[key].unit
        items.insert(
            0,
            {
                "name": "中位数",
                "value": formatting.amount_text(medians.handling_hours, unit, fixed=True),
                "url": "",
            },
        )
        items.append(
            {
                "name": "上报至办结中位数",
                "value": formatting.amount_text(
                    medians.wait_days, KPIS["wait_days"].unit, fixed=True
                ),
                "url": "",
            }
        )
    return items


def figure_cards(viewer: Any, choice: Choice, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each figure with its 同比, its parts, what is shown beside it and the links to the cases
    it counts."""
    wanted = tuple(dict.fromkeys([*keys, *(b for key in keys for b in KPIS[key].beside)]))
    figures = figures_compute(viewer=viewer, kpis=wanted, scope=choice.scope, period=choice.period)
    shown = {key: figures[key] for key in keys}
    changes = changes_compute(
        viewer=viewer, current=shown, scope=choice.scope, period=choice.period
    )
    cards = []
    for key in keys:
        figure, kpi = figures[key], KPIS[key]
        parts = []
        if kpi.denominator:
            for part, count in (
                ("numerator", figure.numerator),
                ("denominator", figure.denominator),
            ):
                if kpi.unit in AVERAGE_UNITS and part == "numerator":
                    continue  # a sum of minutes; its cases are the denominator's
                parts.append(
                    {
                        "part": part,
                        "name": figure_name(key, part),
                        "count": count,
                        "url": cases_url(key, choice.period, choice.scope, part),
                    }
                )
        cards.append(
            {
                "key": key,
                "name": kpi.name,
                "value": formatting.figure_value_text(figure),
                "url": cases_url(key, choice.period, choice.scope, _main_part(key)),
                "change": formatting.change_text(changes[key]),
                "parts": parts,
                "beside": _beside(viewer, choice, key, figures),
                "definition": kpi.definition,
            }
        )
    return cards


@allow_style_attributes  # ECharts styles the elements it draws
@figures_page
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """/dashboard/: filters, the headline cards, and empty panels that load themselves."""
    choice = choice_from(request)
    context = {
        "choice": choice,
        "cards": headline_cards(request.user, choice),
        "period_options": period_options(choice.period),
        "area_options": area_options(request.user),
        "title": f"{choice.period.label} {choice.scope.label}",
        "charts": CHART_TITLES,
        "lists": LIST_TITLES,
    }
    # A wrong period or area is named on the page, shown with the defaults, and answered 400.
    status = 400 if choice.errors else 200
    return render(request, "web/dashboard/page.html", context, status=status)


# Panel data (cached) ----------------------------------------------------------------------


def _cached(viewer: Any, name: str, choice: Choice, build: Callable[[], Any]) -> Any:
    if policy.is_platform_admin(viewer):
        reach = "*"
    else:
        reach = "|".join(sorted(policy.scope_paths(viewer)))
    area = choice.area.code if choice.area is not None else "*"
    digest = hashlib.sha256(f"{reach}#{choice.period.code}#{area}".encode()).hexdigest()[:32]
    key = f"dashboard:{name}:{digest}"
    data = cache.get(key)
    if data is None:
        data = build()
        cache.set(key, data, CACHE_SECONDS)
    return data


def _short_label(period: Period, grain: str) -> str:
    s = period.start
    if grain == MONTH:
        return f"{s.month}月" if period.kind == MONTH else f"{s.month}/{s.day}起"
    if grain == WEEK:
        return f"{s.month}/{s.day}起"
    return f"{s.month}/{s.day}"


TREND = ("intake", "resolved_in_period")
GRAIN_NAMES = {DAY: "日", WEEK: "周", MONTH: "月"}


def chart_trend(viewer: Any, choice: Choice) -> dict[str, Any]:
    """Cases accepted and cases resolved in each month (week, day), the latter whenever they
    were accepted: what a leader reading a trend expects, and the chart says so."""
    grain = trend_grain(choice.period)
    rows = breakdown_by_time(viewer=viewer, kpis=TREND, scope=choice.scope, period=choice.period)
    bucket = GRAIN_NAMES.get(grain, "期")
    names = {"intake": f"当{bucket}受理", "resolved_in_period": f"当{bucket}办结"}
    series = [
        {
            "key": key,
            "name": names[key],
            "data": [
                {
                    "name": row.label,
                    "value": row.figures[key].numerator,
                    "url": cases_url(key, row.period, row.scope),
                }
                for row in rows
            ],
        }
        for key in TREND
    ]
    return {
        "grain": bucket,
        "labels": [_short_label(row.period, grain) for row in rows],
        "series": series,
        "note": f"当{bucket}办结:该{bucket}内办结的事件,不论何时受理",
    }


def _rate_items(rows: list[Row], count_key: str, rate_key: str) -> list[dict[str, Any]]:
    items = []
    for row in rows:
        count, rate = row.figures[count_key], row.figures[rate_key]
        items.append(
            {
                "name": row.label,
                "code": row.key,
                "value": count.numerator,
                "url": cases_url(count_key, row.period, row.scope),
                "rate": _number(rate.value),
                "rate_text": formatting.percent_text(rate.value),
                "rate_name": KPIS[rate_key].name,
                "rate_url": cases_url(rate_key, row.period, row.scope),
                "rate_count": rate.numerator,
            }
        )
    return items


def chart_categories(viewer: Any, choice: Choice) -> dict[str, Any]:
    rows = breakdown_by_category(
        viewer=viewer,
        kpis=["intake", "resolution_rate"],
        scope=choice.scope,
        period=choice.period,
    )
    return {"name": "受理量", "items": _rate_items(rows[:12], "intake", "resolution_rate")}


def _area_rows(viewer: Any, choice: Choice) -> list[dict[str, Any]]:
    rows = breakdown_by_area(
        viewer=viewer,
        kpis=["intake", "resolution_rate"],
        scope=choice.scope,
        period=choice.period,
    )
    return _rate_items(rows, "intake", "resolution_rate")


def chart_areas(viewer: Any, choice: Choice) -> dict[str, Any]:
    items = _cached(viewer, "area_rows", choice, lambda: _area_rows(viewer, choice))
    return {"name": "受理量", "rate_name": "办结率", "items": items}


def _measure_items(
    viewer: Any, choice: Choice, keys: list[str], shown: list[str]
) -> list[dict[str, Any]]:
    values = measure_values(
        viewer=viewer,
        keys=keys,
        scope=choice.scope,
        period=choice.period,
        as_of=default_as_of(choice.period),
    )
    items = []
    for key in shown:
        derived = DERIVED.get(key)
        value = derived_value(derived, values) if derived else values[key]
        items.append(
            {
                "key": key,
                "name": figure_name(key),
                "value": value,
                "url": cases_url(key, choice.period, choice.scope),
            }
        )
    return items


def chart_deadline(viewer: Any, choice: Choice) -> dict[str, Any]:
    keys = ["on_time", "late", "open_overdue"]
    items = _measure_items(viewer, choice, keys, keys)
    labels = {"on_time": "按期办结", "late": "超期办结", "open_overdue": "超期未办结"}
    for item in items:
        item["name"] = labels[item["key"]]
    return {"items": items}


def chart_satisfaction(viewer: Any, choice: Choice) -> dict[str, Any]:
    keys = ["satisfied", "basically", "called_back", "reachable"]
    shown = ["satisfied", "basically", "unsatisfied", "not_called_back"]
    items = _measure_items(viewer, choice, keys, shown)
    labels = {
        "satisfied": "满意",
        "basically": "基本满意",
        "unsatisfied": "不满意",
        "not_called_back": "未回访",
    }
    for item in items:
        item["name"] = labels[item["key"]]
    return {"items": items}


CHARTS: dict[str, Callable[[Any, Choice], dict[str, Any]]] = {
    "trend": chart_trend,
    "categories": chart_categories,
    "areas": chart_areas,
    "deadline": chart_deadline,
    "satisfaction": chart_satisfaction,
}
CHART_TITLES = {
    "trend": "受理与当月办结趋势",
    "categories": "事项类别",
    "areas": "各辖区受理量(颜色:办结率)",
    "deadline": "办理时限",
    "satisfaction": "回访满意度",
}


@figures_page
@require_GET
def dashboard_chart(request: HttpRequest, name: str) -> JsonResponse:
    """/dashboard/charts/<name>/: the JSON one chart is drawn from."""
    build = CHARTS.get(name)
    if build is None:
        raise Http404("没有这个图表")
    choice = choice_from(request)
    if choice.period_refused:
        return JsonResponse({"code": "invalid_period", "message": choice.errors[0]}, status=400)
    data = _cached(request.user, name, choice, lambda: build(request.user, choice))
    return JsonResponse(data)


# Lists (htmx fragments) ----------------------------------------------------------------------


def _case_items(cases: Any) -> list[dict[str, Any]]:
    return [
        {
            "number": case.number,
            "title": case.title,
            "area": case.area.name,
            "unit": case.unit.name if case.unit else "",
            "due": case.handle_due_at,
            "supervise_count": case.supervise_count,
        }
        for case in cases
    ]


def list_overdue(viewer: Any, choice: Choice) -> dict[str, Any]:
    cases = figure_cases(
        viewer=viewer, key="open_overdue", scope=choice.scope, period=choice.period
    )
    top = cases.select_related("area", "unit").order_by("handle_due_at", "pk")[:LIST_SIZE]
    return {
        "count": cases.count(),
        "url": cases_url("open_overdue", choice.period, choice.scope),
        "name": "超期未办结",
        "items": _case_items(top),
    }


def list_supervised(viewer: Any, choice: Choice) -> dict[str, Any]:
    cases = figure_cases(viewer=viewer, key="supervised", scope=choice.scope, period=choice.period)
    top = cases.select_related("area", "unit").order_by("-supervise_count", "-reported_at")
    return {
        "count": cases.count(),
        "url": cases_url("supervised", choice.period, choice.scope),
        "name": "督办事件",
        "items": _case_items(top[:LIST_SIZE]),
    }


def list_ranking(viewer: Any, choice: Choice) -> dict[str, Any]:
    items = _cached(viewer, "area_rows", choice, lambda: _area_rows(viewer, choice))
    ranked = sorted(
        (item for item in items if item["value"]),
        key=lambda item: (-(item["rate"] if item["rate"] is not None else -1), item["name"]),
    )
    return {"items": ranked}


# The figures of the specialised flows, each panel computed from its flow's own steps.
HAZARD_FIGURES = (
    "hazards",
    "major_hazards",
    "hazards_rectified",
    "hazard_rate",
    "major_hazard_rate",
    "hazards_overdue",
    "reinspections_failed",
    "ungraded_hazards",
)
PETITION_FIGURES = (
    "petitions",
    "petition_notice_rate",
    "petition_resolution_rate",
    "petition_on_time_rate",
    "petition_review_rate",
    "petition_recheck_rate",
    "repeat_petitions",
)


def list_hazards(viewer: Any, choice: Choice) -> dict[str, Any]:
    return {"cards": figure_cards(viewer, choice, HAZARD_FIGURES)}


def list_petitions(viewer: Any, choice: Choice) -> dict[str, Any]:
    return {"cards": figure_cards(viewer, choice, PETITION_FIGURES)}


def list_matters(viewer: Any, choice: Choice) -> dict[str, Any]:
    """同比 of the categories and case types whose last-year figures were entered."""
    items = []
    for matter in changes_by_matter(viewer=viewer, scope=choice.scope, period=choice.period):
        figure = matter.change.current
        items.append(
            {
                "name": matter.name,
                "kpi": figure.kpi.name,
                "value": formatting.figure_value_text(figure),
                "url": cases_url(figure.kpi.key, choice.period, figure.scope),
                "change": formatting.change_text(matter.change),
                "note": matter.change.earlier.note,
            }
        )
    return {"items": items}


def list_participation(viewer: Any, choice: Choice) -> dict[str, Any]:
    """民生实事 and 志愿服务: counted from their own tables, so no case list behind them."""
    return {"cards": figure_cards(viewer, choice, PARTICIPATION_KPIS)}


LISTS: dict[str, Callable[[Any, Choice], dict[str, Any]]] = {
    "overdue": list_overdue,
    "supervised": list_supervised,
    "ranking": list_ranking,
    "hazards": list_hazards,
    "petitions": list_petitions,
    "matters": list_matters,
    "participation": list_participation,
}
LIST_TITLES = {
    "overdue": "超期未办结(前10)",
    "supervised": "重点督办事件",
    "ranking": "辖区办结率排行",
    "hazards": "安全隐患整改",
    "petitions": "信访",
    "matters": "分类同比(上年为录入数)",
    "participation": "民生实事与志愿服务",
}


@figures_page
@require_GET
def dashboard_list(request: HttpRequest, name: str) -> HttpResponse:
    """/dashboard/lists/<name>/: one list panel as an htmx fragment."""
    build = LISTS.get(name)
    if build is None:
        raise Http404("没有这个列表")
    choice = choice_from(request)
    data = _cached(request.user, name, choice, lambda: build(request.user, choice))
    context = {"data": data, "choice": choice}
    status = 400 if choice.period_refused else 200
    return render(request, f"web/dashboard/_{name}.html", context, status=status)
