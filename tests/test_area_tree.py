"""The area tree: level and code rules, one-query subtree and ancestors, atomic moves."""

import pytest
from django.db import IntegrityError, transaction

from shanzhi.areas.models import Area, Level
from shanzhi.areas.selectors import area_ancestors, area_children, area_subtree
from shanzhi.areas.services import AreaRuleError, area_create, area_create_many, area_move

from .factories import make_area, make_street

pytestmark = pytest.mark.django_db


def test_paths_depths_and_tenant_key(world):
    assert world.street.path == "3301/330109/330109001/"
    assert world.microgrid.path == (
        "3301/330109/330109001/330109001P01/330109001001/330109001001001/330109001001001001/"
    )
    assert world.microgrid.depth == 7
    assert world.microgrid.street == world.street
    assert world.street.street == world.street
    assert world.street.parent.street is None  # a district belongs to no street


@pytest.mark.parametrize(
    ("level", "parent_name", "message"),
    [
        (Level.GRID, "street", "网格不能设在街道之下"),
        (Level.MICROGRID, "community", "微网格不能设在社区之下"),
        (Level.ZONE, "community", "片区不能设在社区之下"),
        (Level.COMMUNITY, "grid", "社区不能设在网格之下"),
    ],
)
def test_parent_level_rules_refuse_and_change_nothing(world, level, parent_name, message):
    parent = getattr(world, parent_name)
    before = Area.objects.count()
    with pytest.raises(AreaRuleError, match=message):
        area_create(code=parent.code + "099", name="新节点", level=level, parent=parent)
    assert Area.objects.count() == before


def test_duplicate_code_is_refused_in_chinese(world):
    with pytest.raises(AreaRuleError, match="编码“330109001001001”已被使用"):
        area_create(code=world.grid.code, name="重复", level=Level.GRID, parent=world.community)


def test_database_refuses_duplicate_codes_too(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Area.objects.create(
            code=world.grid.code, name="绕过服务", level=Level.GRID, path="X/", depth=1
        )


@pytest.mark.parametrize(
    ("code", "level", "parent_name", "message"),
    [
        ("33010900", Level.STREET, None, "街道编码应为9位"),
        ("330110001", Level.STREET, None, "应以上级编码“330109”开头"),
        ("330102001001", Level.COMMUNITY, "street", "应为“330109001”后加"),
        ("330109001001X", Level.GRID, "community", "应为“330109001001”后加"),
    ],
)
def test_codes_extend_the_national_code(world, code, level, parent_name, message):
    parent = getattr(world, parent_name) if parent_name else world.street.parent
    with pytest.raises(AreaRuleError, match=message):
        area_create(code=code, name="节点", level=level, parent=parent)


def test_community_codes_skip_the_zone(world):
    # Communities keep their 12-digit national code whichever zone groups them.
    assert world.community.code == "330109001001"
    assert world.community.parent == world.zone


def test_subtree_is_one_query_and_complete(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = {a.code for a in area_subtree(area=world.community)}
    assert codes == {
        world.community.code,
        world.grid.code,
        world.sibling_grid.code,
        world.microgrid.code,
        world.sibling_microgrid.code,
    }


def test_ancestors_are_one_query_root_first(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        names = [a.name for a in area_ancestors(area=world.microgrid)]
    assert names == ["杭州市", "330109区", "城厢街道", "第一片区", "湘湖社区", "湘湖第一网格"]


def test_children_carry_their_child_counts(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        counts = {a.code: a.child_count for a in area_children(area=world.community)}
    assert counts == {world.grid.code: 1, world.sibling_grid.code: 1}


def test_moving_a_community_moves_its_whole_subtree(world):
    zone2 = make_area(world.street, Level.ZONE, "第二片区", 2)
    area_move(area=world.community, new_parent=zone2)
    world.microgrid.refresh_from_db()
    assert world.microgrid.path == (
        "3301/330109/330109001/330109001P02/330109001001/330109001001001/330109001001001001/"
    )
    assert world.microgrid.depth == 7
    assert {a.code for a in area_subtree(area=zone2)} >= {world.grid.code, world.microgrid.code}
    assert not area_subtree(area=world.zone).filter(code=world.grid.code).exists()
    # Every path in the tree still starts with its parent's path.
    for area in Area.objects.select_related("parent"):
        if area.parent is not None:
            assert area.path == area.parent.path + area.code + "/"
            assert area.depth == area.parent.depth + 1


def test_moving_up_a_level_changes_depths(world):
    area_move(area=world.community, new_parent=world.street)
    world.microgrid.refresh_from_db()
    assert world.microgrid.depth == 6
    assert world.microgrid.path.startswith("3301/330109/330109001/330109001001/")


def test_a_failed_move_changes_nothing(world):
    before = dict(Area.objects.values_list("code", "path"))
    with pytest.raises(AreaRuleError, match="不能把辖区移到它自己或其下级之下"):
        area_move(area=world.community, new_parent=world.grid)
    with pytest.raises(AreaRuleError, match="不能跨街道移动"):
        area_move(area=world.grid, new_parent=world.other_grid.parent)
    with pytest.raises(AreaRuleError, match="网格不能设在片区之下"):
        area_move(area=world.grid, new_parent=world.zone)
    assert dict(Area.objects.values_list("code", "path")) == before


def test_move_is_atomic_when_it_fails_after_updating_paths(world, monkeypatch):
    zone2 = make_area(world.street, Level.ZONE, "第二片区", 2)
    before = dict(Area.objects.values_list("code", "path"))

    def fail(self, *args, **kwargs):
        raise RuntimeError("simulated crash after the subtree's paths were rewritten")

    monkeypatch.setattr(Area, "refresh_from_db", fail)
    with pytest.raises(RuntimeError):
        area_move(area=world.community, new_parent=zone2)
    assert dict(Area.objects.values_list("code", "path")) == before


def test_bulk_creation_checks_each_node(world):
    with pytest.raises(AreaRuleError, match="同一批辖区中有重复编码"):
        area_create_many(
            parent=world.grid,
            nodes=[("330109001001001050", "甲", Level.MICROGRID)] * 2,
        )
    with pytest.raises(AreaRuleError, match="微网格编码"):
        area_create_many(parent=world.grid, nodes=[("330109001002001050", "乙", Level.MICROGRID)])
    made = area_create_many(
        parent=world.grid,
        nodes=[
            ("330109001001001050", "甲", Level.MICROGRID),
            ("330109001001001051", "乙", Level.MICROGRID),
        ],
    )
    assert [a.street_id for a in made] == [world.street.pk, world.street.pk]


def test_second_street_is_a_separate_tenant(db):
    a = make_street("330109001", "城厢街道")
    b = make_street("330109002", "北干街道")
    assert a.parent == b.parent
    grid_a = make_area(make_area(a, Level.COMMUNITY, "甲社区", 1), Level.GRID, "甲网格", 1)
    assert grid_a.street == a
    assert not area_subtree(area=b).filter(pk=grid_a.pk).exists()
