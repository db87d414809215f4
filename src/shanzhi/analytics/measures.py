"""Every figure defined once, as data; docs/figures.md is generated from these declarations.

Three layers:
- `COLUMNS`: conditions over one case that do not depend on the moment figures are counted at.
  The daily roll-up stores, for each key, how many of its cases meet each one (or a sum).
- `MEASURES`: a column, narrowed by the dimensions a case shares with its roll-up row (e.g. the
  flow it runs on) and placed in time by `when` — resolved before the moment, or open past its
  deadline at the moment. Every measure also selects the cases a number clicks through to.
  Measures of other kinds count actions of the log (督办, 复查不通过) or registry records.
- `KPIS`: formulas over measures with a Chinese name, unit and direction.

Counting rules. A case counts in the period of its 受理 (on-the-spot resolutions, merged
duplicates and rejected reports by the moment of their report) and only if that moment lies
before the "as of" moment. Only 受理, the last resolution and the handling deadline are placed in
time; every other property (claims, returns, callback, rating, reopen) is the case's record as it
stands, the same for the roll-up and the direct count.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q

from shanzhi.cases.flows import dispute, flows_with_callback, flows_with_claim, hazard, states_of
from shanzhi.cases.models import CaseAction, Satisfaction
from shanzhi.workdays.calendar import WORK_HOURS_PER_DAY

NOT_TAKEN_UP = sorted(states_of("rejected", "merged"))
# What a case counts by: its report for these, its acceptance otherwise.
REPORT_COUNTED = Q(on_spot=True) | Q(state__in=NOT_TAKEN_UP)


def counted_between(lo: datetime, hi: datetime) -> Q:
    """Cases whose counting moment lies in [lo, hi)."""
    by_report = REPORT_COUNTED & Q(reported_at__gte=lo, reported_at__lt=hi)
    by_acceptance = ~REPORT_COUNTED & Q(accepted_at__gte=lo, accepted_at__lt=hi)
    return by_report | by_acceptance


@dataclass(frozen=True)
class Column:
    key: str  # also the field of CaseDay that stores it
    name: str
    q: Q
    sum_of: str = ""  # sum this Case field over the cases instead of counting them


def _logged(action: str, **data: object) -> Q:
    """Whether the case's log has a row of `action` (with these data values)."""
    rows = CaseAction.objects.filter(case=OuterRef("pk"), action=action)
    return Q(Exists(rows.filter(**{f"data__{k}": v for k, v in data.items()})))


_claims = CaseAction.objects.filter(case=OuterRef("pk"), action="claim")
INTAKE = ~Q(state__in=NOT_TAKEN_UP) & (Q(on_spot=True) | Q(accepted_at__isnull=False))
RESOLVED = INTAKE & Q(resolved_at__isnull=False)
# Given to a unit that claims it (签收); flows without a claim step have no claim or return.
DISPATCHED = INTAKE & Q(dispatched_at__isnull=False) & Q(flow__in=flows_with_claim())
# Only flows that ask for a verdict call anyone back.
REACHABLE = (
    RESOLVED
    & Q(flow__in=flows_with_callback())
    & (~Q(reporter_phone="") | Q(reporter__isnull=False))
)
CALLED_BACK = REACHABLE & ~Q(satisfaction="")
MAJOR = INTAKE & Q(extra__hazard_grade=hazard.MAJOR)
# A registered petition counts even if it was then refused: the notice was owed all the same.
REGISTERED = Q(accepted_at__isnull=False) & ~Q(state__in=states_of("merged"))

