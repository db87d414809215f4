"""The period report (工作总结): the figures of a street or community written as the offices write
them, as a document model the md, html and docx writers all render.

Every number comes from `shanzhi.analytics.selectors` (one figure, one computation path) and is
written by `shanzhi.analytics.formatting`; grouped figures (by category, community, unit, month)
are one `figures_compute` call per group. A number that counts cases carries the link to the case
list of exactly those cases.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from shanzhi import policy
from shanzhi.accounts.models import User
from shanzhi.analytics.breakdowns import changes_by_matter
from shanzhi.analytics.formatting import amount_text, change_text, figure_value_text
from shanzhi.analytics.measures import COUNT, KPIS, LISTED_KINDS, MEASURES, PARTICIPATION_KPIS
from shanzhi.analytics.periods import HALF, QUARTER, YEAR, Period, period_parse
from shanzhi.analytics.selectors import (
    PREVIOUS,
    YEAR_AGO,
    Figure,
    Scope,
    default_as_of,
    duration_medians,
    figures_compute,
    kpi_compare,
    residents_visited_by_tag,
)
from shanzhi.areas.models import Area, Level
from shanzhi.cases.models import CaseCategory, Source
from shanzhi.errors import DomainError, NotFound

REPORT_LEVELS = (Level.STREET, Level.ZONE, Level.COMMUNITY)
# The units below a report's area whose figures the report sets side by side.
CHILD_LEVELS = {
    Level.STREET: (Level.COMMUNITY,),
    Level.ZONE: (Level.COMMUNITY,),
    Level.COMMUNITY: (Level.GRID, Level.DEDICATED_GRID),
}
NUMERALS = "一二三四五六七八九十"
WORK_TITLE = "主要工作及成效"
# The columns of the tables by category and by area: these KPIs, each followed by those
# declared beside it (满意率 by 首次满意率 and 不满意重办).
_GROUP_MAIN = ("intake", "resolved", "resolution_rate", "on_time_rate", "satisfaction_rate")
GROUP_KPIS = (
    *dict.fromkeys(key for main in _GROUP_MAIN for key in (main, *KPIS[main].beside)),
    "overdue",
)
GROUP_HEADER = tuple(
    f"{KPIS[key].name}({KPIS[key].unit})" if KPIS[key].unit == COUNT else KPIS[key].name
    for key in GROUP_KPIS
)
TOP = 3


# The document model ------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A run of text; a figure when `figure` is set, with the case list behind it in `href`."""

    text: str
    href: str = ""
    title: str = ""
    figure: bool = False


@dataclass(frozen=True)
class Paragraph:
    spans: tuple[Span, ...]

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


@dataclass(frozen=True)
class Table:
    key: str  # "categories", "areas", "units"
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Span, ...], ...]


@dataclass(frozen=True)
class Chart:
    key: str  # "trend" (by month) or "categories"
    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]
    note: str = ""  # where the labels are spelled out, for charts drawn without them


Block = Paragraph | Table | Chart


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]
    level: int = 1  # 1: 一级标题 (一、), 2: 二级标题 ((一))


@dataclass(frozen=True)
class Report:
    title: str
    area: Area
    period: Period
    as_of: datetime
    scope_note: str
    sections: tuple[Section, ...]

    @property
    def filename_stem(self) -> str:
        return f"{self.area.name}{self.period.label}工作总结"

    @property
    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    @property
    def charts(self) -> list[Chart]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Chart)]

    @property
    def numbers(self) -> list[Span]:
        """Every figure in the text and tables, in reading order."""
        spans: list[Span] = []
        for section in self.sections:
            for block in section.blocks:
                if isinstance(block, Paragraph):
                    spans += block.spans
                elif isinstance(block, Table):
                    spans += [cell for row in block.rows for cell in row]
        return [span for span in spans if span.figure]


# Who the report is for and about -----------------------------------------------------------


