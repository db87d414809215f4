"""比拼晾晒: scoring on a hand-built year with known answers, scope, lists, page and export.

Three grids, every case accepted on 2025-03-20 at 10:00 (Asia/Shanghai):
  湘湖第一网格     2 cases, both resolved               → 办结率 100%,    超期数 0
  湘湖第二网格     1 resolved, 1 left in progress       → 办结率 50%,     超期数 1
  湖头陈第一网格   1 resolved, 2 left in progress       → 办结率 33.33%,  超期数 2
  空网格           no cases                             → not ranked, last
By end of year the open ones are past their handling deadline. The rule weighs 办结率 60 and
超期数 40 (fewer is better): marks 1 / 0.25 / 0 and 1 / 0.5 / 0 → scores 100, 35, 0.
"""

from datetime import datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse

from shanzhi import clock
from shanzhi.analytics.models import RankingRule, RankingWeight, RankLevel
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.rankings import (
    NO_CASES,
    RankingError,
    black_list,
    ranking_compute,
    red_list,
    rule_check,
    rules_for,
)
from shanzhi.analytics.selectors import Scope, figures_compute
from shanzhi.areas.models import Level
from shanzhi.cases.models import State

from .case_factories import make_case, police
from .factories import make_area

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = period_parse("2025")
MOMENT = datetime(2025, 3, 20, 10, 0, tzinfo=SHANGHAI)


def make_rule(*weights, level=RankLevel.GRID, name="测试规则"):
    rule = RankingRule.objects.create(name=name, level=level)
    for kpi, weight in weights:
        RankingWeight.objects.create(rule=rule, kpi=kpi, weight=weight)
    return rule


@pytest.fixture
def grids(world):
    far_micro = make_area(world.far_grid, Level.MICROGRID, "湖头陈1号微网格", 1)
    empty = make_area(world.community, Level.GRID, "空网格", 9)
    with clock.acting_at(MOMENT):
        for area, states in (
            (world.microgrid, [State.RESOLVED, State.RESOLVED]),
            (world.sibling_microgrid, [State.RESOLVED, State.IN_PROGRESS]),
            (far_micro, [State.RESOLVED, State.IN_PROGRESS, State.IN_PROGRESS]),
        ):
            for state in states:
                make_case(world, state, area=area)
    return empty


@pytest.fixture
def rule(db):
    return make_rule(("resolution_rate", 60), ("overdue", 40))


def test_scores_and_order_on_a_known_set(world, grids, rule):
    rows = ranking_compute(viewer=world.leader, rule=rule, area=world.street, period=YEAR)
    assert [r.subject for r in rows] == [world.grid, world.sibling_grid, world.far_grid, grids]
    assert [r.score for r in rows] == [Decimal("100.00"), Decimal("35.00"), Decimal("0.00"), None]
    assert [r.rank for r in rows] == [1, 2, 3, None]
    second = rows[1]
    assert second.cell("resolution_rate").figure.value == Decimal(50)
    assert second.cell("resolution_rate").mark == Decimal("0.25")
    assert second.cell("overdue").figure.value == 1
    assert second.cell("overdue").mark == Decimal("0.5")


def test_lower_is_better_is_inverted(world, grids):
    fewest_overdue = make_rule(("overdue", 10))
    rows = ranking_compute(viewer=world.leader, rule=fewest_overdue, area=world.street, period=YEAR)
    assert [r.subject for r in rows[:3]] == [world.grid, world.sibling_grid, world.far_grid]
    assert [r.cell("overdue").figure.value for r in rows[:3]] == [0, 1, 2]
    assert [r.score for r in rows[:3]] == [Decimal(100), Decimal(50), Decimal(0)]


def test_target_and_floor_replace_the_best_and_worst_of_the_set(world, grids):
    rule = make_rule(("resolution_rate", 1))
    RankingWeight.objects.filter(rule=rule).update(target=Decimal(80), floor=Decimal(40))
    rows = ranking_compute(viewer=world.leader, rule=rule, area=world.street, period=YEAR)
    # 100% is past the target (full marks), 50% a quarter of the way, 33.33% under the floor.
    assert [r.score for r in rows[:3]] == [Decimal(100), Decimal(25), Decimal(0)]


def test_groups_without_cases_rank_last_with_a_note(world, grids, rule):
    rows = ranking_compute(viewer=world.leader, rule=rule, area=world.street, period=YEAR)
    last = rows[-1]
    assert last.subject == grids and last.rank is None and last.score is None
    assert last.note == NO_CASES
    # A whole year without cases ranks nobody rather than giving everyone 100.
    empty_year = ranking_compute(
        viewer=world.leader, rule=rule, area=world.street, period=period_parse("2024")
    )
    assert all(r.score is None and r.note == NO_CASES for r in empty_year)


