"""The stories of the demo's hazards, petitions, disputes and enterprise appeals, each through its
own flow, in the seeds' proportions (demo_profile: 1,726 hazards found, 575 of them 重大, all
rectified; petitions 100% 办结 with few reviews; disputes 94.7% settled, 95.4% satisfied;
enterprise problems solved and rated).

Each story is a generator like `_Year.life`: it yields the moment of its next step and takes it
through `services.case_act` when resumed, so every step runs through the real engine.
"""

import random
from collections.abc import Callable, Generator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from shanzhi.accounts.models import Unit, User
from shanzhi.cases import services
from shanzhi.cases.models import Case, Satisfaction

if TYPE_CHECKING:
    from .cases import _Plan, _Year

Story = Generator[datetime, None, None]

MAJOR_SHARE = 0.33  # 575 of 1,726 (000)
DISMISS_SHARE = 0.03
LATE_RECTIFY_SHARE = 0.06
REINSPECTION_FAILS = 0.12
EXTEND_RECTIFY_SHARE = 0.05
CHECKLIST = (
    "消防通道是否畅通",
    "电动自行车是否集中充电",
    "燃气管道与报警装置是否完好",
    "疏散指示与应急照明是否完好",
    "灭火器是否在有效期内",
    "电气线路是否私拉乱接",
)
INSPECTORS = ("王建华、李明", "陈立新、赵婷", "周国强、孙悦", "吴志刚、郑敏")

PETITION_FORMS = ("来访", "来信", "网上信访", "电话")
PETITION_REFUSE_SHARE = 0.03
PETITION_FORWARD_SHARE = 0.04
PETITION_LATE_NOTICE = 0.04
PETITION_EXTENDED = 0.05
PETITION_REVIEWED = 0.06  # of the opinions served
PETITION_RECHECKED = 0.3  # of the reviews
DECISIONS = (("支持", 0.45), ("解释说明", 0.45), ("不予支持", 0.10))

MEDIATION_SETTLED = 0.947  # 002
MEDIATION_PAUSED = 0.08
UNPERFORMED_SHARE = 0.02
MEDIATION_SATISFIED = 0.954  # 002

APPEAL_VERDICTS = ((Satisfaction.SATISFIED, 0.9), (Satisfaction.BASICALLY, 0.08))


def _photo(year: "_Year") -> SimpleUploadedFile:
    return SimpleUploadedFile("整改后.png", year.photo, content_type="image/png")


def _day_after(moment: datetime, days: int) -> Any:
    return timezone.localdate(moment) + timedelta(days=days)


def _handler(year: "_Year", rng: random.Random, unit: Unit) -> User:
    return rng.choice(year._handlers(unit))


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...], rest: str) -> str:
    """The first choice whose share the draw falls in; `rest` for what the shares leave."""
    draw = rng.random()
    for choice, share in weighted:
        if draw < share:
            return choice
        draw -= share
    return rest


# 安全隐患 -----------------------------------------------------------------------------------------