def operator() -> User:
    """The command line's operator, who sees every street: an unsaved platform administrator,
    so the report goes through the same scoped selectors as everyone's."""
    return User(username="operator", full_name="系统操作员", is_superuser=True, is_active=True)


def report_area(*, viewer: Any, code: str) -> Area:
    """The street, zone or community a report may be written for, within the viewer's scope."""
    code = (code or "").strip()
    if not code:
        raise DomainError("请指定辖区编码")
    try:
        area = policy.area_for(viewer, code)
    except NotFound:
        raise NotFound(f"没有编码为“{code}”的辖区,或无权查看") from None
    if area.level not in REPORT_LEVELS:
        raise DomainError(
            f"{area.name}是{area.get_level_display()}:工作总结只能按街道、片区或社区生成"
        )
    return area


def report_period(text: str) -> Period:
    return period_parse(text)


# Numbers as the report shows them ----------------------------------------------------------


def _counts_cases(figure: Figure) -> bool:
    return all(MEASURES[key].kind in LISTED_KINDS for key in figure.kpi.measures)


def case_list_href(figure: Figure, part: str = "numerator") -> str:
    """The case list of the cases behind this figure (its numerator or denominator)."""
    if not _counts_cases(figure) or figure.baseline_used:
        return ""
    scope = figure.scope
    params = {"kpi": figure.kpi.key, "part": part, "period": figure.period.code}
    if scope.area is not None:
        params["area"] = scope.area.code
    if scope.category is not None:
        params["category"] = str(scope.category.pk)
    if scope.source:
        params["source"] = scope.source
    return f"{reverse('case_list')}?{urlencode(params)}"


def value(figure: Figure) -> Span:
    """The figure's value as written (99.20%, 2322件), linked to the cases it counts."""
    kpi, part, title = figure.kpi, "numerator", ""
    if kpi.is_rate and figure.denominator is not None:
        title = f"{figure.numerator} / {figure.denominator}"
    elif kpi.denominator and figure.denominator is not None:
        # An average (处置时长) clicks through to the cases it is the average of.
        part, title = "denominator", f"{figure.denominator}件的平均"
    return Span(
        figure_value_text(figure, exact=True), case_list_href(figure, part), title, figure=True
    )


def count(figure: Figure, unit: str = "件", part: str = "numerator") -> Span:
    """A count the figure holds — its numerator or denominator — in the report's own unit
    (处, 家, 次, 人), linked to those cases."""
    number = figure.denominator if part == "denominator" else figure.numerator
    return Span(amount_text(number, unit, exact=True), case_list_href(figure, part), figure=True)


def plain_count(figure: Figure, part: str = "numerator") -> Span:
    """A count for a table cell, where the column header carries the unit."""
    return count(figure, "", part)


class _Writer:
    """Collects the spans of a paragraph: text and figures in the order they are read."""

    def __init__(self) -> None:
        self.spans: list[Span] = []

    def __call__(self, *parts: str | Span) -> "_Writer":
        for part in parts:
            if isinstance(part, Span):
                self.spans.append(part)
            elif part:
                self.spans.append(Span(part))
        return self

    def paragraph(self) -> Paragraph:
        merged: list[Span] = []
        for span in self.spans:
            if merged and not span.figure and not merged[-1].figure:
                merged[-1] = Span(merged[-1].text + span.text)
            else:
                merged.append(span)
        return Paragraph(tuple(merged))


def _comma(text: str) -> str:
    return f",{text}" if text else ""


def _has(figure: Figure) -> bool:
    return bool(figure.value is not None and figure.has_data)


# The report --------------------------------------------------------------------------------