COLUMNS: tuple[Column, ...] = (
    Column("intake", "受理", INTAKE),
    Column("resolved", "办结", RESOLVED),
    Column(
        "on_time",
        "按期办结",
        RESOLVED & (Q(handle_due_at__isnull=True) | Q(resolved_at__lte=F("handle_due_at"))),
    ),
    Column("late", "超期办结", RESOLVED & Q(resolved_at__gt=F("handle_due_at"))),
    Column("due_set", "有办理时限", INTAKE & Q(handle_due_at__isnull=False)),
    Column("handled", "有处置用时的办结", RESOLVED & Q(handling_minutes__isnull=False)),
    Column(
        "handling_minutes",
        "处置用时(工作分钟)合计",
        RESOLVED & Q(handling_minutes__isnull=False),
        sum_of="handling_minutes",
    ),
    Column("dispatched", "交办", DISPATCHED),
    Column(
        "claim_timely",
        "按时签收",
        DISPATCHED
        & Q(Exists(_claims.filter(data__claim_on_time=True)))
        & ~Q(Exists(_claims.filter(data__claim_on_time=False))),
    ),
    Column("returned", "被退回", DISPATCHED & Q(return_count__gt=0)),
    Column("reachable", "可回访的办结", REACHABLE),
    Column("called_back", "已回访", CALLED_BACK),
    Column("satisfied", "满意", CALLED_BACK & Q(satisfaction=Satisfaction.SATISFIED)),
    Column("basically", "基本满意", CALLED_BACK & Q(satisfaction=Satisfaction.BASICALLY)),
    Column("reopened", "重办", RESOLVED & Q(reopen_count__gt=0)),
    Column("on_spot", "网格自办", INTAKE & Q(on_spot=True)),
    Column(
        "settled",
        "达成调解协议且回访未发现未履行",
        RESOLVED & _logged("reach_agreement") & ~Q(extra__performed=dispute.UNPERFORMED),
    ),
    Column("major", "重大等级", MAJOR),
    Column("major_resolved", "重大等级且办结", MAJOR & Q(resolved_at__isnull=False)),
    Column("ungraded", "未定级", INTAKE & ~Q(extra__hazard_grade__in=hazard.GRADE.choice_values)),
    Column("rejected", "不予受理", Q(state__in=states_of("rejected"))),
    Column("merged", "合并(重复件)", Q(state__in=states_of("merged"))),
    Column("registered", "已登记", REGISTERED),
    Column(
        "notice_on_time",
        "按期告知",
        REGISTERED
        & (
            _logged("notify_accept", notice_on_time=True)
            | _logged("refuse", notice_on_time=True)
            | _logged("forward", notice_on_time=True)
        ),
    ),
    Column("review_asked", "申请复查", INTAKE & _logged("request_review")),
    Column("recheck_asked", "申请复核", INTAKE & _logged("request_recheck")),
    Column(
        "repeat",
        "重复信访",
        REGISTERED & Q(extra__repeat_of__isnull=False) & ~Q(extra__repeat_of=""),
    ),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}

# How a measure is placed in time relative to the "as of" moment.
ANY, RESOLVED_BEFORE, OPEN_PAST_DUE = "", "resolved", "open_past_due"
# Where a measure is counted: the cases (roll-up or direct) or another log, always directly.
CASES, ACTIONS, ENTERPRISE_VISITS, ENTERPRISES_VISITED = (
    "cases",
    "actions",
    "enterprise_visits",
    "enterprises_visited",
)
RESIDENTS_VISITED, CARE_RESIDENTS_VISITED = "residents_visited", "care_residents_visited"
VERIFICATION_ITEMS, VERIFICATION_DONE = "verification_items", "verification_done"


@dataclass(frozen=True)
class Measure:
    key: str
    name: str
    definition: str
    column: str = ""
    when: str = ANY
    # On lookups a case and its roll-up row share (case_type__…), so both paths filter alike.
    dims: Q = field(default_factory=Q)
    kind: str = CASES
    action: str = ""  # ACTIONS: the action counted, each time it was taken in the period


def when_q(when: str, moment: datetime) -> Q:
    """The time condition of a measure over raw cases."""
    if when == RESOLVED_BEFORE:
        return Q(resolved_at__lt=moment)
    if when == OPEN_PAST_DUE:
        return (Q(resolved_at__isnull=True) | Q(resolved_at__gte=moment)) & Q(
            handle_due_at__lt=moment
        )
    return Q()


def when_q_days(when: str, day: date) -> Q:
    """The same condition over roll-up rows, for a moment that is the local midnight of `day`."""
    if when == RESOLVED_BEFORE:
        return Q(resolved_day__lt=day)
    if when == OPEN_PAST_DUE:
        return (Q(resolved_day__isnull=True) | Q(resolved_day__gte=day)) & Q(due_day__lt=day)
    return Q()


