"""Every transition of the general flow: who may take it, who may not, what it requires, what it does."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shanzhi import clock
from shanzhi.accounts.models import Role, Unit
from shanzhi.cases import services
from shanzhi.cases.engine import CaseConflict, InvalidInput, MissingInput, TransitionRefused
from shanzhi.cases.flows import general
from shanzhi.cases.models import Case, CaseAction, HandlingLevel, State
from shanzhi.cases.selectors import CaseFilters, case_list, deadline_status
from shanzhi.errors import PermissionDenied

from .case_factories import case_type, make_case, photo, police
from .factories import make_user

TRANSITIONS = general.FLOW.transition_by_action
pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def committee(world) -> Unit:
    return Unit.objects.get(name="湘湖社区居委会")


def with_pending_extension(world) -> Case:
    case = make_case(world, State.IN_PROGRESS)
    return services.case_request_extension(
        case=case,
        actor=world.handler,
        due_at=case.handle_due_at + timedelta(days=5),
        reason="需等待燃气公司配合",
    )


# action: (how to reach its starting point, the call, who may, who may not)
SCENARIOS = {
    "accept": (
        lambda w: make_case(w),
        lambda w, c, a: services.case_accept(case=c, actor=a, case_type=case_type(w)),
        ["dispatcher"],
        [
            "handler",
            "grid_worker",
            "leader",
            "community_worker",
            "other_leader",
            "outsider",
            "resident",
        ],
    ),
    "reject": (
        lambda w: make_case(w),
        lambda w, c, a: services.case_reject(
            case=c, actor=a, reason="属于私人合同纠纷,已告知诉讼途径"
        ),
        ["dispatcher"],
        ["grid_worker", "handler", "leader"],
    ),
    "dispatch": (
        lambda w: make_case(w, State.ACCEPTED),
        lambda w, c, a: services.case_dispatch(case=c, actor=a, unit=police(w)),
        ["dispatcher"],
        ["leader", "handler", "grid_worker", "other_leader"],
    ),
    "claim": (
        lambda w: make_case(w, State.DISPATCHED),
        lambda w, c, a: services.case_claim(case=c, actor=a),
        ["handler"],
        ["community_worker", "dispatcher", "grid_worker", "leader", "outsider"],
    ),
    "return": (
        lambda w: make_case(w, State.IN_PROGRESS),
        lambda w, c, a: services.case_return(
            case=c, actor=a, reason="不属于派出所职责,应由物业处理"
        ),
        ["handler"],
        ["dispatcher", "community_worker", "leader"],
    ),
    "transfer": (
        lambda w: make_case(w, State.DISPATCHED),
        lambda w, c, a: services.case_transfer(
            case=c, actor=a, unit=committee(w), reason="改由社区处理"
        ),
        ["dispatcher"],
        ["handler", "leader", "grid_worker"],
    ),
    "escalate": (
        lambda w: make_case(w, State.DISPATCHED),
        lambda w, c, a: services.case_escalate(case=c, actor=a, reason="涉及多个部门,网格无法处理"),
        ["handler", "grid_worker", "community_worker"],
        ["outsider", "other_leader", "resident"],
    ),
    "request_extension": (
        lambda w: make_case(w, State.IN_PROGRESS),
        lambda w, c, a: services.case_request_extension(
            case=c, actor=a, due_at=c.handle_due_at + timedelta(days=3), reason="需等待配件"
        ),
        ["handler"],
        ["dispatcher", "grid_worker", "leader"],
    ),
    "approve_extension": (
        with_pending_extension,
        lambda w, c, a: services.case_approve_extension(case=c, actor=a, note="同意"),
        ["dispatcher", "leader"],
        ["handler", "grid_worker", "community_worker"],
    ),
    "deny_extension": (
        with_pending_extension,
        lambda w, c, a: services.case_deny_extension(case=c, actor=a, note="时限内应能完成"),
        ["dispatcher", "leader"],
        ["handler", "grid_worker"],
    ),
    "supervise": (
        lambda w: make_case(w, State.DISPATCHED),
        lambda w, c, a: services.case_supervise(case=c, actor=a, requirement="请三日内办结并反馈"),
        ["leader", "community_leader"],
        ["dispatcher", "handler", "grid_worker", "other_leader"],
    ),
    "resolve": (
        lambda w: make_case(w, State.IN_PROGRESS),
        lambda w, c, a: services.case_resolve(case=c, actor=a, result="已清理", photos=[photo()]),
        ["handler"],
        ["dispatcher", "community_worker", "grid_worker"],
    ),
    "resolve_on_spot": (
        lambda w: make_case(w),
        lambda w, c, a: services.case_resolve_on_spot(
            case=c,
            actor=a,
            case_type=case_type(w, "HW-LJ-01"),
            result="已劝导清理",
            photos=[photo()],
        ),
        ["grid_worker"],
        ["dispatcher", "handler", "sibling_grid_worker", "leader"],
    ),
    "callback": (
        lambda w: make_case(w, State.RESOLVED),
        lambda w, c, a: services.case_callback(case=c, actor=a, satisfaction="satisfied"),
        ["dispatcher"],
        ["handler", "leader", "grid_worker"],
    ),
    "reopen": (
        lambda w: make_case(w, State.RESOLVED),
        lambda w, c, a: services.case_reopen(case=c, actor=a, reason="居民反映仍有电瓶车充电"),
        ["dispatcher"],
        ["handler", "leader"],
    ),
    "close_without_callback": (
        lambda w: make_case(w, State.RESOLVED),
        lambda w, c, a: services.case_close_without_callback(
            case=c, actor=a, reason="电话三次无人接听"
        ),
        ["dispatcher"],
        ["grid_worker", "handler"],
    ),
    "merge": (
        lambda w: (make_case(w, text="楼道电瓶车充电"), make_case(w))[1],
        lambda w, c, a: services.case_merge(
            case=c, actor=a, kept=Case.objects.exclude(pk=c.pk).earliest("id")
        ),
        ["dispatcher"],
        ["handler", "grid_worker"],
    ),
}


def test_every_transition_of_the_table_is_covered():
    assert set(SCENARIOS) == set(TRANSITIONS)


def persona(world, name):
    if name == "sibling_grid_worker":
        return make_user("gw2", role=Role.GRID_WORKER, area=world.sibling_grid)
    return getattr(world, name)


@pytest.mark.parametrize("action", sorted(SCENARIOS))
def test_allowed_actor_takes_the_transition_and_it_is_logged(world, action):
    reach, call, allowed, _ = SCENARIOS[action]
    transition = TRANSITIONS[action]
    for name in allowed:
        case = reach(world)
        before = case.version
        done = call(world, case, persona(world, name))
        row = CaseAction.objects.filter(case=done, action=action).latest("id")
        assert row.actor == persona(world, name) if name != "sibling_grid_worker" else True
        assert row.from_state in transition.sources
        assert done.version > before
        if transition.target is not None and action != "callback":
            assert done.state == transition.target == row.to_state


@pytest.mark.parametrize("action", sorted(SCENARIOS))
def test_refused_actor_changes_nothing(world, action):
    reach, call, _, refused = SCENARIOS[action]
    case = reach(world)
    before = (case.state, case.version, CaseAction.objects.count())
    for name in refused:
        with pytest.raises(
            PermissionDenied, match=f"无权对该事件执行“{TRANSITIONS[action].label}”"
        ):
            call(world, case, persona(world, name))
        case.refresh_from_db()
        assert (case.state, case.version, CaseAction.objects.count()) == before


@pytest.mark.parametrize(
    ("state", "call", "message"),
    [
        (
            State.REPORTED,
            lambda w, c: services.case_reject(case=c, actor=w.dispatcher, reason="  "),
            "不予受理需要填写:理由",
        ),
        (
            State.IN_PROGRESS,
            lambda w, c: services.case_return(case=c, actor=w.handler, reason=""),
            "退回需要填写:理由",
        ),
        (
            State.IN_PROGRESS,
            lambda w, c: services.case_resolve(case=c, actor=w.handler, result="已处理"),
            "办结需要填写:办理凭证",
        ),
        (
            State.IN_PROGRESS,
            lambda w, c: services.case_resolve(
                case=c, actor=w.handler, result="", evidence="照片见附件"
            ),
            "办结需要填写:办理结果",
        ),
        (
            State.REPORTED,
            lambda w, c: services.case_resolve_on_spot(
                case=c, actor=w.grid_worker, case_type=case_type(w), result="已处理", photos=[]
            ),
            "就地处置需要填写:现场照片",
        ),
        (
            State.RESOLVED,
            lambda w, c: services.case_callback(case=c, actor=w.dispatcher, satisfaction=""),
            "回访需要填写:满意度",
        ),
        (
            State.DISPATCHED,
            lambda w, c: services.case_supervise(case=c, actor=w.leader, requirement=""),
            "督办需要填写:督办要求",
        ),
        (
            State.DISPATCHED,
            lambda w, c: services.case_transfer(
                case=c, actor=w.dispatcher, unit=committee(w), reason=""
            ),
            "转办需要填写:理由",
        ),
    ],
)
def test_required_inputs_are_enforced_in_chinese(world, state, call, message):
    case = make_case(world, state)
    before = (case.state, case.version, CaseAction.objects.count())
    with pytest.raises(MissingInput, match=message):
        call(world, case)
    case.refresh_from_db()
    assert (case.state, case.version, CaseAction.objects.count()) == before


def test_a_transition_from_the_wrong_state_is_refused(world):
    case = make_case(world)
    with pytest.raises(TransitionRefused, match="事件当前为“待受理”,不能签收"):
        services.case_claim(case=case, actor=world.handler)


def test_stale_version_is_a_conflict_and_changes_nothing(world):
    case = make_case(world, State.DISPATCHED)
    stale = case.version
    services.case_supervise(case=case, actor=world.leader, requirement="加快办理")
    with pytest.raises(CaseConflict, match="该事件已被他人处理,请刷新"):
        services.case_claim(case=case, actor=world.handler, expected_version=stale)
    case.refresh_from_db()
    assert case.state == State.DISPATCHED
    assert not CaseAction.objects.filter(case=case, action="claim").exists()


def test_bad_choices_are_refused(world):
    case = make_case(world, State.RESOLVED)
    with pytest.raises(InvalidInput, match="满意度只能是"):
        services.case_callback(case=case, actor=world.dispatcher, satisfaction="great")
    in_progress = make_case(world, State.IN_PROGRESS)
    with pytest.raises(TransitionRefused, match="须晚于当前办理时限"):
        services.case_request_extension(
            case=in_progress, actor=world.handler, due_at=in_progress.handle_due_at, reason="x"
        )
    dispatched = make_case(world, State.DISPATCHED)
    with pytest.raises(TransitionRefused, match="与当前承办单位相同"):
        services.case_transfer(
            case=dispatched, actor=world.dispatcher, unit=police(world), reason="重复"
        )
    reported = make_case(world)
    with pytest.raises(TransitionRefused, match="不能把事件合并到它自己"):
        services.case_merge(case=reported, actor=world.dispatcher, kept=reported)


# Deadlines ------------------------------------------------------------------------------------


def dispatched_at(world, moment: datetime, days: int = 5) -> Case:
    kind = case_type(world)
    kind.handle_limit_days, kind.handle_limit_hours, kind.claim_limit_hours = days, None, 2
    kind.save()
    with clock.acting_at(moment):
        return make_case(world, State.DISPATCHED)


def test_handling_deadline_counts_working_days_across_national_day(world):
    # Friday 2024-09-27; Sunday 09-29 is a 调休 working day, 10-01..07 are off.
    case = dispatched_at(world, datetime(2024, 9, 27, 10, 0, tzinfo=SHANGHAI))
    assert case.handle_due_at == datetime(2024, 10, 10, 23, 59, 59, tzinfo=SHANGHAI)
    assert case.claim_due_at == datetime(2024, 9, 27, 12, 0, tzinfo=SHANGHAI)
    assert case.reported_at < case.due_soon_at < case.handle_due_at


def test_overdue_and_due_soon_are_derived_at_query_time(world):
    case = dispatched_at(world, datetime(2024, 9, 27, 10, 0, tzinfo=SHANGHAI))
    with clock.acting_at(datetime(2024, 10, 9, 12, 0, tzinfo=SHANGHAI)):
        assert deadline_status(case) == "due_soon"
        assert list(case_list(user=world.leader, filters=CaseFilters(deadline="due_soon"))) == [
            case
        ]
    with clock.acting_at(datetime(2024, 10, 11, 9, 0, tzinfo=SHANGHAI)):
        assert deadline_status(case) == "overdue"
        assert list(case_list(user=world.leader, filters=CaseFilters(deadline="overdue"))) == [case]
        assert not case_list(user=world.leader, filters=CaseFilters(deadline="due_soon")).exists()


def test_claim_timeliness_is_recorded(world):
    case = dispatched_at(world, datetime(2024, 9, 27, 10, 0, tzinfo=SHANGHAI))
    with clock.acting_at(datetime(2024, 9, 29, 9, 30, tzinfo=SHANGHAI)):  # the 调休 Sunday
        services.case_claim(case=case, actor=world.handler)
    claim = CaseAction.objects.get(case=case, action="claim")
    assert claim.data["claim_on_time"] is False


def test_approved_extension_moves_the_deadline_and_denied_does_not(world):
    case = make_case(world, State.IN_PROGRESS)
    original = case.handle_due_at
    wanted = original + timedelta(days=7)
    case = services.case_request_extension(
        case=case, actor=world.handler, due_at=wanted, reason="等配件"
    )
    assert case.handle_due_at == original  # nothing moves until approved
    case = services.case_approve_extension(case=case, actor=world.leader, note="同意")
    assert case.handle_due_at == wanted and case.extension_count == 1
    assert case.extension_requested_until is None
    case = services.case_request_extension(
        case=case, actor=world.handler, due_at=wanted + timedelta(days=7), reason="再等"
    )
    case = services.case_deny_extension(case=case, actor=world.dispatcher, note="不予延期")
    assert case.handle_due_at == wanted
    with pytest.raises(TransitionRefused, match="没有待审批的延期申请"):
        services.case_approve_extension(case=case, actor=world.dispatcher)


def test_return_stops_the_clocks_and_dispatch_restarts_them(world):
    case = make_case(world, State.IN_PROGRESS)
    case = services.case_return(case=case, actor=world.handler, reason="非本单位职责")
    assert (case.state, case.unit, case.handle_due_at, case.return_count) == (
        State.ACCEPTED,
        None,
        None,
        1,
    )
    case = services.case_dispatch(case=case, actor=world.dispatcher, unit=committee(world))
    assert case.handle_due_at is not None and case.unit == committee(world)


def test_unsatisfied_callback_reopens_with_the_same_unit_and_a_new_deadline(world):
    case = make_case(world, State.RESOLVED)
    with clock.acting_at(clock.now() + timedelta(days=10)):
        case = services.case_callback(
            case=case, actor=world.dispatcher, satisfaction="unsatisfied", note="仍在充电"
        )
        assert case.handle_due_at > clock.now()
    # Back to the handler who resolved it; the verdict is history (the log), not its present.
    assert (case.state, case.unit, case.assignee, case.reopen_count, case.satisfaction) == (
        State.DISPATCHED,
        police(world),
        world.handler,
        1,
        "",
    )
    assert CaseAction.objects.get(case=case, action="callback").data["satisfaction"] == (
        "unsatisfied"
    )
    log = list(case.actions.values_list("action", "to_state"))
    assert log[-2:] == [("callback", State.RESOLVED), ("reopen", State.DISPATCHED)]
    assert CaseAction.objects.get(case=case, action="reopen").actor is None


def test_escalation_climbs_one_level_at_a_time_and_stops_at_the_district(world):
    case = make_case(world, State.DISPATCHED)
    assert case.level == HandlingLevel.GRID
    levels = []
    for _ in range(3):
        if case.state == State.ACCEPTED:
            case = services.case_dispatch(case=case, actor=world.dispatcher, unit=police(world))
        case = services.case_escalate(case=case, actor=world.handler, reason="需上级协调")
        levels.append(case.level)
    assert levels == [HandlingLevel.COMMUNITY, HandlingLevel.STREET, HandlingLevel.DISTRICT]
    case = services.case_dispatch(case=case, actor=world.dispatcher, unit=police(world))
    with pytest.raises(TransitionRefused, match="已在区县层级"):
        services.case_escalate(case=case, actor=world.handler, reason="再上报")


def test_on_the_spot_resolution_keeps_its_photo_and_counts_for_the_grid(world):
    case = make_case(world)
    case = services.case_resolve_on_spot(
        case=case,
        actor=world.grid_worker,
        case_type=case_type(world, "HW-LJ-01"),
        result="已当场劝导清理",
        photos=[photo()],
    )
    assert (case.state, case.on_spot, case.level) == (State.RESOLVED, True, HandlingLevel.GRID)
    action = CaseAction.objects.get(case=case, action="resolve_on_spot")
    assert action.attachments.count() == 1


def test_merged_case_points_at_the_case_kept(world):
    kept = make_case(world, text="楼道电瓶车充电")
    duplicate = make_case(world, text="楼道里又有人给电瓶车充电")
    duplicate = services.case_merge(case=duplicate, actor=world.dispatcher, kept=kept)
    assert (duplicate.state, duplicate.merged_into) == (State.MERGED, kept)
    with pytest.raises(TransitionRefused, match="只能合并到"):
        services.case_merge(case=make_case(world), actor=world.dispatcher, kept=duplicate)


def test_transitions_notify_the_people_concerned_after_commit(
    world, django_capture_on_commit_callbacks
):
    case = make_case(world, State.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_dispatch(case=case, actor=world.dispatcher, unit=police(world))
    assert list(world.handler.notifications.values_list("kind", flat=True)) == ["dispatch"]
    with django_capture_on_commit_callbacks(execute=True):
        services.case_claim(case=case, actor=world.handler)
        services.case_return(case=case, actor=world.handler, reason="非本单位职责")
    assert world.dispatcher.notifications.filter(kind="return").count() == 1


def test_an_unsatisfied_on_the_spot_case_goes_back_to_the_desk(world):
    case = make_case(world)
    case = services.case_resolve_on_spot(
        case=case,
        actor=world.grid_worker,
        case_type=case_type(world, "HW-LJ-01"),
        result="已劝导",
        photos=[photo()],
    )
    case = services.case_callback(case=case, actor=world.dispatcher, satisfaction="unsatisfied")
    assert (case.state, case.unit, case.reopen_count) == (State.ACCEPTED, None, 1)
    assert case.handle_due_at is None
    case = services.case_dispatch(case=case, actor=world.dispatcher, unit=committee(world))
    assert case.state == State.DISPATCHED and case.handle_due_at is not None
