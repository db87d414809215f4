"""The registry in the admin: the access log is read-only for everyone, records are shown masked
and within scope, tags and privileges are the platform's to tune."""

import pytest
from django.test import RequestFactory

from shanzhi.accounts.models import Role
from shanzhi.accounts.services import role_grant
from shanzhi.admin_site import admin_site
from shanzhi.protection import unseal
from shanzhi.registry import services
from shanzhi.registry.models import AccessLog, Person, RolePrivilege, Tag

from .factories import make_superuser, make_user
from .registry_factories import make_enterprise, make_person

pytestmark = pytest.mark.django_db


def change_url(record) -> str:
    return f"/admin/registry/{type(record).__name__.lower()}/{record.pk}/change/"


@pytest.fixture
def logged_read(world):
    """王阿婆 of the world's microgrid, whose ID number the street leader has read once."""
    person = make_person(world, tags=("living_alone", "key_person"))
    services.personal_reveal(
        actor=world.leader, record=person, field="id_number", reason="核对低保申请"
    )
    return person, AccessLog.objects.get()


def test_nobody_adds_changes_or_deletes_an_access_log_row(client, world, logged_read):
    _, log = logged_read
    root = make_superuser()
    request = RequestFactory().get("/admin/")
    request.user = root
    model_admin = admin_site._registry[AccessLog]
    assert model_admin.has_view_permission(request, log)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, log)
    assert not model_admin.has_delete_permission(request, log)
    assert "delete_selected" not in model_admin.get_actions(request)

    client.force_login(root)
    listing = client.get("/admin/registry/accesslog/").content.decode()
    assert "核对低保申请" in listing
    assert client.get("/admin/registry/accesslog/add/").status_code == 403
    assert client.get(f"/admin/registry/accesslog/{log.pk}/delete/").status_code == 403
    client.post(f"/admin/registry/accesslog/{log.pk}/change/", {"reason": "改掉"})
    client.post(
        "/admin/registry/accesslog/",
        {"action": "delete_selected", "_selected_action": [log.pk], "post": "yes"},
    )
    assert AccessLog.objects.get().reason == "核对低保申请"


def test_access_log_is_read_by_leaders_of_its_street_only(client, world, logged_read):
    _, log = logged_read
    # An administrator who is not also a leader reads none; one who also leads the street does.
    client.force_login(world.admin)
    assert "核对低保申请" not in client.get("/admin/registry/accesslog/").content.decode()
    role_grant(granter=None, user=world.admin, role=Role.LEADER, area=world.street)
    assert "核对低保申请" in client.get("/admin/registry/accesslog/").content.decode()
    role_grant(granter=None, user=world.other_admin, role=Role.LEADER, area=world.other_street)
    client.force_login(world.other_admin)
    assert "核对低保申请" not in client.get("/admin/registry/accesslog/").content.decode()
    assert client.get(f"/admin/registry/accesslog/{log.pk}/change/").status_code == 302


def test_person_page_shows_masks_and_never_the_sealed_columns(client, world, logged_read):
    person, _ = logged_read
    person = Person.objects.get(pk=person.pk)
    number = unseal(person.id_number_sealed)
    for user in (make_superuser(), world.admin):
        client.force_login(user)
        page = client.get(change_url(person))
        assert page.status_code == 200
        html = page.content.decode()
        assert person.id_number_masked in html and person.phone_masked in html
        for secret in (
            number,
            unseal(person.phone_sealed),
            person.id_number_sealed,
            person.id_number_digest,
            person.phone_sealed,
            person.phone_digest,
            f"{person.birth_date:%Y%m%d}",
            "密文",
            "摘要",
        ):
            assert secret not in html
        listing = client.get("/admin/registry/person/").content.decode()
        assert person.id_number_masked in listing and number not in listing
    # The sensitive tag is shown only to whom the privilege reaches: not a street administrator.
    assert "独居老人" in html and "重点人员" not in html


def test_enterprise_page_shows_the_contact_phone_masked(client, world):
    firm = make_enterprise(world, contact_phone="13700003333")
    client.force_login(world.admin)
    html = client.get(change_url(firm)).content.decode()
    assert "137****3333" in html and "13700003333" not in html
    assert firm.contact_phone_sealed not in html and firm.contact_phone_digest not in html


def test_nanxing_admin_does_not_see_chengxiang_persons(client, world):
    person = make_person(world, name="城厢居民")
    nanxing = make_person(world, area=world.other_grid, name="南星居民")
    client.force_login(world.other_admin)
    listing = client.get("/admin/registry/person/").content.decode()
    assert "南星居民" in listing
    assert "城厢居民" not in listing and change_url(person) not in listing
    assert client.get(change_url(person)).status_code == 302  # as if it did not exist
    client.force_login(world.admin)
    listing = client.get("/admin/registry/person/").content.decode()
    assert "城厢居民" in listing and "南星居民" not in listing
    assert change_url(nanxing) not in listing


def test_records_are_never_written_or_deleted_from_the_admin(client, world):
    person = make_person(world, name="城厢居民")
    client.force_login(make_superuser())
    assert client.get("/admin/registry/person/add/").status_code == 403
    assert client.get(f"/admin/registry/person/{person.pk}/delete/").status_code == 403
    client.post(change_url(person), {"name": "改名"})
    assert Person.objects.get(pk=person.pk).name == "城厢居民"


def test_platform_admins_tune_tags_others_only_read_them(client, world):
    tag = Tag.objects.get(code="living_alone")
    url = f"/admin/registry/tag/{tag.pk}/change/"
    client.force_login(world.admin)
    assert "独居老人" in client.get("/admin/registry/tag/").content.decode()
    client.post(url, {"name": "独居", "visit_interval_days": 3, "sort": tag.sort})
    assert Tag.objects.get(pk=tag.pk).visit_interval_days == 7

    client.force_login(make_superuser())
    response = client.post(url, {"name": "独居老人", "visit_interval_days": 5, "sort": tag.sort})
    assert response.status_code == 302
    assert Tag.objects.get(pk=tag.pk).visit_interval_days == 5
    general = Tag.objects.get(code="party_member")
    refused = client.post(
        f"/admin/registry/tag/{general.pk}/change/",
        {"name": general.name, "visit_interval_days": 30, "sort": general.sort},
    )
    assert "只有关爱对象标签才设走访周期" in refused.content.decode()
    assert Tag.objects.get(pk=general.pk).visit_interval_days is None


def test_privileges_are_for_platform_admins_only(client, world):
    client.force_login(world.admin)
    assert client.get("/admin/registry/roleprivilege/").status_code == 403
    assert "个人信息权限" not in client.get("/admin/").content.decode()
    client.force_login(make_superuser())
    listing = client.get("/admin/registry/roleprivilege/").content.decode()
    assert "查看完整身份证号和电话" in listing
    added = client.post(
        "/admin/registry/roleprivilege/add/", {"role": Role.GRID_WORKER, "privilege": "unmask"}
    )
    assert added.status_code == 302
    assert RolePrivilege.objects.filter(role=Role.GRID_WORKER, privilege="unmask").exists()


def test_a_grid_worker_is_kept_out_of_the_admin(client, world):
    make_person(world)
    client.force_login(make_user("gw2", role=Role.GRID_WORKER, area=world.grid))
    assert client.get("/admin/registry/person/").status_code == 302