@dataclass
class _Context:
    viewer: Any
    area: Area
    period: Period
    as_of: datetime
    totals: dict[str, Figure] = field(default_factory=dict)
    categories: list[tuple[CaseCategory, "_Group"]] = field(default_factory=list)

    def scope(self, **parts: Any) -> Scope:
        return Scope(area=self.area, **parts)

    def figures(self, kpis: Iterable[str], scope: Scope | None = None) -> dict[str, Figure]:
        return figures_compute(
            viewer=self.viewer,
            kpis=list(kpis),
            scope=scope or self.scope(),
            period=self.period,
            as_of=self.as_of,
        )

    def compare(self, kpi: str, scope: Scope | None = None, against: str = YEAR_AGO) -> str:
        change = kpi_compare(
            viewer=self.viewer,
            kpi=kpi,
            scope=scope or self.scope(),
            period=self.period,
            against=against,
            as_of=self.as_of,
        )
        return change_text(change)

    def changes(self, kpi: str, scope: Scope | None = None) -> str:
        """同比, and 环比 where the period before is not the same as a year ago."""
        texts = [self.compare(kpi, scope)]
        if self.period.kind != YEAR:
            texts.append(self.compare(kpi, scope, PREVIOUS))
        return ",".join(text for text in texts if text)

    @property
    def whole(self) -> str:
        """How the report names its period in a sentence: 全年, 上半年, 第三季度, 3月."""
        if self.period.kind == YEAR:
            return "全年"
        return self.period.label.removeprefix(f"{self.period.start.year}年")


@dataclass(frozen=True)
class _Group:
    name: str
    figures: dict[str, Figure]


def _group_row(group: _Group) -> tuple[Span, ...]:
    f = group.figures
    cells = [
        plain_count(f[key]) if KPIS[key].unit == COUNT else value(f[key]) for key in GROUP_KPIS
    ]
    return (Span(group.name), *cells)


def _rated(groups: Sequence[_Group], kpi: str) -> list[_Group]:
    return [g for g in groups if _has(g.figures[kpi])]


def _rate_value(group: _Group, kpi: str) -> Decimal:
    return group.figures[kpi].value or Decimal(0)  # only called on groups `_rated` kept


def _lowest(groups: Sequence[_Group], kpi: str) -> _Group | None:
    """The group with the lowest rate, when the rates differ at all (else none stands out)."""
    rated = _rated(groups, kpi)
    if len({_rate_value(g, kpi) for g in rated}) < 2:
        return None
    return min(rated, key=lambda g: _rate_value(g, kpi))


def _overview(ctx: _Context) -> Section:
    t = ctx.totals = ctx.figures(
        [
            "intake",
            "resolved",
            "resolution_rate",
            "on_time_rate",
            "overdue",
            "handling_hours",
            "handling_days",
            "wait_days",
            "callback_rate",
            "satisfaction_rate",
            "first_satisfaction_rate",
            "unsatisfied_reopened",
            "supervised",
            "merged",
            "rejected",
            "reopen_rate",
        ]
    )
    w = _Writer()
    w(f"{ctx.period.label},{ctx.area.name}共受理各类事件", value(t["intake"]))
    w(_comma(ctx.changes("intake")))
    w(",办结", value(t["resolved"]), _comma(ctx.compare("resolved")))
    w(",办结率", value(t["resolution_rate"]))
    if _has(t["on_time_rate"]):
        w(",按期办结率", value(t["on_time_rate"]))
    w(";超期", value(t["overdue"]))
    w("。")
    if _has(t["handling_hours"]):
        medians = duration_medians(
            viewer=ctx.viewer, scope=ctx.scope(), period=ctx.period, as_of=ctx.as_of
        )
        w("平均处置时长", value(t["handling_hours"]), "(合", value(t["handling_days"]), ")")
        w(",中位数", _amount(medians.handling_hours, t["handling_hours"].kpi.unit))
        if _has(t["wait_days"]):
            w(";从上报到办结,群众平均等待", value(t["wait_days"]))
            w(",中位数", _amount(medians.wait_days, t["wait_days"].kpi.unit))
        w("。")
    if _has(t["callback_rate"]):
        w("回访", count(t["callback_rate"]), ",回访率", value(t["callback_rate"]))
        if _has(t["satisfaction_rate"]):
            w(",满意率", value(t["satisfaction_rate"]), "(以每件最后一次评价计)")
            w(_comma(ctx.compare("satisfaction_rate")))
            w(",首次回访满意率", value(t["first_satisfaction_rate"]))
            if t["unsatisfied_reopened"].numerator:
                w(",首次评价不满意、重新办理", count(t["unsatisfied_reopened"]))
        w("。")
    extras = [
        (label, span)
        for label, figure, span in (
            ("收到重复件", t["merged"], value(t["merged"])),
            ("不予受理", t["rejected"], value(t["rejected"])),
            ("领导督办", t["supervised"], count(t["supervised"], "次")),
        )
        if figure.numerator
    ]
    for i, (label, span) in enumerate(extras):
        w("另" if i == 0 else ",", label, span)
    w("。" if extras else "")
    blocks: list[Block] = [w.paragraph()]
    if ctx.period.kind in (YEAR, HALF, QUARTER):
        blocks.append(_trend(ctx))
    return Section("总体情况", tuple(blocks))


