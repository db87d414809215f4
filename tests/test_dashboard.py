"""驾驶舱 /dashboard/: who gets in, headline and chart numbers equal the direct count, a community
leader's numbers stay in their community, and every number clicks through to a case list of
exactly that many cases."""

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.urls import reverse

from shanzhi import clock
from shanzhi.analytics import formatting
from shanzhi.analytics.breakdowns import DERIVED, derived_value
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.selectors import Scope, figures_compute, kpi_cases, measure_values
from shanzhi.areas.models import Area
from shanzhi.cases import services
from shanzhi.cases.models import CaseCategory, State

from .case_factories import make_case

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
Y2025 = period_parse("2025")
HEADLINE = (
    "intake",
    "resolution_rate",
    "on_time_rate",
    "satisfaction_rate",
    "overdue",
    "handling_hours",
    "on_spot_rate",
    "dispute_rate",
    "hazard_rate",
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def year(world):
    """A hand-built 2025: four cases in 湘湖社区 and one in 湖头陈社区.

    A  03-03 resolved and rated 满意 (archived)
    B  03-10 resolved, not called back
    C  04-07 dispatched, never resolved (overdue by year end), supervised 04-08
    D  05-12 in 湖头陈 resolved, rated 不满意 (reopened), resolved again
    E  06-02 accepted on the sibling microgrid, never dispatched
    """
    with clock.acting_at(at(3, 3)):
        make_case(world, State.ARCHIVED)
    with clock.acting_at(at(3, 10)):
        make_case(world, State.RESOLVED)
    with clock.acting_at(at(4, 7)):
        c = make_case(world, State.DISPATCHED)
    with clock.acting_at(at(4, 8)):
        services.case_supervise(case=c, actor=world.leader, requirement="抓紧办理")
    with clock.acting_at(at(5, 12)):
        d = make_case(world, State.RESOLVED, area=world.far_grid)
    with clock.acting_at(at(5, 13)):
        d = services.case_callback(case=d, actor=world.dispatcher, satisfaction="unsatisfied")
    with clock.acting_at(at(5, 15)):
        d = services.case_claim(case=d, actor=world.handler)
        services.case_resolve(case=d, actor=world.handler, result="已再次处理", evidence="已处理")
    with clock.acting_at(at(6, 2)):
        make_case(world, State.ACCEPTED, area=world.sibling_microgrid)
    return world


def _direct(viewer, kpis, scope=None, period=Y2025):
    return figures_compute(viewer=viewer, kpis=kpis, scope=scope, period=period, source="direct")


def _scope_of(url: str) -> tuple[str, str, Scope, str]:
    """The figure a click-through link names: (kpi, part, scope, period code)."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    scope = Scope(
        area=Area.objects.get(code=params["area"]) if "area" in params else None,
        category=CaseCategory.objects.get(pk=params["category"]) if "category" in params else None,
        source=params.get("source", ""),
    )
    return params["kpi"], params.get("part", "numerator"), scope, params["period"]


def _listed(client, url: str) -> int:
    """The count the case list's banner shows for a figure's link (and the list agrees)."""
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    banner = re.search(r'data-testid="figure-count">(\d+)<', html)
    assert banner, html[:2000]
    listed = re.search(r'data-testid="case-count">(\d+)<', html)
    assert banner.group(1) == listed.group(1)
    return int(banner.group(1))


def _chart(client, name: str, **params) -> dict:
    response = client.get(reverse("dashboard_chart", args=[name]), params)
    assert response.status_code == 200
    return response.json()


# Access ------------------------------------------------------------------------------------


def test_leaders_get_the_dashboard_and_grid_workers_the_forbidden_page(client, world):
    client.force_login(world.leader)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert "驾驶舱" in response.content.decode()
    assert 'href="/dashboard/"' in response.content.decode()  # the nav link
    assert "vendor/echarts/echarts.min.js" in response.content.decode()
    for name in ("trend", "areas"):
        assert client.get(reverse("dashboard_chart", args=[name])).status_code == 200

    client.force_login(world.grid_worker)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()
    assert client.get(reverse("dashboard_chart", args=["trend"])).status_code == 403
    assert client.get(reverse("dashboard_list", args=["overdue"])).status_code == 403
    home = client.get(reverse("case_list")).content.decode()
    assert 'href="/dashboard/"' not in home

    client.logout()
    assert client.get(reverse("dashboard")).status_code == 302


def test_the_default_period_is_this_year_and_2025_is_offered(client, world):
    client.force_login(world.leader)
    with clock.acting_at(datetime(2026, 3, 1, tzinfo=SHANGHAI)):
        response = client.get(reverse("dashboard"))
    assert response.context["choice"].period.code == "2026"
    assert response.context["choice"].area == world.street
    html = response.content.decode()
    assert '<option value="2025">2025年</option>' in html
    bad = client.get(reverse("dashboard"), {"period": "2025Q9", "area": world.other_street.code})
    assert bad.status_code == 400
    assert "没有找到该辖区" in bad.content.decode()
    assert bad.context["choice"].area == world.street


def test_unknown_panels_are_not_found(client, world):
    client.force_login(world.leader)
    assert client.get(reverse("dashboard_chart", args=["nope"])).status_code == 404
    assert client.get(reverse("dashboard_list", args=["nope"])).status_code == 404


# Numbers -----------------------------------------------------------------------------------


def test_headline_numbers_equal_figures_compute(client, year):
    client.force_login(year.leader)
    response = client.get(reverse("dashboard"), {"period": "2025"})
    cards = {card["key"]: card for card in response.context["cards"]}
    direct = _direct(year.leader, HEADLINE, Scope(area=year.street))
    for key in HEADLINE:
        assert cards[key]["value"] == formatting.figure_value_text(direct[key]), key
    assert direct["intake"].numerator == 5
    assert cards["intake"]["value"] == "5件"
    assert cards["resolution_rate"]["value"] == "60.00%"
    parts = {p["part"]: p["count"] for p in cards["resolution_rate"]["parts"]}
    assert parts == {"numerator": 3, "denominator": 5}
    html = response.content.decode()
    assert 'data-testid="headline-value-intake"' in html


def test_each_chart_equals_the_direct_count(client, year):
    world = year
    client.force_login(world.leader)
    street = Scope(area=world.street)

    trend = _chart(client, "trend", period="2025")
    assert len(trend["labels"]) == 12 and trend["labels"][0] == "1月"
    for series in trend["series"]:
        for point in series["data"]:
            _, _, _, code = _scope_of(point["url"])
            direct = _direct(world.leader, [series["key"]], street, period_parse(code))
            assert point["value"] == direct[series["key"]].numerator, (series["key"], code)
    assert [p["value"] for p in trend["series"][0]["data"]][2:6] == [2, 1, 1, 1]

    areas = _chart(client, "areas", period="2025")
    assert [item["name"] for item in areas["items"]] == ["第一片区"]
    zone = _chart(client, "areas", period="2025", area=world.zone.code)
    for item in zone["items"]:
        scope = Scope(area=Area.objects.get(code=item["code"]))
        direct = _direct(world.leader, ["intake", "resolution_rate"], scope)
        assert item["value"] == direct["intake"].numerator
        assert item["rate_text"] == formatting.percent_text(direct["resolution_rate"].value)
    assert {i["name"]: i["value"] for i in zone["items"]} == {"湘湖社区": 4, "湖头陈社区": 1}

    categories = _chart(client, "categories", period="2025")
    assert categories["items"]
    for item in categories["items"]:
        _, _, scope, _ = _scope_of(item["url"])
        assert item["value"] == _direct(world.leader, ["intake"], scope)["intake"].numerator

    keys = ["on_time", "late", "open_overdue", "satisfied", "basically", "called_back", "reachable"]
    values = measure_values(
        viewer=world.leader,
        keys=keys,
        scope=street,
        period=Y2025,
        as_of=Y2025.end_at,
        source="direct",
    )
    deadline = {i["key"]: i["value"] for i in _chart(client, "deadline", period="2025")["items"]}
    assert deadline == {k: values[k] for k in ("on_time", "late", "open_overdue")}
    assert deadline["open_overdue"] == 1
    satisfaction = {
        i["key"]: i["value"] for i in _chart(client, "satisfaction", period="2025")["items"]
    }
    assert satisfaction == {
        "satisfied": values["satisfied"],
        "basically": values["basically"],
        "unsatisfied": derived_value(DERIVED["unsatisfied"], values),
        "not_called_back": derived_value(DERIVED["not_called_back"], values),
    }
    assert satisfaction == {"satisfied": 1, "basically": 0, "unsatisfied": 1, "not_called_back": 1}


def test_the_lists_show_overdue_and_supervised_cases_and_the_ranking(client, year):
    client.force_login(year.leader)
    overdue = client.get(reverse("dashboard_list", args=["overdue"]), {"period": "2025"})
    expected = kpi_cases(viewer=year.leader, key="open_overdue", period=Y2025)
    assert overdue.context["data"]["count"] == expected.count() == 1
    assert expected.get().number in overdue.content.decode()

    supervised = client.get(reverse("dashboard_list", args=["supervised"]), {"period": "2025"})
    assert supervised.context["data"]["count"] == 1
    assert "督办1次" in supervised.content.decode()

    ranking = client.get(
        reverse("dashboard_list", args=["ranking"]), {"period": "2025", "area": year.zone.code}
    )
    names = [item["name"] for item in ranking.context["data"]["items"]]
    assert names == ["湖头陈社区", "湘湖社区"]  # 100% before 50%
    assert "50.00%" in ranking.content.decode()


def test_a_community_leader_counts_only_their_community(client, year):
    client.force_login(year.community_leader)
    response = client.get(reverse("dashboard"), {"period": "2025"})
    assert response.context["choice"].area == year.community
    cards = {card["key"]: card for card in response.context["cards"]}
    assert cards["intake"]["value"] == "4件"  # not 湖头陈's case
    other = client.get(reverse("dashboard"), {"period": "2025", "area": year.other_community.code})
    assert other.context["choice"].area == year.community
    # Asked for the zone above it, the charts fall back to the community: its grids.
    areas = _chart(client, "areas", period="2025", area=year.zone.code)
    assert [(i["name"], i["value"]) for i in areas["items"]] == [
        ("湘湖第一网格", 3),
        ("湘湖第二网格", 1),
    ]
    satisfaction = _chart(client, "satisfaction", period="2025", area=year.zone.code)
    assert {i["key"]: i["value"] for i in satisfaction["items"]}["unsatisfied"] == 0
    trend = _chart(client, "trend", period="2025", area=year.zone.code)
    assert sum(p["value"] for p in trend["series"][0]["data"]) == 4


# Click-through --------------------------------------------------------------------------------


def test_headline_numbers_click_through_to_as_many_cases(client, year):
    client.force_login(year.leader)
    response = client.get(reverse("dashboard"), {"period": "2025"})
    checked = 0
    for card in response.context["cards"]:
        for part in card["parts"]:
            assert _listed(client, part["url"]) == part["count"], (card["key"], part["part"])
            checked += 1
        if card["key"] in ("intake", "overdue"):
            assert _listed(client, card["url"]) == int(card["value"].removesuffix("件"))
            checked += 1
    assert checked >= 15
    html = client.get(response.context["cards"][1]["parts"][0]["url"]).content.decode()
    assert "2025年 城厢街道 办结量:共" in html


def test_chart_cells_and_lists_click_through_to_as_many_cases(client, year):
    client.force_login(year.leader)
    cells = []
    for series in _chart(client, "trend", period="2025")["series"]:
        cells += [(p["url"], p["value"]) for p in series["data"] if p["value"]]
    zone = _chart(client, "areas", period="2025", area=year.zone.code)["items"]
    cells += [(i["url"], i["value"]) for i in zone]
    cells += [(i["rate_url"], i["rate_count"]) for i in zone]
    cells += [(i["url"], i["value"]) for i in _chart(client, "categories", period="2025")["items"]]
    for name in ("deadline", "satisfaction"):
        cells += [(i["url"], i["value"]) for i in _chart(client, name, period="2025")["items"]]
    for name in ("overdue", "supervised"):
        data = client.get(reverse("dashboard_list", args=[name]), {"period": "2025"}).context[
            "data"
        ]
        cells.append((data["url"], data["count"]))
    assert len(cells) >= 20
    for url, value in cells:
        assert _listed(client, url) == value, url
    # The link of 湖头陈's intake names the community and the figure.
    html = client.get(zone[1]["url"]).content.decode()
    assert "2025年 湖头陈社区 受理量:共 <strong" in html


def test_the_figure_list_keeps_other_filters_and_pagination(client, world):
    with clock.acting_at(at(7, 1)):
        for _ in range(22):
            make_case(world, State.ACCEPTED)
        make_case(world, State.ACCEPTED, area=world.far_grid)
    client.force_login(world.leader)
    url = reverse("case_list")
    params = {"kpi": "intake", "part": "numerator", "period": "2025", "area": world.street.code}
    response = client.get(url, params)
    assert response.context["figure"]["count"] == 23
    assert response.context["pager"]["next"]
    assert "kpi=intake" in response.context["pager"]["next"]
    second = client.get(f"{url}?{response.context['pager']['next']}")
    assert len(second.context["case_rows"]) == 3
    assert second.context["figure"]["count"] == 23
    narrowed = client.get(url, {**params, "area": world.far_grid.code})
    assert narrowed.context["figure"]["count"] == 1
    assert "2025年 湖头陈第一网格 受理量" in narrowed.content.decode()
    searched = client.get(url, {**params, "q": "不存在的关键词"})
    assert searched.context["pager"]["page"].paginator.count == 0
    # The hidden inputs keep the figure when the filter form is submitted.
    assert 'name="kpi" value="intake"' in response.content.decode()
    # htmx gets the results region with the banner.
    fragment = client.get(url, params, HTTP_HX_REQUEST="true")
    assert 'data-testid="figure-banner"' in fragment.content.decode()


def test_a_microgrid_can_be_named_by_a_figure_link(client, year):
    client.force_login(year.leader)
    params = {"kpi": "intake", "period": "2025", "area": year.microgrid.code}
    response = client.get(reverse("case_list"), params)
    assert response.context["figure"]["count"] == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kpi": "nope", "period": "2025"}, "没有名为“nope”的指标"),
        ({"kpi": "intake", "period": "2025Q7"}, "无法识别期间"),
        ({"kpi": "intake"}, "指标链接缺少期间"),
        ({"kpi": "intake", "period": "2025", "part": "x"}, "part 只能是"),
        ({"kpi": "enterprise_visits", "period": "2025"}, "“走访企业次数”统计的不是事件"),
        ({"kpi": "intake", "period": "2025", "area": "999"}, "辖区或分类有误"),
    ],
)
def test_a_bad_figure_link_is_named_in_chinese(client, world, params, message):
    client.force_login(world.leader)
    response = client.get(reverse("case_list"), params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["figure"]["cases"] is None


# Query counts ---------------------------------------------------------------------------------


def test_query_counts_of_the_shell_and_each_panel(client, year, django_assert_max_num_queries):
    client.force_login(year.leader)
    # A period that is over, and the running year (the cases of today counted directly).
    for period in ({"period": "2025"}, {}):
        cache.clear()
        # The figures, 同比, baselines and medians; the store's month totals answer a period of
        # whole months after one look at how far they reach; the top bar's unread count.
        with django_assert_max_num_queries(13):
            client.get(reverse("dashboard"), period)
        # The trend and the categories look how far the month totals reach, then read them (or
        # the deltas where they do not reach).
        for name, most in (
            ("trend", 7),
            ("categories", 7),
            ("areas", 6),
            ("deadline", 6),
            ("satisfaction", 6),
        ):
            with django_assert_max_num_queries(most):
                client.get(reverse("dashboard_chart", args=[name]), period)
        for name, most in (("overdue", 6), ("supervised", 6), ("ranking", 4)):
            with django_assert_max_num_queries(most):
                client.get(reverse("dashboard_list", args=[name]), period)
    # Cached: a second request counts nothing again (session, user, grants, no figures).
    with django_assert_max_num_queries(4):
        client.get(reverse("dashboard_chart", args=["trend"]), {"period": "2025"})
    params = {"kpi": "resolution_rate", "period": "2025", "area": year.street.code}
    with django_assert_max_num_queries(13):
        client.get(reverse("case_list"), params)


def test_before_this_year_has_cases_the_latest_year_with_cases_is_shown(client, year):
    client.force_login(year.leader)
    with clock.acting_at(datetime(2026, 3, 1, tzinfo=SHANGHAI)):
        response = client.get(reverse("dashboard"))
    assert response.context["choice"].period.code == "2025"
