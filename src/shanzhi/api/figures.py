"""Figures over the API: KPI values with 同比 / 环比, the KPI catalogue, and 比拼晾晒 rankings.

Every number comes from `analytics.selectors` (figures) and `analytics.rankings`, the same
functions the dashboard, rankings page and report call; this module only reads parameters and
shapes answers. Figures are for leaders, administrators and dispatchers, and count only the
caller's part of the grid.
"""

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from shanzhi import policy
from shanzhi.accounts.models import User
from shanzhi.analytics.formatting import change_text, figure_value_text
from shanzhi.analytics.measures import KPIS, MEASURES, Kpi
from shanzhi.analytics.models import RankLevel
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.rankings import (
    DEFAULT_LIST_SIZE,
    SCORING_RULE,
    black_list,
    cases_url,
    counts_cases,
    criteria_of,
    ranking_compute,
    rule_for,
    rules_for,
)
from shanzhi.analytics.rankings import red_list as red_list_of
from shanzhi.analytics.selectors import (
    PREVIOUS,
    YEAR_AGO,
    Change,
    Figure,
    Scope,
    figures_compute,
    kpi_catalogue,
    kpi_compare,
)
from shanzhi.areas.models import Area
from shanzhi.cases.models import CaseCategory, Source
from shanzhi.errors import NotFound, PermissionDenied

from .auth import acting_user
from .errors import InvalidInput
from .schemas import READ_ERRORS, AreaRef, Code, Id, Out, Text

router = Router(tags=["统计指标"])

MAX_KPIS = 30


# Shapes --------------------------------------------------------------------------------------


class FiguresIn(Schema):
    kpis: Text = Field(
        max_length=600,
        description="指标键,逗号分隔,如 intake,resolution_rate(见 /figures/catalogue)",
    )
    period: Text = Field(
        max_length=40,
        description=(
            "期间:2025、2025H1、2025Q3、2025-03、2025-W10、2025-03-05 或 2025-01-01..2025-02-15"
        ),
    )
    area: Code | None = Field(None, description="辖区编码,含其下级;默认为调用方的辖区")
    category: Id | None = Field(None, description="事项类别 id(大类含其小类)")
    unit: Id | None = Field(None, description="承办单位 id")
    source: Source | None = Field(None, description="来源渠道")


class PeriodOut(Out):
    code: str
    label: str


class ChangeOut(Out):
    ratio: float | None = Field(description="变化百分比;无可比数据时为空")
    text: str = Field(description="如“同比增长12.50%”;录入数标“(录入数)”;无可比数据时为空")
    earlier_period: PeriodOut
    earlier_value: float | None
    baseline_used: bool = Field(description="对比数取自录入的历史基数,而非系统统计")
    baseline_note: str = Field(description="录入数的来源说明")


class FigureOut(Out):
    key: str
    name: str
    unit: str
    value: float | None = Field(description="数值;无分母或不适用时为空")
    value_text: str = Field(description="按报告写法格式化,如 99.20%、3454.15万")
    numerator: int | None
    denominator: int | None
    has_data: bool
    recorded: bool = Field(
        description="为 false 时期间内的事件都没有记录这一项:显示“未记录”,不是 0"
    )
    note: str
    year_on_year: ChangeOut
    period_on_period: ChangeOut
    cases_url: str | None = Field(description="该数字对应的事件列表(分子);非事件类指标为空")


class FiguresOut(Out):
    period: PeriodOut
    area: AreaRef | None
    as_of: str = Field(description="统计时点(ISO 8601)")
    figures: list[FigureOut]


class KpiOut(Out):
    key: str
    name: str
    unit: str
    higher_is_better: bool | None = Field(description="越高越好为 true,越低越好为 false,数量为空")
    definition: str
    numerator: list[str] = Field(description="分子的统计量(中文名)")
    denominator: list[str] = Field(description="分母的统计量(中文名);无分母时为空")
    counts_cases: bool = Field(description="能否点开看到对应的事件列表")


class RankingsIn(Schema):
    level: RankLevel = Field(description="排名对象:community 社区、grid 网格、unit 承办单位")
    period: Text = Field(max_length=40, description="期间,写法同 /figures")
    area: Code | None = Field(None, description="在哪个辖区内排名;默认为调用方的辖区")
    rule: Id | None = Field(None, description="排名规则 id;默认为该层级的第一条启用规则")
    size: int = Field(DEFAULT_LIST_SIZE, ge=1, le=50, description="红榜、黑榜各列几名")


class WeightOut(Out):
    kpi: str
    name: str
    weight: int
    higher_is_better: bool
    target: float | None
    floor: float | None


class RuleOut(Out):
    id: int
    name: str
    level: RankLevel
    street: AreaRef | None
    weights: list[WeightOut]


