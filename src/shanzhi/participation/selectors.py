"""Reads of 民生实事 and 志愿服务 shared by the pages, the API, the figures and the demo."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from shanzhi.areas.models import Area

from .models import (
    Activity,
    Ballot,
    BallotPick,
    Evaluation,
    Exchange,
    PartnerUnit,
    PointEntry,
    Project,
    ProjectStatus,
    Proposal,
    ProposalStatus,
    Reward,
    Round,
    SignUp,
    Verdict,
    Volunteer,
    Voter,
)

# The counts the figures read (see analytics.measures, the participation block).
ROUNDS_CHOSEN = "lp_chosen"
ROUNDS_COMPLETED = "lp_completed"
ROUNDS_ON_SCHEDULE = "lp_on_schedule"
ROUNDS_BALLOTS = "lp_ballots"
ROUNDS_VOTERS = "lp_voters"
VOLUNTEERS_SERVING = "vol_serving"
VOLUNTEER_ACTIVITIES = "vol_activities"
VOLUNTEER_SERVICES = "vol_services"
VOLUNTEER_TENTHS = "vol_tenths"
POINTS_EARNED = "points_earned"
POINTS_SPENT = "points_spent"
EXCHANGE_FEN = "exchange_fen"
PARTNERS = "partners"
PARTICIPATION_KINDS = (
    ROUNDS_CHOSEN,
    ROUNDS_COMPLETED,
    ROUNDS_ON_SCHEDULE,
    ROUNDS_BALLOTS,
    ROUNDS_VOTERS,
    VOLUNTEERS_SERVING,
    VOLUNTEER_ACTIVITIES,
    VOLUNTEER_SERVICES,
    VOLUNTEER_TENTHS,
    POINTS_EARNED,
    POINTS_SPENT,
    EXCHANGE_FEN,
    PARTNERS,
)


def _under(field: str, paths: list[str] | None, area: Area | None) -> Q:
    """Rows whose `field` (an area) lies in the viewer's paths (None: everywhere) and in `area`."""
    condition = Q()
    if paths is not None:
        condition = Q(pk__in=[])
        for path in paths:
            condition |= Q(**{f"{field}__path__startswith": path})
    if area is not None:
        condition &= Q(**{f"{field}__path__startswith": area.path})
    return condition


def participation_count(
    kind: str, *, paths: list[str] | None, area: Area | None, lo: datetime, hi: datetime
) -> int:
    """One participation count for the figures over [lo, hi) (hi: the period's end or the
    moment, whichever is first), within the viewer's area paths (None: all) and `area`.

    Projects count by their round's publication (chosen) and their completion; ballots by
    when they were cast, against the voters of the rounds voted on; volunteer service by the
    activity's start; points and exchanges by the ledger's moments; partner units by their
    street, for every report of that street or below it."""
    if kind in (ROUNDS_CHOSEN, ROUNDS_COMPLETED, ROUNDS_ON_SCHEDULE):
        projects = Project.objects.filter(_under("area", paths, area))
        if kind == ROUNDS_CHOSEN:
            return projects.filter(round__published_at__gte=lo, round__published_at__lt=hi).count()
        done = projects.filter(completed_at__gte=lo, completed_at__lt=hi)
        if kind == ROUNDS_COMPLETED:
            return done.count()
        return sum(
            1
            for planned, completed in done.values_list("planned_end", "completed_at")
            if timezone.localtime(completed).date() <= planned
        )
    if kind in (ROUNDS_BALLOTS, ROUNDS_VOTERS):
        ballots = Ballot.objects.filter(
            _under("round__area", paths, area), cast_at__gte=lo, cast_at__lt=hi
        )
        if kind == ROUNDS_BALLOTS:
            return ballots.count()
        return Voter.objects.filter(round__in=ballots.values("round")).count()
    if kind == PARTNERS:
        street = Q() if area is None or area.street_id is None else Q(street_id=area.street_id)
        if paths is not None:
            # A community's viewer counts the partner units of the street it belongs to.
            above = {ancestor for path in paths for ancestor in Area(path=path).ancestor_paths}
            street &= _under("street", paths, None) | Q(street__path__in=above)
        return PartnerUnit.objects.filter(street, joined_at__lt=hi).count()
    if kind in (VOLUNTEERS_SERVING, VOLUNTEER_SERVICES, VOLUNTEER_TENTHS):
        attended = SignUp.objects.filter(
            _under("activity__area", paths, area),
            signed_in_at__isnull=False,
            activity__starts_at__gte=lo,
            activity__starts_at__lt=hi,
        )
        if kind == VOLUNTEERS_SERVING:
            return attended.values("volunteer").distinct().count()
        if kind == VOLUNTEER_SERVICES:
            return attended.count()
        hours = attended.aggregate(total=Sum("hours"))["total"] or Decimal(0)
        return int(hours * 10)
    if kind == VOLUNTEER_ACTIVITIES:
        return Activity.objects.filter(
            _under("area", paths, area), starts_at__gte=lo, starts_at__lt=hi
        ).count()
    entries = PointEntry.objects.filter(
        _under("volunteer__area", paths, area), at__gte=lo, at__lt=hi
    )
    if kind == POINTS_EARNED:
        return entries.filter(delta__gt=0).aggregate(total=Sum("delta"))["total"] or 0
    if kind == POINTS_SPENT:
        return -(entries.filter(exchange__isnull=False).aggregate(total=Sum("delta"))["total"] or 0)
    if kind == EXCHANGE_FEN:
        exchanges = Exchange.objects.filter(
            _under("volunteer__area", paths, area), at__gte=lo, at__lt=hi
        )
        return int((exchanges.aggregate(total=Sum("value"))["total"] or Decimal(0)) * 100)
    raise ValueError(kind)