def _amount(number: Decimal | None, unit: str) -> Span:
    """A statistic that is not a KPI (a median), written like one, with no case list."""
    return Span(amount_text(number, unit, fixed=True), figure=True)


def _months(period: Period) -> list[Period]:
    months, day = [], period.start
    while day < period.end:
        months.append(Period.month(day.year, day.month))
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def _trend(ctx: _Context) -> Chart:
    labels, intake, resolved = [], [], []
    for month in _months(ctx.period):
        figures = figures_compute(
            viewer=ctx.viewer,
            kpis=["intake", "resolved_in_period"],
            scope=ctx.scope(),
            period=month,
            as_of=month.as_of(ctx.as_of),
        )
        labels.append(str(month.start.month))
        intake.append(figures["intake"].numerator or 0)
        resolved.append(figures["resolved_in_period"].numerator or 0)
    return Chart(
        "trend",
        "各月受理量与当月办结量",
        tuple(labels),
        (("受理量", tuple(intake)), ("当月办结", tuple(resolved))),
        note="当月办结:当月办结的事件,不论何时受理",
    )


def _street_of(area: Area) -> Area:
    return area if area.level == Level.STREET else (area.street or area)


def _categories(ctx: _Context) -> list[tuple[CaseCategory, _Group]]:
    roots = CaseCategory.objects.filter(street=_street_of(ctx.area), parent__isnull=True)
    found = []
    for category in roots.order_by("pk"):
        figures = ctx.figures(GROUP_KPIS, ctx.scope(category=category))
        if figures["intake"].numerator:
            found.append((category, _Group(category.name, figures)))
    found.sort(key=lambda pair: -(pair[1].figures["intake"].numerator or 0))
    return found


