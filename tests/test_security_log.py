"""The security log: written for grants and accounts, read by leaders and administrators of their
own part of the grid, and changeable by no one (on PostgreSQL, not even by SQL)."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from shanzhi import policy
from shanzhi.accounts.models import RoleGrant, SecurityEvent, SecurityEventKind, Unit
from shanzhi.accounts.services import role_grant, role_revoke, user_create, user_update
from shanzhi.accounts.signin import signin_failed

from .factories import make_user

pytestmark = pytest.mark.django_db


def test_grants_and_accounts_are_logged_with_who_did_it(world):
    unit = Unit.objects.get(name="城厢派出所")
    newcomer = user_create(actor=world.admin, username="new.police", full_name="新民警", unit=unit)
    grant = role_grant(granter=world.admin, user=newcomer, role="handler", area=world.street)
    role_revoke(actor=world.admin, grant=grant)
    user_update(
        actor=world.admin, target=newcomer, full_name="新民警", unit=unit, phone="", is_active=False
    )
    logged = list(
        SecurityEvent.objects.filter(user=newcomer).order_by("pk").values_list("kind", "actor")
    )
    assert logged == [
        (SecurityEventKind.USER_CREATED, world.admin.pk),
        (SecurityEventKind.GRANT_ADDED, world.admin.pk),
        (SecurityEventKind.GRANT_REVOKED, world.admin.pk),
        (SecurityEventKind.USER_DEACTIVATED, world.admin.pk),
    ]
    added = SecurityEvent.objects.get(user=newcomer, kind=SecurityEventKind.GRANT_ADDED)
    assert added.note == "在“城厢街道”(330109001)授予“办理人”"
    assert added.area == unit.area


def test_leaders_read_their_own_part_of_the_grid(world):
    signin_failed(username="gw", address="10.0.0.1")  # a grid worker of 湘湖社区
    signin_failed(username="nx_admin", address="10.0.0.2")  # 南星街道
    signin_failed(username="no-such-name", address="10.0.0.3")
    assert set(
        policy.security_events_visible_to(world.leader).values_list("username", flat=True)
    ) >= {"gw"}
    seen_by = {
        persona: set(
            policy.security_events_visible_to(getattr(world, persona))
            .filter(kind=SecurityEventKind.SIGN_IN_FAILED)
            .values_list("username", flat=True)
        )
        for persona in ("leader", "community_leader", "admin", "other_leader", "grid_worker")
    }
    assert seen_by["leader"] == {"gw"}
    assert seen_by["community_leader"] == {"gw"}
    assert seen_by["admin"] == {"gw"}
    assert seen_by["other_leader"] == {"nx_admin"}
    assert seen_by["grid_worker"] == set()
    root = make_user("root-like")
    root.is_superuser = True
    root.save()
    everything = policy.security_events_visible_to(root).filter(
        kind=SecurityEventKind.SIGN_IN_FAILED
    )
    assert set(everything.values_list("username", flat=True)) == {"gw", "nx_admin", "no-such-name"}


def test_the_page_lists_filters_and_is_refused_to_others(client, world):
    signin_failed(username="gw", address="10.0.0.1")
    role_grant(granter=world.admin, user=world.outsider, role="handler", area=world.street)
    client.force_login(world.leader)
    page = client.get(reverse("security_log"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "登录失败" in html and "授予角色" in html and "10.0.0.1" in html
    only = client.get(reverse("security_log"), {"kind": "sign_in_failed"}).content.decode()
    assert "10.0.0.1" in only and "授予“办理人”" not in only
    bad = client.get(reverse("security_log"), {"since": "2026-03-01", "until": "2026-01-01"})
    assert bad.status_code == 400 and "起始日期不能晚于截止日期" in bad.content.decode()
    client.force_login(world.grid_worker)
    assert client.get(reverse("security_log")).status_code == 403


def test_the_admin_shows_the_log_and_changes_none_of_it(client, world):
    signin_failed(username="gw", address="10.0.0.1")
    event = SecurityEvent.objects.get(kind=SecurityEventKind.SIGN_IN_FAILED)
    client.force_login(world.admin)
    listing = client.get("/admin/accounts/securityevent/").content.decode()
    assert "10.0.0.1" in listing
    assert client.get("/admin/accounts/securityevent/add/").status_code == 403
    detail = client.get(f"/admin/accounts/securityevent/{event.pk}/change/").content.decode()
    assert 'name="_save"' not in detail
    assert (
        client.post(f"/admin/accounts/securityevent/{event.pk}/change/", {"note": "x"}).status_code
        == 403
    )
    assert client.get(f"/admin/accounts/securityevent/{event.pk}/delete/").status_code == 403
    event.refresh_from_db()
    assert event.note == "用户名或密码不正确"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_to_change_or_delete_a_row(world):
    RoleGrant.objects.get(user=world.grid_worker)  # the world's grants are logged rows already
    before = SecurityEvent.objects.count()
    assert before > 0
    for statement in (
        "UPDATE accounts_securityevent SET note = 'x'",
        "DELETE FROM accounts_securityevent",
    ):
        with pytest.raises(DatabaseError, match=r"只追加|permission denied"), transaction.atomic():
            connection.cursor().execute(statement)
    assert SecurityEvent.objects.count() == before
    assert not SecurityEvent.objects.filter(note="x").exists()
