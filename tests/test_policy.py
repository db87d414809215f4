"""What each persona can see and do, as the policy module answers it."""

import pytest

from shanzhi import policy
from shanzhi.accounts.models import Role
from shanzhi.errors import NotFound

pytestmark = pytest.mark.django_db


def codes(queryset):
    return set(queryset.values_list("code", flat=True))


def test_grid_worker_sees_own_grid_and_below_only(world):
    seen = codes(policy.areas_visible_to(world.grid_worker))
    assert seen == {world.grid.code, world.microgrid.code}
    assert not policy.can_view_area(world.grid_worker, world.sibling_grid)
    assert not policy.can_view_area(world.grid_worker, world.sibling_microgrid)
    assert not policy.can_view_area(world.grid_worker, world.community)
    assert [a.code for a in policy.scope_roots(world.grid_worker)] == [world.grid.code]


def test_grid_worker_cannot_load_a_sibling_grid_by_code(world):
    with pytest.raises(NotFound):
        policy.area_for(world.grid_worker, world.sibling_grid.code)
    assert policy.area_for(world.grid_worker, world.microgrid.code) == world.microgrid


def test_community_worker_sees_all_grids_of_the_community_and_no_other(world):
    seen = codes(policy.areas_visible_to(world.community_worker))
    assert {world.grid.code, world.sibling_grid.code, world.microgrid.code} <= seen
    assert world.far_grid.code not in seen
    assert world.street.code not in seen
    assert world.other_grid.code not in seen


@pytest.mark.parametrize("persona", ["dispatcher", "leader", "handler", "admin"])
def test_street_roles_see_the_whole_street_and_not_the_other(world, persona):
    user = getattr(world, persona)
    seen = codes(policy.areas_visible_to(user))
    for area in (world.street, world.zone, world.community, world.far_grid, world.microgrid):
        assert area.code in seen
    assert world.other_street.code not in seen
    assert world.other_grid.code not in seen
    assert world.street.parent.code not in seen  # not the district above


def test_resident_sees_only_their_microgrid(world):
    assert codes(policy.areas_visible_to(world.resident)) == {world.microgrid.code}


def test_outsider_without_grants_sees_nothing(world):
    assert not policy.areas_visible_to(world.outsider).exists()
    assert not policy.units_visible_to(world.outsider).exists()
    assert list(policy.users_visible_to(world.outsider)) == [world.outsider]
    assert policy.scope_roots(world.outsider) == []
    assert not policy.can_use_admin(world.outsider)


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert not policy.areas_visible_to(anonymous).exists()
    assert not policy.can_view_area(anonymous, world.street)
    assert not policy.can_use_admin(anonymous)


def test_district_leader_sees_both_streets(world):
    seen = codes(policy.areas_visible_to(world.district_leader))
    assert {world.street.code, world.grid.code} <= seen
    assert world.other_street.code not in seen  # 南星 lies in another district


def test_units_and_users_follow_the_scope(world):
    units = set(policy.units_visible_to(world.grid_worker).values_list("name", flat=True))
    assert units == set()  # the committee sits on the community, above the grid
    community_units = set(
        policy.units_visible_to(world.community_leader).values_list("name", flat=True)
    )
    assert community_units == {"湘湖社区居委会"}
    leader_units = set(policy.units_visible_to(world.leader).values_list("name", flat=True))
    assert {"社会治理综合中心", "城厢派出所", "湘湖社区居委会"} <= leader_units
    assert "南星社会治理综合中心" not in leader_units

    other_users = set(
        policy.users_visible_to(world.other_leader).values_list("username", flat=True)
    )
    assert "gw" not in other_users and "nx_admin" in other_users
    gw_users = set(policy.users_visible_to(world.grid_worker).values_list("username", flat=True))
    # Their own account and the resident living in their grid; not the community's staff above.
    assert gw_users == {"gw", "resident"}


@pytest.mark.parametrize(
    ("persona", "may_administer"),
    [
        ("grid_worker", False),
        ("community_worker", False),
        ("community_leader", False),
        ("dispatcher", False),
        ("handler", False),
        ("leader", False),
        ("resident", False),
        ("outsider", False),
        ("admin", True),
    ],
)
def test_only_administrators_manage(world, persona, may_administer):
    user = getattr(world, persona)
    assert policy.can_use_admin(user) is may_administer
    assert policy.can_grant_role(user, Role.GRID_WORKER, world.grid) is may_administer
    assert policy.can_manage_area(user, world.grid) is may_administer
    assert policy.can_add_area_under(user, world.community) is may_administer


def test_administrator_is_bounded_by_own_street(world):
    assert policy.can_grant_role(world.admin, Role.GRID_WORKER, world.grid)
    assert not policy.can_grant_role(world.admin, Role.GRID_WORKER, world.other_grid)
    assert not policy.can_grant_role(world.admin, Role.LEADER, world.street.parent)
    assert not policy.can_manage_area(world.admin, world.street)  # the street itself is above
    assert not policy.can_add_area_under(world.admin, None)
    assert not policy.can_manage_user(world.admin, world.other_leader)
    assert policy.can_manage_user(world.admin, world.grid_worker)


def test_scope_is_read_once_per_user_object(world, django_assert_num_queries):
    user = world.leader
    policy.forget_grants(user)
    with django_assert_num_queries(1):
        for area in (world.street, world.grid, world.other_grid, world.microgrid):
            policy.can_view_area(user, area)
