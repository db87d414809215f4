"""Staff pages of the registry 人房企事物 through the Django test client: lists and search in scope,
a record's page with masking and unmasking, record forms, 注销, the access log and 核查."""

from datetime import timedelta

import pytest

from shanzhi import clock
from shanzhi.registry import services
from shanzhi.registry.models import (
    AccessLog,
    CaseLink,
    ItemStatus,
    Person,
    Tag,
    VerificationItem,
    VerificationTask,
)

from .case_factories import make_case
from .registry_factories import (
    id_number,
    make_building,
    make_enterprise,
    make_facility,
    make_house,
    make_person,
)

pytestmark = pytest.mark.django_db


def as_user(client, user):
    client.force_login(user)
    return client


def html_of(response):
    return response.content.decode()


def person_form(world, **fields):
    """What the person form posts, for a resident of the world's microgrid."""
    return {
        "area": world.microgrid.code,
        "name": "赵奶奶",
        "id_number": id_number(),
        "phone": "13911112222",
        "household_type": "registered",
        "house_address": "",
        "note": "",
        **fields,
    }


# Access and scope ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/registry/", "/registry/person/", "/registry/access-log/", "/registry/verification/"],
)
def test_registry_pages_ask_for_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_home_counts_the_users_scope_and_refuses_others(client, world):
    make_person(world)
    make_person(world, area=world.sibling_microgrid, name="李大爷")
    make_enterprise(world, area=world.sibling_microgrid)
    page = html_of(as_user(client, world.grid_worker).get("/registry/"))
    assert 'data-kind="person">1<' in page and 'data-kind="enterprise">0<' in page
    page = html_of(as_user(client, world.leader).get("/registry/"))
    assert 'data-kind="person">2<' in page and 'data-kind="enterprise">1<' in page
    # Station handlers work cases, not people; residents and staff without roles neither.
    for user in (world.handler, world.resident, world.outsider):
        response = as_user(client, user).get("/registry/")
        assert response.status_code == 403, user
        assert "没有使用此页面的权限" in html_of(response)


def test_grid_worker_never_reaches_a_person_of_the_sibling_grid(client, world):
    make_person(world, name="王阿婆")
    sibling_number = id_number()
    sibling = make_person(world, area=world.sibling_microgrid, name="李大爷", number=sibling_number)
    client = as_user(client, world.grid_worker)

    listed = html_of(client.get("/registry/person/"))
    assert "王阿婆" in listed and "李大爷" not in listed

    searched = client.get("/registry/person/", {"q": sibling_number})
    assert searched.status_code == 200
    assert 'data-testid="record-count">0<' in html_of(searched)
    assert "李大爷" not in html_of(searched)

    assert client.get(f"/registry/person/{sibling.pk}/").status_code == 404
    assert client.get(f"/registry/person/{sibling.pk}/edit/").status_code == 404
    assert client.post(f"/registry/person/{sibling.pk}/reveal/", {}).status_code == 404

    # The street's leader does find the same person by the exact number.
    found = as_user(client, world.leader).get("/registry/person/", {"q": sibling_number})
    assert "李大爷" in html_of(found)


def test_list_filters_by_area_and_answers_htmx_with_the_results_only(client, world):
    make_person(world, name="王阿婆", household_type="migrant")
    make_person(world, area=world.sibling_microgrid, name="李大爷")
    client = as_user(client, world.leader)
    narrowed = client.get(
        "/registry/person/", {"area": world.sibling_grid.code}, HTTP_HX_REQUEST="true"
    )
    body = html_of(narrowed)
    assert "李大爷" in body and "王阿婆" not in body
    assert "<html" not in body and 'id="registry-results"' in body
    migrants = html_of(client.get("/registry/person/", {"household_type": "migrant"}))
    assert "王阿婆" in migrants and "李大爷" not in migrants
    # The export link carries the same filters.
    assert "/registry/person/export.xlsx?household_type=migrant" in migrants


def test_area_filter_offers_only_the_users_areas(client, world):
    page = html_of(as_user(client, world.grid_worker).get("/registry/person/"))
    assert world.grid.code in page and world.sibling_grid.code not in page
    refused = as_user(client, world.grid_worker).get(
        "/registry/person/", {"area": world.sibling_grid.code}
    )
    assert "没有找到该辖区,或您无权查看" in html_of(refused)


