"""安全隐患: found → verified and graded (一般 / 重大) → ordered to rectify by a deadline chosen for
this hazard (整改通知书) → rectifying → re-inspection asked with after-photos → passed and signed
off (销号), or failed and back to rectifying with a new deadline. A 重大 hazard is also put under
listed supervision (挂牌督办, with the 五落实: responsible leader, measures, funds, deadline and
contingency plan) until it is signed off (摘牌). Inspection records are signed by the inspector and
the unit, or the unit's refusal to sign is recorded.

《中华人民共和国安全生产法》(2021) arts. 41, 65, 68, 75.
"""

from django.db.models import Q
from django.utils import timezone

from shanzhi.cases.errors import InvalidInput, MissingInput
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
    Queue,
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

MAJOR = "重大"
GRADE = Input(
    "hazard_grade",
    InputKind.CHOICE,
    "隐患等级",
    choices=options("一般", MAJOR),
    keep=True,
    initial=lambda case: case.extra.get("hazard_grade"),
)
SIGNATURE = Input(
    "signature",
    InputKind.CHOICE,
    "被检查单位签字",
    choices=(("signed", "被检查单位负责人已签字"), ("refused", "被检查单位拒绝签字")),
)
REFUSAL = Input("refusal", InputKind.LONGTEXT, "拒签情况", required=False, help="拒绝签字时必填")
DEADLINE = Input("rectify_deadline", InputKind.DATE, "整改期限")

VERIFY = Queue("hazard_verify", "隐患待核实")
ORDER = Queue("hazard_order", "隐患待交办整改")
RECTIFYING = Queue("hazard_rectifying", "隐患整改中")
REVIEW = Queue("hazard_review", "隐患待复查")

MAJOR_NOT_LISTED = Guard(
    label="重大隐患且尚未挂牌",
    refusal="只有尚未挂牌督办的重大隐患可以挂牌督办",
    test=lambda case: case.extra.get("hazard_grade") == MAJOR and not case.extra.get("listed"),
    q=lambda: Q(extra__hazard_grade=MAJOR) & ~Q(extra__listed=True),
)
INSPECTORS = frozenset({"dispatcher", "leader"})
OPEN = ("reported", "graded", "rectifying", "reviewing")


def _signed(step: Step) -> None:
    if step.values.get("signature") == "refused" and not step.values.get("refusal"):
        raise MissingInput("被检查单位拒绝签字的,须记录拒签情况(时间、在场人员、理由)")


def _deadline_ahead(step: Step) -> None:
    deadline = step.values.get("rectify_deadline")
    if deadline is not None and deadline <= timezone.localdate(step.moment):
        raise InvalidInput("整改期限须晚于今天")


def _grade_check(step: Step) -> None:
    _signed(step)


def _order_check(step: Step) -> None:
    c.check_unit(step)
    _deadline_ahead(step)


def _review_failed_check(step: Step) -> None:
    _signed(step)
    _deadline_ahead(step)


def _extend_check(step: Step) -> None:
    _deadline_ahead(step)
    due = step.case.handle_due_at
    new = step.values["rectify_deadline"]
    if due is not None and new <= timezone.localdate(due):
        raise InvalidInput("新的整改期限须晚于原整改期限")


def _list(step: Step) -> None:
    step.case.extra = {**step.case.extra, "listed": True}


def _sign_off(step: Step) -> None:
    if step.case.extra.get("listed"):
        # 摘牌: listed supervision ends with the sign-off.
        step.case.extra = {
            **step.case.extra,
            "delisted_on": timezone.localdate(step.moment).isoformat(),
        }
        step.data["delisted"] = True


def _notice(case: Case, row: CaseAction) -> list[Paragraph]:
    """整改通知书: what was found, what must be done, by when, under which law."""
    data = row.data or {}
    place = case.address or case.area.name
    subject = case.extra.get("subject") or place
    return [
        Paragraph("被检查单位(场所)", str(subject)),
        Paragraph("地点", place),
        Paragraph("隐患情况", case.description),
        Paragraph("隐患等级", str(case.extra.get("hazard_grade") or "未定级")),
        Paragraph("检查项目", str(case.extra.get("checklist_item") or "")),
        Paragraph("整改要求", row.note),
        Paragraph("整改期限", f"请于{data.get('rectify_deadline', '')}前整改完毕,并申请复查。"),
        Paragraph("督促整改单位", row.to_unit.name if row.to_unit else ""),
        Paragraph(
            "依据",
            "《中华人民共和国安全生产法》第四十一条、第六十五条。逾期未整改或整改不合格的,"
            "依法责令停产停业整顿并予以处罚。",
        ),
    ]


def _inspection_inputs(record_label: str) -> tuple[Input, ...]:
    return (
        Input("record", InputKind.LONGTEXT, record_label),
        Input("inspector", InputKind.TEXT, "检查人员", max_length=100),
        SIGNATURE,
        REFUSAL,
    )