class RankCellOut(Out):
    kpi: str
    value: float | None
    value_text: str
    weight: int = Field(description="该项权重")
    mark: float | None = Field(description="该项得分率 0–1;无数据时为空,不计入总分")
    score: float | None = Field(description="该项得分(0–100)= 得分率 × 100")
    z: float | None = Field(description="与排名范围平均值相差几个标准差(越低越好的指标已取反)")
    contribution: float | None = Field(
        description="该项计入总分的分数 = 得分率 × 权重 ÷ 计入的权重之和 × 100;各项相加即总分"
    )
    cases_url: str | None


class CriterionOut(Out):
    kpi: str
    name: str
    weight: int
    method: str = Field(description="zscore:按平均值与标准差折算;targets:按规则的满分值、零分值")
    mean: float | None = Field(description="排名范围内的平均值")
    sigma: float | None = Field(description="排名范围内的标准差")
    spread: float | None = Field(description="计分所用的标准差(不小于该类指标的下限)")
    explanation: str


class RankRowOut(Out):
    rank: int | None = Field(description="名次;期间内无事件的不参与排名,为空")
    code: str = Field(description="辖区编码;承办单位为其 id")
    name: str
    score: float | None = Field(description="总分(满分100)")
    intake: int
    note: str
    explanation: str = Field(description="总分的算式:各项得分 × 权重份额之和")
    figures: list[RankCellOut]


class RankingsOut(Out):
    rule: RuleOut
    period: PeriodOut
    area: AreaRef
    scoring: str = Field(description="评分方法")
    criteria: list[CriterionOut] = Field(description="每项指标如何折算得分")
    rows: list[RankRowOut]
    red: list[str] = Field(description="红榜(前N名)的编码")
    black: list[str] = Field(description="黑榜(后N名,最差在前)的编码")


# Helpers -------------------------------------------------------------------------------------


def _viewer(request: HttpRequest) -> User:
    user = acting_user(request)
    if not policy.can_view_figures(user):
        raise PermissionDenied("统计数据仅向领导、管理员和调度员开放")
    return user


def _area(user: User, code: str | None) -> Area | None:
    if code is None:
        return None
    try:
        return policy.area_for(user, code)
    except NotFound as exc:
        raise InvalidInput(exc.message) from exc


def _home(user: User) -> Area:
    roots = policy.scope_roots(user)
    if not roots:
        raise InvalidInput("请用 area 指定辖区")
    return roots[0]


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _period_out(period: Any) -> dict[str, str]:
    return {"code": period.code, "label": period.label}


def _change(change: Change) -> dict[str, Any]:
    baseline = change.earlier.baseline
    return {
        "ratio": _number(change.ratio),
        "text": change_text(change),
        "earlier_period": _period_out(change.earlier.period),
        "earlier_value": _number(change.earlier.value) if change.earlier.has_data else None,
        "baseline_used": change.baseline_used,
        "baseline_note": baseline.note if baseline is not None else "",
    }


def _kpis(text: str) -> list[Kpi]:
    keys = [key.strip() for key in text.split(",") if key.strip()]
    if not keys:
        raise InvalidInput("请至少指定一个指标")
    if len(keys) > MAX_KPIS:
        raise InvalidInput(f"一次最多查询{MAX_KPIS}个指标")
    unknown = [key for key in keys if key not in KPIS]
    if unknown:
        raise InvalidInput(f"没有名为“{unknown[0]}”的指标,可用的指标见 /figures/catalogue")
    return [KPIS[key] for key in dict.fromkeys(keys)]


def _scope(user: User, params: FiguresIn) -> Scope:
    unit = category = None
    if params.unit is not None:
        unit = policy.units_visible_to(user).filter(pk=params.unit).first()
        if unit is None:
            raise InvalidInput("没有找到该承办单位,或您无权查看")
    if params.category is not None:
        category = CaseCategory.objects.filter(
            pk=params.category, street__in=policy.streets_visible_to(user)
        ).first()
        if category is None:
            raise InvalidInput("没有找到该事项类别")
    return Scope(
        area=_area(user, params.area),
        unit=unit,
        category=category,
        source=params.source or "",
    )


def _figure_out(user: User, figure: Figure) -> dict[str, Any]:
    compare = {
        name: kpi_compare(
            viewer=user,
            kpi=figure.kpi,
            scope=figure.scope,
            period=figure.period,
            against=against,
            as_of=figure.as_of,
        )
        for name, against in (("year_on_year", YEAR_AGO), ("period_on_period", PREVIOUS))
    }
    return {
        "key": figure.kpi.key,
        "name": figure.kpi.name,
        "unit": figure.kpi.unit,
        "value": _number(figure.value),
        "value_text": figure_value_text(figure),
        "numerator": figure.numerator,
        "denominator": figure.denominator,
        "has_data": figure.has_data,
        "recorded": not figure.unrecorded,
        "note": figure.note,
        "cases_url": cases_url(figure.kpi, figure.period, figure.scope) or None,
    } | {name: _change(change) for name, change in compare.items()}


