"""Every write of 民生实事 and 志愿服务: each one checks its rule, owns its transaction and raises
`ParticipationRefused` (a DomainError, in Chinese) when a rule is broken, changing nothing.

Who may do what is the caller's question to `shanzhi.policy`; these functions hold the rules
that are the same whoever acts.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F

from shanzhi import clock
from shanzhi.accounts.models import User
from shanzhi.areas.models import Area, Level
from shanzhi.errors import DomainError
from shanzhi.masking import mask_phone
from shanzhi.registry.models import Person
from shanzhi.uploads import photos_clean

from .defaults import DEFAULT_STATUSES
from .models import (
    STAGE_ORDER,
    Activity,
    ActivityKind,
    Ballot,
    BallotChannel,
    BallotPick,
    Evaluation,
    Exchange,
    ExchangeChannel,
    Milestone,
    PaperEntry,
    PartnerUnit,
    PointEntry,
    PointRule,
    Project,
    ProjectStatus,
    ProjectUpdate,
    Proposal,
    ProposalSource,
    ProposalStatus,
    Reward,
    Round,
    RoundEvent,
    SignUp,
    Stage,
    SubItem,
    UpdatePhoto,
    Verdict,
    Volunteer,
    Voter,
)
from .selectors import round_result, statuses_of

ROUND_LEVELS = (Level.STREET, Level.COMMUNITY)
SIGN_IN_EARLY = timedelta(hours=1)


class ParticipationRefused(DomainError):
    code = "participation_refused"


def _street_of(area: Area) -> Area:
    if area.street is None:
        raise ParticipationRefused(f"{area.name}不属于任何街道")
    return area.street


def _locked_round(round_: Round) -> Round:
    return Round.objects.select_for_update().get(pk=round_.pk)


def _log(round_: Round, action: str, actor: User, note: str = "") -> None:
    RoundEvent.objects.create(
        round=round_, action=action, stage=round_.stage, actor=actor, note=note, at=clock.now()
    )


def _require_stage(round_: Round, stage: Stage, doing: str) -> None:
    if round_.stage != stage or not round_.stage_open:
        raise ParticipationRefused(
            f"{doing}须在“{stage.label}”阶段开启时进行,本轮当前为“{Stage(round_.stage).label}”"
            + ("" if round_.stage_open else "(未开启)")
        )


# Rounds --------------------------------------------------------------------------------------


def _rule_check(*, seats: int, min_picks: int, max_picks: int, threshold: Decimal) -> None:
    if seats < 1:
        raise ParticipationRefused("票决产生的项目数至少为1")
    if not 1 <= min_picks <= max_picks:
        raise ParticipationRefused("每票至少选的项数须在1与至多选的项数之间")
    if max_picks > seats:
        raise ParticipationRefused("每票至多选的项数不能超过票决产生的项目数")
    if not 0 <= threshold < 100:
        raise ParticipationRefused("当选门槛须在0%与100%之间(不含100%)")


@transaction.atomic
def round_create(
    *,
    actor: User,
    area: Area,
    year: int,
    title: str,
    seats: int,
    min_picks: int,
    max_picks: int,
    threshold_percent: Decimal = Decimal(50),
) -> Round:
    """A new round at 征集 (not yet opened) for a street or a community."""
    if area.level not in ROUND_LEVELS:
        raise ParticipationRefused("民生实事轮次只能按街道或社区设立")
    _rule_check(seats=seats, min_picks=min_picks, max_picks=max_picks, threshold=threshold_percent)
    if Round.objects.filter(area=area, year=year, title=title).exists():
        raise ParticipationRefused("该辖区本年度已有同名轮次")
    round_ = Round.objects.create(
        street=_street_of(area) if area.level != Level.STREET else area,
        area=area,
        year=year,
        title=title,
        seats=seats,
        min_picks=min_picks,
        max_picks=max_picks,
        threshold_percent=threshold_percent,
    )
    _log(round_, "create", actor, f"每票选{min_picks}至{max_picks}项,产生{seats}项")
    return round_


@transaction.atomic
def round_stage_open(*, round_: Round, actor: User) -> Round:
    """Open the round's current stage (the administrator's step)."""
    round_ = _locked_round(round_)
    if round_.stage_open:
        raise ParticipationRefused(f"“{Stage(round_.stage).label}”阶段已开启")
    if round_.stage == Stage.PUBLISHED:
        raise ParticipationRefused("结果已公布,本轮已结束")
    if round_.stage == Stage.VOTING:
        candidates = round_.proposals.filter(status=ProposalStatus.CANDIDATE).count()
        if candidates <= round_.seats:
            raise ParticipationRefused(
                f"差额票决须候选项目多于产生项目数:现有候选{candidates}个,产生{round_.seats}个"
            )
        if not round_.voters.exists():
            raise ParticipationRefused("尚未登记票决代表,不能开启票决")
    round_.stage_open = True
    round_.version += 1
    round_.save(update_fields=["stage_open", "version"])
    _log(round_, "open", actor)
    return round_


@transaction.atomic
def round_stage_close(*, round_: Round, actor: User) -> Round:
    round_ = _locked_round(round_)
    if not round_.stage_open:
        raise ParticipationRefused(f"“{Stage(round_.stage).label}”阶段未开启")
    round_.stage_open = False
    round_.version += 1
    round_.save(update_fields=["stage_open", "version"])
    _log(round_, "close", actor)
    return round_


@transaction.atomic
def round_advance(*, round_: Round, actor: User) -> Round:
    """Move on to the next stage once the current one is closed. Moving on to 公布 publishes."""
    round_ = _locked_round(round_)
    if round_.stage_open:
        raise ParticipationRefused(f"请先结束“{Stage(round_.stage).label}”阶段")
    if round_.stage == Stage.PUBLISHED:
        raise ParticipationRefused("结果已公布,本轮已结束")
    if (
        round_.stage == Stage.SHORTLISTING
        and round_.proposals.filter(status=ProposalStatus.SUBMITTED).exists()
    ):
        raise ParticipationRefused("还有提议未初定:请逐一确定入围,或写明未入围原因")
    if round_.stage == Stage.VOTING:
        return _publish(round_, actor)
    round_.stage = STAGE_ORDER[STAGE_ORDER.index(Stage(round_.stage)) + 1]
    round_.version += 1
    round_.save(update_fields=["stage", "version"])
    _log(round_, "advance", actor)
    return round_


def _publish(round_: Round, actor: User) -> Round:
    result = round_result(round_)
    if result.tie:
        raise ParticipationRefused(result.tie)
    now = clock.now()
    statuses = status_catalogue(round_.street)
    for line in result.lines:
        Proposal.objects.filter(pk=line.proposal.pk).update(votes=line.votes, chosen=line.chosen)
        if line.chosen:
            Project.objects.create(
                round=round_,
                proposal=line.proposal,
                street=round_.street,
                area=line.proposal.area,
                title=line.proposal.title,
                status=statuses[0],
                progress=statuses[0].default_progress,
                planned_end=date(round_.year, 12, 31),
            )
    round_.stage, round_.published_at = Stage.PUBLISHED, now
    round_.version += 1
    round_.save(update_fields=["stage", "published_at", "version"])
    _log(
        round_,
        "publish",
        actor,
        f"投票{result.ballots}张,当选{sum(1 for line in result.lines if line.chosen)}项",
    )
    return round_


# Proposals -----------------------------------------------------------------------------------


def _proposal_check(round_: Round, area: Area, cost: Decimal) -> None:
    if not area.is_within(round_.area):
        raise ParticipationRefused(f"{area.name}不在本轮({round_.area.name})的范围内")
    if cost < 0:
        raise ParticipationRefused("估算金额不能为负数")


@transaction.atomic
def proposal_submit(
    *,
    round_: Round,
    area: Area,
    title: str,
    description: str,
    place: str,
    estimated_cost: Decimal,
    beneficiaries: str,
    proposer_name: str = "",
    proposer_phone: str = "",
    actor: User | None = None,
) -> Proposal:
    """A proposal: from a resident on the QR page (no actor), or entered by staff from a
    meeting (the actor). Only while 征集 is open."""
    round_ = _locked_round(round_)
    _require_stage(round_, Stage.COLLECTING, "提交提议")
    _proposal_check(round_, area, estimated_cost)
    return Proposal.objects.create(
        round=round_,
        area=area,
        title=title,
        description=description,
        place=place,
        estimated_cost=estimated_cost,
        beneficiaries=beneficiaries,
        source=ProposalSource.MEETING if actor is not None else ProposalSource.RESIDENT,
        proposer_name=proposer_name,
        proposer_phone_masked=mask_phone(proposer_phone) if proposer_phone else "",
        entered_by=actor,
        created_at=clock.now(),
    )


@transaction.atomic
def proposal_shortlist(
    *, proposal: Proposal, actor: User, keep: bool, reason: str = ""
) -> Proposal:
    """初定: keep the proposal as a candidate, or drop it with the reason its proposer reads."""
    _require_stage(_locked_round(proposal.round), Stage.SHORTLISTING, "初定")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    reason = reason.strip()
    if not keep and not reason:
        raise ParticipationRefused("未入围的提议须写明原因,提议人会看到")
    proposal.status = ProposalStatus.CANDIDATE if keep else ProposalStatus.DROPPED
    proposal.drop_reason = "" if keep else reason
    proposal.save(update_fields=["status", "drop_reason"])
    return proposal


# Voters and ballots --------------------------------------------------------------------------


@transaction.atomic
def voter_register(*, round_: Round, person: Person, kind: str, actor: User) -> Voter:
    if round_.stage == Stage.PUBLISHED:
        raise ParticipationRefused("结果已公布,不能再登记代表")
    if not person.area.is_within(round_.street):
        raise ParticipationRefused(f"{person.name}不是本街道的居民")
    if Voter.objects.filter(round=round_, person=person).exists():
        raise ParticipationRefused(f"{person.name}已登记为本轮代表")
    return Voter.objects.create(
        round=round_, person=person, kind=kind, registered_by=actor, registered_at=clock.now()
    )


def _picks_check(round_: Round, proposal_ids: Iterable[int]) -> list[int]:
    picks = sorted(set(proposal_ids))
    if not round_.min_picks <= len(picks) <= round_.max_picks:
        if round_.min_picks == round_.max_picks:
            wanted = f"须选{round_.max_picks}项"
        else:
            wanted = f"须选{round_.min_picks}至{round_.max_picks}项"
        raise ParticipationRefused(f"本票选了{len(picks)}项,{wanted}")
    candidates = set(
        round_.proposals.filter(status=ProposalStatus.CANDIDATE, pk__in=picks).values_list(
            "pk", flat=True
        )
    )
    if len(candidates) != len(picks):
        raise ParticipationRefused("所选项目不是本轮的候选项目")
    return picks


def _ballot_create(
    voter: Voter,
    picks: list[int],
    channel: str,
    entered_by: User | None = None,
    confirmed_by: User | None = None,
) -> Ballot:
    try:
        # A savepoint: a second ballot refused by the database leaves the transaction usable.
        with transaction.atomic():
            ballot = Ballot.objects.create(
                round=voter.round,
                voter=voter,
                channel=channel,
                entered_by=entered_by,
                confirmed_by=confirmed_by,
                cast_at=clock.now(),
            )
    except IntegrityError:
        raise ParticipationRefused(f"{voter.person.name}已投票,每位代表只能投一票") from None
    BallotPick.objects.bulk_create(BallotPick(ballot=ballot, proposal_id=pk) for pk in picks)
    return ballot


@transaction.atomic
def ballot_cast(*, voter: Voter, proposal_ids: Sequence[int]) -> Ballot:
    """The voter's own ballot from their phone. One per voter, even when two arrive at once:
    the voter's row is locked, and the database's unique key refuses a second."""
    voter = Voter.objects.select_for_update().select_related("round", "person").get(pk=voter.pk)
    round_ = voter.round
    _require_stage(round_, Stage.VOTING, "投票")
    if Ballot.objects.filter(voter=voter).exists():
        raise ParticipationRefused(f"{voter.person.name}已投票,每位代表只能投一票")
    return _ballot_create(voter, _picks_check(round_, proposal_ids), BallotChannel.PHONE)


@transaction.atomic
def paper_ballot_enter(*, voter: Voter, proposal_ids: Sequence[int], actor: User) -> Ballot | None:
    """A paper ballot, entered twice by two different staff members. The first entry waits;
    the second, when it matches, makes the ballot (None until then); a mismatch is refused and
    the first entry is kept for a careful re-entry."""
    voter = Voter.objects.select_for_update().select_related("round", "person").get(pk=voter.pk)
    round_ = voter.round
    _require_stage(round_, Stage.VOTING, "录入纸质选票")
    if Ballot.objects.filter(voter=voter).exists():
        raise ParticipationRefused(f"{voter.person.name}已投票,每位代表只能投一票")
    picks = _picks_check(round_, proposal_ids)
    first = PaperEntry.objects.filter(voter=voter).first()
    if first is None:
        PaperEntry.objects.create(
            round=round_, voter=voter, picks=picks, entered_by=actor, entered_at=clock.now()
        )
        return None
    if first.entered_by_id == actor.pk:
        raise ParticipationRefused("第二次录入须由另一名工作人员完成")
    if sorted(first.picks) != picks:
        raise ParticipationRefused(
            f"{voter.person.name}的选票两次录入不一致,未计入;请核对纸质选票后重新录入"
        )
    ballot = _ballot_create(voter, picks, BallotChannel.PAPER, first.entered_by, actor)
    first.delete()
    return ballot


@transaction.atomic
def paper_entry_discard(*, voter: Voter, actor: User) -> None:
    """Drop a first entry found wrong, so that the paper ballot is entered twice afresh."""
    deleted, _ = PaperEntry.objects.filter(voter=voter, round__stage=Stage.VOTING).delete()
    if not deleted:
        raise ParticipationRefused("没有待核对的首次录入")


# Projects ------------------------------------------------------------------------------------


def status_defaults_seed() -> None:
    """The shared status catalogue (also seeded by the migration)."""
    for sort, (name, progress, completes) in enumerate(DEFAULT_STATUSES):
        ProjectStatus.objects.get_or_create(
            street=None,
            name=name,
            defaults={"default_progress": progress, "completes": completes, "sort": sort},
        )


def status_catalogue(street: Area) -> list[ProjectStatus]:
    """The street's own statuses when it has set some, otherwise the shared catalogue."""
    status_defaults_seed()
    return list(statuses_of(street))