def _by_category(ctx: _Context) -> Section:
    found = ctx.categories = _categories(ctx)
    if not found:
        return Section("分类情况", (Paragraph((Span("本期没有受理事件。"),)),))
    groups = [group for _, group in found]
    w = _Writer()
    top = groups[0]
    w("从事件类别看,", top.name, "类事件最多,受理", value(top.figures["intake"]))
    w(",办结率", value(top.figures["resolution_rate"]))
    others = groups[1:TOP]
    if others:
        w(";其次是")
        for i, group in enumerate(others):
            w("、" if i else "", group.name, "类", value(group.figures["intake"]))
    growth = []
    for category, group in found:
        scope = ctx.scope(category=category)
        change = kpi_compare(
            viewer=ctx.viewer, kpi="intake", scope=scope, period=ctx.period, as_of=ctx.as_of
        )
        if change.ratio is not None and change.ratio > 0:
            growth.append((change.ratio, group, change_text(change)))
    if growth:
        _, group, text = max(growth, key=lambda item: item[0])
        w(";增长最快的是", group.name, "类,", text)
    low = _lowest(groups, "satisfaction_rate")
    if low is not None:
        w(";满意率最低的是", low.name, "类,为", value(low.figures["satisfaction_rate"]))
    w("。各类别情况见表1。")
    table = Table(
        "categories",
        "表1 各类别事件办理情况",
        ("类别", *GROUP_HEADER),
        tuple(_group_row(group) for group in groups),
    )
    chart = Chart(
        "categories",
        "各类别受理量",
        tuple(group.name for group in groups),
        (("受理量", tuple(group.figures["intake"].numerator or 0 for group in groups)),),
        note="序号对应表1的行",
    )
    blocks: list[Block] = [w.paragraph()]
    matters = changes_by_matter(
        viewer=ctx.viewer, scope=ctx.scope(), period=ctx.period, as_of=ctx.as_of
    )
    if matters:
        m = _Writer()
        m("与上年录入数相比,")
        for i, matter in enumerate(matters):
            figure = matter.change.current
            m(";" if i else "", matter.name, figure.kpi.name, value(figure))
            m(_comma(change_text(matter.change)))
        m("。")
        blocks.append(m.paragraph())
    return Section("分类情况", (*blocks, table, chart))


def _children(ctx: _Context) -> list[Area]:
    levels = CHILD_LEVELS.get(Level(ctx.area.level), ())
    areas = policy.areas_visible_to(ctx.viewer).filter(
        path__startswith=ctx.area.path, level__in=levels
    )
    return list(areas.exclude(pk=ctx.area.pk).order_by("path"))


def _area_groups(ctx: _Context) -> list[_Group]:
    return [
        _Group(child.name, ctx.figures(GROUP_KPIS, Scope(area=child))) for child in _children(ctx)
    ]


def _by_area(ctx: _Context, groups: list[_Group], noun: str) -> Section:
    title = f"各{noun}情况"
    active = [g for g in groups if g.figures["intake"].numerator]
    if not active:
        return Section(title, (Paragraph((Span(f"本期各{noun}没有受理事件。"),)),))
    w = _Writer()
    most = max(active, key=lambda g: g.figures["intake"].numerator or 0)
    w(f"从各{noun}看,受理量最多的是", most.name, "(", value(most.figures["intake"]), ")")
    worst = _lowest(active, "resolution_rate")
    if worst is not None:
        best = max(
            _rated(active, "resolution_rate"), key=lambda g: _rate_value(g, "resolution_rate")
        )
        w(";办结率最高的是", best.name, "(", value(best.figures["resolution_rate"]), ")")
        w(",最低的是", worst.name, "(", value(worst.figures["resolution_rate"]), ")")
    low = _lowest(active, "satisfaction_rate")
    if low is not None:
        w(";满意率最低的是", low.name, "(", value(low.figures["satisfaction_rate"]), ")")
    late = [g for g in active if g.figures["overdue"].numerator]
    if late:
        worst_late = max(late, key=lambda g: g.figures["overdue"].numerator or 0)
        w(";超期件数最多的是", worst_late.name, "(", value(worst_late.figures["overdue"]), ")")
    w(f"。各{noun}情况见表2。")
    table = Table(
        "areas",
        f"表2 各{noun}事件办理情况",
        (noun, *GROUP_HEADER),
        tuple(_group_row(group) for group in groups),
    )
    return Section(title, (w.paragraph(), table))


