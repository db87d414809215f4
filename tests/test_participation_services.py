"""民生实事 and 志愿服务 through their services: stages, shortlist, the vote and its rule, paper
ballots entered twice, progress rolled up, points that never go negative nor double-spend."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from shanzhi import clock
from shanzhi.participation import selectors, services
from shanzhi.participation.models import (
    Ballot,
    Evaluation,
    PaperEntry,
    PointEntry,
    Project,
    ProjectStatus,
    Proposal,
    ProposalStatus,
    Reward,
    Stage,
    Verdict,
)
from shanzhi.participation.services import ParticipationRefused

from .participation_factories import (
    make_activity,
    make_round,
    make_volunteer,
    make_voter,
    propose,
    to_stage,
    voting_round,
)

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="行级锁与并发事务只在 PostgreSQL 上测试"
)


# Stages and proposals ---------------------------------------------------------------------


def test_a_resident_proposes_only_while_collecting_is_open(world):
    round_ = make_round(world)
    proposal = propose(world, round_)
    assert proposal.source == "resident" and proposal.proposer_phone_masked == "139****1234"
    round_ = services.round_stage_close(round_=round_, actor=world.admin)
    with pytest.raises(ParticipationRefused, match=r"征集.*未开启"):
        propose(world, round_, "第二个")
    assert Proposal.objects.count() == 1


def test_a_proposal_outside_the_round_is_refused(world):
    round_ = make_round(world)
    with pytest.raises(ParticipationRefused, match="不在本轮"):
        propose(world, round_, area=world.far_grid)


def test_stages_move_in_order_and_each_step_is_logged(world):
    round_ = make_round(world)
    with pytest.raises(ParticipationRefused, match="请先结束"):
        services.round_advance(round_=round_, actor=world.admin)
    round_ = services.round_stage_close(round_=round_, actor=world.admin)
    round_ = services.round_advance(round_=round_, actor=world.admin)
    assert (round_.stage, round_.stage_open) == (Stage.SHORTLISTING, False)
    assert list(round_.events.values_list("action", flat=True)) == [
        "create",
        "open",
        "close",
        "advance",
    ]


def test_a_dropped_proposal_needs_a_reason_its_proposer_reads(world):
    round_ = make_round(world)
    kept, dropped = propose(world, round_, "加装电梯"), propose(world, round_, "修建泳池")
    round_ = to_stage(world, round_, Stage.SHORTLISTING)
    services.proposal_shortlist(proposal=kept, actor=world.community_worker, keep=True)
    with pytest.raises(ParticipationRefused, match="须写明原因"):
        services.proposal_shortlist(proposal=dropped, actor=world.community_worker, keep=False)
    round_ = services.round_stage_close(round_=round_, actor=world.admin)
    with pytest.raises(ParticipationRefused, match="还有提议未初定"):
        services.round_advance(round_=round_, actor=world.admin)
    round_ = services.round_stage_open(round_=round_, actor=world.admin)
    services.proposal_shortlist(
        proposal=dropped, actor=world.community_worker, keep=False, reason="超出社区预算"
    )
    dropped.refresh_from_db()
    assert (dropped.status, dropped.drop_reason) == (ProposalStatus.DROPPED, "超出社区预算")


def test_voting_needs_more_candidates_than_seats(world):
    round_ = make_round(world, seats=2)
    proposals = [propose(world, round_, f"项目{i}") for i in range(2)]
    round_ = to_stage(world, round_, Stage.SHORTLISTING)
    for proposal in proposals:
        services.proposal_shortlist(proposal=proposal, actor=world.community_worker, keep=True)
    make_voter(world, round_)
    round_ = to_stage(world, round_, Stage.DELIBERATING)
    round_ = services.round_stage_close(round_=round_, actor=world.admin)
    round_ = services.round_advance(round_=round_, actor=world.admin)
    with pytest.raises(ParticipationRefused, match="差额票决须候选项目多于产生项目数"):
        services.round_stage_open(round_=round_, actor=world.admin)


def test_the_rule_is_checked_when_the_round_is_set_up(world):
    with pytest.raises(ParticipationRefused, match="至多选的项数不能超过"):
        make_round(world, seats=2, max_picks=3)


# The vote ----------------------------------------------------------------------------------


def test_a_ballot_keeps_the_rule_and_a_voter_votes_once(world):
    _, proposals, voters = voting_round(world)
    ids = [p.pk for p in proposals]
    with pytest.raises(ParticipationRefused, match="选了3项,须选1至2项"):
        services.ballot_cast(voter=voters[0], proposal_ids=ids)
    services.ballot_cast(voter=voters[0], proposal_ids=ids[:2])
    with pytest.raises(ParticipationRefused, match="已投票"):
        services.ballot_cast(voter=voters[0], proposal_ids=ids[:1])
    assert Ballot.objects.count() == 1


def test_the_result_counts_the_threshold_and_the_seats(world):
    round_, (a, b, c), voters = voting_round(world, voters=4)
    for voter, picks in zip(voters, [[a, b], [a, b], [a, c], [a]], strict=True):
        services.ballot_cast(voter=voter, proposal_ids=[p.pk for p in picks])
    round_ = services.round_stage_close(round_=round_, actor=world.admin)
    round_ = services.round_advance(round_=round_, actor=world.admin)
    assert round_.stage == Stage.PUBLISHED
    counts = {p.title: (p.votes, p.chosen) for p in selectors.published_result(round_)}
    # b has 2 of 4 ballots: not more than half, so only one project is chosen.
    assert counts == {"项目1": (4, True), "项目2": (2, False), "项目3": (1, False)}
    assert list(Project.objects.values_list("title", flat=True)) == ["项目1"]


def test_a_tie_for_the_last_seat_is_not_published(world):
    round_, (a, b, c), voters = voting_round(world, voters=3)
    for voter, picks in zip(voters, [[a, b], [b, c], [a, c]], strict=True):
        services.ballot_cast(voter=voter, proposal_ids=[p.pk for p in picks])
    round_ = services.round_stage_close(round_=round_, actor=world.admin)
    with pytest.raises(ParticipationRefused, match="并列争最后一个名额"):
        services.round_advance(round_=round_, actor=world.admin)
    assert not Project.objects.exists()


def test_a_paper_ballot_counts_when_two_staff_enter_it_alike(world):
    _, (a, b, _), voters = voting_round(world)
    assert (
        services.paper_ballot_enter(voter=voters[0], proposal_ids=[a.pk], actor=world.admin) is None
    )
    with pytest.raises(ParticipationRefused, match="另一名工作人员"):
        services.paper_ballot_enter(voter=voters[0], proposal_ids=[a.pk], actor=world.admin)
    with pytest.raises(ParticipationRefused, match="两次录入不一致"):
        services.paper_ballot_enter(
            voter=voters[0], proposal_ids=[b.pk], actor=world.community_worker
        )
    assert not Ballot.objects.exists() and PaperEntry.objects.count() == 1
    ballot = services.paper_ballot_enter(
        voter=voters[0], proposal_ids=[a.pk], actor=world.community_worker
    )
    assert ballot is not None and ballot.channel == "paper"
    assert (ballot.entered_by, ballot.confirmed_by) == (world.admin, world.community_worker)
    assert not PaperEntry.objects.exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_ballots_of_one_voter_at_once_count_once(world):
    _, proposals, voters = voting_round(world)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def cast(pick: int) -> None:
        barrier.wait()
        try:
            services.ballot_cast(voter=voters[0], proposal_ids=[proposals[pick].pk])
            outcomes.append("counted")
        except ParticipationRefused as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cast, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes)[0] == "counted" and "已投票" in sorted(outcomes)[1]
    assert Ballot.objects.filter(voter=voters[0]).count() == 1


@postgres_only
def test_the_database_refuses_edits_of_ballots_and_the_ledger(world):
    _, proposals, voters = voting_round(world)
    ballot = services.ballot_cast(voter=voters[0], proposal_ids=[proposals[0].pk])
    with pytest.raises(Exception, match=r"只追加|permission denied"), transaction.atomic():
        Ballot.objects.filter(pk=ballot.pk).update(cast_at=clock.now())
    volunteer = make_volunteer(world)
    entry = services.points_adjust(volunteer=volunteer, delta=5, reason="补录", actor=world.admin)
    with pytest.raises(Exception, match=r"只追加|permission denied"), transaction.atomic():
        PointEntry.objects.filter(pk=entry.pk).update(delta=500, balance=500)
    assert PointEntry.objects.get(pk=entry.pk).balance == 5


# Projects ----------------------------------------------------------------------------------


def _chosen_project(world):
    round_, (a, b, _), voters = voting_round(world, voters=2)
    for voter in voters:
        services.ballot_cast(voter=voter, proposal_ids=[a.pk, b.pk])
    round_ = services.round_stage_close(round_=round_, actor=world.admin)
    services.round_advance(round_=round_, actor=world.admin)
    return Project.objects.order_by("pk").first(), voters


def _status(name):
    return ProjectStatus.objects.get(street__isnull=True, name=name)


def test_progress_rolls_up_weighted_or_as_the_mean(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    project, _ = _chosen_project(world)
    first = services.sub_item_add(project=project, title="设计", actor=world.admin)
    second = services.sub_item_add(project=project, title="施工", actor=world.admin)
    project.refresh_from_db()
    services.project_update(
        project=project,
        sub_item=first,
        status=_status("已完成"),
        note="设计方案通过",
        actor=world.community_worker,
        expected_version=project.version,
    )
    project.refresh_from_db()
    assert project.progress == 50  # (100 + 0) / 2: no weights, the mean
    first.weight, second.weight = Decimal(1), Decimal(3)
    first.save(), second.save()
    services.project_update(
        project=project,
        sub_item=second,
        status=_status("施工实施"),
        note="开工",
        actor=world.community_worker,
        expected_version=project.version,
    )
    project.refresh_from_db()
    assert project.progress == 62  # (1×100 + 3×50) / 4 = 62.5, rounded half to even
    with pytest.raises(ParticipationRefused, match="已被他人更新"):
        services.project_update(
            project=project,
            status=_status("施工实施"),
            note="旧页面",
            actor=world.admin,
            expected_version=project.version - 1,
        )


def test_a_finished_project_is_evaluated_once_per_council_member(world):
    project, voters = _chosen_project(world)
    with pytest.raises(ParticipationRefused, match="完成后"):
        services.evaluation_open(project=project, actor=world.admin)
    services.project_update(
        project=project,
        status=_status("已完成"),
        note="竣工",
        actor=world.community_worker,
        expected_version=project.version,
    )
    project.refresh_from_db()
    assert project.completed_at is not None and project.progress == 100
    services.evaluation_open(project=project, actor=world.admin)
    services.evaluation_give(project=project, voter=voters[0], verdict=Verdict.SATISFIED)
    with pytest.raises(ParticipationRefused, match="已评价"):
        services.evaluation_give(project=project, voter=voters[0], verdict=Verdict.UNSATISFIED)
    assert selectors.evaluation_count(project).satisfaction == 100
    assert Evaluation.objects.count() == 1


# Volunteers and points ---------------------------------------------------------------------


def test_sign_in_credits_hours_and_points_by_the_rule(world):
    services.point_rule_set(street=world.street, kind="elderly", per_hour=10, per_activity=5)
    volunteer = make_volunteer(world)
    activity = make_activity(world)
    signup = services.activity_sign_up(activity=activity, volunteer=volunteer)
    services.attendance_sign_in(signup=signup, actor=world.community_worker)
    assert selectors.volunteer_hours(volunteer) == Decimal("2.0")
    entry = PointEntry.objects.get()
    assert (entry.delta, entry.balance, entry.actor) == (25, 25, world.community_worker)
    with pytest.raises(ParticipationRefused, match="已签到"):
        services.attendance_sign_in(signup=signup, actor=world.community_worker)


def test_places_are_limited(world):
    activity = make_activity(world, places=1)
    services.activity_sign_up(activity=activity, volunteer=make_volunteer(world))
    with pytest.raises(ParticipationRefused, match="名额已满"):
        services.activity_sign_up(activity=activity, volunteer=make_volunteer(world))


def _funded_volunteer(world, points):
    volunteer = make_volunteer(world)
    services.points_adjust(volunteer=volunteer, delta=points, reason="开户补录", actor=world.admin)
    partner = services.partner_add(street=world.street, name="湘湖超市", actor=world.admin)
    reward = services.reward_add(
        partner=partner, name="洗衣液", points=30, value=Decimal("25"), stock=5, actor=world.admin
    )
    return volunteer, reward


def test_an_exchange_takes_points_and_stock_and_never_goes_below_zero(world):
    volunteer, reward = _funded_volunteer(world, 40)
    services.reward_exchange(
        volunteer=volunteer, reward=reward, channel="counter", actor=world.admin
    )
    assert selectors.points_balance(volunteer) == 10
    assert Reward.objects.get(pk=reward.pk).stock == 4
    with pytest.raises(ParticipationRefused, match="积分不足:现有10分,需30分"):
        services.reward_exchange(volunteer=volunteer, reward=reward, channel="phone")
    with pytest.raises(ParticipationRefused, match="积分不足"):
        services.points_adjust(volunteer=volunteer, delta=-11, reason="扣减", actor=world.admin)
    assert [e.reason for e in PointEntry.objects.order_by("pk")] == [
        "调整:开户补录",
        "兑换“洗衣液”(服务窗口)",
    ]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_exchanges_at_once_cannot_spend_the_same_points(world):
    volunteer, reward = _funded_volunteer(world, 40)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def exchange() -> None:
        barrier.wait()
        try:
            services.reward_exchange(volunteer=volunteer, reward=reward, channel="phone")
            outcomes.append("done")
        except ParticipationRefused as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=exchange) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["done", "积分不足:现有10分,需30分"]
    assert selectors.points_balance(volunteer) == 10
    assert Reward.objects.get(pk=reward.pk).stock == 4


def test_sign_in_opens_an_hour_before_the_start(world):
    activity = make_activity(world, starts_in=timedelta(hours=3))
    signup = services.activity_sign_up(activity=activity, volunteer=make_volunteer(world))
    with pytest.raises(ParticipationRefused, match="开始前1小时"):
        services.attendance_sign_in(signup=signup, actor=world.community_worker)
    with clock.acting_at(activity.starts_at):
        services.attendance_sign_in(signup=signup, actor=world.community_worker)