def test_a_kpi_without_data_is_left_out_of_that_groups_score(world, grids):
    # No case was called back, so nobody has a 满意率: the rest of the rule decides.
    rule = make_rule(("resolution_rate", 50), ("satisfaction_rate", 50))
    rows = ranking_compute(viewer=world.leader, rule=rule, area=world.street, period=YEAR)
    assert rows[0].score == Decimal(100)
    assert "满意率无数据" in rows[0].note


def test_red_and_black_lists(world, grids, rule):
    rows = ranking_compute(viewer=world.leader, rule=rule, area=world.street, period=YEAR)
    assert [r.subject for r in red_list(rows, 1)] == [world.grid]
    assert [r.subject for r in black_list(rows, 1)] == [world.far_grid]
    # Too few for two lists of five: the better half is red, the worse black, nobody on both,
    # and the unscored grid on neither.
    assert [r.subject for r in red_list(rows, 5)] == [world.grid, world.sibling_grid]
    assert [r.subject for r in black_list(rows, 5)] == [world.far_grid]


def test_a_community_leader_ranks_only_their_communitys_grids(world, grids, rule):
    rows = ranking_compute(
        viewer=world.community_leader, rule=rule, area=world.community, period=YEAR
    )
    assert {r.subject for r in rows} == {world.grid, world.sibling_grid, grids}
    assert [r.score for r in rows[:2]] == [Decimal(100), Decimal(0)]
    with pytest.raises(RankingError):
        ranking_compute(viewer=world.community_leader, rule=rule, area=world.street, period=YEAR)


@pytest.mark.parametrize(
    "as_of",
    [None, datetime(2025, 3, 20, 15, 0, tzinfo=SHANGHAI)],
    ids=["closed-year", "within-the-day"],
)
def test_group_figures_equal_the_selectors(world, grids, as_of):
    rule = RankingRule.objects.get(street__isnull=True, level=RankLevel.GRID)
    kpis = [w.kpi for w in rule.weights.all()]
    rows = ranking_compute(
        viewer=world.leader, rule=rule, area=world.street, period=YEAR, as_of=as_of
    )
    for row in rows:
        expected = figures_compute(
            viewer=world.leader, kpis=kpis, scope=Scope(area=row.subject), period=YEAR, as_of=as_of
        )
        for cell in row.cells:
            figure = expected[cell.kpi.key]
            assert (cell.figure.value, cell.figure.numerator, cell.figure.denominator) == (
                figure.value,
                figure.numerator,
                figure.denominator,
            ), (row.name, cell.kpi.key)


def test_units_are_ranked_by_their_own_cases(world, grids):
    rule = RankingRule.objects.get(street__isnull=True, level=RankLevel.UNIT)
    rows = ranking_compute(viewer=world.leader, rule=rule, area=world.street, period=YEAR)
    station = next(r for r in rows if r.subject == police(world))
    expected = figures_compute(
        viewer=world.leader,
        kpis=["intake", "on_time_rate"],
        scope=Scope(area=world.street, unit=police(world)),
        period=YEAR,
    )
    assert station.intake == expected["intake"].value == 7
    assert station.cell("on_time_rate").figure.value == expected["on_time_rate"].value
    assert station.rank == 1


def test_default_rules_are_seeded_for_each_level(world):
    for level in RankLevel.values:
        rule = rules_for(world.leader, level).get()
        assert rule.street is None
        total = sum(w.weight for w in rule.weights.all())
        assert total == 100, level
    grid = rules_for(world.leader, RankLevel.GRID).get()
    assert {w.kpi: w.weight for w in grid.weights.all()} == {
        "resolution_rate": 25,
        "on_time_rate": 20,
        "satisfaction_rate": 20,
        "claim_rate": 10,
        "overdue": 10,
        "reopen_rate": 5,
        "on_spot_rate": 10,
    }


def test_rule_check_refuses_in_chinese():
    with pytest.raises(RankingError, match="受理量”是数量"):
        rule_check([("intake", 10, None, None)])
    with pytest.raises(RankingError, match="满分值须低于零分值"):
        rule_check([("overdue", 10, Decimal(5), Decimal(1))])
    with pytest.raises(RankingError, match="至少要有一项"):
        rule_check([])


def test_a_streets_own_rule_comes_before_the_platforms(world):
    own = make_rule(("resolution_rate", 1), name="城厢网格考核")
    own.street = world.street
    own.save()
    assert rules_for(world.leader, RankLevel.GRID).first() == own
    assert own not in rules_for(world.other_leader, RankLevel.GRID)


# Pages ---------------------------------------------------------------------------------------


