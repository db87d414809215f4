"""Cases pointing at registry records (关联对象): the panel on the case page, linking a record by
its natural key, and the record's page listing its cases."""

import pytest

from shanzhi.registry import services
from shanzhi.registry.models import CaseLink

from .case_factories import make_case
from .registry_factories import id_number, make_enterprise, make_facility, make_person

pytestmark = pytest.mark.django_db


def as_user(client, user):
    client.force_login(user)
    return client


def html_of(response):
    return response.content.decode()


def link(client, case, kind, key, **headers):
    return client.post(
        f"/registry/case-links/{case.number}/", {"kind": kind, "key": key}, **headers
    )


def test_dispatcher_links_a_person_by_id_number_and_both_pages_show_it(client, world):
    number = id_number()
    person = make_person(world, name="王阿婆", number=number)
    case = make_case(world)
    client = as_user(client, world.dispatcher)
    assert "关联对象" in html_of(client.get(f"/cases/{case.number}/"))

    response = link(client, case, "person", number)
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.number}/"
    assert CaseLink.objects.filter(case=case, person=person, created_by=world.dispatcher).exists()

    panel = html_of(client.get(f"/cases/{case.number}/"))
    assert f"/registry/person/{person.pk}/" in panel and person.id_number_masked in panel
    assert number not in panel
    record = html_of(as_user(client, world.grid_worker).get(f"/registry/person/{person.pk}/"))
    assert case.number in record


def test_grid_worker_links_an_enterprise_and_a_facility_through_htmx(client, world):
    enterprise = make_enterprise(world)
    facility = make_facility(world, code="XF-00901")
    case = make_case(world)
    client = as_user(client, world.grid_worker)
    response = link(client, case, "enterprise", enterprise.credit_code, HTTP_HX_REQUEST="true")
    body = html_of(response)
    assert response.status_code == 200 and "<html" not in body
    assert 'id="case-record-links"' in body and enterprise.name in body
    link(client, case, "facility", "XF-00901", HTTP_HX_REQUEST="true")
    assert CaseLink.objects.filter(case=case, facility=facility).exists()
    assert CaseLink.objects.filter(case=case).count() == 2


def test_a_record_outside_the_linkers_scope_is_not_found(client, world):
    number = id_number()
    make_person(world, area=world.other_grid, number=number, name="南星居民")
    sibling_number = id_number()
    make_person(world, area=world.sibling_microgrid, number=sibling_number, name="李大爷")
    case = make_case(world)
    client = as_user(client, world.grid_worker)
    for key in (number, sibling_number):
        response = link(client, case, "person", key)
        assert response.status_code == 400
        assert "在本街道您的辖区内没有找到该居民" in html_of(response)
    bad = link(client, case, "person", "12345")
    assert "身份证号应为18位" in html_of(bad)
    assert not CaseLink.objects.exists()


def test_who_may_not_act_on_the_case_sees_no_form_and_is_refused(client, world):
    person = make_person(world)
    case = make_case(world)
    client = as_user(client, world.handler)
    page = html_of(client.get(f"/cases/{case.number}/"))
    assert "关联对象" in page and "/registry/case-links/" not in page
    assert link(client, case, "person", "x").status_code == 403
    assert not CaseLink.objects.filter(person=person).exists()
    # A grid worker of another grid does not even find the case.
    far_case = make_case(world, area=world.far_grid)
    assert link(as_user(client, world.grid_worker), far_case, "person", "x").status_code == 404


def test_panel_hides_records_outside_the_viewers_registry_scope(client, world):
    person = make_person(world, name="王阿婆")
    case = make_case(world)
    services.case_link_add(actor=None, case=case, record=person)
    # Station handlers see the case their unit holds, but not the registry.
    case_for_police = make_case(world, state="in_progress")
    services.case_link_add(actor=None, case=case_for_police, record=person)
    page = html_of(as_user(client, world.handler).get(f"/cases/{case_for_police.number}/"))
    assert "王阿婆" not in page and "未关联人房企事物" in page
    page = html_of(as_user(client, world.leader).get(f"/cases/{case.number}/"))
    assert "王阿婆" in page
