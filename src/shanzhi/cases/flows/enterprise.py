"""企业诉求: collected at a visit (走访) or reported → accepted and dispatched, linked to the
enterprise in the registry → claimed → handled → replied to the enterprise → the enterprise's
evaluation → closed; 不满意 sends it back to the unit (重办): 收集-反馈-解决."""

from shanzhi.cases.errors import MissingInput
from shanzhi.registry.models import CaseLink

from . import common as c
from .spec import (
    Branch,
    ClockSpec,
    Expiry,
    Flow,
    Input,
    InputKind,
    Kind,
    Queue,
    StateSpec,
    Step,
    Tell,
    Then,
    TransitionSpec,
    TypeLimit,
    Wait,
    start,
    stop,
)

RATING = Queue("enterprise_rating", "企业诉求待评价")
OPEN = ("reported", "dispatched", "in_progress")


def _enterprise_known(step: Step) -> None:
    c.check_unit(step)
    linked = CaseLink.objects.filter(case=step.case, enterprise__isnull=False).exists()
    if step.values.get("enterprise") is None and not linked:
        raise MissingInput("请填写提出诉求的企业(统一社会信用代码)")


FLOW = Flow(
    key="enterprise",
    label="企业诉求",
    summary=(
        "走访中收集或企业反映 → 受理交办(关联登记库中的企业)→ 签收 → 办理 → 答复企业 → "
        "企业评价 → 办结;企业不满意的,交回原单位重办。"
    ),
    states=(
        StateSpec(
            "reported", "待受理", public="已收到,等待受理", waits=(Wait("dispatcher", c.REPORTED),)
        ),
        StateSpec("rejected", "不予受理", Kind.REJECTED),
        StateSpec(
            "dispatched",
            "已交办",
            public="已交办承办单位,等待签收",
            clocks=("claim", "handle"),
            waits=(Wait("unit_handler", c.CLAIM),),
        ),
        StateSpec(
            "in_progress",
            "办理中",
            public="承办单位正在办理",
            clocks=("handle",),
            waits=(
                Wait("unit_handler", c.HANDLING),
                Wait("dispatcher", c.EXTENSION, c.EXTENSION_PENDING),
                Wait("leader", c.EXTENSION, c.EXTENSION_PENDING),
            ),
        ),
        StateSpec(
            "replied",
            "已答复",
            Kind.RESOLVED,
            public="已答复企业",
            waits=(Wait("dispatcher", RATING),),
        ),
        StateSpec("closed", "已办结", Kind.CLOSED),
        StateSpec("merged", "已合并", Kind.MERGED),
    ),
    clocks=(
        ClockSpec("claim", "签收时限", TypeLimit("claim"), mirror="claim"),
        ClockSpec(
            "handle",
            "办理时限",
            TypeLimit("handle"),
            mirror="handle",
            remind=("unit",),
            expiry=Expiry("supervise", {"requirement": "企业诉求已超过办理时限,系统自动督办"}),
            basis="事项清单设定",
        ),
    ),
    transitions=(
        TransitionSpec(
            "dispatch_appeal",
            "受理交办",
            ("reported",),
            "dispatched",
            c.DISPATCHERS,
            inputs=(
                Input(
                    "enterprise",
                    InputKind.RECORD,
                    "企业",
                    required=False,
                    choices=(("enterprise", "企业"),),
                    help="统一社会信用代码;走访中转来的诉求已关联企业,可不填",
                ),
                c.UNIT,
                c.NOTE,
            ),
            assigns="unit",
            check=_enterprise_known,
            effect=c.link_record("enterprise"),
            clocks=(start("claim"), start("handle")),
            marks=("accepted", "dispatched"),
            tell=Tell(("unit",), "企业诉求交办"),
            public="已受理并交办",
        ),
        c.reject_step(),
        c.claim_step(("dispatched",), "in_progress"),
        c.return_step(("dispatched", "in_progress"), "reported"),
        c.request_extension_step("in_progress"),
        c.approve_extension_step("in_progress"),
        c.deny_extension_step("in_progress"),
        TransitionSpec(
            "reply",
            "答复企业",
            ("in_progress",),
            "replied",
            c.UNIT_HANDLERS,
            inputs=(
                Input("reply", InputKind.LONGTEXT, "答复内容"),
                Input("measures", InputKind.LONGTEXT, "解决措施", required=False),
            ),
            resolution="reply",
            clocks=(stop("handle", record="on_time"),),
            marks=("resolved",),
            tell=Tell(("dispatchers",), "企业诉求已答复待评价"),
            public="已答复企业",
            public_note=True,
        ),
        TransitionSpec(
            "evaluate",
            "企业评价",
            ("replied",),
            "closed",
            frozenset({"dispatcher", "system"}),
            inputs=(c.SATISFACTION, c.NOTE),
            rates="satisfaction",
            branches=(Branch("replied", "不满意时不办结", c.unsatisfied),),
            then=Then("reopen", "不满意时交回原单位重办", c.unsatisfied, c.reopen_inputs),
            public="企业评价",
        ),
        TransitionSpec(
            "reopen",
            "重办",
            ("replied",),
            "dispatched",
            frozenset({"dispatcher", "system"}),
            inputs=(c.REASON,),
            effect=c.redispatch,
            clocks=(start("claim"), start("handle")),
            tell=Tell(("unit",), "企业诉求重办"),
            public="重新办理",
        ),
        c.supervise_step(OPEN),
        c.merge_step(("reported",)),
    ),
)
