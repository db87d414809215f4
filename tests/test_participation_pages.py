"""The participation pages through the test client: staff pages scoped by the policy, the
resident's QR proposal page, the voter's phone ballot, the live tally, the progress page."""

import io
import re

import pytest
from django.urls import reverse
from PIL import Image

from shanzhi.participation import services
from shanzhi.participation.models import (
    Ballot,
    PaperEntry,
    PartnerUnit,
    PointEntry,
    Project,
    ProjectStatus,
    Proposal,
    Round,
    Stage,
    Volunteer,
    Voter,
)

from .participation_factories import (
    make_activity,
    make_round,
    make_volunteer,
    propose,
    to_stage,
    voting_round,
)
from .registry_factories import id_number, make_person

pytestmark = pytest.mark.django_db


def _png(name="现场.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 40)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def test_a_resident_proposes_by_qr_and_follows_the_proposal(client, world):
    round_ = make_round(world)
    url = reverse("participation_public_propose", args=[world.microgrid.code])
    page = client.get(url)
    assert page.status_code == 200 and str(round_) in page.content.decode()
    bad = client.post(url, {"title": "", "description": "x"})
    assert bad.status_code == 400 and not Proposal.objects.exists()
    response = client.post(
        url,
        {
            "title": "小区加装休闲座椅",
            "description": "老人散步没有地方坐",
            "place": "景港府中心花园",
            "estimated_cost": "3.2",
            "beneficiaries": "小区老年人",
            "proposer_phone": "13900001234",
        },
    )
    proposal = Proposal.objects.get()
    assert response.url == reverse("participation_public_proposal", args=[proposal.tracking_token])
    assert proposal.area == world.microgrid and proposal.proposer_phone_masked == "139****1234"
    to_stage(world, round_, Stage.SHORTLISTING)
    services.proposal_shortlist(
        proposal=proposal, actor=world.community_worker, keep=False, reason="已列入区级改造计划"
    )
    mine = client.get(response.url).content.decode()
    assert "未入围" in mine and "已列入区级改造计划" in mine


def test_the_proposal_page_says_when_nothing_is_collecting(client, world):
    page = client.get(reverse("participation_public_propose", args=[world.microgrid.code]))
    assert page.status_code == 200 and 'data-testid="closed"' in page.content.decode()
    missing = client.get(reverse("participation_public_propose", args=["NOPE0000"]))
    assert missing.status_code == 404


def test_staff_pages_follow_the_policy(client, world):
    round_ = make_round(world)
    client.force_login(world.outsider)
    assert client.get(reverse("participation_home")).status_code == 403
    client.force_login(world.other_admin)
    assert client.get(reverse("participation_round", args=[round_.pk])).status_code == 404
    client.force_login(world.community_worker)
    page = client.get(reverse("participation_round", args=[round_.pk]))
    assert page.status_code == 200 and 'data-testid="stage-controls"' not in page.content.decode()
    refused = client.post(reverse("participation_round_step", args=[round_.pk]), {"step": "close"})
    assert refused.status_code == 302 and Round.objects.get().stage_open
    client.force_login(world.admin)
    client.post(reverse("participation_round_step", args=[round_.pk]), {"step": "close"})
    assert not Round.objects.get().stage_open


def test_an_administrator_sets_up_a_round(client, world):
    client.force_login(world.admin)
    response = client.post(
        reverse("participation_round_new"),
        {
            "area": world.street.pk,
            "year": 2026,
            "title": "2026年街道民生实事",
            "seats": 6,
            "min_picks": 1,
            "max_picks": 6,
            "threshold_percent": "50",
        },
    )
    round_ = Round.objects.get()
    assert response.url == reverse("participation_round", args=[round_.pk])
    assert (round_.seats, round_.street) == (6, world.street)


def test_voters_registered_by_id_number_vote_on_their_phones(client, world):
    round_, proposals, _ = voting_round(world, voters=1)
    number = id_number()
    person = make_person(world, name="李代表", number=number)
    client.force_login(world.community_worker)
    client.post(
        reverse("participation_voter", args=[round_.pk]), {"id_number": number, "kind": "deputy"}
    )
    voter = Voter.objects.get(person=person)
    links = client.get(reverse("participation_voter_links", args=[round_.pk])).content.decode()
    assert voter.token in links
    client.logout()
    url = reverse("participation_public_vote", args=[voter.token])
    assert 'data-testid="ballot"' in client.get(url).content.decode()
    too_many = client.post(url, {"picks": [p.pk for p in proposals]})
    assert too_many.status_code == 400 and "须选1至2项" in too_many.content.decode()
    client.post(url, {"picks": [proposals[0].pk]})
    assert Ballot.objects.get().voter == voter
    assert 'data-testid="voted"' in client.get(url).content.decode()


def test_the_live_tally_is_a_fragment_polled_without_inline_script(client, world):
    round_, proposals, voters = voting_round(world)
    services.ballot_cast(voter=voters[0], proposal_ids=[proposals[1].pk])
    client.force_login(world.leader)
    page = client.get(reverse("participation_tally", args=[round_.pk])).content.decode()
    assert 'hx-trigger="every 3s"' in page and "<script>" not in page
    live = client.get(reverse("participation_tally_live", args=[round_.pk])).content.decode()
    assert re.search(r'data-testid="ballots">1<', live)
    assert "<html" not in live


def test_paper_ballots_need_two_staff(client, world):
    round_, proposals, voters = voting_round(world)
    data = {"voter": voters[0].pk, "picks": [proposals[0].pk]}
    client.force_login(world.community_worker)
    client.post(reverse("participation_paper", args=[round_.pk]), data)
    assert PaperEntry.objects.count() == 1 and not Ballot.objects.exists()
    client.force_login(world.admin)
    response = client.post(
        reverse("participation_paper", args=[round_.pk]), {**data, "picks": [proposals[1].pk]}
    )
    assert "两次录入不一致" in client.get(response.url).content.decode()
    client.post(reverse("participation_paper", args=[round_.pk]), data)
    assert Ballot.objects.get().channel == "paper"


def test_progress_updated_with_a_photo_shows_on_the_public_page(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    round_, (a, b, _), voters = voting_round(world, voters=2)
    for voter in voters:
        services.ballot_cast(voter=voter, proposal_ids=[a.pk, b.pk])
    round_ = services.round_stage_close(round_=round_, actor=world.admin)
    services.round_advance(round_=round_, actor=world.admin)
    project = Project.objects.get(proposal=a)
    client.force_login(world.community_worker)
    url = reverse("participation_project", args=[project.pk])
    assert client.get(url).status_code == 200
    status = ProjectStatus.objects.get(street__isnull=True, name="施工实施")
    stale = client.post(url, {"status": status.pk, "note": "开工", "version": project.version - 1})
    assert stale.status_code == 400 and "已被他人更新" in stale.content.decode()
    response = client.post(
        url,
        {"status": status.pk, "note": "已进场施工", "version": project.version, "photos": _png()},
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.progress == 50
    client.logout()
    public = client.get(reverse("participation_public_progress", args=[world.community.code]))
    html = public.content.decode()
    assert "已进场施工" in html and f'data-testid="progress-{project.pk}">50%' in html
    photo = re.search(r'src="(/p/photos/\d+/)"', html)
    assert photo is not None and client.get(photo.group(1)).status_code == 200
    qr = client.get(reverse("participation_public_qr", args=[world.community.code, "progress"]))
    assert qr["Content-Type"] == "image/svg+xml"


def test_volunteering_sign_in_and_the_phone_exchange(client, world):
    volunteer = make_volunteer(world, "小周")
    activity = make_activity(world)
    client.force_login(world.community_worker)
    services.activity_sign_up(activity=activity, volunteer=volunteer)
    signup = activity.signups.get()
    client.post(reverse("participation_activity", args=[activity.pk]), {"signup": signup.pk})
    assert PointEntry.objects.get().delta == 20
    client.post(reverse("participation_volunteering_act", args=["partner"]), {"name": "湘湖书店"})
    partner = PartnerUnit.objects.get()
    client.post(
        reverse("participation_volunteering_act", args=["reward"]),
        {"partner": partner.pk, "name": "图书券", "points": 15, "value": "20", "stock": 3},
    )
    assert client.get(reverse("participation_volunteering")).status_code == 200
    client.logout()
    url = reverse("participation_public_volunteer", args=[volunteer.token])
    page = client.get(url).content.decode()
    assert "积分 <strong>20</strong>" in page and "图书券" in page
    reward = partner.rewards.get()
    client.post(url, {"reward": reward.pk})
    assert "积分 <strong>5</strong>" in client.get(url).content.decode()
    again = client.post(url, {"reward": reward.pk})
    assert "积分不足" in client.get(again.url).content.decode()


def test_counter_registration_and_exchange_by_id_number(client, world):
    number = id_number()
    person = make_person(world, name="陈阿姨", number=number)
    client.force_login(world.community_worker)
    client.post(
        reverse("participation_volunteering_act", args=["volunteer"]), {"id_number": number}
    )
    volunteer = Volunteer.objects.get(person=person)
    services.points_adjust(volunteer=volunteer, delta=50, reason="补录", actor=world.admin)
    partner = services.partner_add(street=world.street, name="湘湖超市", actor=world.admin)
    reward = services.reward_add(
        partner=partner, name="大米", points=40, value=30, stock=1, actor=world.admin
    )
    client.post(
        reverse("participation_volunteering_act", args=["exchange"]),
        {"id_number": number, "reward": reward.pk},
    )
    entry = PointEntry.objects.order_by("pk").last()
    assert (entry.delta, entry.actor) == (-40, world.community_worker)
    wrong = client.post(
        reverse("participation_volunteering_act", args=["volunteer"]), {"id_number": "123"}
    )
    assert "身份证" in client.get(wrong.url).content.decode()


def test_pages_of_a_round_at_every_stage_render(client, world):
    round_ = make_round(world)
    propose(world, round_)
    client.force_login(world.admin)
    for stage in (Stage.SHORTLISTING, Stage.DELIBERATING):
        round_ = to_stage(world, round_, stage)
        if stage == Stage.SHORTLISTING:
            services.proposal_shortlist(
                proposal=Proposal.objects.get(), actor=world.admin, keep=True
            )
        assert client.get(reverse("participation_round", args=[round_.pk])).status_code == 200
    assert client.get(reverse("participation_home")).status_code == 200


def test_council_members_evaluate_a_finished_project_on_their_phones(client, world):
    round_, (a, b, _), voters = voting_round(world, voters=2)
    for voter in voters:
        services.ballot_cast(voter=voter, proposal_ids=[a.pk, b.pk])
    round_ = services.round_stage_close(round_=round_, actor=world.admin)
    services.round_advance(round_=round_, actor=world.admin)
    project = Project.objects.get(proposal=a)
    services.project_update(
        project=project,
        status=ProjectStatus.objects.get(street__isnull=True, name="已完成"),
        note="竣工",
        actor=world.community_worker,
        expected_version=project.version,
    )
    client.force_login(world.community_worker)
    client.post(reverse("participation_project_part", args=[project.pk, "evaluation"]))
    client.logout()
    url = reverse("participation_public_vote", args=[voters[0].token])
    page = client.get(url).content.decode()
    assert f'data-testid="evaluate-{project.pk}"' in page and "项目1 2票" in page
    client.post(url, {"project": project.pk, "verdict": "basically"})
    assert f'data-testid="evaluate-{project.pk}"' not in client.get(url).content.decode()
    client.force_login(world.leader)
    detail = client.get(reverse("participation_project", args=[project.pk])).content.decode()
    assert "已评价 1 人" in detail and "满意率 100.00%" in detail


def test_the_progress_page_reads_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
):
    round_, proposals, voters = voting_round(world, candidates=5, voters=2, seats=4, max_picks=4)
    for voter in voters:
        services.ballot_cast(voter=voter, proposal_ids=[p.pk for p in proposals[:4]])
    round_ = services.round_stage_close(round_=round_, actor=world.admin)
    services.round_advance(round_=round_, actor=world.admin)
    for project in Project.objects.all():
        services.sub_item_add(project=project, title="施工", actor=world.admin)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("participation_public_progress", args=[world.community.code]))
    assert page.content.decode().count('data-testid="project-') == 4
