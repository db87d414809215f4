"""The general flow (通用流程): every matter without a specialised flow, and every report whose
type is not yet known. 收集 → 受理 → 交办 → 签收 → 办结 → 回访 → 归档, with 退回, 转办, 上报, 延期,
督办, 重办, 合并 and 就地处置 (小事不出网格)."""

from shanzhi.cases.errors import MissingInput, TransitionRefused
from shanzhi.cases.models import HandlingLevel, State

from . import common as c
from .spec import (
    Branch,
    ClockSpec,
    Expiry,
    Flow,
    Input,
    InputKind,
    Kind,
    StateSpec,
    Step,
    Tell,
    Then,
    TransitionSpec,
    TypeLimit,
    Wait,
    cancel,
    start,
    stop,
)

S = State
AUTO_SUPERVISION = "已超过办理时限,系统自动督办"
OPEN = (S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS)


def _resolve_check(step: Step) -> None:
    if not step.values.get("evidence") and not step.values.get("photos"):
        raise MissingInput("办结需要填写:办理凭证(照片或文字说明)")


def _resolve_on_spot(step: Step) -> None:
    from . import flow_for_type

    case, case_type = step.case, step.values["case_type"]
    if case_type.street_id != case.street_id:
        raise TransitionRefused("该事项类型不属于本街道")
    flow = flow_for_type(case_type)
    if flow.key != FLOW.key:
        raise TransitionRefused(f"“{case_type.name}”按“{flow.label}”流程办理,不能就地处置")
    case.case_type, case.level, case.on_spot = case_type, HandlingLevel.GRID, True


