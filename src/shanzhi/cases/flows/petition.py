"""信访: registered (channel; the petitioner's name, address, request, facts and reasons; a
collective visit names at most five representatives) → within 15 days told of acceptance
(受理告知), refused with the reason (不予受理) or forwarded to the competent organ (转送) → handled
→ a written opinion (处理意见书: 支持 / 解释说明 / 不予支持, with facts and legal basis) within 60
days of acceptance, extendable once by up to 30 days with approval and a notice to the petitioner
→ served (the date is recorded; later windows run from it) → 复查 asked within 30 days → 复查意见
within 30 days → 复核 asked within 30 days → 复核意见 within 30 days → 终结. A petition repeating a
concluded one on the same facts and reasons is flagged (依规不再受理).

《信访工作条例》(2022).
"""

from collections.abc import Callable
from datetime import timedelta
from difflib import SequenceMatcher

from django.utils import timezone

from shanzhi.cases.errors import InvalidInput, TransitionRefused
from shanzhi.cases.models import Case, CaseAction

from . import common as c
from .spec import (
    ClockSpec,
    DocumentSpec,
    Expiry,
    Flow,
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
    extend,
    options,
    start,
    stop,
)

REGISTER = Queue("petition_notice", "信访待告知")
SERVE = Queue("petition_serve", "信访待送达")
HANDLING = Queue("petition_handling", "信访办理中")
MAX_REPRESENTATIVES = 5
# How alike two petitions' facts and reasons must read to be "the same facts and reasons".
REPEAT_SIMILARITY = 0.6
SERVED_ON = Input("served_on", InputKind.DATE, "送达日期")
SERVED_BY = Input(
    "served_by", InputKind.CHOICE, "送达方式", choices=options("直接送达", "邮寄送达", "电子送达")
)
OPEN = ("reported", "registered", "handling", "reviewing", "rechecking")


def _same_person(case: Case, other: Case) -> bool:
    name = str(case.extra.get("petitioner") or case.reporter_name).strip()
    other_name = str(other.extra.get("petitioner") or other.reporter_name).strip()
    if case.reporter_phone and case.reporter_phone == other.reporter_phone:
        return True
    return bool(name) and name == other_name


def _grounds(extra: dict[str, object]) -> str:
    return f"{extra.get('request', '')}\n{extra.get('facts', '')}\n{extra.get('reasons', '')}"


def _repeat_flag(step: Step) -> None:
    """A concluded petition of the same petitioner on the same facts and reasons makes this one
    a repeat (重复信访): flagged for the desk, which then refuses it."""
    case = step.case
    grounds = _grounds(step.values)
    earlier = Case.objects.filter(
        street_id=case.street_id, flow=FLOW.key, state__in=("concluded", "rejected")
    ).exclude(pk=case.pk)
    for other in earlier.order_by("-reported_at")[:200]:
        if not _same_person(case, other):
            continue
        if SequenceMatcher(None, grounds, _grounds(other.extra)).ratio() >= REPEAT_SIMILARITY:
            case.extra = {**case.extra, "repeat_of": other.number}
            step.data["repeat_of"] = other.number
            return


def _extension_check(step: Step) -> None:
    if step.case.extension_count:
        raise TransitionRefused("办理期限只能延长一次")


def _ask_extension(step: Step) -> None:
    due = step.case.handle_due_at
    if due is None:
        raise TransitionRefused("该信访事项没有办理期限")
    days = int(step.values["days"])
    step.case.extension_requested_until = due + timedelta(days=days)
    step.case.extension_reason = step.values["reason"]
    step.data["requested_until"] = step.case.extension_requested_until.isoformat()


def _served_check(step: Step) -> None:
    served = step.values["served_on"]
    issued = c.earlier(step, "issue_opinion")
    if served > timezone.localdate(step.moment):
        raise InvalidInput("送达日期不能晚于今天")
    if issued is not None and served < timezone.localdate(issued.created_at):
        raise InvalidInput("送达日期不能早于出具意见的日期")


def _conclude(by: str) -> Callable[[Step], None]:
    def effect(step: Step) -> None:
        step.case.extra = {**step.case.extra, "concluded_by": by}

    return effect


def _petitioner(case: Case) -> str:
    return str(case.extra.get("petitioner") or case.reporter_name or "信访人")


def _notice(case: Case, row: CaseAction) -> list[Paragraph]:
    """受理告知书."""
    received = timezone.localtime(case.reported_at)
    return [
        Paragraph("信访人", _petitioner(case)),
        Paragraph(
            "告知事项",
            f"你于{received:%Y年%m月%d日}提出的信访事项(请求:{case.extra.get('request', '')}),"
            f"经审查,本机关依法予以受理,交由{row.to_unit.name if row.to_unit else '有关单位'}办理,"
            "将自受理之日起60日内办结,并出具书面处理意见。",
        ),
        Paragraph("说明", row.note),
        Paragraph("依据", "《信访工作条例》"),
    ]