def _hazards(ctx: _Context) -> Section:
    """四: the hazards found, graded, signed off and still overdue, from the hazard flow."""
    f = ctx.figures(
        [
            "hazards",
            "hazard_rate",
            "major_hazards",
            "major_hazard_rate",
            "ungraded_hazards",
            "hazards_overdue",
            "reinspections_failed",
        ]
    )
    w = _Writer()
    if not f["hazards"].numerator:
        w(f"{ctx.whole}未发现安全隐患。")
        return Section("安全隐患排查整改", (w.paragraph(),))
    w(f"{ctx.whole}排查发现安全隐患", count(f["hazards"], "处"), _comma(ctx.compare("hazards")))
    if f["major_hazards"].unrecorded:
        w(",均未记录隐患等级,重大隐患数未记录")
    else:
        if f["major_hazards"].numerator:
            w(",其中重大隐患", count(f["major_hazards"], "处"))
        if f["ungraded_hazards"].numerator:
            w(",未记录等级(未定级)", count(f["ungraded_hazards"], "处"))
    w(";已复查销号", count(f["hazard_rate"], "处"), ",整改率", value(f["hazard_rate"]))
    if _has(f["major_hazard_rate"]):
        w(",其中重大隐患销号", count(f["major_hazard_rate"], "处"))
        w(",整改率", value(f["major_hazard_rate"]))
    w("。")
    if f["reinspections_failed"].numerator:
        w("复查不通过、责令重新整改", count(f["reinspections_failed"], "次"), "。")
    if f["hazards_overdue"].numerator:
        w("仍有", count(f["hazards_overdue"], "处"), "逾期未整改,已督促限期整改。")
    else:
        w("无逾期未整改隐患。")
    return Section("安全隐患排查整改", (w.paragraph(),))


def _petitions(ctx: _Context) -> Section:
    """五: petitions by the petition flow's statutory steps, and disputes by mediation."""
    p = ctx.figures(
        [
            "petitions",
            "petition_notice_rate",
            "petition_resolution_rate",
            "petition_on_time_rate",
            "petition_review_rate",
            "petition_recheck_rate",
            "repeat_petitions",
        ]
    )
    d = ctx.figures(["disputes", "dispute_rate"])
    w = _Writer()
    if p["petitions"].numerator:
        w("共受理信访", value(p["petitions"]), _comma(ctx.compare("petitions")))
        if _has(p["petition_notice_rate"]):
            w(",按期受理告知率", value(p["petition_notice_rate"]))
        w(";办结", count(p["petition_resolution_rate"]))
        w(",办结率", value(p["petition_resolution_rate"]))
        if _has(p["petition_on_time_rate"]):
            w(",按期办结率", value(p["petition_on_time_rate"]))
        if p["petition_review_rate"].numerator:
            w(";信访人请求复查", count(p["petition_review_rate"]))
            w(",复查率", value(p["petition_review_rate"]))
        if p["petition_recheck_rate"].numerator:
            w(",请求复核", count(p["petition_recheck_rate"]))
        if p["repeat_petitions"].numerator:
            w(";重复信访", count(p["repeat_petitions"]), ",依规不再受理")
        w("。")
    else:
        w(f"{ctx.whole}未受理信访件。")
    if d["disputes"].numerator:
        w("受理矛盾纠纷调解", value(d["disputes"]), _comma(ctx.compare("disputes")))
        w(",达成调解协议且履行回访未发现未履行的", count(d["dispute_rate"]))
        w(",化解率", value(d["dispute_rate"]), "。")
    else:
        w("未受理矛盾纠纷。")
    return Section("信访与矛盾纠纷", (w.paragraph(),))


def _enterprises(ctx: _Context) -> Section:
    visits = ctx.figures(
        ["enterprises_visited", "enterprise_visits", "enterprise_appeals", "enterprise_appeal_rate"]
    )
    channel = ctx.figures(["intake", "resolution_rate"], ctx.scope(source=Source.ENTERPRISE))
    w = _Writer()
    w(
        "走访企业",
        count(visits["enterprises_visited"], "家"),
        count(visits["enterprise_visits"], "次"),
        _comma(ctx.compare("enterprise_visits")),
    )
    if visits["enterprise_appeals"].numerator:
        # By matter (the 企业诉求 category's flow, as in 表1), then by channel: two numbers
        # that must never pass for one.
        w(";受理企业诉求类事项", value(visits["enterprise_appeals"]))
        w(",已答复企业", count(visits["enterprise_appeal_rate"]))
        w(",办结率", value(visits["enterprise_appeal_rate"]))
    if channel["intake"].numerator:
        w(";按来源渠道,经", Source.ENTERPRISE.label, "渠道受理各类事件", value(channel["intake"]))
        w(",办结率", value(channel["resolution_rate"]))
    w("。")
    return Section("企业服务", (w.paragraph(),))