FLOW = Flow(
    key="hazard",
    label="安全隐患",
    basis="《中华人民共和国安全生产法》(2021)第四十一条、第六十五条、第六十八条、第七十五条",
    summary=(
        "发现 → 核实定级(一般/重大)→ 下达整改通知书、限期整改(期限逐件确定)→ 整改中 → "
        "申请复查(附整改后照片)→ 复查通过销号,或复查不通过、重新限期整改。重大隐患另行挂牌督办"
        "(落实责任、措施、资金、时限、预案),销号时摘牌。检查与复查记录由检查人员和被检查单位"
        "签字,拒绝签字的记录在案。"
    ),
    states=(
        StateSpec(
            "reported", "待核实", public="已收到,等待核实", waits=(Wait("dispatcher", VERIFY),)
        ),
        StateSpec("rejected", "不予立案", Kind.REJECTED, public="经核实不属于安全隐患"),
        StateSpec(
            "graded", "已定级", public="已核实,等待交办整改", waits=(Wait("dispatcher", ORDER),)
        ),
        StateSpec(
            "rectifying",
            "整改中",
            public="正在整改",
            clocks=("rectify",),
            waits=(Wait("unit_handler", RECTIFYING),),
        ),
        StateSpec(
            "reviewing", "待复查", public="整改完成,等待复查", waits=(Wait("dispatcher", REVIEW),)
        ),
        StateSpec("signed_off", "已销号", Kind.CLOSED, public="已整改销号"),
        StateSpec("merged", "已合并", Kind.MERGED),
    ),
    clocks=(
        ClockSpec(
            "rectify",
            "整改期限",
            None,
            mirror="handle",
            remind=("unit",),
            expiry=Expiry("supervise", {"requirement": "隐患已超过整改期限,系统自动督办"}),
            basis="安全生产法第六十五条:责令限期整改;期限由检查人员逐件确定",
        ),
    ),
    transitions=(
        TransitionSpec(
            "grade",
            "核实定级",
            ("reported",),
            "graded",
            INSPECTORS,
            inputs=(
                GRADE,
                Input("checklist_item", InputKind.TEXT, "检查项目", max_length=200, keep=True),
                *_inspection_inputs("检查记录"),
                Input(
                    "subject",
                    InputKind.RECORD,
                    "隐患所在企业或设施",
                    required=False,
                    choices=(("enterprise", "企业"), ("facility", "设施")),
                    keep=True,
                    help="统一社会信用代码或设施编号",
                ),
            ),
            check=_grade_check,
            effect=c.link_record("subject"),
            marks=("accepted",),
            public="已核实定级",
        ),
        c.reject_step("不予立案", who=INSPECTORS, public="经核实不属于安全隐患"),
        TransitionSpec(
            "order",
            "交办整改",
            ("graded",),
            "rectifying",
            INSPECTORS,
            inputs=(Input("orders", InputKind.LONGTEXT, "整改要求"), c.UNIT, DEADLINE),
            assigns="unit",
            check=_order_check,
            clocks=(start("rectify", due="rectify_deadline"),),
            marks=("dispatched",),
            tell=Tell(("unit",), "隐患限期整改"),
            public="已下达整改通知",
            summary="同时生成整改通知书。",
        ),
        TransitionSpec(
            "list_supervision",
            "挂牌督办",
            ("graded", "rectifying", "reviewing"),
            None,
            frozenset({"leader"}),
            inputs=(
                Input("listed_leader", InputKind.TEXT, "督办责任领导", max_length=100, keep=True),
                Input("listed_measures", InputKind.LONGTEXT, "整改措施", keep=True),
                Input("listed_funds", InputKind.NUMBER, "整改资金(万元)", keep=True),
                Input("listed_deadline", InputKind.DATE, "整改时限", keep=True),
                Input("contingency", InputKind.LONGTEXT, "应急预案", keep=True),
            ),
            guard=MAJOR_NOT_LISTED,
            effect=_list,
            tell=Tell(("unit",), "重大隐患挂牌督办"),
            summary="重大隐患落实责任、措施、资金、时限、预案(五落实),销号时摘牌。",
        ),
        TransitionSpec(
            "extend_deadline",
            "延长整改期限",
            ("rectifying",),
            None,
            INSPECTORS,
            inputs=(DEADLINE, c.REASON),
            check=_extend_check,
            clocks=(extend("rectify", due="rectify_deadline"),),
            tell=Tell(("unit",), "整改期限延长"),
        ),
        TransitionSpec(
            "request_reinspection",
            "申请复查",
            ("rectifying",),
            "reviewing",
            frozenset({"unit_handler", "grid_worker"}),
            inputs=(
                Input("rectification", InputKind.LONGTEXT, "整改情况"),
                c.photos("整改后照片", required=True),
            ),
            clocks=(stop("rectify", record="rectified_on_time"),),
            tell=Tell(("dispatchers",), "隐患申请复查"),
            public="整改完成,申请复查",
        ),
        TransitionSpec(
            "pass_reinspection",
            "复查通过并销号",
            ("reviewing",),
            "signed_off",
            INSPECTORS,
            inputs=_inspection_inputs("复查记录"),
            check=_signed,
            resolution="record",
            effect=_sign_off,
            marks=("resolved",),
            tell=Tell(("unit",), "隐患已销号"),
            public="复查合格,已销号",
            public_note=True,
        ),
        TransitionSpec(
            "fail_reinspection",
            "复查不通过",
            ("reviewing",),
            "rectifying",
            INSPECTORS,
            inputs=(*_inspection_inputs("复查记录"), DEADLINE),
            check=_review_failed_check,
            clocks=(start("rectify", due="rectify_deadline"),),
            tell=Tell(("unit",), "隐患复查不通过"),
            public="复查未通过,继续整改",
        ),
        c.supervise_step(OPEN),
        c.merge_step(("reported",)),
    ),
    documents=(DocumentSpec("rectification_notice", "隐患整改通知书", "order", _notice),),
)