def hazard_story(
    year: "_Year", case: Case, plan: "_Plan", rng: random.Random, at: datetime, dispatcher: User
) -> Story:
    """Verified and graded, ordered to rectify by a deadline, re-inspected, signed off."""
    act = services.case_act
    if rng.random() < DISMISS_SHARE:
        act(
            case=case,
            actor=dispatcher,
            action="reject",
            reason="经现场核实,该处不存在安全隐患,已向反映人说明",
        )
        return
    major = rng.random() < MAJOR_SHARE
    at = year._office(rng, at, 0.5, 8)
    yield at
    inspection: dict[str, Any] = {
        "record": f"现场检查发现:{case.description[:60]}",
        "inspector": rng.choice(INSPECTORS),
        "signature": "signed" if rng.random() < 0.97 else "refused",
    }
    if inspection["signature"] == "refused":
        inspection["refusal"] = "被检查单位负责人拒绝签字,已由两名检查人员在记录上注明并拍照留存"
    case = act(
        case=case,
        actor=dispatcher,
        action="grade",
        hazard_grade="重大" if major else "一般",
        checklist_item=rng.choice(CHECKLIST),
        **inspection,
    )
    unit = year._unit_for(plan)
    at = year._on_duty(rng, at, 10, 180)
    yield at
    days = rng.randint(15, 45) if major else rng.randint(3, 15)
    case = act(
        case=case,
        actor=dispatcher,
        action="order",
        orders="请按照检查记录逐项整改到位,整改完成后申请复查",
        unit=unit,
        rectify_deadline=_day_after(at, days),
    )
    if major:
        at = year._office(rng, at, 1, 12)
        yield at
        case = act(
            case=case,
            actor=rng.choice(year.staff.leaders),
            action="list_supervision",
            listed_leader="分管安全生产的副主任",
            listed_measures="制定整改方案,落实专人专班,整改期间加强巡查",
            listed_funds=Decimal(rng.randint(2, 80)),
            listed_deadline=_day_after(at, days),
            contingency="落实现场警戒和人员疏散预案,发生险情立即处置",
        )
    rounds = 0
    while True:
        rounds += 1
        due = case.handle_due_at or at
        if rounds == 1 and rng.random() < EXTEND_RECTIFY_SHARE:
            ask = year._before(rng, at, due, urgent=False)
            if ask > at:
                at = ask
                yield at
                case = act(
                    case=case,
                    actor=dispatcher,
                    action="extend_deadline",
                    rectify_deadline=timezone.localdate(due) + timedelta(days=rng.randint(5, 15)),
                    reason="整改需订购设备,经申请延长整改期限",
                )
                due = case.handle_due_at or due
        if rng.random() < LATE_RECTIFY_SHARE:
            at = year._office(rng, max(due, at), 2, 40)
        else:
            at = year._before(rng, at, due, urgent=False)
        yield at
        handler = _handler(year, rng, unit)
        case = act(
            case=case,
            actor=handler,
            action="request_reinspection",
            rectification="已按整改通知逐项整改,现申请复查",
            photos=[_photo(year)],
        )
        at = year._office(rng, at, 2, 24)
        yield at
        review: dict[str, Any] = {
            "record": "现场复查:隐患已消除" if rounds > 1 else "现场复查",
            "inspector": rng.choice(INSPECTORS),
            "signature": "signed",
        }
        if rounds == 1 and rng.random() < REINSPECTION_FAILS:
            case = act(
                case=case,
                actor=dispatcher,
                action="fail_reinspection",
                rectify_deadline=_day_after(at, rng.randint(3, 10)),
                **(review | {"record": "现场复查:整改不到位,仍存在隐患"}),
            )
            continue
        act(case=case, actor=dispatcher, action="pass_reinspection", **review)
        return


# 信访 ---------------------------------------------------------------------------------------------


