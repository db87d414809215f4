"""Rounds, voters and volunteers built through the participation services."""

import itertools
from datetime import timedelta
from decimal import Decimal

from shanzhi import clock
from shanzhi.participation import services
from shanzhi.participation.models import Round, Stage, VoterKind

from .registry_factories import id_number, make_person

_serial = itertools.count(1)


def make_round(world, *, seats=2, min_picks=1, max_picks=2, area=None, title="") -> Round:
    """A round of the world's community, at 征集 and open."""
    round_ = services.round_create(
        actor=world.admin,
        area=area or world.community,
        year=clock.now().year,
        title=title or f"民生实事{next(_serial)}",
        seats=seats,
        min_picks=min_picks,
        max_picks=max_picks,
        threshold_percent=Decimal(50),
    )
    return services.round_stage_open(round_=round_, actor=world.admin)


def propose(world, round_, title="加装电梯", area=None, **fields):
    values = {
        "description": f"{title}的内容",
        "place": "景港府3幢",
        "estimated_cost": Decimal("12.5"),
        "beneficiaries": "住户120户",
        "proposer_name": "王阿姨",
        "proposer_phone": "13900001234",
    }
    values.update(fields)
    return services.proposal_submit(
        round_=round_, area=area or world.microgrid, title=title, **values
    )


def to_stage(world, round_, stage: Stage) -> Round:
    """Close and move on until `stage`, then open it."""
    round_.refresh_from_db()
    while round_.stage != stage:
        if round_.stage_open:
            round_ = services.round_stage_close(round_=round_, actor=world.admin)
        round_ = services.round_advance(round_=round_, actor=world.admin)
    if not round_.stage_open:
        round_ = services.round_stage_open(round_=round_, actor=world.admin)
    return round_


def make_voter(world, round_, name="", kind=VoterKind.COUNCIL):
    person = make_person(world, name=name or f"代表{next(_serial)}", number=id_number())
    return services.voter_register(round_=round_, person=person, kind=kind, actor=world.admin)


def voting_round(world, *, candidates=3, voters=4, seats=2, max_picks=2):
    """A round at 票决, open, with its candidates shortlisted and its voters registered."""
    round_ = make_round(world, seats=seats, max_picks=max_picks)
    proposals = [propose(world, round_, f"项目{i + 1}") for i in range(candidates)]
    round_ = to_stage(world, round_, Stage.SHORTLISTING)
    for proposal in proposals:
        services.proposal_shortlist(proposal=proposal, actor=world.community_worker, keep=True)
    people = [make_voter(world, round_) for _ in range(voters)]
    round_ = to_stage(world, round_, Stage.VOTING)
    return round_, proposals, people


def make_volunteer(world, name=""):
    person = make_person(world, name=name or f"志愿者{next(_serial)}", number=id_number())
    return services.volunteer_register(person=person, actor=world.community_worker)


def make_activity(world, *, hours=None, places=10, starts_in=timedelta(minutes=30), kind="elderly"):
    start = clock.now() + starts_in
    return services.activity_create(
        actor=world.community_worker,
        area=world.community,
        title="陪老人聊天",
        kind=kind,
        organiser="湘湖社区",
        place="湘湖社区日间照料中心",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        places=places,
        hours=hours,
    )