def _refusal(case: Case, row: CaseAction) -> list[Paragraph]:
    """不予受理告知书."""
    received = timezone.localtime(case.reported_at)
    return [
        Paragraph("信访人", _petitioner(case)),
        Paragraph(
            "告知事项",
            f"你于{received:%Y年%m月%d日}提出的信访事项,经审查,不予受理。",
        ),
        Paragraph("理由", row.note),
        Paragraph("依据", "《信访工作条例》"),
    ]


def _opinion(case: Case, row: CaseAction) -> list[Paragraph]:
    """信访事项处理意见书."""
    data = row.data or {}
    return [
        Paragraph("信访人", _petitioner(case)),
        Paragraph("信访请求", str(case.extra.get("request", ""))),
        Paragraph("认定的事实", str(data.get("opinion_facts", ""))),
        Paragraph("法律政策依据", str(data.get("legal_basis", ""))),
        Paragraph("处理意见", f"{data.get('decision', '')}。{row.note}"),
        Paragraph(
            "复查告知",
            "信访人对处理意见不服的,可以自收到本意见书之日起30日内请求原办理机关的上一级机关复查。",
        ),
    ]


FLOW = Flow(
    key="petition",
    label="信访",
    basis="《信访工作条例》(2022)",
    summary=(
        "登记(来信、来访、电话、网络;姓名、住址、请求、事实、理由;多人走访推选代表不超过5人)→ "
        "15日内受理告知、不予受理(说明理由)或转送有权处理的机关 → 办理 → 自受理之日起60日内"
        "出具处理意见书(支持、解释说明或不予支持,写明事实与依据),经批准可延长一次、不超过"
        "30日并告知信访人 → 送达(记录送达日期,其后期限自送达日起算)→ 30日内可请求复查 → "
        "复查机关30日内出具复查意见 → 30日内可请求复核 → 复核机关30日内出具复核意见 → 终结。"
        "与已终结信访事项事实和理由相同的新信访,登记时标为重复信访。期限的最后一日为节假日的,"
        "顺延至节假日后的第一个工作日。"
    ),
    states=(
        StateSpec(
            "reported", "待登记", public="已收到,等待登记", waits=(Wait("dispatcher", c.REPORTED),)
        ),
        StateSpec(
            "registered",
            "已登记",
            public="已登记,等待受理告知",
            clocks=("notice",),
            waits=(Wait("dispatcher", REGISTER),),
        ),
        StateSpec("rejected", "不予受理", Kind.REJECTED),
        StateSpec(
            "forwarded", "已转送", Kind.CLOSED, public="已转送有权处理的机关", clocks=("objection",)
        ),
        StateSpec(
            "handling",
            "办理中",
            public="已受理,正在办理",
            clocks=("handle",),
            waits=(
                Wait("unit_handler", HANDLING),
                Wait("dispatcher", c.EXTENSION, c.EXTENSION_PENDING),
                Wait("leader", c.EXTENSION, c.EXTENSION_PENDING),
            ),
        ),
        StateSpec(
            "opinion_issued",
            "意见书待送达",
            Kind.RESOLVED,
            public="已出具处理意见书",
            waits=(Wait("dispatcher", SERVE),),
        ),
        StateSpec(
            "served", "已送达", Kind.RESOLVED, public="处理意见书已送达", clocks=("review_window",)
        ),
        StateSpec(
            "reviewing",
            "复查中",
            public="复查中",
            clocks=("review",),
            waits=(Wait("unit_handler", HANDLING),),
        ),
        StateSpec(
            "reviewed",
            "复查意见已送达",
            Kind.RESOLVED,
            public="复查意见已送达",
            clocks=("recheck_window",),
        ),
        StateSpec(
            "rechecking",
            "复核中",
            public="复核中",
            clocks=("recheck",),
            waits=(Wait("unit_handler", HANDLING),),
        ),
        StateSpec("concluded", "已终结", Kind.CLOSED, public="信访事项已终结"),
        StateSpec("merged", "已合并", Kind.MERGED),
    ),
    clocks=(
        ClockSpec(
            "notice",
            "受理告知期限",
            Span(15, Per.DAYS),
            remind=("dispatchers",),
            basis="收到信访事项之日起15日内告知是否受理",
        ),
        ClockSpec(
            "objection",
            "转送异议期限",
            Span(5, Per.WORKDAYS),
            basis="对转送有异议的,5个工作日内提出",
        ),
        ClockSpec(
            "handle",
            "办理期限",
            Span(60, Per.DAYS),
            mirror="handle",
            remind=("unit",),
            expiry=Expiry("supervise", {"requirement": "信访事项已超过办理期限,系统自动督办"}),
            basis="自受理之日起60日内办结;情况复杂的,经批准可延长,不超过30日",
        ),
        ClockSpec(
            "review_window",
            "复查申请期限",
            Span(30, Per.DAYS),
            expiry=Expiry("conclude", {"reason": "送达之日起30日内未请求复查,信访事项终结"}),
            basis="收到处理意见之日起30日内可请求复查",
        ),
        ClockSpec(
            "review",
            "复查期限",
            Span(30, Per.DAYS),
            remind=("unit",),
            basis="收到复查请求之日起30日内提出复查意见",
        ),
        ClockSpec(
            "recheck_window",
            "复核申请期限",
            Span(30, Per.DAYS),
            expiry=Expiry(
                "conclude", {"reason": "复查意见送达之日起30日内未请求复核,信访事项终结"}
            ),
            basis="收到复查意见之日起30日内可请求复核",
        ),
        ClockSpec(
            "recheck",
            "复核期限",
            Span(30, Per.DAYS),
            remind=("unit",),
            basis="收到复核请求之日起30日内提出复核意见",
        ),
    ),
    transitions=(
        TransitionSpec(
            "register",
            "登记",
            ("reported",),
            "registered",
            c.DISPATCHERS,
            inputs=(
                Input(
                    "petition_form",
                    InputKind.CHOICE,
                    "信访形式",
                    choices=options("来信", "来访", "网上信访", "电话"),
                    keep=True,
                    initial=lambda case: case.extra.get("petition_form"),
                ),
                Input(
                    "petitioner",
                    InputKind.TEXT,
                    "信访人姓名",
                    max_length=50,
                    keep=True,
                    initial=lambda case: case.reporter_name,
                ),
                Input("petitioner_address", InputKind.TEXT, "住址", max_length=200, keep=True),
                Input("request", InputKind.LONGTEXT, "信访请求", keep=True),
                Input("facts", InputKind.LONGTEXT, "事实", keep=True),
                Input("reasons", InputKind.LONGTEXT, "理由", keep=True),
                Input(
                    "representatives",
                    InputKind.LINES,
                    "走访代表(每行一人)",
                    required=False,
                    max_items=MAX_REPRESENTATIVES,
                    max_length=50,
                    keep=True,
                    help=f"多人走访的,推选代表不超过{MAX_REPRESENTATIVES}人",
                ),
            ),
            effect=_repeat_flag,
            clocks=(start("notice"),),
            marks=("accepted",),
            public="已登记",
            summary="与本人已终结信访事项事实和理由相同的,标为重复信访。",
        ),
        TransitionSpec(
            "notify_accept",
            "受理告知",
            ("registered",),
            "handling",
            c.DISPATCHERS,
            inputs=(
                Input("notice", InputKind.LONGTEXT, "告知说明", required=False),
                Input("unit", InputKind.UNIT, "办理单位"),
            ),
            assigns="unit",
            check=c.check_unit,
            clocks=(stop("notice", record="notice_on_time"), start("handle")),
            marks=("dispatched",),
            tell=Tell(("unit",), "信访事项交办"),
            public="已受理",
            summary="同时生成受理告知书。",
        ),
        TransitionSpec(
            "refuse",
            "不予受理",
            ("registered",),
            "rejected",
            c.DISPATCHERS,
            inputs=(c.REASON,),
            clocks=(stop("notice", record="notice_on_time"),),
            public="不予受理",
            public_note=True,
            summary="同时生成不予受理告知书。",
        ),
        TransitionSpec(
            "forward",
            "转送",
            ("registered",),
            "forwarded",
            c.DISPATCHERS,
            inputs=(
                Input("organ", InputKind.TEXT, "转送机关", max_length=100, keep=True),
                c.REASON,
            ),
            clocks=(stop("notice", record="notice_on_time"), start("objection")),
            public="已转送有权处理的机关",
            public_note=True,
        ),
        TransitionSpec(
            "object",
            "转送异议",
            ("forwarded",),
            "registered",
            c.DISPATCHERS,
            inputs=(Input("objection", InputKind.LONGTEXT, "信访人的异议"),),
            check=c.within("objection", "已超过转送异议期限(5个工作日)"),
            clocks=(stop("objection"), start("notice")),
            public="对转送提出异议,重新审查",
        ),
        TransitionSpec(
            "ask_extension",
            "申请延长办理期限",
            ("handling",),
            None,
            c.UNIT_HANDLERS,
            inputs=(c.days("days", "延长天数", maximum=30), c.REASON),
            guard=c.NO_EXTENSION_PENDING,
            check=_extension_check,
            effect=_ask_extension,
            tell=Tell(("dispatchers",), "信访申请延期"),
        ),
        TransitionSpec(
            "grant_extension",
            "批准延期并告知信访人",
            ("handling",),
            None,
            c.DISPATCHERS_AND_LEADERS,
            inputs=(Input("notice", InputKind.LONGTEXT, "告知信访人的内容"),),
            guard=c.EXTENSION_PENDING,
            effect=c.approve_extension,
            derives=("due_at",),
            clocks=(extend("handle", due="due_at"),),
            tell=Tell(("unit",), "延期已批准"),
        ),
        c.deny_extension_step("handling"),
        TransitionSpec(
            "issue_opinion",
            "出具处理意见书",
            ("handling",),
            "opinion_issued",
            c.UNIT_HANDLERS,
            inputs=(
                Input("opinion", InputKind.LONGTEXT, "处理意见"),
                Input(
                    "decision",
                    InputKind.CHOICE,
                    "处理结论",
                    choices=options("支持", "解释说明", "不予支持"),
                    keep=True,
                ),
                Input("opinion_facts", InputKind.LONGTEXT, "认定的事实"),
                Input("legal_basis", InputKind.LONGTEXT, "法律政策依据"),
            ),
            resolution="opinion",
            clocks=(stop("handle", record="on_time"),),
            marks=("resolved",),
            tell=Tell(("dispatchers",), "信访意见书待送达"),
            public="已出具处理意见书",
            public_note=True,
            summary="同时生成处理意见书。",
        ),
        TransitionSpec(
            "serve",
            "送达",
            ("opinion_issued",),
            "served",
            c.DISPATCHERS,
            inputs=(SERVED_ON, SERVED_BY),
            check=_served_check,
            clocks=(start("review_window", since="served_on"),),
            public="处理意见书已送达",
            summary="复查申请期限自送达之日起算。",
        ),
        TransitionSpec(
            "request_review",
            "申请复查",
            ("served",),
            "reviewing",
            c.DISPATCHERS,
            inputs=(
                Input("review_request", InputKind.LONGTEXT, "复查请求"),
                Input("unit", InputKind.UNIT, "复查机关"),
            ),
            assigns="unit",
            check=c.checks(
                c.check_unit, c.within("review_window", "已超过复查申请期限(送达之日起30日)")
            ),
            clocks=(stop("review_window"), start("review")),
            tell=Tell(("unit",), "信访复查"),
            public="已申请复查",
        ),
        TransitionSpec(
            "issue_review",
            "出具复查意见",
            ("reviewing",),
            "reviewed",
            c.UNIT_HANDLERS,
            inputs=(
                Input("review_opinion", InputKind.LONGTEXT, "复查意见"),
                Input(
                    "review_decision",
                    InputKind.CHOICE,
                    "复查结论",
                    choices=options("维持", "撤销", "变更"),
                    keep=True,
                ),
                SERVED_ON,
            ),
            check=c.not_after_today("served_on", "送达日期"),
            clocks=(
                stop("review", record="review_on_time"),
                start("recheck_window", since="served_on"),
            ),
            public="已出具复查意见",
            public_note=True,
        ),
        TransitionSpec(
            "request_recheck",
            "申请复核",
            ("reviewed",),
            "rechecking",
            c.DISPATCHERS,
            inputs=(
                Input("recheck_request", InputKind.LONGTEXT, "复核请求"),
                Input("unit", InputKind.UNIT, "复核机关"),
            ),
            assigns="unit",
            check=c.checks(
                c.check_unit, c.within("recheck_window", "已超过复核申请期限(送达之日起30日)")
            ),
            clocks=(stop("recheck_window"), start("recheck")),
            tell=Tell(("unit",), "信访复核"),
            public="已申请复核",
        ),
        TransitionSpec(
            "issue_recheck",
            "出具复核意见",
            ("rechecking",),
            "concluded",
            c.UNIT_HANDLERS,
            inputs=(Input("recheck_opinion", InputKind.LONGTEXT, "复核意见"), SERVED_ON),
            check=c.not_after_today("served_on", "送达日期"),
            effect=_conclude("复核"),
            clocks=(stop("recheck", record="recheck_on_time"),),
            public="已出具复核意见,信访事项终结",
            public_note=True,
        ),
        TransitionSpec(
            "conclude",
            "终结",
            ("served", "reviewed"),
            "concluded",
            frozenset({"dispatcher", "system"}),
            inputs=(c.REASON,),
            effect=_conclude("期限届满或信访人服从"),
            clocks=(stop("review_window"), stop("recheck_window")),
            public="信访事项终结",
            summary="复查、复核申请期限届满未提出的,由系统终结。",
        ),
        c.supervise_step(OPEN),
        c.merge_step(("reported",)),
    ),
    documents=(
        DocumentSpec("acceptance_notice", "信访事项受理告知书", "notify_accept", _notice),
        DocumentSpec("refusal_notice", "信访事项不予受理告知书", "refuse", _refusal),
        DocumentSpec("opinion", "信访事项处理意见书", "issue_opinion", _opinion),
    ),
)