def test_person_list_masks_numbers_and_reads_a_page_in_few_queries(
    client, world, django_assert_max_num_queries
):
    house = make_house(world)
    numbers = [id_number() for _ in range(30)]
    for n, number in enumerate(numbers):
        make_person(world, name=f"居民{n:02d}", number=number, house=house)
    client = as_user(client, world.leader)
    client.get("/registry/person/")  # warm the session and the privilege cache
    with django_assert_max_num_queries(10):
        response = client.get("/registry/person/")
    page = html_of(response)
    assert response.status_code == 200 and page.count(house.address) == 20
    assert numbers[0][:6] + "********" + numbers[0][-4:] in page
    assert not any(number in page for number in numbers)
    assert "13900002222" not in page and "139****2222" in page


def test_import_link_only_for_administrators(client, world):
    assert "/registry/import/" not in html_of(as_user(client, world.grid_worker).get("/registry/"))
    assert "/registry/import/" in html_of(as_user(client, world.admin).get("/registry/person/"))


# A record's page and unmasking -----------------------------------------------------------------


def test_grid_worker_sees_the_masked_number_and_cannot_unmask(client, world):
    number = id_number()
    person = make_person(world, number=number)
    client = as_user(client, world.grid_worker)
    page = html_of(client.get(f"/registry/person/{person.pk}/"))
    assert person.id_number_masked in page and number not in page
    assert "13900002222" not in page
    assert "查看完整信息" not in page and "/reveal/" not in page

    response = client.post(
        f"/registry/person/{person.pk}/reveal/", {"field": "id_number", "reason": "核实身份"}
    )
    assert response.status_code == 403
    assert "无权查看完整个人信息" in html_of(response) and number not in html_of(response)
    assert not AccessLog.objects.exists()


