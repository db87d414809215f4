"""矛盾纠纷 / 人民调解: applied for or taken up on the mediators' own initiative → accepted (or
refused, e.g. when a party refuses mediation) → mediating, session by session (date, mediator,
parties present, record), aimed at 30 days, paused while waiting for a party → an agreement with
the law's fields (the parties; the main facts, the matters in dispute and each party's
responsibility; the terms; the manner and time of performance), or mediation ended with the parties
told of their other channels → the follow-up on performance → closed. Judicial confirmation may be
noted within 30 days of the agreement.

《中华人民共和国人民调解法》(2010) arts. 17, 22, 26, 28–33.
"""

from collections.abc import Callable

from django.db.models import Q
from django.utils import timezone

from shanzhi.cases.models import Case, CaseAction

from . import common as c
from .spec import (
    ClockSpec,
    DocumentSpec,
    Expiry,
    Flow,
    Guard,
    Input,
    InputKind,
    Kind,
    Paragraph,
    Per,
    Queue,
    Span,
    StateSpec,
    Step,
    Tell,
    TransitionSpec,
    Wait,
    options,
    resume,
    start,
    stop,
    suspend,
)

MEDIATING = Queue("mediating", "调解中")
FOLLOW_UP = Queue("dispute_follow_up", "调解协议待回访")
PARTIES = Input(
    "parties",
    InputKind.LINES,
    "当事人(每行一方:姓名、性别、年龄、住址或单位)",
    max_length=200,
    keep=True,
    initial=lambda case: case.extra.get("parties") or case.reporter_name,
)
OTHER_CHANNELS = "已告知当事人可以依法通过仲裁、行政、司法等途径维护自己的权利"
OPEN = ("reported", "mediating", "paused")
NOT_CONFIRMED = Guard(
    label="尚未记录司法确认",
    refusal="已记录司法确认",
    test=lambda case: not case.extra.get("court"),
    q=lambda: Q(extra__court__isnull=True) | Q(extra__court=""),
)
AGREED, UNPERFORMED = "协议", "未履行"


def _outcome(outcome: str) -> Callable[[Step], None]:
    def effect(step: Step) -> None:
        step.case.extra = {**step.case.extra, "mediation_outcome": outcome}

    return effect


def _agreement(case: Case, row: CaseAction) -> list[Paragraph]:
    """人民调解协议书, with the fields of 人民调解法 art. 29."""
    data = row.data or {}
    parties = data.get("parties") or case.extra.get("parties") or []
    if isinstance(parties, str):
        parties = [parties]
    signed = timezone.localtime(row.created_at)
    return [
        Paragraph("当事人", ";".join(str(party) for party in parties)),
        Paragraph("纠纷主要事实、争议事项及各方当事人的责任", str(data.get("facts", ""))),
        Paragraph("当事人达成调解协议的内容", row.note),
        Paragraph("履行方式、期限", str(data.get("performance", ""))),
        Paragraph(
            "效力",
            "本协议自各方当事人签名、盖章或者按指印,人民调解员签名并加盖人民调解委员会印章之日起"
            "生效。经人民调解委员会调解达成的调解协议,具有法律约束力,当事人应当按照约定履行。"
            "当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。",
        ),
        Paragraph("调解组织", row.to_unit.name if row.to_unit else ""),
        Paragraph("日期", f"{signed:%Y年%m月%d日}"),
    ]


