"""比拼晾晒: scoring on a hand-built year with known answers, scope, lists, page and export.

Three grids, every case accepted on 2025-03-20 at 10:00 (Asia/Shanghai):
  湘湖第一网格     2 cases, both resolved               → 办结率 100%,    超期数 0
  湘湖第二网格     1 resolved, 1 left in progress       → 办结率 50%,     超期数 1
  湖头陈第一网格   1 resolved, 2 left in progress       → 办结率 33.33%,  超期数 2
  空网格           no cases                             → not ranked, last
By end of year the open ones are past their handling deadline. The rule weighs 办结率 60 and
每千件超期数 40 (0, 500, 666.67; fewer is better). Each is scored against the set's mean and
standard deviation: 办结率 mean 61.11, σ 28.33 → z 1.373 / −0.392 / −0.981 → marks
(0.5 + z/4) 0.8432 / 0.4019 / 0.2549; 每千件超期数 mean 388.89, σ 283.28 gives the same z
(inverted) → scores 84.32, 40.19, 25.49.
"""

from datetime import datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse

from shanzhi import clock
from shanzhi.analytics.admin import RANKABLE
from shanzhi.analytics.models import RankingRule, RankingWeight, RankLevel
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.rankings import (
    NO_CASES,
    RankingError,
    black_list,
    criteria_of,
    criterion_of,
    mark_of,
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
    return make_rule(("resolution_rate", 60), ("overdue_per_thousand", 40))


def test_scores_and_order_on_a_known_set(world, grids, rule):
    rows = ranking_compute(viewer=world.leader, rule=rule, area=world.street, period=YEAR)
    assert [r.subject for r in rows] == [world.grid, world.sibling_grid, world.far_grid, grids]
    assert [r.score for r in rows] == [
        Decimal("84.32"),
        Decimal("40.19"),
        Decimal("25.49"),
        None,
    ]
    assert [r.rank for r in rows] == [1, 2, 3, None]
    second = rows[1]
    assert second.cell("resolution_rate").figure.value == Decimal(50)
    assert second.cell("resolution_rate").z.quantize(Decimal("0.001")) == Decimal("-0.392")
    assert second.cell("resolution_rate").points == Decimal("40.19")
    assert second.cell("overdue_per_thousand").figure.value == 500
    assert second.cell("overdue_per_thousand").points == Decimal("40.19")


def test_each_score_is_the_sum_of_its_contributions(world, grids, rule):
    rows = ranking_compute(viewer=world.leader, rule=rule, area=world.street, period=YEAR)
    first = rows[0]
    contributions = [c.contribution for c in first.cells]
    # 84.32 × 60% and 84.32 × 40%: each criterion adds its mark times its share of the weight.
    assert [c.quantize(Decimal("0.01")) for c in contributions] == [
        Decimal("50.59"),
        Decimal("33.73"),
    ]
    assert sum(contributions).quantize(Decimal("0.01")) == first.score
    assert first.explanation == (
        "办结率84.32分×60权重→50.59 + 每千件超期数84.32分×40权重→33.73 = 84.32分"
    )
    rate, overdue = criteria_of(rows)
    assert rate.mean.quantize(Decimal("0.01")) == Decimal("61.11")
    assert rate.sigma.quantize(Decimal("0.01")) == Decimal("28.33") and not rate.floored
    assert "平均61.11%,标准差28.33个百分点" in rate.explanation
    assert (
        "越低越好" in overdue.explanation and "每低于平均值一个标准差加25分" in overdue.explanation
    )
    assert rows[-1].explanation == ""  # not scored


def test_lower_is_better_is_inverted_and_a_small_spread_is_floored(world, grids):
    fewest_overdue = make_rule(("overdue", 10))
    rows = ranking_compute(viewer=world.leader, rule=fewest_overdue, area=world.street, period=YEAR)
    assert [r.subject for r in rows[:3]] == [world.grid, world.sibling_grid, world.far_grid]
    assert [r.cell("overdue").figure.value for r in rows[:3]] == [0, 1, 2]
    # σ of 0, 1, 2 is 0.82 件, under the floor of 1 件: one case less earns 25 points, not 30.6.
    assert [r.score for r in rows[:3]] == [Decimal(75), Decimal(50), Decimal(25)]
    (criterion,) = criteria_of(rows)
    assert criterion.floored and criterion.spread == 1
    assert "小于下限,按1.00件计" in criterion.explanation


def test_tiny_gaps_are_not_amplified():
    # 99.9% against 99.8%: min-max scaling made this 100 points against 0. Against the floor
    # of 2 percentage points it is a fortieth of a mark.
    weight = RankingWeight(kpi="satisfaction_rate", weight=1)
    present = [Decimal("99.9"), Decimal("99.8")]
    criterion = criterion_of(weight, present)
    assert criterion.floored and criterion.spread == 2
    best, _ = mark_of(present[0], criterion, present)
    worst, _ = mark_of(present[1], criterion, present)
    assert best - worst == Decimal("0.0125")
    # A real gap still tells: 99% against 80% is far more than the floor.
    wide = [Decimal(99), Decimal(80)]
    spread = criterion_of(weight, wide)
    assert not spread.floored
    assert [mark_of(v, spread, wide)[0] for v in wide] == [Decimal("0.75"), Decimal("0.25")]


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
    assert rows[0].score == Decimal("84.32")  # its 办结率 alone
    assert "满意率无数据" in rows[0].note
    assert rows[0].cell("satisfaction_rate").contribution is None


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
    # Two grids, one σ either side of their mean on both criteria.
    assert [r.score for r in rows[:2]] == [Decimal(75), Decimal(25)]
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
    # Rates and counts per 1,000 cases (migration 0007), 首次满意率 beside 满意率.
    assert {w.kpi: w.weight for w in grid.weights.all()} == {
        "resolution_rate": 25,
        "on_time_rate": 20,
        "satisfaction_rate": 15,
        "first_satisfaction_rate": 5,
        "claim_rate": 10,
        "overdue_per_thousand": 10,
        "reopen_rate": 5,
        "on_spot_rate": 10,
    }
    for level in RankLevel.values:
        kpis = {w.kpi for w in rules_for(world.leader, level).get().weights.all()}
        assert "overdue" not in kpis and "first_satisfaction_rate" in kpis, level


def test_first_callback_satisfaction_is_a_criterion_a_rule_may_use():
    rule_check(
        [("first_satisfaction_rate", 5, None, None), ("overdue_per_thousand", 5, None, None)]
    )
    assert "first_satisfaction_rate" in dict(RANKABLE)


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
    assert "84.32" in page and "40.19" in page and NO_CASES in page
    assert page.count('data-testid="ranking-explanation"') == 3
    assert "得分84.32,加权50.59" in page
    assert "平均61.11%,标准差28.33个百分点" in page
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
    assert rows[1][:6] == ("名次", "网格", "编码", "办结率(权重60)", "办结率得分", "办结率加权得分")
    assert rows[1][-3:] == ("总分", "计算", "说明")
    assert [r[1] for r in rows[2:]] == ["湘湖第一网格", "湘湖第二网格", "湖头陈第一网格", "空网格"]
    assert rows[2][3:6] == ("100.00%", 84.32, 50.59)
    assert rows[2][-3] == 84.32 and rows[2][-2].endswith("= 84.32分")
    method = list(book["评分说明"].iter_rows(values_only=True))
    assert method[1][:6] == ("办结率", 60, "越高越好", 61.11, 28.33, 28.33)
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
