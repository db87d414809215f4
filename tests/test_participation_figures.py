"""The figures of 民生实事 and 志愿服务: one definition each, the same on the dashboard panel and in
the period report's last section, within the viewer's part of the grid."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from shanzhi import clock
from shanzhi.analytics.periods import Period
from shanzhi.analytics.selectors import Scope, figures_compute
from shanzhi.participation import services
from shanzhi.participation.models import Project, ProjectStatus
from shanzhi.reports.compose import report_compose

from .participation_factories import make_activity, make_volunteer, voting_round

pytestmark = pytest.mark.django_db

KPIS = (
    "lp_chosen",
    "lp_completed",
    "lp_on_schedule_rate",
    "lp_ballots",
    "lp_turnout",
    "volunteers_serving",
    "volunteer_activities",
    "volunteer_services",
    "volunteer_hours",
    "points_earned",
    "points_spent",
    "exchange_value",
    "partners",
)


@pytest.fixture
def year(world):
    """A round voted on and one project finished, two volunteers serving, one exchange."""
    round_, (a, b, _), voters = voting_round(world, voters=4)
    for voter in voters[:3]:
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
    activity = make_activity(world, hours=Decimal("1.5"), starts_in=-timedelta(minutes=30))
    for name in ("小周", "小吴"):
        signup = services.activity_sign_up(activity=activity, volunteer=make_volunteer(world, name))
        services.attendance_sign_in(signup=signup, actor=world.community_worker)
    partner = services.partner_add(street=world.street, name="湘湖书店", actor=world.admin)
    reward = services.reward_add(
        partner=partner,
        name="图书券",
        points=10,
        value=Decimal("12.50"),
        stock=3,
        actor=world.admin,
    )
    services.reward_exchange(volunteer=signup.volunteer, reward=reward, channel="phone")
    return Period.year(clock.now().year)


def _values(viewer, period, area=None):
    figures = figures_compute(viewer=viewer, kpis=KPIS, scope=Scope(area=area), period=period)
    return {key: figures[key].value for key in KPIS}


def test_the_year_in_figures(world, year):
    values = _values(world.leader, year)
    assert values == {
        "lp_chosen": 2,
        "lp_completed": 1,
        "lp_on_schedule_rate": 100,
        "lp_ballots": 3,
        "lp_turnout": 75,
        "volunteers_serving": 2,
        "volunteer_activities": 1,
        "volunteer_services": 2,
        "volunteer_hours": Decimal("3.0"),
        "points_earned": 30,  # 1.5 hours × 10 points, twice
        "points_spent": 10,
        "exchange_value": Decimal("12.50"),
        "partners": 1,
    }


def test_figures_count_only_the_viewers_part_of_the_grid(world, year):
    other = _values(world.other_leader, year)
    assert all(not value for value in other.values())
    # A community's leader counts its own projects and service, and the street's partner units.
    community = _values(world.community_leader, year)
    assert community["lp_chosen"] == 2 and community["partners"] == 1


def test_the_report_ends_with_its_own_section(world, year):
    report = report_compose(viewer=world.leader, area=world.street, period=year)
    # The last part of 一、主要工作及成效, just before 二、存在问题.
    last = report.sections[-2]
    assert last.title.endswith("民生实事与志愿服务")
    text = last.blocks[0].text
    assert "居民议事会票决产生民生实事项目2个,收回选票3张,参与率75.00%" in text
    assert "完成民生实事项目1个,其中按期完成1个,按期完成率100.00%" in text
    assert "开展志愿服务活动1场" in text and "2名志愿者参与服务2次" in text
    assert "累计服务时长3.00小时" in text
    assert "共建单位1家,发放积分30分,兑换积分10分,兑换价值12.50元的等价优惠" in text


def test_an_empty_year_says_so(world):
    report = report_compose(viewer=world.leader, area=world.street, period=Period.year(2020))
    assert report.sections[-2].blocks[0].text == "全年未开展民生实事票决和志愿服务活动。"


def test_the_dashboard_panel_shows_the_same_numbers(client, world, year):
    client.force_login(world.leader)
    page = client.get(reverse("dashboard"))
    assert "list-participation" in page.content.decode()
    panel = client.get(
        reverse("dashboard_list", args=["participation"]), {"period": year.code}
    ).content.decode()
    assert 'data-testid="figure-value-lp_turnout">75.00%' in panel
    assert 'data-testid="figure-value-volunteer_hours">3.00小时' in panel


def test_a_project_finished_after_its_planned_date_is_not_on_schedule(world):
    round_, (a, b, _), voters = voting_round(world, voters=2)
    for voter in voters:
        services.ballot_cast(voter=voter, proposal_ids=[a.pk, b.pk])
    round_ = services.round_stage_close(round_=round_, actor=world.admin)
    services.round_advance(round_=round_, actor=world.admin)
    project = Project.objects.get(proposal=a)
    services.project_update(
        project=project,
        status=ProjectStatus.objects.get(street__isnull=True, name="已完成"),
        note="竣工,比计划晚",
        actor=world.community_worker,
        expected_version=project.version,
        planned_end=clock.now().date() - timedelta(days=1),
    )
    figures = figures_compute(
        viewer=world.leader,
        kpis=["lp_completed", "lp_on_schedule_rate"],
        period=Period.year(clock.now().year),
    )
    assert figures["lp_completed"].value == 1
    assert (figures["lp_on_schedule_rate"].numerator, figures["lp_on_schedule_rate"].value) == (
        0,
        0,
    )