# Operations ----------------------------------------------------------------------------------


@router.get(
    "/figures",
    response={200: FiguresOut} | READ_ERRORS,
    operation_id="figure_list",
    summary="统计指标",
    description=(
        "调用方辖区范围内、某一期间的指标值,含分子、分母、同比和环比(对比数为录入的历史基数时"
        "标明)以及对应的事件列表链接;可按辖区、事项类别、承办单位和来源渠道限定。"
    ),
)
def figure_list(request: HttpRequest, params: Query[FiguresIn]) -> dict[str, Any]:
    """The asked KPIs for the scope and period, as the dashboard and report compute them."""
    user = _viewer(request)
    kpis = _kpis(params.kpis)
    period = period_parse(params.period)
    scope = _scope(user, params)
    figures = figures_compute(viewer=user, kpis=kpis, scope=scope, period=period)
    as_of = next(iter(figures.values())).as_of
    return {
        "period": _period_out(period),
        "area": {"code": scope.area.code, "name": scope.area.name} if scope.area else None,
        "as_of": as_of.isoformat(),
        "figures": [_figure_out(user, figure) for figure in figures.values()],
    }


@router.get(
    "/figures/catalogue",
    response={200: list[KpiOut]} | READ_ERRORS,
    operation_id="figure_catalogue",
    summary="指标目录",
    description="每项指标的键、中文名、单位、方向和口径。",
)
def figure_catalogue(request: HttpRequest) -> list[dict[str, Any]]:
    """Every KPI's definition."""
    _viewer(request)
    return [
        {
            "key": kpi.key,
            "name": kpi.name,
            "unit": kpi.unit,
            "higher_is_better": kpi.higher_is_better,
            "definition": kpi.definition,
            "numerator": [MEASURES[key].name for key in kpi.numerator],
            "denominator": [MEASURES[key].name for key in kpi.denominator],
            "counts_cases": counts_cases(kpi),
        }
        for kpi in kpi_catalogue()
    ]


@router.get(
    "/rankings",
    response={200: RankingsOut} | READ_ERRORS,
    operation_id="ranking_list",
    summary="比拼晾晒",
    description=(
        "按排名规则(加权指标)给辖区内的社区、网格或承办单位打分排名,附红榜、黑榜;"
        "期间内没有事件的不参与排名,列在最后。"
    ),
)
def ranking_list(request: HttpRequest, params: Query[RankingsIn]) -> dict[str, Any]:
    """The ranked table of a level, area and period by a scoring rule."""
    user = _viewer(request)
    period = period_parse(params.period)
    area = _area(user, params.area) or _home(user)
    if params.rule is not None:
        rule = rule_for(user, params.rule)
        if rule.level != params.level:
            raise InvalidInput("该排名规则不是为这一排名对象设置的")
    else:
        found = rules_for(user, params.level).first()
        if found is None:
            raise InvalidInput("该排名对象还没有启用的排名规则")
        rule = found
    rows = ranking_compute(viewer=user, rule=rule, area=area, period=period)
    weights = list(rule.weights.all())
    return {
        "rule": {
            "id": rule.pk,
            "name": rule.name,
            "level": rule.level,
            "street": {"code": rule.street.code, "name": rule.street.name} if rule.street else None,
            "weights": [
                {
                    "kpi": w.kpi,
                    "name": KPIS[w.kpi].name,
                    "weight": w.weight,
                    "higher_is_better": bool(KPIS[w.kpi].higher_is_better),
                    "target": _number(w.target),
                    "floor": _number(w.floor),
                }
                for w in weights
            ],
        },
        "period": _period_out(period),
        "area": {"code": area.code, "name": area.name},
        "scoring": SCORING_RULE,
        "criteria": [
            {
                "kpi": c.kpi.key,
                "name": c.kpi.name,
                "weight": c.weight.weight,
                "method": c.method,
                "mean": _number(c.mean),
                "sigma": _number(c.sigma),
                "spread": _number(c.spread),
                "explanation": c.explanation,
            }
            for c in criteria_of(rows)
        ],
        "rows": [
            {
                "rank": row.rank,
                "code": row.code,
                "name": row.name,
                "score": _number(row.score),
                "intake": row.intake,
                "note": row.note,
                "explanation": row.explanation,
                "figures": [
                    {
                        "kpi": cell.kpi.key,
                        "value": _number(cell.figure.value),
                        "value_text": figure_value_text(cell.figure),
                        "weight": cell.weight.weight,
                        "mark": _number(cell.mark),
                        "score": _number(cell.points),
                        "z": _number(cell.z),
                        "contribution": _number(cell.contribution),
                        "cases_url": cell.link or None,
                    }
                    for cell in row.cells
                ],
            }
            for row in rows
        ],
        "red": [row.code for row in red_list_of(rows, params.size)],
        "black": [row.code for row in black_list(rows, params.size)],
    }