def _grid_work(ctx: _Context) -> Section:
    f = ctx.figures(
        ["on_spot_rate", "residents_visited", "care_residents_visited", "verification_rate"]
    )
    w = _Writer()
    w("网格员就地处置事件", count(f["on_spot_rate"]), ",网格自办率", value(f["on_spot_rate"]))
    w(";走访居民", count(f["residents_visited"], "人"))
    if f["care_residents_visited"].numerator:
        w(",其中关爱对象", count(f["care_residents_visited"], "人"))
        tags = residents_visited_by_tag(
            viewer=ctx.viewer, scope=ctx.scope(), period=ctx.period, as_of=ctx.as_of
        )
        if tags:
            w("(")
            for i, (name, persons) in enumerate(tags):
                w("、" if i else "", name, Span(amount_text(persons, "人"), figure=True))
            w(")")
    if f["verification_rate"].denominator:
        w(";核查对象", count(f["verification_rate"], "条", "denominator"))
        w(",已核查", count(f["verification_rate"], "条"))
        w(",核查完成率", value(f["verification_rate"]))
    w("。")
    return Section("网格工作", (w.paragraph(),))


def _units_overdue(ctx: _Context) -> list[_Group]:
    units = policy.units_visible_to(ctx.viewer).filter(street=_street_of(ctx.area))
    groups = []
    for unit in units.order_by("pk"):
        figures = ctx.figures(["overdue"], Scope(area=ctx.area, unit=unit))
        if figures["overdue"].numerator:
            groups.append(_Group(unit.name, figures))
    return sorted(groups, key=lambda g: -(g.figures["overdue"].numerator or 0))


def _problems(ctx: _Context, area_groups: list[_Group], noun: str) -> Section:
    t = ctx.totals
    points: list[Paragraph] = []
    late_units = _units_overdue(ctx)
    if t["overdue"].numerator:
        w = _Writer()
        w("一是办理时效仍有短板。超期", value(t["overdue"]))
        if late_units:
            w(",主要集中在")
            for i, group in enumerate(late_units[:TOP]):
                w("、" if i else "", group.name, "(", value(group.figures["overdue"]), ")")
        late_areas = sorted(
            (g for g in area_groups if g.figures["overdue"].numerator),
            key=lambda g: -(g.figures["overdue"].numerator or 0),
        )
        if late_areas:
            w(f";{noun}中")
            for i, group in enumerate(late_areas[:TOP]):
                w("、" if i else "", group.name, "(", value(group.figures["overdue"]), ")")
            w("超期较多")
        w("。")
        points.append(w.paragraph())
    overall = t["satisfaction_rate"]
    overall_value = overall.value
    if overall_value is not None and overall.has_data:
        categories = [group for _, group in ctx.categories]
        low = sorted(
            (
                g
                for g in _rated(categories, "satisfaction_rate")
                if _rate_value(g, "satisfaction_rate") < overall_value
            ),
            key=lambda g: _rate_value(g, "satisfaction_rate"),
        )
        if low:
            w = _Writer()
            w(f"{NUMERALS[len(points)]}是部分类别群众满意度偏低。")
            for i, group in enumerate(low[:TOP]):
                w(
                    "、" if i else "",
                    group.name,
                    "类满意率",
                    value(group.figures["satisfaction_rate"]),
                )
            w(",低于总体满意率", value(overall), "。")
            points.append(w.paragraph())
    reopen = t["reopen_rate"]
    if reopen.numerator:
        w = _Writer()
        w(f"{NUMERALS[len(points)]}是办理质量有待提升。重办", count(reopen))
        w(",重办率", value(reopen), "。")
        points.append(w.paragraph())
    if not points:
        points.append(Paragraph((Span("本期各项指标未见明显短板。"),)))
    return Section("存在问题", tuple(points))