def rolled_up_progress(items: Sequence[SubItem]) -> int | None:
    """The project's progress from its sub-items: weighted when every sub-item has a weight,
    otherwise their plain mean; None without sub-items."""
    if not items:
        return None
    if all(item.weight is not None for item in items):
        total = sum((item.weight or Decimal(0) for item in items), Decimal(0))
        value = sum((item.weight or Decimal(0)) * item.progress for item in items) / total
    else:
        value = Decimal(sum(item.progress for item in items)) / len(items)
    return int(value.quantize(Decimal(1)))


def _roll_up(project: Project, statuses: list[ProjectStatus]) -> None:
    items = list(project.sub_items.all())
    progress = rolled_up_progress(items)
    if progress is not None:
        project.progress = progress
        if items and all(item.status.completes for item in items):
            project.status = next((s for s in statuses if s.completes), project.status)
    done = project.status.completes
    if done and project.completed_at is None:
        project.completed_at = clock.now()
    elif not done:
        project.completed_at = None
    project.version += 1
    project.save(update_fields=["progress", "status", "completed_at", "version"])


@transaction.atomic
def sub_item_add(
    *, project: Project, title: str, weight: Decimal | None = None, actor: User
) -> SubItem:
    project = Project.objects.select_for_update().get(pk=project.pk)
    statuses = status_catalogue(project.street)
    if weight is not None and weight <= 0:
        raise ParticipationRefused("权重须大于0;不设权重时按各分项平均")
    item = SubItem.objects.create(
        project=project,
        title=title,
        weight=weight,
        status=statuses[0],
        progress=statuses[0].default_progress,
    )
    _roll_up(project, statuses)
    return item