def petition_story(
    year: "_Year", case: Case, plan: "_Plan", rng: random.Random, at: datetime, dispatcher: User
) -> Story:
    """Registered, told within 15 days, handled within 60, the opinion served; a few reviews."""
    act = services.case_act
    request = case.description[:80]
    case = act(
        case=case,
        actor=dispatcher,
        action="register",
        petition_form=rng.choice(PETITION_FORMS),
        petitioner=case.reporter_name or "信访人",
        petitioner_address=case.address or case.area.name,
        request=f"请求解决:{request}",
        facts=f"信访人反映:{case.description}",
        reasons="认为相关问题长期未得到解决,影响正常生活",
    )
    late = rng.random() < PETITION_LATE_NOTICE
    at = at + timedelta(days=rng.uniform(16, 20) if late else rng.uniform(0.2, 9))
    yield at
    draw = rng.random()
    if plan.reject or case.extra.get("repeat_of") or draw < PETITION_REFUSE_SHARE:
        act(
            case=case,
            actor=dispatcher,
            action="refuse",
            reason="该信访事项已依法处理终结,信访人以同一事实和理由再次提出,依规不再受理",
        )
        return
    if draw < PETITION_REFUSE_SHARE + PETITION_FORWARD_SHARE:
        act(
            case=case,
            actor=dispatcher,
            action="forward",
            organ="区人力社保局",
            reason="该事项属于区级职能部门职权范围,依法转送",
        )
        return
    unit = year._unit_for(plan)
    case = act(case=case, actor=dispatcher, action="notify_accept", unit=unit)
    handler = _handler(year, rng, unit)
    due = case.handle_due_at or at
    if rng.random() < PETITION_EXTENDED:
        at = at + timedelta(days=rng.uniform(30, 50))
        yield at
        case = act(
            case=case,
            actor=handler,
            action="ask_extension",
            days=rng.randint(10, 30),
            reason="涉及多个部门,情况复杂,需延长办理期限",
        )
        at = year._office(rng, at, 1, 8)
        yield at
        case = act(
            case=case,
            actor=rng.choice(year.staff.leaders),
            action="grant_extension",
            notice="已书面告知信访人延期理由和延长后的期限",
        )
        due = case.handle_due_at or due
    at = max(at + timedelta(hours=2), at + (due - at) * rng.betavariate(2.0, 3.0))
    yield at
    case = act(
        case=case,
        actor=handler,
        action="issue_opinion",
        opinion="经调查核实,依法作出如下处理意见,并已做好解释疏导工作",
        decision=_pick(rng, DECISIONS, "解释说明"),
        opinion_facts=f"经调查,{request}",
        legal_basis="《信访工作条例》及相关法律法规、政策规定",
    )
    at = at + timedelta(days=rng.uniform(0.5, 4))
    yield at
    served_on = timezone.localdate(at)
    case = act(
        case=case, actor=dispatcher, action="serve", served_on=served_on, served_by="直接送达"
    )
    if rng.random() >= PETITION_REVIEWED:
        yield from _conclude_when_window_closes(
            case, "review_window", "送达之日起30日内未请求复查,信访事项终结"
        )
        return
    at = at + timedelta(days=rng.uniform(5, 25))
    yield at
    # 复查 goes to the office above the one that handled it, where it has staff to do it.
    centre = year.staff.units.get("社会治理综合中心")
    reviewer = centre if centre is not None and year.staff.handlers.get(centre.pk) else unit
    case = act(
        case=case,
        actor=dispatcher,
        action="request_review",
        review_request="信访人对处理意见不服,请求复查",
        unit=reviewer,
    )
    at = at + timedelta(days=rng.uniform(10, 28))
    yield at
    case = act(
        case=case,
        actor=_handler(year, rng, reviewer),
        action="issue_review",
        review_opinion="经复查,原处理意见认定事实清楚,适用依据正确,予以维持",
        review_decision="维持",
        served_on=timezone.localdate(at),
    )
    if rng.random() >= PETITION_RECHECKED:
        yield from _conclude_when_window_closes(
            case, "recheck_window", "复查意见送达之日起30日内未请求复核,信访事项终结"
        )
        return
    at = at + timedelta(days=rng.uniform(5, 25))
    yield at
    case = act(
        case=case,
        actor=dispatcher,
        action="request_recheck",
        recheck_request="信访人对复查意见不服,请求复核",
        unit=reviewer,
    )
    at = at + timedelta(days=rng.uniform(10, 28))
    yield at
    act(
        case=case,
        actor=_handler(year, rng, reviewer),
        action="issue_recheck",
        recheck_opinion="经复核,复查意见正确,予以维持,信访事项终结",
        served_on=timezone.localdate(at),
    )


def _conclude_when_window_closes(case: Case, window: str, reason: str) -> Story:
    """What the sweep does once a review window runs out, at the moment it would."""
    row = case.clocks.filter(name=window, stopped_at__isnull=True).first()
    if row is None or row.due_at is None:
        return
    yield row.due_at + timedelta(minutes=1)
    services.case_act(case=case, actor=None, action="conclude", reason=reason)


# 矛盾纠纷 -----------------------------------------------------------------------------------------


