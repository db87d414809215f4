"""Every figure defined once, as data; docs/figures.md is generated from these declarations.

Three layers:
- `COLUMNS`: what one case counts for as of a moment, read off its progress — the replay of its
  action log up to that moment (`history`). Every event is in the log with its time, so a figure
  is exact as of any moment and a closed period never changes.
- `MEASURES`: a column summed over the cases counted in the period, narrowed by the flow they
  run on; or a count of the log's actions, or of registry records. Every case measure also
  selects the cases a number clicks through to.
- `KPIS`: formulas over measures with a Chinese name, unit and direction.

Counting rules. A case counts in the period of its 受理 (on-the-spot resolutions, merged
duplicates and rejected reports by the moment of their report), once that has happened before
the "as of" moment; what it counts for is what its log says up to that moment.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured

from shanzhi.cases.flows import dispute, hazard
from shanzhi.cases.flows.spec import Kind
from shanzhi.cases.models import Satisfaction
from shanzhi.workdays.calendar import WORK_HOURS_PER_DAY


@dataclass
class Progress:
    """What a case's log says so far (see `history`): the facts every column reads."""

    flow: str
    contactable: bool
    claim_flow: bool
    callback_flow: bool
    state: str = ""
    kind: Kind = Kind.OPEN
    running: bool = False
    unit_id: int | None = None
    due: datetime | None = None
    accepted_at: datetime | None = None
    dispatched: bool = False
    resolved: bool = False
    on_time: bool = True
    minutes: int | None = None
    wait_minutes: int = 0
    on_spot: bool = False
    claims: list[bool] = field(default_factory=list)
    returned: bool = False
    reopened: bool = False
    ratings: list[str] = field(default_factory=list)
    grade: str = ""
    agreement: bool = False
    unperformed: bool = False
    notice_on_time: bool = False
    review_asked: bool = False
    recheck_asked: bool = False
    repeat: bool = False

    @property
    def intake(self) -> bool:
        return (self.on_spot or self.accepted_at is not None) and self.kind not in (
            Kind.REJECTED,
            Kind.MERGED,
        )

    @property
    def counted_resolved(self) -> bool:
        return self.intake and self.resolved

    @property
    def called_back(self) -> bool:
        return self.reachable and bool(self.ratings)

    @property
    def reachable(self) -> bool:
        # Whoever was called back could be reached, phone or not.
        return (
            self.counted_resolved
            and self.callback_flow
            and (self.contactable or bool(self.ratings))
        )

    @property
    def given(self) -> bool:
        """Given to a unit that claims it (签收): flows without a claim step have no claim or
        return to count."""
        return self.intake and self.dispatched and self.claim_flow

    @property
    def registered(self) -> bool:
        return self.accepted_at is not None and self.kind != Kind.MERGED


@dataclass(frozen=True)
class Column:
    """One thing a case counts for (or, `summed`, an amount it adds), as of a moment: read off
    its progress; `overdue` says whether its deadline has passed at that moment. The roll-up
    stores each column's changes (history.Delta); `cases` names the column whose cases a summed
    one clicks through to."""

    key: str
    name: str
    value: Callable[[Progress, bool], int]
    summed: bool = False
    cases: str = ""


def _flag(condition: Callable[[Progress], bool]) -> Callable[[Progress, bool], int]:
    return lambda p, overdue: int(condition(p))