DISPUTE = Q(flow=dispute.FLOW.key)
HAZARD = Q(flow=hazard.FLOW.key)
PETITION = Q(flow="petition")
ENTERPRISE = Q(flow="enterprise")

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
            RESOLVED_BEFORE,
        ),
        _M(
            "on_time",
            "按期办结量",
            "办结量中办结时刻不晚于办理时限(含批准延期)的",
            "on_time",
            RESOLVED_BEFORE,
        ),
        _M("late", "超期办结量", "办结量中办结时刻晚于办理时限的", "late", RESOLVED_BEFORE),
        _M(
            "open_overdue",
            "超期未办结量",
            "受理量中截至统计时刻未办结且已过办理时限的",
            "due_set",
            OPEN_PAST_DUE,
        ),
        _M("handled", "计时办结量", "办结量中经过交办、有处置用时的", "handled", RESOLVED_BEFORE),
        _M(
            "handling_minutes",
            "处置用时合计(工作分钟)",
            "首次交办至最后一次办结的工作时间之和",
            "handling_minutes",
            RESOLVED_BEFORE,
        ),
        _M("dispatched", "交办量", "受理量中曾交办给承办单位签收的(按需签收的流程)", "dispatched"),
        _M("claim_timely", "及时签收量", "交办量中每次签收都在签收时限内的", "claim_timely"),
        _M("returned", "退回件数", "交办量中至少被退回一次的", "returned"),
        _M(
            "reachable",
            "可回访办结量",
            "办结量中留有电话或账号、能回访到上报人的",
            "reachable",
            RESOLVED_BEFORE,
        ),
        _M(
            "called_back",
            "回访量",
            "可回访办结量中已回访评价的(以最后一次评价为准)",
            "called_back",
            RESOLVED_BEFORE,
        ),
        _M("satisfied", "满意件数", "回访评价为满意的", "satisfied", RESOLVED_BEFORE),
        _M("basically", "基本满意件数", "回访评价为基本满意的", "basically", RESOLVED_BEFORE),
        _M("reopened", "重办件数", "办结量中至少重办一次的", "reopened", RESOLVED_BEFORE),
        _M("on_spot", "网格自办量", "受理量中由网格员就地处置的", "on_spot"),
        _M("disputes", "纠纷受理量", "矛盾纠纷流程受理调解的纠纷", "intake", dims=DISPUTE),
        _M(
            "disputes_settled",
            "纠纷化解量",
            "纠纷受理量中达成调解协议、且履行回访未发现未履行的",
            "settled",
            RESOLVED_BEFORE,
            DISPUTE,
        ),
        _M(
            "hazards",
            "发现隐患数",
            "安全隐患流程中经核实定级的隐患(按核实时刻)",
            "intake",
            dims=HAZARD,
        ),
        _M(
            "hazards_rectified",
            "整改销号隐患数",
            "发现隐患中已复查合格并销号的",
            "resolved",
            RESOLVED_BEFORE,
            HAZARD,
        ),
        _M("major_hazards", "发现重大隐患数", "发现隐患中隐患等级为重大的", "major", dims=HAZARD),
        _M(
            "major_rectified",
            "销号重大隐患数",
            "重大隐患中已复查合格并销号的",
            "major_resolved",
            RESOLVED_BEFORE,
            HAZARD,
        ),
        _M(
            "ungraded_hazards",
            "未定级隐患数",
            "发现隐患中没有记录隐患等级的(不计入一般或重大)",
            "ungraded",
            dims=HAZARD,
        ),
        _M(
            "hazards_overdue",
            "逾期未整改隐患数",
            "发现隐患中截至统计时刻未销号且已过整改期限的",
            "due_set",
            OPEN_PAST_DUE,
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
            dims=PETITION,
        ),
        _M(
            "petitions_registered",
            "信访登记量",
            "信访流程中登记的信访事项(含其后不予受理的)",
            "registered",
            dims=PETITION,
        ),
        _M(
            "petition_notices_on_time",
            "按期告知量",
            "登记之日起15日内告知受理、不予受理或转送的",
            "notice_on_time",
            dims=PETITION,
        ),
        _M(
            "petitions_resolved",
            "信访办结量",
            "信访受理量中截至统计时刻已出具处理意见书的",
            "resolved",
            RESOLVED_BEFORE,
            PETITION,
        ),
        _M(
            "petitions_on_time",
            "信访按期办结量",
            "信访办结量中在办理期限(含批准延期)内出具处理意见书的",
            "on_time",
            RESOLVED_BEFORE,
            PETITION,
        ),
        _M(
            "petitions_reviewed",
            "申请复查量",
            "信访受理量中信访人请求复查的",
            "review_asked",
            dims=PETITION,
        ),
        _M(
            "petitions_rechecked",
            "申请复核量",
            "信访受理量中信访人请求复核的",
            "recheck_asked",
            dims=PETITION,
        ),
        _M(
            "repeat_petitions",
            "重复信访量",
            "信访登记量中与本人已终结信访事项事实和理由相同的",
            "repeat",
            dims=PETITION,
        ),
        _M("enterprise_appeals", "企业诉求量", "企业诉求流程受理的诉求", "intake", dims=ENTERPRISE),
        _M(
            "enterprise_appeals_resolved",
            "企业诉求办结量",
            "企业诉求量中截至统计时刻已答复企业的",
            "resolved",
            RESOLVED_BEFORE,
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

COUNT, PERCENT, HOURS, DAYS = "件", "%", "小时", "工作日"


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

    @property
    def is_rate(self) -> bool:
        return self.unit == PERCENT

    @property
    def measures(self) -> tuple[str, ...]:
        return self.numerator + self.denominator


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
            "handling_hours",
            "平均处置时长",
            HOURS,
            False,
            ("handling_minutes",),
            ("handled",),
            _ONE,
            "首次交办至最后一次办结的平均工作小时数(不计周末、法定节假日,计调休上班日)",
            60,
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
            "(满意 + 基本满意) ÷ 回访量",
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
            definition="隐患等级为重大的隐患数",
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