@transaction.atomic
def milestone_add(*, project: Project, title: str, due: date, actor: User) -> Milestone:
    return Milestone.objects.create(project=project, title=title, due=due)


@transaction.atomic
def milestone_done(*, milestone: Milestone, actor: User) -> Milestone:
    if milestone.done_at is not None:
        raise ParticipationRefused("该节点已完成")
    milestone.done_at = clock.now()
    milestone.save(update_fields=["done_at"])
    return milestone


@transaction.atomic
def project_update(
    *,
    project: Project,
    actor: User,
    status: ProjectStatus,
    note: str,
    expected_version: int,
    sub_item: SubItem | None = None,
    progress: int | None = None,
    photos: Sequence[UploadedFile] = (),
    planned_end: date | None = None,
) -> ProjectUpdate:
    """An update of the project (or one sub-item): its status, its progress (by default the
    status's), a note and photos. The project's progress is then rolled up from its sub-items."""
    cleaned = photos_clean(photos)
    project = Project.objects.select_for_update().select_related("status").get(pk=project.pk)
    if project.version != expected_version:
        raise ParticipationRefused("该项目已被他人更新,请刷新后重试", code="version_conflict")
    statuses = status_catalogue(project.street)
    if status.pk not in {s.pk for s in statuses}:
        raise ParticipationRefused("状态不在本街道的状态目录中")
    value = status.default_progress if progress is None else progress
    if not 0 <= value <= 100:
        raise ParticipationRefused("进度须在0%至100%之间")
    if sub_item is not None:
        if sub_item.project_id != project.pk:
            raise ParticipationRefused("该分项不属于本项目")
        sub_item.status, sub_item.progress = status, value
        sub_item.save(update_fields=["status", "progress"])
    else:
        project.status, project.progress = status, value
    if planned_end is not None:
        project.planned_end = planned_end
        project.save(update_fields=["planned_end"])
    update = ProjectUpdate.objects.create(
        project=project,
        sub_item=sub_item,
        status=status,
        progress=value,
        note=note,
        actor=actor,
        at=clock.now(),
    )
    for photo in cleaned:
        UpdatePhoto.objects.create(update=update, file=photo, content_type=photo.content_type or "")
    _roll_up(project, statuses)
    return update


