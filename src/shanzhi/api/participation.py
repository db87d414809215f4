"""民生实事 and 志愿服务 over the API: rounds with their live count or published result and the
projects' progress; paper ballots entered by staff (twice, by two people); a volunteer's hours,
points and ledger. The same policy, services and selectors as the pages."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from shanzhi import policy
from shanzhi.errors import NotFound, PermissionDenied
from shanzhi.participation import selectors, services
from shanzhi.participation.models import Round, Stage

from . import present
from .auth import acting_user
from .schemas import READ_ERRORS, WRITE_ERRORS, Id, Out, PageIn, PageOut

router = Router(tags=["民生实事与志愿服务"])


class RoundOut(Out):
    id: int
    year: int
    title: str
    area: str = Field(description="街道或社区编码")
    area_name: str
    stage: Stage
    stage_label: str
    stage_open: bool
    seats: int = Field(description="票决产生项目数")
    min_picks: int
    max_picks: int
    threshold_percent: Decimal = Field(description="当选须超过投票数的百分比")


class RoundPage(PageOut):
    items: list[RoundOut]


class TallyLineOut(Out):
    proposal: int
    title: str
    votes: int
    percent: Decimal | None = Field(description="得票占投票数的百分比")
    chosen: bool = Field(description="按规则当选(公布前为暂列)")


class ProjectOut(Out):
    id: int
    title: str
    area: str
    status: str
    progress: int = Field(description="进度(%),由分项加权或平均汇总")
    planned_end: date
    completed_at: datetime | None


class RoundDetailOut(RoundOut):
    ballots: int
    voters: int
    turnout: Decimal | None = Field(description="投票数 ÷ 登记代表数,百分比")
    lines: list[TallyLineOut]
    projects: list[ProjectOut]


class PaperBallotIn(Schema):
    voter: Id = Field(description="票决代表 id")
    picks: list[Id] = Field(max_length=50, description="所选候选提议 id")


class PaperBallotOut(Out):
    counted: bool = Field(description="true:与第一次录入一致,已计票;false:已记为第一次录入")


class EntryOut(Out):
    delta: int
    balance: int
    reason: str
    at: datetime


class VolunteerOut(Out):
    id: int
    name: str
    balance: int
    hours: Decimal
    entries: list[EntryOut]


def _round_out(round_: Round) -> dict[str, Any]:
    return {
        "id": round_.pk,
        "year": round_.year,
        "title": round_.title,
        "area": round_.area.code,
        "area_name": round_.area.name,
        "stage": round_.stage,
        "stage_label": Stage(round_.stage).label,
        "stage_open": round_.stage_open,
        "seats": round_.seats,
        "min_picks": round_.min_picks,
        "max_picks": round_.max_picks,
        "threshold_percent": round_.threshold_percent,
    }


@router.get(
    "/participation/rounds",
    response={200: RoundPage} | READ_ERRORS,
    operation_id="round_list",
    summary="民生实事轮次",
    description="调用方辖区内(及其所在街道)的民生实事轮次,新的在前。",
)
def round_list(request: HttpRequest, params: Query[PageIn]) -> dict[str, Any]:
    rounds = policy.rounds_visible_to(acting_user(request)).select_related("area")
    return present.page(
        rounds.order_by("-year", "pk"), params, lambda rows: [_round_out(r) for r in rows]
    )


@router.get(
    "/participation/rounds/{round_id}",
    response={200: RoundDetailOut} | READ_ERRORS,
    operation_id="round_detail",
    summary="民生实事轮次详情",
    description="轮次的计票(票决中为实时计票,公布后为公布结果)和当选项目的进展。",
)
def round_detail(request: HttpRequest, round_id: Id) -> dict[str, Any]:
    round_ = policy.round_for(acting_user(request), round_id)
    tally = selectors.round_result(round_)
    projects = round_.projects.select_related("status", "area")
    published = round_.stage == Stage.PUBLISHED
    return {
        **_round_out(round_),
        "ballots": tally.ballots,
        "voters": tally.voters,
        "turnout": tally.turnout,
        "lines": [
            {
                "proposal": line.proposal.pk,
                "title": line.proposal.title,
                "votes": line.proposal.votes if published else line.votes,
                "percent": line.percent,
                "chosen": line.proposal.chosen if published else line.chosen,
            }
            for line in tally.lines
        ],
        "projects": [
            {
                "id": p.pk,
                "title": p.title,
                "area": p.area.code,
                "status": p.status.name,
                "progress": p.progress,
                "planned_end": p.planned_end,
                "completed_at": p.completed_at,
            }
            for p in projects
        ],
    }


@router.post(
    "/participation/rounds/{round_id}/paper-ballots",
    response={200: PaperBallotOut} | WRITE_ERRORS,
    operation_id="paper_ballot_enter",
    summary="录入纸质选票",
    description=(
        "纸质选票须由两名工作人员各录入一次:第一次录入后等待核对,另一人录入一致时计票;"
        "不一致时返回 422,不计票。"
    ),
)
def paper_ballot_enter(
    request: HttpRequest, round_id: Id, payload: PaperBallotIn
) -> dict[str, Any]:
    user = acting_user(request)
    round_ = policy.round_for(user, round_id)
    if not policy.can_work_round(user, round_):
        raise PermissionDenied("您无权录入该轮次的选票")
    voter = round_.voters.select_related("person").filter(pk=payload.voter).first()
    if voter is None:
        raise NotFound("没有找到该票决代表")
    ballot = services.paper_ballot_enter(voter=voter, proposal_ids=payload.picks, actor=user)
    return {"counted": ballot is not None}


@router.get(
    "/participation/volunteers/{volunteer_id}",
    response={200: VolunteerOut} | READ_ERRORS,
    operation_id="volunteer_detail",
    summary="志愿者积分",
    description="志愿者的累计服务时长、积分余额和最近50条积分流水。",
)
def volunteer_detail(request: HttpRequest, volunteer_id: Id) -> dict[str, Any]:
    volunteer = (
        policy.volunteers_visible_to(acting_user(request))
        .select_related("person")
        .filter(pk=volunteer_id)
        .first()
    )
    if volunteer is None:
        raise NotFound("没有找到该志愿者,或不在您的辖区范围内")
    return {
        "id": volunteer.pk,
        "name": volunteer.person.name,
        "balance": selectors.points_balance(volunteer),
        "hours": selectors.volunteer_hours(volunteer),
        "entries": [
            {"delta": e.delta, "balance": e.balance, "reason": e.reason, "at": e.at}
            for e in volunteer.points.order_by("-pk")[:50]
        ],
    }
