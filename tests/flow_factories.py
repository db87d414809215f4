"""Cases of the specialised flows taken through their steps, for tests of what they count."""

from datetime import datetime, timedelta

from shanzhi import clock
from shanzhi.cases import services
from shanzhi.cases.models import Case, Source

from .case_factories import case_type, photo, police

INSPECTION = {"record": "检查记录", "inspector": "检查员", "signature": "signed"}


def flow_act(actor, moment: datetime, case: Case, action: str, **inputs) -> Case:
    with clock.acting_at(moment):
        return services.case_act(case=case, actor=actor, action=action, **inputs)


def reported(world, moment: datetime, code: str, *, source=Source.HOTLINE, area=None) -> Case:
    """A report typed at intake, so born on its type's flow."""
    with clock.acting_at(moment):
        case, _ = services.case_report(
            area=area or world.microgrid,
            source=source,
            actor=world.dispatcher,
            description="居民来电反映",
            reporter_phone="13800001111",
            case_type=case_type(world, code),
        )
    return case


def mediated(world, moment: datetime, code: str = "MD-LL-01") -> Case:
    """A dispute taken up for mediation by the police station (due 30 days later)."""
    return flow_act(
        world.dispatcher,
        moment,
        reported(world, moment, code),
        "accept_mediation",
        dispute="邻里漏水纠纷",
        mediation_kind="当事人申请",
        parties=["甲", "乙"],
        unit=police(world),
        mediator="调解员",
    )


def agreed(world, case: Case, moment: datetime, satisfaction: str = "satisfied") -> Case:
    """An agreement reached at `moment`, performed and rated at the follow-up an hour later."""
    case = flow_act(
        world.handler,
        moment,
        case,
        "reach_agreement",
        terms="赔偿",
        parties=["甲", "乙"],
        facts="漏水",
        performance="当场履行",
    )
    return flow_act(
        world.handler,
        moment + timedelta(hours=1),
        case,
        "follow_up",
        performed="已履行",
        satisfaction=satisfaction,
    )


def signed_off(
    world, moment: datetime, grade: str, *, code: str = "AQ-XF-03", failed_once: bool = False
) -> Case:
    """A hazard graded and ordered at `moment` to rectify within five days, re-inspected the
    next day (failing once, if asked, and passing the day after) and signed off."""
    case = flow_act(
        world.dispatcher,
        moment,
        reported(world, moment, code),
        "grade",
        hazard_grade=grade,
        checklist_item="灭火器",
        **INSPECTION,
    )
    deadline = (moment + timedelta(days=5)).date()
    case = flow_act(
        world.dispatcher,
        moment,
        case,
        "order",
        orders="整改",
        unit=police(world),
        rectify_deadline=deadline,
    )
    later = moment
    for failing in [True] * failed_once + [False]:
        later += timedelta(days=1)
        case = flow_act(
            world.handler,
            later - timedelta(hours=1),
            case,
            "request_reinspection",
            rectification="已整改",
            photos=[photo()],
        )
        if failing:
            case = flow_act(
                world.dispatcher,
                later,
                case,
                "fail_reinspection",
                rectify_deadline=deadline + timedelta(days=2),
                **INSPECTION,
            )
    return flow_act(world.dispatcher, later, case, "pass_reinspection", **INSPECTION)


REGISTRATION = {
    "petition_form": "来访",
    "petitioner": "张三",
    "petitioner_address": "湘湖社区景港府1幢",
    "request": "要求修复路灯",
    "facts": "小区门口路灯长期不亮",
    "reasons": "夜间出行不便",
}


def petitioned(world, moment: datetime, answered: datetime | None = None) -> Case:
    """A petition registered and told of acceptance at `moment` (to the police station), and
    answered with a written opinion at `answered`."""
    case = reported(world, moment, "XF-CF-01", source=Source.PETITION)
    case = flow_act(world.dispatcher, moment, case, "register", **REGISTRATION)
    case = flow_act(world.dispatcher, moment, case, "notify_accept", unit=police(world))
    if answered is None:
        return case
    return flow_act(
        world.handler,
        answered,
        case,
        "issue_opinion",
        opinion="已修复",
        decision="支持",
        opinion_facts="路灯损坏属实",
        legal_basis="城市照明管理规定",
    )
