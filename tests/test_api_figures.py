"""Figures over the API: the same numbers as `analytics.selectors`, 同比 against an entered
baseline, the catalogue, rankings, and who may ask."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shanzhi import clock
from shanzhi.analytics.measures import KPIS
from shanzhi.analytics.models import RankingRule, RankingWeight
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.selectors import Scope, figures_compute
from shanzhi.analytics.services import baseline_enter
from shanzhi.api.tokens import api_token_create
from shanzhi.cases.models import Source, State

from .case_factories import make_case, police

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
KEYS = ["intake", "resolved", "resolution_rate", "on_time_rate", "overdue", "handling_hours"]


@pytest.fixture
def cases(world):
    with clock.acting_at(datetime(2025, 4, 8, 10, tzinfo=SHANGHAI)):
        for state in (State.RESOLVED, State.ARCHIVED, State.IN_PROGRESS, State.ACCEPTED):
            make_case(world, state)
        make_case(
            world,
            State.RESOLVED,
            area=world.sibling_microgrid,
            source=Source.HOTLINE,
            actor=world.dispatcher,
        )


def get(client, user, path, **params):
    key = api_token_create(name="测试", user=user)[1]
    return client.get(f"/api/v1{path}", params, headers={"authorization": f"Bearer {key}"})


@pytest.mark.parametrize(
    "scope",
    [
        {},
        {"area": "community"},
        {"area": "grid", "source": "resident"},
        {"unit": "police"},
    ],
)
def test_values_equal_the_selectors(client, world, cases, scope):
    params = {"kpis": ",".join(KEYS), "period": "2025"}
    expected_scope = Scope()
    if "area" in scope:
        area = getattr(world, scope["area"])
        params["area"] = area.code
        expected_scope = Scope(area=area, source=scope.get("source", ""))
        if "source" in scope:
            params["source"] = scope["source"]
    if "unit" in scope:
        params["unit"] = police(world).pk
        expected_scope = Scope(unit=police(world))
    response = get(client, world.leader, "/figures", **params)
    assert response.status_code == 200, response.content
    body = response.json()
    expected = figures_compute(
        viewer=world.leader, kpis=KEYS, scope=expected_scope, period=period_parse("2025")
    )
    assert [f["key"] for f in body["figures"]] == KEYS
    for figure in body["figures"]:
        want = expected[figure["key"]]
        got = (figure["value"], figure["numerator"], figure["denominator"])
        value = float(want.value) if want.value is not None else None
        assert got == (value, want.numerator, want.denominator), figure["key"]
    intake = body["figures"][0]
    assert intake["value"] > 0
    assert intake["cases_url"].startswith("/cases/?kpi=intake&part=numerator&period=2025")


def test_year_on_year_flags_an_entered_baseline(client, world, cases):
    baseline_enter(
        actor=world.leader,
        area=world.street,
        kpi="intake",
        period=period_parse("2024"),
        value=4,
        note="2024年工作总结",
    )
    body = get(
        client, world.leader, "/figures", kpis="intake", period="2025", area=world.street.code
    ).json()
    change = body["figures"][0]["year_on_year"]
    assert change["baseline_used"] is True and change["baseline_note"] == "2024年工作总结"
    assert change["earlier_value"] == 4 and change["ratio"] == 25
    assert change["text"] == "同比增长25.00%(录入数)"
    assert change["earlier_period"] == {"code": "2024", "label": "2024年"}
    # For a half-year neither comparison has a baseline: both are counted.
    half = get(client, world.leader, "/figures", kpis="intake", period="2025H1").json()
    assert half["figures"][0]["year_on_year"]["baseline_used"] is False
    assert half["figures"][0]["period_on_period"]["earlier_period"]["code"] == "2024H2"


def test_catalogue_lists_every_kpi(client, world):
    body = get(client, world.dispatcher, "/figures/catalogue").json()
    assert [k["key"] for k in body] == list(KPIS)
    overdue = next(k for k in body if k["key"] == "overdue")
    assert overdue["higher_is_better"] is False and overdue["counts_cases"] is True
    visits = next(k for k in body if k["key"] == "enterprise_visits")
    assert visits["counts_cases"] is False


def test_rankings_rank_the_grids(client, world, cases):
    rule = RankingRule.objects.create(name="只看办结率", level="grid")
    RankingWeight.objects.create(rule=rule, kpi="resolution_rate", weight=1)
    body = get(
        client,
        world.leader,
        "/rankings",
        level="grid",
        period="2025",
        area=world.street.code,
        rule=rule.pk,
        size=1,
    ).json()
    # 湘湖第一网格 resolved 2 of 4, 湘湖第二网格 1 of 1; 湖头陈 has no cases.
    assert [(r["name"], r["rank"], r["score"]) for r in body["rows"]] == [
        ("湘湖第二网格", 1, 75.0),
        ("湘湖第一网格", 2, 25.0),
        ("湖头陈第一网格", None, None),
    ]
    # Each score explained: 100% and 50% sit one σ (25 points) either side of their mean.
    first = body["rows"][0]
    assert first["figures"][0] | {"cases_url": None} == {
        "kpi": "resolution_rate",
        "value": 100.0,
        "value_text": "100.00%",
        "weight": 1,
        "mark": 0.75,
        "score": 75.0,
        "z": 1.0,
        "contribution": 75.0,
        "cases_url": None,
    }
    assert first["explanation"] == "办结率75.00分×1权重→75.00 = 75.00分"
    (criterion,) = body["criteria"]
    assert (criterion["method"], criterion["mean"], criterion["sigma"]) == ("zscore", 75.0, 25.0)
    assert "标准差" in body["scoring"]
    assert body["red"] == [world.sibling_grid.code] and body["black"] == [world.grid.code]
    assert body["rows"][1]["figures"][0]["value_text"] == "50.00%"
    default = get(client, world.leader, "/rankings", level="community", period="2025").json()
    assert default["rule"]["name"] == "社区考核(默认)" and default["area"]["code"] == "330109001"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kpis": "intake,happiness", "period": "2025"}, "没有名为“happiness”的指标"),
        ({"kpis": "intake", "period": "去年"}, "无法识别期间"),
        ({"kpis": "intake", "period": "1999"}, "期间须在2000年至2100年之间"),
        ({"kpis": "intake", "period": "0001-01-01..9999-12-31"}, "无法识别期间"),
        ({"kpis": "intake", "period": "2025", "area": "330102008"}, "无权查看"),
        ({"kpis": " , ", "period": "2025"}, "请至少指定一个指标"),
    ],
)
def test_bad_parameters_are_422_in_chinese(client, world, params, message):
    response = get(client, world.leader, "/figures", **params)
    assert response.status_code == 422
    assert message in response.json()["message"]


def test_grid_workers_and_channels_get_403(client, world):
    for path, params in (
        ("/figures", {"kpis": "intake", "period": "2025"}),
        ("/figures/catalogue", {}),
        ("/rankings", {"level": "grid", "period": "2025"}),
    ):
        response = get(client, world.grid_worker, path, **params)
        assert response.status_code == 403, path
        assert response.json()["code"] == "permission_denied"
    assert get(client, world.community_leader, "/figures/catalogue").status_code == 200