FLOW = Flow(
    key="general",
    label="通用流程",
    summary=(
        "没有专项流程的事项,以及尚未确定类型的上报,都按通用流程办理。受理时选定的事项类型若"
        "属于专项流程(安全隐患、信访、矛盾纠纷、企业诉求),事件即转入该流程,从其第一步办起。"
    ),
    states=(
        StateSpec(
            S.REPORTED,
            "待受理",
            public="已收到,等待受理",
            waits=(Wait("dispatcher", c.REPORTED), Wait("grid_worker", c.REPORTED)),
        ),
        StateSpec(S.REJECTED, "不予受理", Kind.REJECTED),
        StateSpec(
            S.ACCEPTED, "已受理", public="已受理,等待交办", waits=(Wait("dispatcher", c.ACCEPTED),)
        ),
        StateSpec(
            S.DISPATCHED,
            "已交办",
            public="已交办承办单位,等待签收",
            clocks=("claim", "handle"),
            waits=(Wait("unit_handler", c.CLAIM),),
        ),
        StateSpec(
            S.IN_PROGRESS,
            "处置中",
            public="承办单位正在处置",
            clocks=("handle",),
            waits=(
                Wait("unit_handler", c.HANDLING),
                Wait("dispatcher", c.EXTENSION, c.EXTENSION_PENDING),
                Wait("leader", c.EXTENSION, c.EXTENSION_PENDING),
            ),
        ),
        StateSpec(S.RESOLVED, "已办结", Kind.RESOLVED, waits=(Wait("dispatcher", c.CALLBACK),)),
        StateSpec(S.ARCHIVED, "已归档", Kind.CLOSED),
        StateSpec(S.MERGED, "已合并", Kind.MERGED),
    ),
    clocks=(
        ClockSpec("claim", "签收时限", TypeLimit("claim"), mirror="claim"),
        ClockSpec(
            "handle",
            "办理时限",
            TypeLimit("handle"),
            mirror="handle",
            remind=("unit",),
            expiry=Expiry("supervise", {"requirement": AUTO_SUPERVISION}),
            basis="事项清单按工作日(紧急事项按自然小时)设定",
        ),
    ),
    transitions=(
        TransitionSpec(
            "accept",
            "受理",
            (S.REPORTED,),
            S.ACCEPTED,
            c.DISPATCHERS,
            inputs=(c.CASE_TYPE, c.AREA, c.PRIORITY),
            effect=c.accept,
            marks=("accepted",),
            public="已受理",
            summary="选定事项类型与发生地;类型属于专项流程时,事件转入该流程。",
        ),
        c.reject_step(),
        TransitionSpec(
            "dispatch",
            "交办",
            (S.ACCEPTED,),
            S.DISPATCHED,
            c.DISPATCHERS,
            inputs=(c.UNIT, c.NOTE),
            assigns="unit",
            check=c.check_unit,
            clocks=(start("claim"), start("handle")),
            marks=("dispatched",),
            tell=Tell(("unit",), "新交办"),
            public="已交办",
        ),
        c.claim_step((S.DISPATCHED,), S.IN_PROGRESS),
        c.return_step((S.DISPATCHED, S.IN_PROGRESS), S.ACCEPTED),
        TransitionSpec(
            "transfer",
            "转办",
            (S.ACCEPTED, S.DISPATCHED),
            S.DISPATCHED,
            c.DISPATCHERS,
            inputs=(c.UNIT, c.REASON),
            assigns="unit",
            check=c.transfer_check,
            clocks=(start("claim"), start("handle")),
            marks=("dispatched",),
            tell=Tell(("unit",), "转办"),
        ),
        TransitionSpec(
            "escalate",
            "上报",
            (S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS),
            S.ACCEPTED,
            frozenset({"escalator"}),
            inputs=(c.REASON,),
            effect=c.escalate,
            clocks=(cancel("claim"), cancel("handle")),
            tell=Tell(("dispatchers",), "被上报"),
            summary="上报一级:网格 → 社区 → 街道 → 区县。",
        ),
        c.request_extension_step(S.IN_PROGRESS),
        c.approve_extension_step(S.IN_PROGRESS),
        c.deny_extension_step(S.IN_PROGRESS),
        c.supervise_step(OPEN),
        TransitionSpec(
            "resolve",
            "办结",
            (S.IN_PROGRESS,),
            S.RESOLVED,
            c.UNIT_HANDLERS,
            inputs=(
                c.RESULT,
                Input("evidence", InputKind.LONGTEXT, "凭证文字说明", required=False, public=True),
                c.photos("凭证照片", required=False),
            ),
            check=_resolve_check,
            resolution="result",
            clocks=(stop("handle", record="on_time"),),
            marks=("resolved",),
            tell=Tell(("dispatchers",), "已办结待回访"),
            public="已办结",
            public_note=True,
            summary="办理凭证为照片或文字说明,至少一项。",
        ),
        TransitionSpec(
            "resolve_on_spot",
            "就地处置",
            (S.REPORTED,),
            S.RESOLVED,
            frozenset({"grid_worker"}),
            inputs=(c.CASE_TYPE, c.RESULT, c.photos("现场照片", required=True)),
            effect=_resolve_on_spot,
            resolution="result",
            marks=("resolved",),
            tell=Tell(("dispatchers",), "已就地处置待回访"),
            public="网格员已就地处置",
            public_note=True,
            summary="网格员在本网格当场处置小事,计入网格自办。",
        ),
        TransitionSpec(
            "callback",
            "回访",
            (S.RESOLVED,),
            S.ARCHIVED,
            frozenset({"dispatcher", "system"}),
            inputs=(c.SATISFACTION, c.NOTE),
            rates="satisfaction",
            branches=(Branch(S.RESOLVED, "不满意时不归档", c.unsatisfied),),
            then=Then("reopen", "不满意时自动重办", c.unsatisfied, c.reopen_inputs),
            public="回访评价",
            summary="上报人也可凭查询链接自行评价(记在上报人名下)。",
        ),
        TransitionSpec(
            "reopen",
            "重办",
            (S.RESOLVED,),
            S.DISPATCHED,
            frozenset({"dispatcher", "system"}),
            inputs=(c.REASON,),
            effect=c.redispatch,
            branches=(Branch(S.ACCEPTED, "就地处置的事件没有承办单位,回到受理台", c.no_unit),),
            clocks=(start("claim"), start("handle")),
            tell=Tell(("unit", "dispatchers"), "重办"),
            public="重新办理",
            summary="交回原承办单位和原办结人,重新计时;受理台同时收到通知。",
        ),
        TransitionSpec(
            "close_without_callback",
            "无法回访归档",
            (S.RESOLVED,),
            S.ARCHIVED,
            c.DISPATCHERS,
            inputs=(c.REASON,),
            public="已归档",
        ),
        c.merge_step((S.REPORTED, S.ACCEPTED)),
    ),
)
