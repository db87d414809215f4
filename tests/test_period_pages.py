"""Every page that takes a period reads it as the API does: a bad one is a 400 with a Chinese
message, never a 500 (years near 1 and 9999 used to overflow the date arithmetic)."""

import re

import pytest
from django.core.cache import cache

from shanzhi.analytics.periods import PeriodError, period_parse

from .case_factories import make_case

pytestmark = pytest.mark.django_db

REFUSAL = re.compile(r"不是有效的期间|期间须在2000年至2100年之间|无法识别期间")
BAD_PERIODS = ("0001", "9999", "9999-12-31", "0001-01-01..9999-12-31", "9999H2", "2025-13", "明年")


@pytest.fixture
def leader(client, world):
    cache.clear()  # the dashboard caches its panels
    make_case(world)
    client.force_login(world.leader)
    return client


@pytest.mark.parametrize("text", BAD_PERIODS)
def test_the_parser_refuses_in_chinese_and_only_with_a_period_error(text):
    with pytest.raises(PeriodError) as refused:
        period_parse(text)
    assert re.search(r"[期月日]", refused.value.message)


@pytest.mark.parametrize("text", ("0001", "9999-12-31", "0001-01-01..9999-12-31"))
def test_the_dashboard_and_its_panels_answer_400(leader, text):
    page = leader.get("/dashboard/", {"period": text})
    assert page.status_code == 400
    assert REFUSAL.search(page.content.decode())
    chart = leader.get("/dashboard/charts/trend/", {"period": text})
    assert chart.status_code == 400 and REFUSAL.search(chart.json()["message"])
    assert leader.get("/dashboard/lists/overdue/", {"period": text}).status_code == 400
    both = leader.get("/dashboard/", {"from": "0001-01-01", "to": "9999-12-31"})
    assert both.status_code == 400


def test_the_report_page_answers_400(leader, world):
    for text in ("9999-12-31", "0001", "0001-01-01..9999-12-31"):
        response = leader.get(
            "/reports/", {"area": world.street.code, "period": text, "format": "html"}
        )
        assert response.status_code == 400
        assert REFUSAL.search(response.content.decode())


def test_the_case_list_of_a_figure_answers_400(leader):
    for text in ("0001-01-01..9999-12-31", "0001", "9999-12-31"):
        response = leader.get("/cases/", {"kpi": "intake", "period": text})
        assert response.status_code == 400
        assert REFUSAL.search(response.content.decode())


def test_rankings_and_their_export_answer_400(leader, world):
    for text in ("0001", "9999-12-31"):
        params = {"period": text, "area": world.street.code, "level": "grid"}
        page = leader.get("/figures/rankings/", params)
        assert page.status_code == 400 and REFUSAL.search(page.content.decode())
        assert leader.get("/figures/rankings/export.xlsx", params).status_code == 400


def test_a_baseline_for_year_one_is_refused(leader, world):
    response = leader.post(
        "/figures/baselines/",
        {"area": world.street.code, "kpi": "intake", "period": "0001", "value": "10"},
    )
    assert response.status_code == 400
    assert "期间须在2000年至2100年之间" in response.content.decode()


def test_the_api_still_refuses_with_422(client, world):
    from shanzhi.api.tokens import api_token_create

    _, raw = api_token_create(name="测试", user=world.leader)
    response = client.get(
        "/api/v1/figures",
        {"period": "9999-12-31", "kpis": "intake"},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 422
    assert REFUSAL.search(response.json()["message"])


def test_good_periods_still_answer_200(leader):
    assert leader.get("/dashboard/", {"period": "2025Q3"}).status_code == 200
    assert leader.get("/cases/", {"kpi": "intake", "period": "2025"}).status_code == 200