def dispute_story(
    year: "_Year", case: Case, plan: "_Plan", rng: random.Random, at: datetime, dispatcher: User
) -> Story:
    """Taken up for mediation, sessions held, an agreement (or an end), the follow-up."""
    act = services.case_act
    if plan.reject:
        act(
            case=case,
            actor=dispatcher,
            action="reject",
            reason="一方当事人明确拒绝调解,已告知其可通过诉讼途径解决",
        )
        return
    unit = year._unit_for(plan)
    parties = [case.reporter_name or "申请人", "被申请人"]
    case = act(
        case=case,
        actor=dispatcher,
        action="accept_mediation",
        dispute=case.description[:200],
        mediation_kind="当事人申请" if rng.random() < 0.7 else "主动调解",
        parties=parties,
        unit=unit,
        mediator=f"{unit.name}调解员",
    )
    handler = _handler(year, rng, unit)
    for session in range(rng.randint(1, 3)):
        at = year._office(rng, at, 4, 40)
        yield at
        case = act(
            case=case,
            actor=handler,
            action="record_session",
            minutes=f"第{session + 1}次调解:听取双方陈述,释法说理,促成协商",
            session_on=timezone.localdate(at),
            present="双方当事人均到场",
            mediator=f"{unit.name}调解员",
        )
        if session == 0 and rng.random() < MEDIATION_PAUSED:
            case = act(case=case, actor=handler, action="pause", reason="一方当事人外出,待其返回")
            at = at + timedelta(days=rng.uniform(3, 12))
            yield at
            case = act(case=case, actor=handler, action="resume", note="当事人已返回,继续调解")
    at = year._office(rng, at, 2, 24)
    yield at
    if rng.random() >= MEDIATION_SETTLED:
        act(
            case=case,
            actor=handler,
            action="terminate",
            reason="经多次调解,双方分歧较大,未能达成协议",
            channels="已告知当事人可以依法通过仲裁、行政、司法等途径维护自己的权利",
        )
        return
    case = act(
        case=case,
        actor=handler,
        action="reach_agreement",
        terms="双方自愿达成如下协议:一方承担相应责任并予以补偿,另一方不再追究",
        parties=parties,
        facts=f"纠纷主要事实:{case.description[:120]}",
        performance="协议签订之日起十五日内履行完毕",
    )
    at = at + timedelta(days=rng.uniform(10, 25))
    yield at
    satisfied = rng.random() < MEDIATION_SATISFIED
    act(
        case=case,
        actor=handler,
        action="follow_up",
        performed="未履行" if rng.random() < UNPERFORMED_SHARE else "已履行",
        satisfaction=Satisfaction.SATISFIED if satisfied else Satisfaction.UNSATISFIED,
        note="电话回访当事人" if satisfied else "当事人对调解结果仍有意见",
    )


# 企业诉求 -----------------------------------------------------------------------------------------


def enterprise_story(
    year: "_Year", case: Case, plan: "_Plan", rng: random.Random, at: datetime, dispatcher: User
) -> Story:
    """Dispatched with the enterprise it came from, handled, replied to, rated."""
    act = services.case_act
    unit = year._unit_for(plan)
    enterprise = year.enterprise_near(case, rng)
    if enterprise is None and not case.registry_links.filter(enterprise__isnull=False).exists():
        act(
            case=case,
            actor=dispatcher,
            action="reject",
            reason="未能核实反映企业的身份,已请其通过企业服务专线再次反映",
        )
        return
    case = act(
        case=case,
        actor=dispatcher,
        action="dispatch_appeal",
        enterprise=enterprise,
        unit=unit,
        note="请与企业对接,限期答复",
    )
    for rounds in range(1, 3):
        handler = _handler(year, rng, unit)
        at = year._office(rng, at, 0.1, 3)
        yield at
        case = act(case=case, actor=handler, action="claim")
        due = case.handle_due_at or at
        at = year._before(rng, at, due, urgent=False)
        yield at
        case = act(
            case=case,
            actor=handler,
            action="reply",
            reply=rng.choice(("已与企业对接,问题已协调解决", "已帮助企业完成申报,企业表示认可")),
            measures="建立专人联系机制,持续跟踪",
        )
        at = year._office(rng, at, 1, 16)
        yield at
        # A second answer after a 不满意 is accepted: the unit has gone back to the enterprise.
        verdict = _pick(rng, APPEAL_VERDICTS, Satisfaction.UNSATISFIED)
        if rounds > 1 and verdict == Satisfaction.UNSATISFIED:
            verdict = Satisfaction.BASICALLY
        case = act(
            case=case,
            actor=dispatcher,
            action="evaluate",
            satisfaction=verdict,
            note="" if verdict != Satisfaction.UNSATISFIED else "企业认为问题尚未解决",
        )
        if verdict != Satisfaction.UNSATISFIED:
            return


STORIES: dict[str, Callable[..., Story]] = {
    "hazard": hazard_story,
    "petition": petition_story,
    "dispute": dispute_story,
    "enterprise": enterprise_story,
}