FLOW = Flow(
    key="dispute",
    label="矛盾纠纷",
    basis="《中华人民共和国人民调解法》(2010)第十七条、第二十二条、第二十六条、第二十八至三十三条",
    summary=(
        "当事人申请或调解组织主动调解 → 受理(当事人一方明确拒绝调解的,不予受理)→ 调解中,"
        "逐次记录调解(日期、调解员、到场当事人、记录),一般在30日内调结,等待当事人时可中止计时"
        " → 达成调解协议(载明当事人基本情况,纠纷主要事实、争议事项及各方责任,协议内容,履行"
        "方式与期限;生成协议书),或终止调解并告知当事人其他救济途径 → 履行回访 → 结案。协议"
        "生效之日起30日内可申请司法确认。"
    ),
    states=(
        StateSpec(
            "reported", "待受理", public="已收到,等待受理", waits=(Wait("dispatcher", c.REPORTED),)
        ),
        StateSpec("rejected", "不予受理", Kind.REJECTED),
        StateSpec(
            "mediating",
            "调解中",
            public="正在调解",
            clocks=("mediation",),
            waits=(Wait("unit_handler", MEDIATING),),
        ),
        StateSpec(
            "paused",
            "中止调解",
            public="调解暂停,等待当事人",
            waits=(Wait("unit_handler", MEDIATING),),
        ),
        StateSpec(
            "agreed",
            "已达成协议",
            Kind.RESOLVED,
            public="已达成调解协议",
            clocks=("confirmation",),
            waits=(Wait("unit_handler", FOLLOW_UP),),
        ),
        StateSpec("terminated", "调解终止", Kind.CLOSED, public="调解终止"),
        StateSpec("closed", "已结案", Kind.CLOSED, public="已结案"),
        StateSpec("merged", "已合并", Kind.MERGED),
    ),
    clocks=(
        ClockSpec(
            "mediation",
            "调解期限",
            Span(30, Per.DAYS),
            mirror="handle",
            remind=("unit",),
            expiry=Expiry("supervise", {"requirement": "纠纷调解已超过30日,系统自动督办"}),
            basis="调解一般在受理之日起30日内完成;等待当事人期间中止计时",
        ),
        ClockSpec(
            "confirmation",
            "司法确认申请期限",
            Span(30, Per.DAYS),
            basis="人民调解法第三十三条:自调解协议生效之日起30日内共同申请司法确认",
        ),
    ),
    transitions=(
        TransitionSpec(
            "accept_mediation",
            "受理调解",
            ("reported",),
            "mediating",
            c.DISPATCHERS,
            inputs=(
                Input("dispute", InputKind.LONGTEXT, "纠纷简要情况"),
                Input(
                    "mediation_kind",
                    InputKind.CHOICE,
                    "调解方式",
                    choices=options("当事人申请", "主动调解"),
                    keep=True,
                ),
                PARTIES,
                Input("unit", InputKind.UNIT, "调解组织"),
                Input("mediator", InputKind.TEXT, "人民调解员", max_length=50, keep=True),
            ),
            assigns="unit",
            check=c.check_unit,
            clocks=(start("mediation"),),
            marks=("accepted", "dispatched"),
            tell=Tell(("unit",), "纠纷交调解"),
            public="已受理调解",
        ),
        c.reject_step(summary="如一方当事人明确拒绝调解。"),
        TransitionSpec(
            "record_session",
            "调解记录",
            ("mediating",),
            None,
            c.UNIT_HANDLERS,
            inputs=(
                Input("minutes", InputKind.LONGTEXT, "调解记录"),
                Input("session_on", InputKind.DATE, "调解日期"),
                Input("present", InputKind.TEXT, "到场当事人", max_length=200),
                Input("mediator", InputKind.TEXT, "人民调解员", max_length=50),
            ),
            check=c.not_after_today("session_on", "调解日期"),
        ),
        TransitionSpec(
            "pause",
            "中止调解",
            ("mediating",),
            "paused",
            c.UNIT_HANDLERS,
            inputs=(c.REASON,),
            clocks=(suspend("mediation"),),
            summary="等待当事人(如补充材料、听证)期间,调解期限中止计算。",
        ),
        TransitionSpec(
            "resume",
            "恢复调解",
            ("paused",),
            "mediating",
            c.UNIT_HANDLERS,
            inputs=(c.NOTE,),
            clocks=(resume("mediation"),),
        ),
        TransitionSpec(
            "reach_agreement",
            "达成协议",
            ("mediating",),
            "agreed",
            c.UNIT_HANDLERS,
            inputs=(
                Input("terms", InputKind.LONGTEXT, "协议内容"),
                PARTIES,
                Input("facts", InputKind.LONGTEXT, "纠纷主要事实、争议事项及各方责任"),
                Input("performance", InputKind.LONGTEXT, "履行方式与期限"),
            ),
            resolution="terms",
            effect=_outcome(AGREED),
            clocks=(stop("mediation", record="on_time"), start("confirmation")),
            marks=("resolved",),
            public="已达成调解协议",
            summary="同时生成人民调解协议书。",
        ),
        TransitionSpec(
            "terminate",
            "终止调解",
            ("mediating", "paused"),
            "terminated",
            c.UNIT_HANDLERS,
            inputs=(
                Input("reason", InputKind.LONGTEXT, "终止原因"),
                Input(
                    "channels",
                    InputKind.LONGTEXT,
                    "告知的其他途径",
                    initial=lambda case: OTHER_CHANNELS,
                ),
            ),
            effect=_outcome("终止"),
            clocks=(stop("mediation", record="on_time"),),
            marks=("resolved",),
            public="调解终止",
            public_note=True,
        ),
        TransitionSpec(
            "judicial_confirmation",
            "司法确认",
            ("agreed",),
            None,
            c.UNIT_HANDLERS,
            inputs=(
                Input("court", InputKind.TEXT, "人民法院", max_length=100, keep=True),
                Input("confirmed_on", InputKind.DATE, "申请日期", keep=True),
            ),
            guard=NOT_CONFIRMED,
            check=c.checks(
                c.not_after_today("confirmed_on", "申请日期"),
                c.within("confirmation", "已超过司法确认申请期限(协议生效之日起30日)"),
            ),
            summary="记录当事人共同申请司法确认的法院和日期;期限至履行回访时停止。",
        ),
        TransitionSpec(
            "follow_up",
            "履行回访",
            ("agreed",),
            "closed",
            c.UNIT_HANDLERS,
            inputs=(
                Input(
                    "performed",
                    InputKind.CHOICE,
                    "履行情况",
                    choices=options("已履行", "部分履行", UNPERFORMED),
                    keep=True,
                ),
                c.SATISFACTION,
                c.NOTE,
            ),
            rates="satisfaction",
            clocks=(stop("confirmation"),),
            public="已回访协议履行情况",
        ),
        c.supervise_step(OPEN),
        c.merge_step(("reported",)),
    ),
    documents=(DocumentSpec("agreement", "人民调解协议书", "reach_agreement", _agreement),),
)
