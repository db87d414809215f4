"""The Chinese admin: scoped lists, and bad input refused with a clear message, changing nothing."""

import pytest

from shanzhi.accounts.models import RoleGrant, Unit
from shanzhi.areas.models import Area

from .factories import make_superuser

pytestmark = pytest.mark.django_db


def test_non_administrators_are_kept_out(client, world):
    client.force_login(world.leader)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_is_in_chinese(client, world):
    client.force_login(world.admin)
    html = client.get("/admin/").content.decode()
    assert "善治 · 管理后台" in html and "辖区" in html and "角色授权" in html


def test_area_list_is_scoped_to_the_admins_street(client, world):
    client.force_login(world.admin)
    html = client.get("/admin/areas/area/").content.decode()
    assert "湘湖第一网格" in html
    assert "复兴第一网格" not in html
    other = client.get(f"/admin/areas/area/{world.other_grid.pk}/change/")
    assert (
        other.status_code == 302
    )  # Django's admin redirects away from objects outside the queryset


def test_grid_under_a_street_is_refused_with_chinese_message(client, world):
    client.force_login(world.admin)
    before = Area.objects.count()
    response = client.post(
        "/admin/areas/area/add/",
        {"code": "330109001099", "name": "错误网格", "level": "grid", "parent": world.street.pk},
    )
    assert response.status_code == 200
    assert "网格不能设在街道之下" in response.content.decode()
    assert Area.objects.count() == before


def test_admin_adds_a_microgrid_in_scope(client, world):
    client.force_login(world.admin)
    response = client.post(
        "/admin/areas/area/add/",
        {
            "code": "330109001001001009",
            "name": "新建微网格",
            "level": "microgrid",
            "parent": world.grid.pk,
        },
    )
    assert response.status_code == 302
    created = Area.objects.get(code="330109001001001009")
    assert created.path == world.grid.path + "330109001001001009/"
    assert created.street == world.street


def test_admin_cannot_add_under_another_street(client, world):
    client.force_login(world.admin)
    response = client.post(
        "/admin/areas/area/add/",
        {
            "code": "330102008001001009",
            "name": "越权",
            "level": "microgrid",
            "parent": world.other_grid.pk,
        },
    )
    assert response.status_code == 200
    assert not Area.objects.filter(code="330102008001001009").exists()


def test_role_granted_outside_scope_is_refused(client, world):
    client.force_login(world.admin)
    before = RoleGrant.objects.count()
    response = client.post(
        "/admin/accounts/rolegrant/add/",
        {"user": world.outsider.pk, "role": "grid_worker", "area": world.street.pk},
    )
    assert response.status_code == 200
    assert "“网格员”只能授予在" in response.content.decode()
    assert RoleGrant.objects.count() == before


def test_role_grant_through_admin(client, world):
    client.force_login(world.admin)
    response = client.post(
        "/admin/accounts/rolegrant/add/",
        {"user": world.outsider.pk, "role": "grid_worker", "area": world.sibling_grid.pk},
    )
    assert response.status_code == 302
    grant = RoleGrant.objects.get(user=world.outsider, area=world.sibling_grid)
    assert grant.granted_by == world.admin


def test_revoke_action_keeps_the_row(client, world):
    client.force_login(world.admin)
    grant = RoleGrant.objects.get(user=world.grid_worker, area=world.grid)
    response = client.post(
        "/admin/accounts/rolegrant/",
        {"action": "revoke", "_selected_action": [grant.pk]},
        follow=True,
    )
    assert "已撤销 1 项授权" in response.content.decode()
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_duplicate_unit_is_refused(client, world):
    client.force_login(world.admin)
    response = client.post(
        "/admin/accounts/unit/add/",
        {
            "name": "城厢派出所",
            "kind": "station",
            "area": world.street.pk,
            "phone": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "该辖区下已有同名单位" in response.content.decode()
    assert Unit.objects.filter(name="城厢派出所").count() == 1


def test_admin_creates_staff_with_password(client, world):
    client.force_login(world.admin)
    unit = Unit.objects.get(name="城厢派出所")
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "new.officer",
            "full_name": "新警员",
            "unit": unit.pk,
            "phone": "",
            "is_active": "on",
            "new_password": "Xiang-hu-2026!",
        },
    )
    assert response.status_code == 302
    from shanzhi.accounts.models import User

    created = User.objects.get(username="new.officer")
    assert created.street == world.street and created.check_password("Xiang-hu-2026!")


def test_superuser_sees_every_street(client, world):
    client.force_login(make_superuser())
    html = client.get("/admin/areas/area/?q=网格").content.decode()
    assert "湘湖第一网格" in html and "复兴第一网格" in html