def params(world, rule, **extra):
    return {
        "level": "grid",
        "area": world.street.code,
        "period": "2025",
        "rule": rule.pk,
        "size": 1,
    } | extra


def test_page_shows_the_table_lists_and_click_through_links(
    client, world, grids, rule, django_assert_max_num_queries
):
    client.force_login(world.leader)
    with django_assert_max_num_queries(30):
        response = client.get(reverse("rankings"), params(world, rule))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="ranking-row"') == 4
    assert "100.00" in page and "35.00" in page and NO_CASES in page
    link = (
        f"/cases/?kpi=resolution_rate&amp;part=numerator&amp;period=2025&amp;area={world.grid.code}"
    )
    assert link in page
    red = page.split('data-testid="red-list"')[1].split("</ol>")[0]
    black = page.split('data-testid="black-list"')[1].split("</ol>")[0]
    assert world.grid.name in red and world.far_grid.name not in red
    assert world.far_grid.name in black and world.grid.name not in black


def test_page_refuses_a_rule_for_another_level(client, world, grids):
    client.force_login(world.leader)
    unit_rule = RankingRule.objects.get(street__isnull=True, level=RankLevel.UNIT)
    response = client.get(reverse("rankings"), params(world, unit_rule))
    assert "与排名对象不符" in response.content.decode()


def test_export_opens_with_openpyxl_and_has_the_rows(client, world, grids, rule):
    client.force_login(world.leader)
    response = client.get(reverse("rankings_export"), params(world, rule))
    assert response.status_code == 200
    book = openpyxl.load_workbook(BytesIO(b"".join(response.streaming_content)))
    rows = list(book["排名"].iter_rows(values_only=True))
    assert rows[1][:3] == ("名次", "网格", "编码")
    assert [r[1] for r in rows[2:]] == ["湘湖第一网格", "湘湖第二网格", "湖头陈第一网格", "空网格"]
    assert rows[2][3] == "100.00%" and rows[2][5] == 100
    assert [r[1] for r in book["红榜"].iter_rows(min_row=2, values_only=True)] == ["湘湖第一网格"]
    assert [r[1] for r in book["黑榜"].iter_rows(min_row=2, values_only=True)] == ["湖头陈第一网格"]


def test_export_is_scoped(client, world, grids, rule):
    client.force_login(world.community_leader)
    response = client.get(reverse("rankings_export"), params(world, rule))
    assert response.status_code == 400  # the street is not theirs to choose
    response = client.get(
        reverse("rankings_export"), params(world, rule, area=world.community.code)
    )
    book = openpyxl.load_workbook(BytesIO(b"".join(response.streaming_content)))
    names = [r[1] for r in book["排名"].iter_rows(min_row=3, values_only=True)]
    assert "湖头陈第一网格" not in names and len(names) == 3


def test_grid_workers_and_outsiders_are_turned_away(client, world):
    for user in (world.grid_worker, world.outsider):
        client.force_login(user)
        assert client.get(reverse("rankings")).status_code == 403
        assert client.get(reverse("rankings_export")).status_code == 403


# Admin ---------------------------------------------------------------------------------------


def test_street_admins_copy_the_platform_rule_and_edit_only_their_copy(client, world):
    platform = RankingRule.objects.get(street__isnull=True, level=RankLevel.GRID)
    client.force_login(world.admin)
    listing = reverse("admin:analytics_rankingrule_changelist")
    assert client.get(listing).status_code == 200
    change = reverse("admin:analytics_rankingrule_change", args=[platform.pk])
    assert client.post(change, {"name": "改掉"}).status_code == 403
    client.post(listing, {"action": "copy_to_street", "_selected_action": [platform.pk]})
    copy = RankingRule.objects.get(street=world.street)
    assert {(w.kpi, w.weight) for w in copy.weights.all()} == {
        (w.kpi, w.weight) for w in platform.weights.all()
    }
    assert (
        client.get(reverse("admin:analytics_rankingrule_change", args=[copy.pk])).status_code == 200
    )
    assert rules_for(world.leader, RankLevel.GRID).first() == copy
    # Another street's administrator neither sees nor edits it.
    client.force_login(world.other_admin)
    page = client.get(listing).content.decode()
    assert copy.name not in page and platform.name in page


def test_page_opens_on_the_default_rule_for_the_viewers_area(client, world, grids):
    client.force_login(world.community_leader)
    response = client.get(reverse("rankings"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "网格考核(默认)" in page and "湘湖社区" in page
    htmx = client.get(reverse("rankings"), {"period": "2025"}, headers={"HX-Request": "true"})
    assert htmx.content.decode().lstrip().startswith('<section id="ranking"')