# 民生实事 and 志愿服务 (participation) ----------------------------------------------------------


def _participation(ctx: _Context) -> Section:
    """The last section: the council's vote and the projects it chose, volunteer service and
    the points exchanged, from the participation app's figures."""
    f = ctx.figures(PARTICIPATION_KPIS)
    title = "民生实事与志愿服务"
    w = _Writer()
    if f["lp_chosen"].numerator or f["lp_ballots"].numerator:
        w(f"{ctx.whole}居民议事会票决产生民生实事项目", value(f["lp_chosen"]))
        if f["lp_ballots"].numerator:
            w(",收回选票", value(f["lp_ballots"]))
            if _has(f["lp_turnout"]):
                w(",参与率", value(f["lp_turnout"]))
        w("。")
    if f["lp_completed"].numerator:
        w("完成民生实事项目", value(f["lp_completed"]))
        w(",其中按期完成", count(f["lp_on_schedule_rate"], "个"))
        w(",按期完成率", value(f["lp_on_schedule_rate"]), "。")
    if f["volunteer_activities"].numerator:
        w(
            "开展志愿服务活动",
            value(f["volunteer_activities"]),
            _comma(ctx.compare("volunteer_activities")),
        )
        w(
            ",",
            count(f["volunteers_serving"], "名"),
            "志愿者参与服务",
            value(f["volunteer_services"]),
        )
        w(",累计服务时长", value(f["volunteer_hours"]), "。")
    if f["partners"].numerator:
        w("积分兑换资源库汇聚共建单位", value(f["partners"]))
        w(",发放积分", value(f["points_earned"]))
        if f["points_spent"].numerator:
            w(",兑换积分", value(f["points_spent"]))
            w(",兑换价值", value(f["exchange_value"]), "的等价优惠")
        w("。")
    if not w.spans:
        w(f"{ctx.whole}未开展民生实事票决和志愿服务活动。")
    return Section(title, (w.paragraph(),))


def report_compose(
    *, viewer: Any, area: Area, period: Period, as_of: datetime | None = None
) -> Report:
    """The report of `area` for `period`, counted within what `viewer` may see."""
    ctx = _Context(viewer, area, period, as_of or default_as_of(period))
    overview = _overview(ctx)
    children = _children(ctx)
    noun = Level(children[0].level).label if children else "社区"
    area_groups = _area_groups(ctx)
    work = [
        overview,
        _by_category(ctx),
        _by_area(ctx, area_groups, noun),
        _hazards(ctx),
        _petitions(ctx),
        _enterprises(ctx),
        _grid_work(ctx),
        _participation(ctx),
    ]
    # As the offices number a summary: 一、 for the parts, (一) for what each part tells.
    numbered = (
        Section(f"{NUMERALS[0]}、{WORK_TITLE}", ()),
        *(
            Section(f"({NUMERALS[i]}){section.title}", section.blocks, level=2)
            for i, section in enumerate(work)
        ),
        replace(_problems(ctx, area_groups, noun), title=f"{NUMERALS[1]}、存在问题"),
    )
    if viewer.pk is None:
        scope_note = "统计范围:全部数据"
    else:
        scope_note = f"统计范围:{viewer.full_name or viewer.username}的查看范围"
    moment = timezone.localtime(ctx.as_of)
    return Report(
        title=f"{area.name}{period.label}工作总结",
        area=area,
        period=period,
        as_of=ctx.as_of,
        scope_note=f"{scope_note};数据截至{moment:%Y年%m月%d日 %H:%M}",
        sections=numbered,
    )