SAT, BASIC, UNSAT = Satisfaction.SATISFIED, Satisfaction.BASICALLY, Satisfaction.UNSATISFIED
_C = Column
COLUMNS: tuple[Column, ...] = (
    _C("intake", "受理", _flag(lambda p: p.intake)),
    _C("resolved", "办结", _flag(lambda p: p.counted_resolved)),
    _C("on_time", "按期办结", _flag(lambda p: p.counted_resolved and p.on_time)),
    _C("late", "超期办结", _flag(lambda p: p.counted_resolved and not p.on_time)),
    _C(
        "open_overdue",
        "超期未办结",
        lambda p, overdue: int(p.intake and not p.resolved and p.running and overdue),
    ),
    _C(
        "handled",
        "有处置用时的办结",
        _flag(lambda p: p.counted_resolved and p.minutes is not None),
    ),
    _C(
        "handling_minutes",
        "处置用时(工作分钟)合计",
        lambda p, overdue: (p.minutes or 0) if p.counted_resolved else 0,
        summed=True,
        cases="handled",
    ),
    _C(
        "wait_minutes",
        "上报至办结的自然时长(分钟)合计",
        lambda p, overdue: p.wait_minutes if p.counted_resolved else 0,
        summed=True,
        cases="resolved",
    ),
    _C("dispatched", "交办", _flag(lambda p: p.given)),
    _C("claim_timely", "按时签收", _flag(lambda p: p.given and bool(p.claims) and all(p.claims))),
    _C("returned", "被退回", _flag(lambda p: p.given and p.returned)),
    _C("reachable", "可回访的办结", _flag(lambda p: p.reachable)),
    _C("called_back", "已回访", _flag(lambda p: p.called_back)),
    _C("satisfied", "满意", _flag(lambda p: p.called_back and p.ratings[-1] == SAT)),
    _C("basically", "基本满意", _flag(lambda p: p.called_back and p.ratings[-1] == BASIC)),
    _C("first_satisfied", "首次回访满意", _flag(lambda p: p.called_back and p.ratings[0] == SAT)),
    _C(
        "first_basically",
        "首次回访基本满意",
        _flag(lambda p: p.called_back and p.ratings[0] == BASIC),
    ),
    _C("unsatisfied_reopened", "不满意重办", _flag(lambda p: p.called_back and UNSAT in p.ratings)),
    _C("reopened", "重办", _flag(lambda p: p.counted_resolved and p.reopened)),
    _C("on_spot", "网格自办", _flag(lambda p: p.intake and p.on_spot)),
    _C(
        "settled",
        "达成调解协议且回访未发现未履行",
        _flag(lambda p: p.counted_resolved and p.agreement and not p.unperformed),
    ),
    _C("major", "重大等级", _flag(lambda p: p.intake and p.grade == hazard.MAJOR)),
    _C(
        "major_resolved",
        "重大等级且办结",
        _flag(lambda p: p.counted_resolved and p.grade == hazard.MAJOR),
    ),
    _C(
        "ungraded",
        "未定级",
        _flag(lambda p: p.intake and p.grade not in hazard.GRADE.choice_values),
    ),
    _C("rejected", "不予受理", _flag(lambda p: p.kind == Kind.REJECTED)),
    _C("merged", "合并(重复件)", _flag(lambda p: p.kind == Kind.MERGED)),
    _C("registered", "已登记", _flag(lambda p: p.registered)),
    _C("notice_on_time", "按期告知", _flag(lambda p: p.registered and p.notice_on_time)),
    _C("review_asked", "申请复查", _flag(lambda p: p.intake and p.review_asked)),
    _C("recheck_asked", "申请复核", _flag(lambda p: p.intake and p.recheck_asked)),
    _C("repeat", "重复信访", _flag(lambda p: p.registered and p.repeat)),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
COLUMN_INDEX = {column.key: i for i, column in enumerate(COLUMNS)}

# Where a measure is counted: the cases (roll-up or direct) or another log, always directly.
CASES, ACTIONS, RESOLUTIONS, ENTERPRISE_VISITS, ENTERPRISES_VISITED = (
    "cases",
    "actions",
    "resolutions",
    "enterprise_visits",
    "enterprises_visited",
)
RESIDENTS_VISITED, CARE_RESIDENTS_VISITED = "residents_visited", "care_residents_visited"
VERIFICATION_ITEMS, VERIFICATION_DONE = "verification_items", "verification_done"
# The kinds whose numbers are cases, so a click on one lists them.
LISTED_KINDS = (CASES, ACTIONS, RESOLUTIONS)


@dataclass(frozen=True)
class Measure:
    """A number a figure is made of: a column of the cases counted in the period (as of the
    figure's moment), of one flow's cases when `flow` is set; or, by `kind`, a count of the log's
    actions (or resolutions) or of registry records."""

    key: str
    name: str
    definition: str
    column: str = ""
    flow: str = ""  # only the cases of this flow
    kind: str = CASES
    action: str = ""  # ACTIONS: the action counted, each time it was taken in the period


DISPUTE, HAZARD, PETITION, ENTERPRISE = dispute.FLOW.key, hazard.FLOW.key, "petition", "enterprise"

_M = Measure
MEASURES: dict[str, Measure] = {
    m.key: m
    for m in [
        _M("intake", "受理量", "期间内受理的事件(就地处置按上报时刻),不含合并与不予受理", "intake"),
        _M(
            "resolved",
            "办结量",
            "受理量中截至统计时刻已办结的(重办件按最后一次办结)",
            "resolved",
        ),
        _M(
            "on_time",
            "按期办结量",
            "办结量中办结时刻不晚于办理时限(含批准延期)的",
            "on_time",
        ),
        _M("late", "超期办结量", "办结量中办结时刻晚于办理时限的", "late"),
        _M(
            "open_overdue",
            "超期未办结量",
            "受理量中截至统计时刻未办结且已过办理时限的",
            "open_overdue",
        ),
        _M("handled", "计时办结量", "办结量中经过交办、有处置用时的", "handled"),
        _M(
            "handling_minutes",
            "处置用时合计(工作分钟)",
            "首次交办至最后一次办结的工作时间之和",
            "handling_minutes",
        ),
        _M("dispatched", "交办量", "受理量中曾交办给承办单位签收的(按需签收的流程)", "dispatched"),
        _M("claim_timely", "及时签收量", "交办量中每次签收都在签收时限内的", "claim_timely"),
        _M("returned", "退回件数", "交办量中至少被退回一次的", "returned"),
        _M(
            "reachable",
            "可回访办结量",
            "须回访的流程中办结、留有电话或账号(或已回访到)的",
            "reachable",
        ),
        _M("called_back", "回访量", "可回访办结量中已回访评价的", "called_back"),
        _M("satisfied", "满意件数", "最后一次回访评价为满意的", "satisfied"),
        _M("basically", "基本满意件数", "最后一次回访评价为基本满意的", "basically"),
        _M("first_satisfied", "首次满意件数", "第一次回访评价为满意的", "first_satisfied"),
        _M(
            "first_basically",
            "首次基本满意件数",
            "第一次回访评价为基本满意的",
            "first_basically",
        ),
        _M(
            "unsatisfied_reopened",
            "不满意重办件数",
            "回访量中曾被评为不满意、因而重办的",
            "unsatisfied_reopened",
        ),
        _M(
            "wait_minutes",
            "上报至办结的自然时长合计(分钟)",
            "上报至(最后一次)办结的自然时间之和",
            "wait_minutes",
        ),
        _M(
            "resolved_in_period",
            "当月办结量",
            "期间内(最后一次)办结的事件,不论何时受理",
            kind=RESOLUTIONS,
        ),
        _M("reopened", "重办件数", "办结量中至少重办一次的", "reopened"),
        _M("on_spot", "网格自办量", "受理量中由网格员就地处置的", "on_spot"),
        _M("disputes", "纠纷受理量", "矛盾纠纷流程受理调解的纠纷", "intake", flow=DISPUTE),
        _M(
            "disputes_settled",
            "纠纷化解量",
            "纠纷受理量中达成调解协议、且履行回访未发现未履行的",
            "settled",
            DISPUTE,
        ),
        _M(
            "hazards",
            "发现隐患数",
            "安全隐患流程中经核实定级的隐患(按核实时刻)",
            "intake",
            flow=HAZARD,
        ),
        _M(
            "hazards_rectified",
            "整改销号隐患数",
            "发现隐患中已复查合格并销号的",
            "resolved",
            HAZARD,
        ),
        _M("major_hazards", "发现重大隐患数", "发现隐患中隐患等级为重大的", "major", flow=HAZARD),
        _M(
            "major_rectified",
            "销号重大隐患数",
            "重大隐患中已复查合格并销号的",
            "major_resolved",
            HAZARD,
        ),
        _M(
            "ungraded_hazards",
            "未定级隐患数",
            "发现隐患中没有记录隐患等级的(不计入一般或重大)",
            "ungraded",
            flow=HAZARD,
        ),
        _M(
            "hazards_overdue",
            "逾期未整改隐患数",
            "发现隐患中截至统计时刻未销号且已过整改期限的",
            "open_overdue",
            HAZARD,
        ),
        _M(
            "reinspections_failed",
            "复查不通过次数",
            "期间内隐患复查不通过的次数(按复查时刻)",
            kind=ACTIONS,
            action="fail_reinspection",
        ),
        _M(
            "petitions",
            "信访受理量",
            "信访流程中登记的信访事项(不含不予受理)",
            "intake",
            flow=PETITION,
        ),
        _M(
            "petitions_registered",
            "信访登记量",
            "信访流程中登记的信访事项(含其后不予受理的)",
            "registered",
            flow=PETITION,
        ),
        _M(
            "petition_notices_on_time",
            "按期告知量",
            "登记之日起15日内告知受理、不予受理或转送的",
            "notice_on_time",
            flow=PETITION,
        ),
        _M(
            "petitions_resolved",
            "信访办结量",
            "信访受理量中截至统计时刻已出具处理意见书的",
            "resolved",
            PETITION,
        ),
        _M(
            "petitions_on_time",
            "信访按期办结量",
            "信访办结量中在办理期限(含批准延期)内出具处理意见书的",
            "on_time",
            PETITION,
        ),
        _M(
            "petitions_reviewed",
            "申请复查量",
            "信访受理量中信访人请求复查的",
            "review_asked",
            flow=PETITION,
        ),
        _M(
            "petitions_rechecked",
            "申请复核量",
            "信访受理量中信访人请求复核的",
            "recheck_asked",
            flow=PETITION,
        ),
        _M(
            "repeat_petitions",
            "重复信访量",
            "信访登记量中与本人已终结信访事项事实和理由相同的",
            "repeat",
            flow=PETITION,
        ),
        _M("enterprise_appeals", "企业诉求量", "企业诉求流程受理的诉求", "intake", flow=ENTERPRISE),
        _M(
            "enterprise_appeals_resolved",
            "企业诉求办结量",
            "企业诉求量中截至统计时刻已答复企业的",
            "resolved",
            ENTERPRISE,
        ),
        _M("rejected", "不予受理数", "期间内上报、不予受理的报告(按上报时刻)", "rejected"),
        _M("merged", "重复件", "期间内上报、作为重复件合并的报告(按上报时刻)", "merged"),
        _M(
            "supervised",
            "督办数",
            "期间内的督办动作次数(按督办时刻),计入当时的承办单位",
            kind=ACTIONS,
            action="supervise",
        ),
        _M("enterprise_visits", "走访企业次数", "期间内对企业的走访记录数", kind=ENTERPRISE_VISITS),
        _M(
            "enterprises_visited",
            "走访企业数",
            "期间内走访过的不同企业数",
            kind=ENTERPRISES_VISITED,
        ),
        _M("residents_visited", "走访居民数", "期间内走访过的不同居民数", kind=RESIDENTS_VISITED),
        _M(
            "care_residents_visited",
            "走访关爱对象数",
            "期间内走访过、带关爱类标签的不同居民数",
            kind=CARE_RESIDENTS_VISITED,
        ),
        _M(
            "verification_items",
            "核查对象数",
            "期间内发布的核查任务中的条目数",
            kind=VERIFICATION_ITEMS,
        ),
        _M(
            "verification_done",
            "已核查数",
            "其中截至统计时刻已核实或已更正的",
            kind=VERIFICATION_DONE,
        ),
    ]
}

COUNT, PERCENT, HOURS, DAYS, NATURAL_DAYS = "件", "%", "工作小时", "工作日", "自然日"
PER_THOUSAND = "件/千件"
AVERAGE_UNITS = (HOURS, DAYS, NATURAL_DAYS)  # a sum over the cases averaged (denominator)


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str
    unit: str
    higher_is_better: bool | None  # None: neither (a volume)
    numerator: tuple[str, ...]  # measure keys, summed
    denominator: tuple[str, ...] = ()
    scale: Decimal = Decimal(1)  # multiply by (100 for a percent)
    definition: str = ""
    divisor: int = 1  # and divide by (60 minutes an hour), kept apart so division is exact
    # (cases lacking the input the figure rests on, the cases it applies to): when every one of
    # them lacks it, the figure was not recorded — 未记录, not 0.
    recorded: tuple[str, str] | None = None
    # The KPIs every surface shows beside this one, so that one word cannot hide another
    # reading (满意率 with 首次满意率 and 不满意重办).
    beside: tuple[str, ...] = ()

    @property
    def is_rate(self) -> bool:
        return self.unit == PERCENT

    @property
    def measures(self) -> tuple[str, ...]:
        return self.numerator + self.denominator + (self.recorded or ())


_HUNDRED = Decimal(100)
_ONE = Decimal(1)

_K = Kpi
KPIS: dict[str, Kpi] = {
    k.key: k
    for k in [
        _K("intake", "受理量", COUNT, None, ("intake",), definition="期间内受理的事件数"),
        _K("resolved", "办结量", COUNT, True, ("resolved",), definition="受理量中已办结的"),
        _K(
            "resolution_rate",
            "办结率",
            PERCENT,
            True,
            ("resolved",),
            ("intake",),
            _HUNDRED,
            "办结量 ÷ 受理量",
        ),
        _K(
            "on_time_rate",
            "按期办结率",
            PERCENT,
            True,
            ("on_time",),
            ("resolved",),
            _HUNDRED,
            "按期办结量 ÷ 办结量",
        ),
        _K(
            "overdue",
            "超期数",
            COUNT,
            False,
            ("late", "open_overdue"),
            definition="超期办结 + 截至统计时刻超期未办结",
        ),
        _K(
            "overdue_per_thousand",
            "每千件超期数",
            PER_THOUSAND,
            False,
            ("late", "open_overdue"),
            ("intake",),
            Decimal(1000),
            "超期数 ÷ 受理量 × 1000:大小不同的社区、网格可以相比",
        ),
        _K(
            "supervised_per_thousand",
            "每千件督办数",
            PER_THOUSAND,
            False,
            ("supervised",),
            ("intake",),
            Decimal(1000),
            "督办次数 ÷ 受理量 × 1000",
        ),
        _K(
            "handling_hours",
            "平均处置时长",
            HOURS,
            False,
            ("handling_minutes",),
            ("handled",),
            _ONE,
            "首次交办至最后一次办结的平均工作小时数(不计周末、法定节假日,计调休上班日)",
            60,
            beside=("wait_days",),
        ),
        _K(
            "handling_days",
            "平均处置时长(工作日)",
            DAYS,
            False,
            ("handling_minutes",),
            ("handled",),
            _ONE,
            f"平均处置工作小时数 ÷ 每个工作日的{WORK_HOURS_PER_DAY}个工作小时",
            60 * WORK_HOURS_PER_DAY,
        ),
        _K(
            "claim_rate",
            "签收及时率",
            PERCENT,
            True,
            ("claim_timely",),
            ("dispatched",),
            _HUNDRED,
            "及时签收量 ÷ 交办量",
        ),
        _K(
            "return_rate",
            "退回率",
            PERCENT,
            False,
            ("returned",),
            ("dispatched",),
            _HUNDRED,
            "退回件数 ÷ 交办量",
        ),
        _K(
            "callback_rate",
            "回访率",
            PERCENT,
            True,
            ("called_back",),
            ("reachable",),
            _HUNDRED,
            "回访量 ÷ 可回访办结量",
        ),
        _K(
            "satisfaction_rate",
            "满意率",
            PERCENT,
            True,
            ("satisfied", "basically"),
            ("called_back",),
            _HUNDRED,
            "(满意 + 基本满意) ÷ 回访量,以每件截至统计时刻的最后一次评价为准",
            beside=("first_satisfaction_rate", "unsatisfied_reopened"),
        ),
        _K(
            "first_satisfaction_rate",
            "首次满意率",
            PERCENT,
            True,
            ("first_satisfied", "first_basically"),
            ("called_back",),
            _HUNDRED,
            "第一次回访评价为满意或基本满意的 ÷ 回访量",
        ),
        _K(
            "unsatisfied_reopened",
            "不满意重办",
            COUNT,
            False,
            ("unsatisfied_reopened",),
            definition="回访中曾被评为不满意、因而重办的事件数",
        ),
        _K(
            "resolved_in_period",
            "当月办结",
            COUNT,
            True,
            ("resolved_in_period",),
            definition="期间内(最后一次)办结的事件数,不论何时受理:趋势图按此计",
        ),
        _K(
            "wait_days",
            "平均办结用时(自然日)",
            NATURAL_DAYS,
            False,
            ("wait_minutes",),
            ("resolved",),
            _ONE,
            "上报至(最后一次)办结的平均自然日数,居民等待的时长",
            60 * 24,
        ),
        _K(
            "strict_satisfaction_rate",
            "满意率(严格)",
            PERCENT,
            True,
            ("satisfied",),
            ("called_back",),
            _HUNDRED,
            "满意 ÷ 回访量",
        ),
        _K(
            "reopen_rate",
            "重办率",
            PERCENT,
            False,
            ("reopened",),
            ("resolved",),
            _HUNDRED,
            "重办件数 ÷ 办结量",
        ),
        _K(
            "on_spot_rate",
            "网格自办率",
            PERCENT,
            True,
            ("on_spot",),
            ("intake",),
            _HUNDRED,
            "网格自办量 ÷ 受理量",
        ),
        _K("disputes", "纠纷受理量", COUNT, None, ("disputes",), definition="受理调解的纠纷数"),
        _K(
            "dispute_rate",
            "化解率",
            PERCENT,
            True,
            ("disputes_settled",),
            ("disputes",),
            _HUNDRED,
            "纠纷化解量 ÷ 纠纷受理量;化解 = 达成调解协议,且履行回访未发现未履行",
        ),
        _K("hazards", "发现隐患数", COUNT, None, ("hazards",), definition="经核实定级的隐患数"),
        _K(
            "hazards_rectified",
            "整改销号隐患数",
            COUNT,
            True,
            ("hazards_rectified",),
            definition="发现隐患中已复查合格并销号的",
        ),
        _K(
            "hazard_rate",
            "隐患整改率",
            PERCENT,
            True,
            ("hazards_rectified",),
            ("hazards",),
            _HUNDRED,
            "整改销号隐患数 ÷ 发现隐患数",
        ),
        _K(
            "major_hazards",
            "发现重大隐患数",
            COUNT,
            None,
            ("major_hazards",),
            definition="隐患等级为重大的隐患数;没有一件记录了等级时为“未记录”",
            recorded=("ungraded_hazards", "hazards"),
        ),
        _K(
            "major_hazard_rate",
            "重大隐患整改率",
            PERCENT,
            True,
            ("major_rectified",),
            ("major_hazards",),
            _HUNDRED,
            "销号重大隐患数 ÷ 发现重大隐患数",
            recorded=("ungraded_hazards", "hazards"),
        ),
        _K(
            "ungraded_hazards",
            "未定级隐患数",
            COUNT,
            False,
            ("ungraded_hazards",),
            definition="没有记录隐患等级的隐患数,不计入一般或重大",
        ),
        _K(
            "hazards_overdue",
            "逾期未整改隐患数",
            COUNT,
            False,
            ("hazards_overdue",),
            definition="截至统计时刻未销号且已过整改期限的隐患数",
        ),
        _K(
            "reinspections_failed",
            "复查不通过次数",
            "次",
            False,
            ("reinspections_failed",),
            definition="期间内隐患复查不通过的次数",
        ),
        _K(
            "petitions",
            "信访受理量",
            COUNT,
            None,
            ("petitions",),
            definition="登记受理的信访事项数",
        ),
        _K(
            "petition_notice_rate",
            "按期受理告知率",
            PERCENT,
            True,
            ("petition_notices_on_time",),
            ("petitions_registered",),
            _HUNDRED,
            "登记之日起15日内告知受理、不予受理或转送的 ÷ 登记的信访事项",
        ),
        _K(
            "petition_resolution_rate",
            "信访办结率",
            PERCENT,
            True,
            ("petitions_resolved",),
            ("petitions",),
            _HUNDRED,
            "信访办结量 ÷ 信访受理量",
        ),
        _K(
            "petition_on_time_rate",
            "信访按期办结率",
            PERCENT,
            True,
            ("petitions_on_time",),
            ("petitions_resolved",),
            _HUNDRED,
            "按期出具处理意见书的 ÷ 信访办结量",
        ),
        _K(
            "petition_review_rate",
            "复查率",
            PERCENT,
            False,
            ("petitions_reviewed",),
            ("petitions_resolved",),
            _HUNDRED,
            "请求复查的 ÷ 已出具处理意见书的",
        ),
        _K(
            "petition_recheck_rate",
            "复核率",
            PERCENT,
            False,
            ("petitions_rechecked",),
            ("petitions_resolved",),
            _HUNDRED,
            "请求复核的 ÷ 已出具处理意见书的",
        ),
        _K(
            "repeat_petitions",
            "重复信访",
            COUNT,
            False,
            ("repeat_petitions",),
            definition="与本人已终结信访事项事实和理由相同的信访",
        ),
        _K(
            "enterprise_appeals",
            "企业诉求量",
            COUNT,
            None,
            ("enterprise_appeals",),
            definition="企业诉求流程受理的诉求数",
        ),
        _K(
            "enterprise_appeal_rate",
            "企业诉求办结率",
            PERCENT,
            True,
            ("enterprise_appeals_resolved",),
            ("enterprise_appeals",),
            _HUNDRED,
            "已答复企业的 ÷ 企业诉求量",
        ),
        _K("supervised", "督办数", COUNT, False, ("supervised",), definition="期间内的督办次数"),
        _K(
            "rejected",
            "不予受理数",
            COUNT,
            None,
            ("rejected",),
            definition="期间内上报、不予受理的报告数",
        ),
        _K(
            "merged",
            "重复件",
            COUNT,
            None,
            ("merged",),
            definition="期间内上报、合并到其他事件的重复件数",
        ),
        _K(
            "enterprise_visits",
            "走访企业次数",
            "次",
            True,
            ("enterprise_visits",),
            definition="期间内走访企业的次数",
        ),
        _K(
            "enterprises_visited",
            "走访企业数",
            "家",
            True,
            ("enterprises_visited",),
            definition="期间内走访过的企业数",
        ),
        _K(
            "residents_visited",
            "走访居民数",
            "人",
            True,
            ("residents_visited",),
            definition="期间内走访过的居民数",
        ),
        _K(
            "care_residents_visited",
            "走访关爱对象数",
            "人",
            True,
            ("care_residents_visited",),
            definition="期间内走访过的关爱对象人数",
        ),
        _K(
            "verification_rate",
            "核查完成率",
            PERCENT,
            True,
            ("verification_done",),
            ("verification_items",),
            _HUNDRED,
            "已核查数 ÷ 核查对象数(期间内发布的核查任务)",
        ),
    ]
}

_undeclared = sorted(
    {key for kpi in KPIS.values() for key in kpi.beside if key not in KPIS}
    | {key for kpi in KPIS.values() for key in kpi.measures if key not in MEASURES}
)
if _undeclared:
    raise ImproperlyConfigured(f"指标引用了未声明的指标或统计量:{'、'.join(_undeclared)}")


# 民生实事 and 志愿服务 (participation) ----------------------------------------------------------
# Counted straight from the participation app's tables (see
# shanzhi.participation.selectors.participation_count), by the place of what is counted: a
# project's, an activity's, a volunteer's area; a round's for its ballots and voters; a partner
# unit's street. Amounts that are not whole are counted in tenths of an hour and in fen, so that
# the KPIs scale them back exactly.
from shanzhi.participation import selectors as _participation  # noqa: E402

PARTICIPATION_KINDS = frozenset(_participation.PARTICIPATION_KINDS)
_PARTICIPATION_MEASURES = [
    _M(
        "lp_chosen",
        "票决产生民生实事项目数",
        "期间内公布结果、经居民议事会票决当选的民生实事项目",
        kind=_participation.ROUNDS_CHOSEN,
    ),
    _M(
        "lp_completed",
        "完成民生实事项目数",
        "期间内状态变为完成(如“已完成”)的民生实事项目",
        kind=_participation.ROUNDS_COMPLETED,
    ),
    _M(
        "lp_on_schedule",
        "按期完成民生实事项目数",
        "完成民生实事项目中完成日期不晚于计划完成日期的",
        kind=_participation.ROUNDS_ON_SCHEDULE,
    ),
    _M(
        "lp_ballots",
        "票决投票数",
        "期间内居民议事会票决投出的选票(手机投票与双人录入的纸质选票)",
        kind=_participation.ROUNDS_BALLOTS,
    ),
    _M(
        "lp_voters",
        "票决应到代表数",
        "期间内有投票的轮次登记的议事会成员和人大代表",
        kind=_participation.ROUNDS_VOTERS,
    ),
    _M(
        "volunteers_serving",
        "参与服务志愿者数",
        "期间内开始的活动中现场签到的不同志愿者",
        kind=_participation.VOLUNTEERS_SERVING,
    ),
    _M(
        "volunteer_activities",
        "志愿服务活动数",
        "期间内开始的志愿服务活动",
        kind=_participation.VOLUNTEER_ACTIVITIES,
    ),
    _M(
        "volunteer_services",
        "志愿服务人次",
        "期间内开始的活动中现场签到的人次",
        kind=_participation.VOLUNTEER_SERVICES,
    ),
    _M(
        "volunteer_tenths",
        "志愿服务时长(0.1小时)",
        "志愿服务人次计入的时长之和,以0.1小时计",
        kind=_participation.VOLUNTEER_TENTHS,
    ),
    _M(
        "points_earned",
        "发放积分",
        "期间内积分流水中增加的积分(参加活动与补录调整)",
        kind=_participation.POINTS_EARNED,
    ),
    _M(
        "points_spent",
        "兑换积分",
        "期间内兑换礼品扣减的积分",
        kind=_participation.POINTS_SPENT,
    ),
    _M(
        "exchange_fen",
        "兑换价值(分)",
        "期间内兑换礼品的等价金额之和,以分计",
        kind=_participation.EXCHANGE_FEN,
    ),
    _M(
        "partners",
        "共建单位数",
        "截至期末加入积分兑换资源库的共建单位",
        kind=_participation.PARTNERS,
    ),
]
MEASURES.update({m.key: m for m in _PARTICIPATION_MEASURES})

HOUR_UNIT, POINT_UNIT, YUAN = "小时", "分", "元"
_PARTICIPATION_KPIS = [
    _K(
        "lp_chosen",
        "票决民生实事项目",
        "个",
        None,
        ("lp_chosen",),
        definition="期间内经居民议事会票决产生的民生实事项目数",
    ),
    _K(
        "lp_completed",
        "完成民生实事项目",
        "个",
        True,
        ("lp_completed",),
        definition="期间内完成的民生实事项目数",
    ),
    _K(
        "lp_on_schedule_rate",
        "民生实事按期完成率",
        PERCENT,
        True,
        ("lp_on_schedule",),
        ("lp_completed",),
        _HUNDRED,
        "按期完成的 ÷ 完成的民生实事项目",
    ),
    _K(
        "lp_ballots",
        "票决投票数",
        "张",
        None,
        ("lp_ballots",),
        definition="期间内票决投出的选票数",
    ),
    _K(
        "lp_turnout",
        "票决参与率",
        PERCENT,
        True,
        ("lp_ballots",),
        ("lp_voters",),
        _HUNDRED,
        "投票数 ÷ 登记的票决代表数(期间内有投票的轮次)",
    ),
    _K(
        "volunteers_serving",
        "参与服务志愿者",
        "人",
        True,
        ("volunteers_serving",),
        definition="期间内参加活动并签到的志愿者人数",
    ),
    _K(
        "volunteer_activities",
        "志愿服务活动",
        "场",
        True,
        ("volunteer_activities",),
        definition="期间内开展的志愿服务活动场次",
    ),
    _K(
        "volunteer_services",
        "志愿服务人次",
        "次",
        True,
        ("volunteer_services",),
        definition="期间内志愿者签到参加服务的人次",
    ),
    _K(
        "volunteer_hours",
        "志愿服务时长",
        HOUR_UNIT,
        True,
        ("volunteer_tenths",),
        scale=Decimal("0.1"),
        definition="签到人次计入的服务时长之和",
    ),
    _K(
        "points_earned",
        "发放积分",
        POINT_UNIT,
        None,
        ("points_earned",),
        definition="期间内发放的积分",
    ),
    _K(
        "points_spent",
        "兑换积分",
        POINT_UNIT,
        None,
        ("points_spent",),
        definition="期间内兑换礼品使用的积分",
    ),
    _K(
        "exchange_value",
        "兑换价值",
        YUAN,
        None,
        ("exchange_fen",),
        scale=Decimal("0.01"),
        definition="期间内兑换礼品的等价优惠金额",
    ),
    _K(
        "partners",
        "共建单位",
        "家",
        None,
        ("partners",),
        definition="截至期末加入积分兑换资源库的共建单位数",
    ),
]
KPIS.update({k.key: k for k in _PARTICIPATION_KPIS})
PARTICIPATION_KPIS = tuple(k.key for k in _PARTICIPATION_KPIS)

_undeclared = sorted(
    {key for kpi in _PARTICIPATION_KPIS for key in kpi.measures if key not in MEASURES}
)
if _undeclared:
    raise ImproperlyConfigured(f"指标引用了未声明的统计量:{'、'.join(_undeclared)}")
