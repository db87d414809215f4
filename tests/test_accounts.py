"""Units, users and role grants: granted within scope, refused outside it, kept as history."""

import pytest

from shanzhi.accounts.models import Role, RoleGrant, Unit, UnitKind
from shanzhi.accounts.services import (
    AccountRuleError,
    role_grant,
    role_revoke,
    unit_create,
    user_create,
)
from shanzhi.errors import PermissionDenied

from .factories import make_user

pytestmark = pytest.mark.django_db


def test_grant_outside_the_granters_scope_is_refused_and_changes_nothing(world):
    newcomer = make_user("newcomer")
    before = RoleGrant.objects.count()
    with pytest.raises(PermissionDenied, match="超出本人管理范围"):
        role_grant(granter=world.admin, user=newcomer, role=Role.GRID_WORKER, area=world.other_grid)
    with pytest.raises(PermissionDenied):
        role_grant(granter=world.leader, user=newcomer, role=Role.GRID_WORKER, area=world.grid)
    assert RoleGrant.objects.count() == before


def test_administrator_grants_within_street(world):
    newcomer = make_user("newcomer")
    grant = role_grant(granter=world.admin, user=newcomer, role=Role.GRID_WORKER, area=world.grid)
    assert grant.granted_by == world.admin
    assert grant.street == world.street


@pytest.mark.parametrize(
    ("role", "area_name", "message"),
    [
        (Role.GRID_WORKER, "street", "“网格员”只能授予在"),
        (Role.DISPATCHER, "grid", "“指挥中心坐席”只能授予在"),
        (Role.ADMINISTRATOR, "community", "“系统管理员”只能授予在"),
    ],
)
def test_role_must_fit_the_level(world, role, area_name, message):
    with pytest.raises(AccountRuleError, match=message):
        role_grant(
            granter=world.admin, user=world.outsider, role=role, area=getattr(world, area_name)
        )


def test_same_active_grant_twice_is_refused(world):
    with pytest.raises(AccountRuleError, match="已在“湘湖第一网格”拥有“网格员”角色"):
        role_grant(
            granter=world.admin, user=world.grid_worker, role=Role.GRID_WORKER, area=world.grid
        )


def test_revoked_grant_stays_as_history_and_can_be_granted_again(world):
    grant = RoleGrant.objects.get(user=world.grid_worker, area=world.grid)
    role_revoke(actor=world.admin, grant=grant)
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by == world.admin
    assert not grant.is_active
    again = role_grant(
        granter=world.admin, user=world.grid_worker, role=Role.GRID_WORKER, area=world.grid
    )
    assert again.pk != grant.pk
    assert RoleGrant.objects.filter(user=world.grid_worker, area=world.grid).count() == 2
    with pytest.raises(AccountRuleError, match="该授权已撤销"):
        role_revoke(actor=world.admin, grant=grant)


def test_other_streets_admin_cannot_revoke(world):
    grant = RoleGrant.objects.get(user=world.grid_worker, area=world.grid)
    with pytest.raises(PermissionDenied):
        role_revoke(actor=world.other_admin, grant=grant)


def test_units_carry_the_street_and_refuse_duplicates(world):
    unit = unit_create(
        actor=world.admin, name="湘湖物业", kind=UnitKind.PROPERTY, area=world.community
    )
    assert unit.street == world.street
    with pytest.raises(AccountRuleError, match="已有名为“湘湖物业”的单位"):
        unit_create(
            actor=world.admin, name="湘湖物业", kind=UnitKind.PROPERTY, area=world.community
        )
    with pytest.raises(PermissionDenied):
        unit_create(actor=world.admin, name="外街单位", kind=UnitKind.OTHER, area=world.other_grid)
    assert Unit.objects.filter(name="外街单位").count() == 0


def test_users_take_the_street_of_their_unit(world):
    unit = Unit.objects.get(name="城厢派出所")
    user = user_create(
        actor=world.admin,
        username="new.police",
        full_name="新民警",
        unit=unit,
        password="x-长密码-123",
    )
    assert user.street == world.street
    assert user.check_password("x-长密码-123")
    with pytest.raises(AccountRuleError, match=r"用户名“new\.police”已被使用"):
        user_create(actor=world.admin, username="new.police", full_name="重名", unit=unit)
    with pytest.raises(PermissionDenied):
        user_create(actor=world.other_admin, username="x", full_name="越权", unit=unit)