def test_leader_unmasks_with_a_reason_and_the_read_is_logged(client, world):
    number = id_number()
    person = make_person(world, number=number)
    client = as_user(client, world.leader)
    assert "查看完整信息" in html_of(client.get(f"/registry/person/{person.pk}/"))

    response = client.post(
        f"/registry/person/{person.pk}/reveal/",
        {"field": "id_number", "reason": "办理低保核实身份"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and number in html_of(response)
    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.get()
    assert (log.user, log.subject_id, log.field, log.via) == (
        world.leader,
        person.pk,
        "id_number",
        "page",
    )
    assert log.reason == "办理低保核实身份"


def test_unmasking_without_a_reason_is_refused_in_chinese(client, world):
    number = id_number()
    person = make_person(world, number=number)
    response = as_user(client, world.leader).post(
        f"/registry/person/{person.pk}/reveal/", {"field": "id_number", "reason": "  "}
    )
    assert response.status_code == 400
    assert "请填写查看原因" in html_of(response) and number not in html_of(response)
    assert not AccessLog.objects.exists()


def test_sensitive_tags_only_for_those_granted_them(client, world):
    person = make_person(world, tags=("living_alone", "community_correction"))
    worker = html_of(as_user(client, world.grid_worker).get(f"/registry/person/{person.pk}/"))
    assert "独居老人" in worker and "社区矫正" not in worker
    leader = html_of(as_user(client, world.leader).get(f"/registry/person/{person.pk}/"))
    assert "独居老人" in leader and "社区矫正" in leader
    # Nor can the grid worker filter the list by it to learn who carries it.
    listed = as_user(client, world.grid_worker).get(
        "/registry/person/", {"tag": "community_correction"}
    )
    assert "请从列表中选择" in html_of(listed)


def test_house_page_lists_its_residents_and_enterprise_its_facilities(client, world):
    house = make_house(world, address="城厢街道景港府1幢101室")
    make_person(world, name="王阿婆", house=house)
    enterprise = make_enterprise(world, name="景港机械有限公司")
    client = as_user(client, world.grid_worker)
    page = html_of(client.get(f"/registry/house/{house.pk}/"))
    assert "居住人员" in page and "王阿婆" in page
    page = html_of(client.get(f"/registry/enterprise/{enterprise.pk}/"))
    assert "企业库" in page and "137****3333" in page and "13700003333" not in page


# Record forms ----------------------------------------------------------------------------------


def test_grid_worker_registers_a_person_with_tags(client, world):
    house = make_house(world, address="城厢街道景港府2幢201室")
    alone = Tag.objects.get(code="living_alone")
    number = id_number()
    response = as_user(client, world.grid_worker).post(
        "/registry/person/new/",
        person_form(world, id_number=number, house_address=house.address, tags=[alone.pk]),
    )
    person = Person.objects.get(name="赵奶奶")
    assert response.status_code == 302 and response["Location"] == f"/registry/person/{person.pk}/"
    assert person.house == house and person.area == world.microgrid
    assert person.id_number_masked == services.mask_resident_id(number)
    assert list(person.tags.all()) == [alone]


def test_a_bad_id_number_is_refused_in_chinese_and_nothing_is_created(client, world):
    good = id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = as_user(client, world.grid_worker).post(
        "/registry/person/new/", person_form(world, id_number=bad)
    )
    assert response.status_code == 400
    assert "身份证号校验位不正确" in html_of(response)
    assert not Person.objects.exists()


def test_grid_worker_cannot_register_in_the_sibling_grid(client, world):
    response = as_user(client, world.grid_worker).post(
        "/registry/person/new/", person_form(world, area=world.sibling_microgrid.code)
    )
    assert response.status_code == 400
    assert "只能选择您负责的网格或微网格" in html_of(response)
    assert not Person.objects.exists()


def test_leaders_read_but_do_not_edit(client, world):
    person = make_person(world)
    client = as_user(client, world.leader)
    assert "record-edit" not in html_of(client.get(f"/registry/person/{person.pk}/"))
    assert client.get(f"/registry/person/{person.pk}/edit/").status_code == 403
    assert client.get("/registry/person/new/").status_code == 403


def test_edit_keeps_the_sealed_number_when_left_blank(client, world):
    person = make_person(world, name="王阿婆")
    before = (person.id_number_digest, person.phone_digest)
    response = as_user(client, world.grid_worker).post(
        f"/registry/person/{person.pk}/edit/",
        person_form(world, name="王阿婆婆", id_number="", phone="", version=person.version),
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.name == "王阿婆婆" and person.version == 2
    assert (person.id_number_digest, person.phone_digest) == before


def test_edit_with_a_stale_version_changes_nothing(client, world):
    person = make_person(world, name="王阿婆")
    services.record_update(
        actor=None, record=person, expected_version=1, fields={"note": "他人先改了"}
    )
    response = as_user(client, world.grid_worker).post(
        f"/registry/person/{person.pk}/edit/",
        person_form(world, name="改错了", id_number="", phone="", version=1),
    )
    assert response.status_code == 409
    assert "该记录已被他人修改或注销,请刷新后再改" in html_of(response)
    person.refresh_from_db()
    assert person.name == "王阿婆" and person.version == 2


def test_enterprise_form_checks_the_credit_code(client, world):
    response = as_user(client, world.grid_worker).post(
        "/registry/enterprise/new/",
        {
            "area": world.microgrid.code,
            "name": "城厢五金店",
            "credit_code": "91330109MA2CDEFGIO",
            "scale": "below",
            "address": "城厢街道1号",
            "industry": "",
            "contact_name": "",
            "contact_phone": "",
        },
    )
    assert response.status_code == 400 and "统一社会信用代码" in html_of(response)


def test_delete_hides_the_person_but_the_case_still_shows_it(client, world):
    person = make_person(world, name="王阿婆")
    case = make_case(world)
    services.case_link_add(actor=None, case=case, record=person)
    client = as_user(client, world.grid_worker)
    confirm = client.get(f"/registry/person/{person.pk}/delete/")
    assert "确定注销吗" in html_of(confirm)
    response = client.post(f"/registry/person/{person.pk}/delete/", {"version": person.version})
    assert response.status_code == 302
    listed = html_of(client.get("/registry/person/"))
    assert (
        'data-testid="record-count">0<' in listed and f"/registry/person/{person.pk}/" not in listed
    )
    assert client.get(f"/registry/person/{person.pk}/").status_code == 404
    panel = html_of(client.get(f"/cases/{case.number}/"))
    assert "王阿婆" in panel and "已注销" in panel
    assert CaseLink.objects.filter(case=case, person=person).exists()


def test_delete_with_a_stale_version_is_refused(client, world):
    person = make_person(world)
    response = as_user(client, world.grid_worker).post(
        f"/registry/person/{person.pk}/delete/", {"version": person.version + 1}
    )
    assert response.status_code == 409 and "请刷新后再改" in html_of(response)
    person.refresh_from_db()
    assert person.deleted_at is None


# 查看记录 -----------------------------------------------------------------------------------------


def test_access_log_is_the_leaders_and_read_only(client, world):
    person = make_person(world)
    services.personal_reveal(
        actor=world.leader, record=person, field="id_number", reason="走访前核实"
    )
    page = as_user(client, world.leader).get("/registry/access-log/")
    assert page.status_code == 200 and "走访前核实" in html_of(page)
    filtered = as_user(client, world.leader).get("/registry/access-log/", {"field": "phone"})
    assert 'data-testid="log-count">0<' in html_of(filtered)
    assert as_user(client, world.grid_worker).get("/registry/access-log/").status_code == 403
    assert as_user(client, world.leader).post("/registry/access-log/").status_code == 405


# 核查 -----------------------------------------------------------------------------------------------


def test_leader_issues_a_verification_task_and_reads_its_progress(client, world):
    first = make_person(world, name="王阿婆")
    make_person(world, name="张大伯")
    make_person(world, area=world.sibling_microgrid, name="李大爷")
    make_person(world, area=world.far_grid, name="陈阿姨")
    client = as_user(client, world.community_leader)
    due = (clock.now() + timedelta(days=7)).date()
    response = client.post(
        "/registry/verification/new/",
        {
            "title": "2025年人口核查",
            "record_kind": "person",
            "areas": [world.grid.pk, world.sibling_grid.pk],
            "due_on": due.isoformat(),
            "note": "",
        },
    )
    task = VerificationTask.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/registry/verification/{task.pk}/"
    assert task.items.count() == 3

    item = VerificationItem.objects.get(task=task, person=first)
    services.verification_item_check(actor=world.grid_worker, item=item, status=ItemStatus.VERIFIED)
    page = html_of(client.get(f"/registry/verification/{task.pk}/"))
    assert "1/3(33%)" in page
    assert 'data-area="湘湖第一网格"' in page and "50%" in page
    assert 'data-area="湘湖社区"' in page
    listed = html_of(client.get("/registry/verification/"))
    assert "2025年人口核查" in listed and "1/3" in listed


def test_verification_task_refuses_grids_outside_the_leaders_scope(client, world):
    due = (clock.now() + timedelta(days=7)).date()
    response = as_user(client, world.community_leader).post(
        "/registry/verification/new/",
        {
            "title": "越权核查",
            "record_kind": "house",
            "areas": [world.far_grid.pk],
            "due_on": due.isoformat(),
        },
    )
    assert response.status_code == 400 and "只能选择您负责的社区或网格" in html_of(response)
    assert not VerificationTask.objects.exists()
    assert as_user(client, world.grid_worker).get("/registry/verification/new/").status_code == 403


@pytest.mark.parametrize("kind", ["person", "house", "building", "enterprise", "facility"])
def test_every_kind_lists_shows_and_edits(client, world, kind):
    makers = {
        "person": lambda: make_person(
            world, house=make_house(world, building=make_building(world))
        ),
        "house": lambda: make_house(world, building=make_building(world)),
        "building": lambda: make_building(world),
        "enterprise": lambda: make_enterprise(world),
        "facility": lambda: make_facility(world, enterprise=make_enterprise(world)),
    }
    record = makers[kind]()
    client = as_user(client, world.grid_worker)
    listed = client.get(f"/registry/{kind}/")
    assert listed.status_code == 200 and f"/registry/{kind}/{record.pk}/" in html_of(listed)
    shown = client.get(f"/registry/{kind}/{record.pk}/")
    assert shown.status_code == 200 and "关联事件" in html_of(shown)
    assert client.get(f"/registry/{kind}/new/").status_code == 200
    edit = client.get(f"/registry/{kind}/{record.pk}/edit/")
    assert edit.status_code == 200 and f'name="version" value="{record.version}"' in html_of(edit)


def test_enterprise_edit_keeps_the_sealed_phone_when_left_blank(client, world):
    enterprise = make_enterprise(world, name="景港机械有限公司")
    before = enterprise.contact_phone_digest
    response = as_user(client, world.grid_worker).post(
        f"/registry/enterprise/{enterprise.pk}/edit/",
        {
            "version": enterprise.version,
            "area": world.microgrid.code,
            "name": "景港机械股份有限公司",
            "credit_code": enterprise.credit_code,
            "industry": "制造业",
            "scale": "above",
            "address": enterprise.address,
            "contact_name": "李经理",
            "contact_phone": "",
        },
    )
    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.name == "景港机械股份有限公司" and enterprise.contact_phone_digest == before