# Rounds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TallyLine:
    proposal: Proposal
    votes: int
    percent: Decimal | None  # of the ballots cast
    passes: bool  # over the threshold
    chosen: bool


@dataclass(frozen=True)
class Tally:
    round: Round
    ballots: int
    voters: int
    lines: list[TallyLine]
    tie: str = ""  # why the result cannot be decided, when a tie sits at the last seat

    @property
    def turnout(self) -> Decimal | None:
        return Decimal(self.ballots) * 100 / self.voters if self.voters else None


def round_result(round_: Round) -> Tally:
    """The count of a round's ballots by its rule: the candidates by votes, the first `seats`
    of those with more than the threshold percent of the ballots cast chosen."""
    ballots = Ballot.objects.filter(round=round_).count()
    voters = Voter.objects.filter(round=round_).count()
    counts = dict(
        BallotPick.objects.filter(ballot__round=round_)
        .values("proposal")
        .annotate(n=Count("pk"))
        .values_list("proposal", "n")
    )
    candidates = list(
        Proposal.objects.filter(round=round_, status=ProposalStatus.CANDIDATE).select_related(
            "area"
        )
    )
    candidates.sort(key=lambda p: (-counts.get(p.pk, 0), p.pk))
    lines: list[TallyLine] = []
    seats_left, tie = round_.seats, ""
    for index, proposal in enumerate(candidates):
        votes = counts.get(proposal.pk, 0)
        passes = bool(ballots) and Decimal(votes) * 100 > round_.threshold_percent * ballots
        chosen = passes and seats_left > 0
        if chosen:
            seats_left -= 1
            following = candidates[index + 1] if index + 1 < len(candidates) else None
            if seats_left == 0 and following is not None and counts.get(following.pk, 0) == votes:
                tie = (
                    f"“{proposal.title}”与“{following.title}”同为{votes}票,"
                    "并列争最后一个名额,请按议事规则另行票决"
                )
        percent = Decimal(votes) * 100 / ballots if ballots else None
        lines.append(TallyLine(proposal, votes, percent, passes, chosen))
    return Tally(round_, ballots, voters, lines, tie)


def published_result(round_: Round) -> list[Proposal]:
    """The published counts, as frozen at publication."""
    return list(Proposal.objects.filter(round=round_, votes__isnull=False).order_by("-votes", "pk"))


def rounds_open_for(area: Area) -> QuerySet[Round]:
    """The rounds a resident at `area` may propose to: collecting, open, covering the place."""
    return Round.objects.filter(
        area__path__in=[*area.ancestor_paths, area.path], stage="collecting", stage_open=True
    ).order_by("-year", "pk")


# Projects --------------------------------------------------------------------------------


def statuses_of(street: Area) -> QuerySet[ProjectStatus]:
    """The street's own status catalogue when it has set one, otherwise the shared one."""
    own = ProjectStatus.objects.filter(street=street)
    return own if own.exists() else ProjectStatus.objects.filter(street__isnull=True)


def projects_of_area(area: Area) -> QuerySet[Project]:
    """The projects a community's public progress page shows: its own and its street's."""
    return (
        Project.objects.filter(
            Q(area__path__startswith=area.path) | Q(area__path__in=area.ancestor_paths)
        )
        .select_related("status", "round", "area")
        .prefetch_related("sub_items__status", "milestones")
        .order_by("-round__year", "pk")
    )


@dataclass(frozen=True)
class EvaluationCount:
    total: int
    satisfied: int
    basically: int
    unsatisfied: int

    @property
    def satisfaction(self) -> Decimal | None:
        if not self.total:
            return None
        return Decimal(self.satisfied + self.basically) * 100 / self.total


def evaluation_count(project: Project) -> EvaluationCount:
    by = dict(
        Evaluation.objects.filter(project=project)
        .values("verdict")
        .annotate(n=Count("pk"))
        .values_list("verdict", "n")
    )
    return EvaluationCount(
        total=sum(by.values()),
        satisfied=by.get(Verdict.SATISFIED, 0),
        basically=by.get(Verdict.BASICALLY, 0),
        unsatisfied=by.get(Verdict.UNSATISFIED, 0),
    )


# Volunteers ------------------------------------------------------------------------------


def points_balance(volunteer: Volunteer) -> int:
    last = PointEntry.objects.filter(volunteer=volunteer).order_by("-pk").first()
    return last.balance if last is not None else 0


def volunteer_hours(volunteer: Volunteer) -> Decimal:
    total = volunteer.signups.filter(signed_in_at__isnull=False).aggregate(h=Sum("hours"))["h"]
    return total or Decimal(0)


def rewards_for(volunteer: Volunteer) -> QuerySet[Reward]:
    return Reward.objects.filter(
        partner__street=volunteer.street, is_active=True, stock__gt=0
    ).select_related("partner")


def activities_open_for(volunteer: Volunteer, now: datetime) -> QuerySet[Activity]:
    return Activity.objects.filter(street=volunteer.street, ends_at__gt=now).order_by("starts_at")