@transaction.atomic
def evaluation_open(*, project: Project, actor: User) -> Project:
    project = Project.objects.select_for_update().select_related("status").get(pk=project.pk)
    if not project.status.completes:
        raise ParticipationRefused("项目完成后才能组织验单评价")
    project.evaluation_open = True
    project.save(update_fields=["evaluation_open"])
    return project


@transaction.atomic
def evaluation_give(*, project: Project, voter: Voter, verdict: str) -> Evaluation:
    """A council member's verdict on a finished project, once each."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if not project.evaluation_open:
        raise ParticipationRefused("该项目的验单评价未开启")
    if voter.round_id != project.round_id:
        raise ParticipationRefused("只有本轮的票决代表可以验单评价")
    if verdict not in Verdict.values:
        raise ParticipationRefused("请选择满意、基本满意或不满意")
    if Evaluation.objects.filter(project=project, voter=voter).exists():
        raise ParticipationRefused("您已评价过该项目")
    return Evaluation.objects.create(project=project, voter=voter, verdict=verdict, at=clock.now())


# Volunteers, activities and points ----------------------------------------------------------


@transaction.atomic
def volunteer_register(*, person: Person, actor: User, area: Area | None = None) -> Volunteer:
    if Volunteer.objects.filter(person=person).exists():
        raise ParticipationRefused(f"{person.name}已是注册志愿者")
    area = area or person.area
    return Volunteer.objects.create(
        street=_street_of(area), area=area, person=person, joined_at=clock.now()
    )


@transaction.atomic
def point_rule_set(*, street: Area, kind: str, per_hour: int, per_activity: int) -> PointRule:
    if kind not in ActivityKind.values:
        raise ParticipationRefused("活动类别无效")
    rule, _ = PointRule.objects.update_or_create(
        street=street, kind=kind, defaults={"per_hour": per_hour, "per_activity": per_activity}
    )
    return rule


def points_for(activity: Activity, hours: Decimal) -> int:
    """The points an attendance earns by the street's rule for the activity's kind (none set:
    10 points an hour)."""
    rule = PointRule.objects.filter(street=activity.street, kind=activity.kind).first()
    per_hour, per_activity = (rule.per_hour, rule.per_activity) if rule else (10, 0)
    return int((hours * per_hour).to_integral_value()) + per_activity


@transaction.atomic
def activity_create(
    *,
    actor: User,
    area: Area,
    title: str,
    kind: str,
    organiser: str,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    places: int,
    hours: Decimal | None = None,
) -> Activity:
    """An activity; each signed-in volunteer is credited `hours` (by default its duration)."""
    if ends_at <= starts_at:
        raise ParticipationRefused("结束时间须晚于开始时间")
    if places < 1:
        raise ParticipationRefused("名额至少为1")
    if hours is None:
        hours = (Decimal((ends_at - starts_at).total_seconds()) / 3600).quantize(Decimal("0.1"))
    if not Decimal("0.1") <= hours <= Decimal(24):
        raise ParticipationRefused("每人计时须在0.1至24小时之间")
    return Activity.objects.create(
        street=_street_of(area),
        area=area,
        title=title,
        kind=kind,
        organiser=organiser,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        places=places,
        hours=hours,
        created_by=actor,
    )


@transaction.atomic
def activity_sign_up(*, activity: Activity, volunteer: Volunteer) -> SignUp:
    """Sign up while places are open (the activity's row is locked while they are counted)."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if not volunteer.is_active:
        raise ParticipationRefused("该志愿者已不在册")
    if activity.ends_at <= clock.now():
        raise ParticipationRefused("活动已结束,不能报名")
    if SignUp.objects.filter(activity=activity, volunteer=volunteer).exists():
        raise ParticipationRefused("已报名该活动")
    if activity.signups.count() >= activity.places:
        raise ParticipationRefused(f"名额已满({activity.places}人)")
    return SignUp.objects.create(activity=activity, volunteer=volunteer, signed_up_at=clock.now())


def _balance(volunteer: Volunteer) -> int:
    last = PointEntry.objects.filter(volunteer=volunteer).order_by("-pk").first()
    return last.balance if last is not None else 0


def _points_add(
    volunteer: Volunteer,
    delta: int,
    reason: str,
    actor: User | None,
    *,
    signup: SignUp | None = None,
    exchange: Exchange | None = None,
) -> PointEntry:
    """Append one ledger entry; the caller holds the volunteer's row locked."""
    balance = _balance(volunteer) + delta
    if balance < 0:
        raise ParticipationRefused(f"积分不足:现有{balance - delta}分,需{-delta}分")
    return PointEntry.objects.create(
        volunteer=volunteer,
        delta=delta,
        balance=balance,
        reason=reason,
        actor=actor,
        signup=signup,
        exchange=exchange,
        at=clock.now(),
    )


def _locked_volunteer(volunteer: Volunteer) -> Volunteer:
    return Volunteer.objects.select_for_update().select_related("person").get(pk=volunteer.pk)


@transaction.atomic
def attendance_sign_in(*, signup: SignUp, actor: User) -> SignUp:
    """On-site sign-in: the activity's hours are credited and the points the rule gives."""
    signup = SignUp.objects.select_for_update().select_related("activity").get(pk=signup.pk)
    if signup.signed_in_at is not None:
        raise ParticipationRefused("已签到,时长和积分已计入")
    activity = signup.activity
    if clock.now() < activity.starts_at - SIGN_IN_EARLY:
        raise ParticipationRefused("活动开始前1小时起才能签到")
    volunteer = _locked_volunteer(signup.volunteer)
    signup.signed_in_at, signup.signed_in_by, signup.hours = clock.now(), actor, activity.hours
    signup.save(update_fields=["signed_in_at", "signed_in_by", "hours"])
    points = points_for(activity, activity.hours)
    if points:
        _points_add(
            volunteer,
            points,
            f"参加“{activity.title}”服务{activity.hours}小时",
            actor,
            signup=signup,
        )
    return signup


@transaction.atomic
def points_adjust(*, volunteer: Volunteer, delta: int, reason: str, actor: User) -> PointEntry:
    """A correction by staff, with its reason; the ledger is never edited, only added to."""
    if not reason.strip():
        raise ParticipationRefused("积分调整须写明事由")
    if delta == 0:
        raise ParticipationRefused("调整的积分不能为0")
    return _points_add(_locked_volunteer(volunteer), delta, f"调整:{reason.strip()}", actor)


@transaction.atomic
def partner_add(*, street: Area, name: str, actor: User) -> PartnerUnit:
    if PartnerUnit.objects.filter(street=street, name=name).exists():
        raise ParticipationRefused(f"已有共建单位“{name}”")
    return PartnerUnit.objects.create(street=street, name=name, joined_at=clock.now())


@transaction.atomic
def reward_add(
    *, partner: PartnerUnit, name: str, points: int, value: Decimal, stock: int, actor: User
) -> Reward:
    if points < 1:
        raise ParticipationRefused("所需积分至少为1")
    if value < 0 or stock < 0:
        raise ParticipationRefused("金额与库存不能为负数")
    return Reward.objects.create(
        partner=partner, name=name, points=points, value=value, stock=stock
    )


@transaction.atomic
def reward_exchange(
    *, volunteer: Volunteer, reward: Reward, channel: str, actor: User | None = None
) -> Exchange:
    """Exchange points for a reward at the counter (actor: the staff member) or on the phone
    (no actor). The volunteer's and the reward's rows are locked, so two exchanges at once can
    neither spend the same points twice nor take the last item twice."""
    if channel not in ExchangeChannel.values:
        raise ParticipationRefused("兑换方式无效")
    volunteer = _locked_volunteer(volunteer)
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    if not reward.is_active:
        raise ParticipationRefused(f"“{reward.name}”已下架")
    if reward.stock < 1:
        raise ParticipationRefused(f"“{reward.name}”已兑完")
    if _balance(volunteer) < reward.points:
        raise ParticipationRefused(f"积分不足:现有{_balance(volunteer)}分,需{reward.points}分")
    exchange = Exchange.objects.create(
        volunteer=volunteer,
        reward=reward,
        points=reward.points,
        value=reward.value,
        channel=channel,
        at=clock.now(),
    )
    Reward.objects.filter(pk=reward.pk).update(stock=F("stock") - 1)
    _points_add(
        volunteer,
        -reward.points,
        f"兑换“{reward.name}”({ExchangeChannel(channel).label})",
        actor,
        exchange=exchange,
    )
    return exchange
