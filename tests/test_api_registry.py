"""The registry over the REST API: scope, masking, logged unmasking, edits, visits, 核查, links."""

import json
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from shanzhi import clock
from shanzhi.api.tokens import api_token_create
from shanzhi.cases.models import Case
from shanzhi.protection import unseal
from shanzhi.registry import services
from shanzhi.registry.models import (
    AccessLog,
    CaseLink,
    Enterprise,
    FacilityKind,
    HouseUse,
    ItemStatus,
    Library,
    LibraryEntry,
    Person,
    RecordKind,
    VerificationItem,
    Visit,
)

from .case_factories import make_case
from .registry_factories import (
    credit_code,
    id_number,
    make_building,
    make_enterprise,
    make_facility,
    make_house,
    make_person,
)
from .test_api_contract import OPENAPI, matches, wsgi_app  # noqa: F401 - wsgi_app is a fixture

pytestmark = pytest.mark.django_db

PHONE = "13900002222"


class Api:
    """The test client speaking JSON with a key for each persona."""

    def __init__(self, client):
        self.client = client
        self._keys = {}

    def headers(self, user):
        if user.pk not in self._keys:
            self._keys[user.pk] = api_token_create(name=f"{user.username}的密钥", user=user)[1]
        return {"authorization": f"Bearer {self._keys[user.pk]}"}

    def get(self, user, url, params=None):
        return self.client.get(f"/api/v1{url}", params or {}, headers=self.headers(user))

    def send(self, method, user, url, body):
        return self.client.generic(
            method,
            f"/api/v1{url}",
            json.dumps(body),
            content_type="application/json",
            headers=self.headers(user),
        )

    def post(self, user, url, body):
        return self.send("POST", user, url, body)

    def patch(self, user, url, body):
        return self.send("PATCH", user, url, body)


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def people(world):
    """王阿婆 on the grid worker's grid, 李大伯 on the sibling grid of the same community."""
    mine = make_person(world, number=id_number(), phone=PHONE, tags=("living_alone", "key_person"))
    theirs = make_person(world, area=world.sibling_microgrid, name="李大伯", number=id_number())
    return mine, theirs


def clear_id(person):
    return unseal(Person.objects.get(pk=person.pk).id_number_sealed)


# Scope -------------------------------------------------------------------------------------


def test_grid_worker_cannot_reach_a_person_of_the_sibling_grid(api, world, people):
    mine, theirs = people
    listed = api.get(world.grid_worker, "/registry/persons").json()
    assert [item["id"] for item in listed["items"]] == [mine.pk]
    by_number = api.get(world.grid_worker, "/registry/persons", {"q": clear_id(theirs)}).json()
    assert by_number["total"] == 0
    assert api.get(world.grid_worker, "/registry/persons", {"q": "李大伯"}).json()["total"] == 0
    response = api.get(world.grid_worker, f"/registry/persons/{theirs.pk}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    refused = api.post(
        world.grid_worker,
        f"/registry/persons/{theirs.pk}/reveal",
        {"field": "id_number", "reason": "核对"},
    )
    assert refused.status_code == 404
    sibling_area = api.get(
        world.grid_worker, "/registry/persons", {"area": world.sibling_microgrid.code}
    )
    assert sibling_area.status_code == 422 and sibling_area.json()["code"] == "invalid_input"
    # The street's dispatcher sees both, and finds each by its exact number.
    assert api.get(world.dispatcher, "/registry/persons").json()["total"] == 2
    found = api.get(world.dispatcher, "/registry/persons", {"q": clear_id(theirs)}).json()
    assert [item["id"] for item in found["items"]] == [theirs.pk]


def test_a_role_without_the_registry_is_refused(api, world, people):
    response = api.get(world.handler, "/registry/persons")
    assert response.status_code == 403 and "人房企事物" in response.json()["message"]
    assert api.get(world.other_admin, "/registry/persons").json()["total"] == 0


def test_list_reads_a_bounded_number_of_queries(api, world, people, django_assert_max_num_queries):
    house = make_house(world)
    for number in range(6):
        make_person(world, name=f"居民{number}", house=house, tags=("disabled", "party_member"))
    api.get(world.grid_worker, "/registry/persons")  # the key's first use writes its last-used time
    with django_assert_max_num_queries(7):
        page = api.get(world.grid_worker, "/registry/persons", {"page_size": 50}).json()
    assert page["total"] == 7
    assert all(item["house"] for item in page["items"] if item["name"].startswith("居民"))
    with django_assert_max_num_queries(7):
        assert api.get(world.grid_worker, "/registry/enterprises").status_code == 200


# Masking and unmasking ---------------------------------------------------------------------


def test_numbers_are_masked_and_the_clear_ones_never_sent(api, world, people):
    mine, _ = people
    number = clear_id(mine)
    for user in (world.grid_worker, world.leader):
        listed = api.get(user, "/registry/persons")
        detail = api.get(user, f"/registry/persons/{mine.pk}")
        for response in (listed, detail):
            body = response.content.decode()
            assert number not in body and PHONE not in body
            assert number[6:14] not in body  # not even the birth date the mask hides
            assert "sealed" not in body and "digest" not in body
        item = detail.json()
        assert item["id_number_masked"] == f"{number[:6]}********{number[-4:]}"
        assert item["phone_masked"] == "139****2222"
        assert item["birth_year"] == int(number[6:10])
    assert api.get(world.grid_worker, f"/registry/persons/{mine.pk}").json()["can_unmask"] is False
    assert api.get(world.leader, f"/registry/persons/{mine.pk}").json()["can_unmask"] is True


def test_sensitive_tags_only_for_those_granted_them(api, world, people):
    mine, _ = people
    worker = api.get(world.grid_worker, f"/registry/persons/{mine.pk}").json()
    leader = api.get(world.leader, f"/registry/persons/{mine.pk}").json()
    assert [tag["code"] for tag in worker["tags"]] == ["living_alone"]
    assert {tag["code"] for tag in leader["tags"]} == {"living_alone", "key_person"}
    listed = api.get(world.grid_worker, "/registry/persons").json()["items"][0]
    assert [tag["code"] for tag in listed["tags"]] == ["living_alone"]
    tagged = api.get(world.grid_worker, "/registry/persons", {"tag": "key_person"}).json()
    assert tagged["total"] == 0


def test_grid_worker_may_not_unmask_and_leaves_no_log(api, world, people):
    mine, _ = people
    response = api.post(
        world.grid_worker,
        f"/registry/persons/{mine.pk}/reveal",
        {"field": "id_number", "reason": "核对身份"},
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert clear_id(mine) not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_leader_unmasks_with_a_reason_and_the_read_is_logged(api, world, people):
    mine, _ = people
    no_reason = api.post(
        world.leader, f"/registry/persons/{mine.pk}/reveal", {"field": "id_number", "reason": " "}
    )
    assert no_reason.status_code == 422 and "查看原因" in no_reason.json()["message"]
    assert not AccessLog.objects.exists()

    response = api.post(
        world.leader,
        f"/registry/persons/{mine.pk}/reveal",
        {"field": "id_number", "reason": "核对低保申请"},
    )
    assert response.status_code == 200
    assert response.json() == {"field": "id_number", "value": clear_id(mine)}
    log = AccessLog.objects.get()
    assert (log.user, log.subject_kind, log.subject_id, log.field, log.via) == (
        world.leader,
        "person",
        mine.pk,
        "id_number",
        "api",
    )
    assert log.reason == "核对低保申请"
    phone = api.post(
        world.leader, f"/registry/persons/{mine.pk}/reveal", {"field": "phone", "reason": "回访"}
    )
    assert phone.json()["value"] == PHONE and AccessLog.objects.count() == 2


def test_enterprise_contact_phone_is_masked_and_revealed_to_the_leader(api, world):
    firm = make_enterprise(world, contact_phone="13700003333")
    detail = api.get(world.grid_worker, f"/registry/enterprises/{firm.pk}")
    assert detail.json()["contact_phone_masked"] == "137****3333"
    assert "13700003333" not in detail.content.decode()
    refused = api.post(
        world.grid_worker, f"/registry/enterprises/{firm.pk}/reveal", {"reason": "走访"}
    )
    assert refused.status_code == 403
    shown = api.post(world.leader, f"/registry/enterprises/{firm.pk}/reveal", {"reason": "走访"})
    assert shown.json() == {"field": "contact_phone", "value": "13700003333"}
    assert AccessLog.objects.get().field == "contact_phone"


# Writing -----------------------------------------------------------------------------------


def test_grid_worker_registers_a_person_on_their_grid(api, world):
    number = id_number(female=True)
    house = make_house(world)
    body = {
        "area_code": world.microgrid.code,
        "name": "张阿姨",
        "id_number": number,
        "phone": "139-0000-1234",
        "household_type": "migrant",
        "house_id": house.pk,
        "tags": ["living_alone"],
    }
    response = api.post(world.grid_worker, "/registry/persons", body)
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["sex"] == "female" and created["household_type_label"] == "流动"
    assert created["phone_masked"] == "139****1234" and number not in response.content.decode()
    assert created["house"] == {"id": house.pk, "address": house.address}
    assert [tag["code"] for tag in created["tags"]] == ["living_alone"]
    assert clear_id(Person.objects.get(pk=created["id"])) == number

    again = api.post(world.grid_worker, "/registry/persons", body)
    assert again.status_code == 422 and "已登记" in again.json()["message"]
    elsewhere = api.post(
        world.grid_worker,
        "/registry/persons",
        body | {"area_code": world.sibling_microgrid.code, "id_number": id_number()},
    )
    assert elsewhere.status_code == 422  # a grid outside the caller's scope is unknown to them
    assert api.post(world.dispatcher, "/registry/persons", body).status_code == 403


def test_a_bad_id_number_is_refused_in_chinese_and_nothing_is_created(api, world):
    number = id_number()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = api.post(
        world.grid_worker,
        "/registry/persons",
        {"area_code": world.microgrid.code, "name": "张三", "id_number": wrong},
    )
    assert response.status_code == 422
    assert response.json() == {"code": "resident_id_checksum", "message": "身份证号校验位不正确"}
    assert not Person.objects.exists()
    sensitive = api.post(
        world.grid_worker,
        "/registry/persons",
        {
            "area_code": world.microgrid.code,
            "name": "张三",
            "id_number": number,
            "tags": ["key_person"],
        },
    )
    assert sensitive.status_code == 422 and "key_person" in sensitive.json()["message"]
    assert not Person.objects.exists()


def test_patch_changes_what_is_sent_and_a_stale_version_is_409(api, world, people):
    mine, _ = people
    url = f"/registry/persons/{mine.pk}"
    changed = api.patch(
        world.grid_worker, url, {"version": mine.version, "name": "王秀英", "tags": []}
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["name"] == "王秀英" and changed.json()["version"] == mine.version + 1
    # The worker cleared the tags they see; the sensitive one they cannot see stays.
    assert set(Person.objects.get(pk=mine.pk).tags.values_list("code", flat=True)) == {"key_person"}
    assert Person.objects.get(pk=mine.pk).phone_masked == "139****2222"

    stale = api.patch(world.grid_worker, url, {"version": mine.version, "name": "王阿婆"})
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    assert Person.objects.get(pk=mine.pk).name == "王秀英"

    bad_phone = api.patch(world.grid_worker, url, {"version": mine.version + 1, "phone": "12345"})
    assert bad_phone.status_code == 422 and "电话" in bad_phone.json()["message"]
    cleared = api.patch(world.grid_worker, url, {"version": mine.version + 1, "phone": ""})
    assert cleared.json()["phone_masked"] == ""
    leader = api.patch(world.leader, url, {"version": mine.version + 2, "name": "越权"})
    assert leader.status_code == 403


def test_enterprises_are_created_and_changed_with_a_checked_credit_code(api, world):
    code = credit_code()
    body = {
        "area_code": world.microgrid.code,
        "name": "湘湖科技有限公司",
        "credit_code": code[:-1] + ("0" if code[-1] != "0" else "1"),
        "scale": "above",
        "address": "城厢街道湘湖路8号",
        "contact_phone": "13700004444",
    }
    bad = api.post(world.grid_worker, "/registry/enterprises", body)
    assert bad.status_code == 422 and "统一社会信用代码" in bad.json()["message"]
    assert not Enterprise.objects.exists()
    created = api.post(world.grid_worker, "/registry/enterprises", body | {"credit_code": code})
    assert created.status_code == 201, created.json()
    firm = created.json()
    assert firm["credit_code"] == code and firm["contact_phone_masked"] == "137****4444"
    changed = api.patch(
        world.grid_worker,
        f"/registry/enterprises/{firm['id']}",
        {"version": firm["version"], "scale": "below", "employees": 12},
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["scale"], changed.json()["employees"]) == ("below", 12)
    assert changed.json()["contact_phone_masked"] == "137****4444"  # not sent, not changed
    stale = api.patch(
        world.grid_worker,
        f"/registry/enterprises/{firm['id']}",
        {"version": firm["version"], "name": "旧名"},
    )
    assert stale.status_code == 409


def test_houses_buildings_enterprises_and_facilities_are_listed_with_their_filters(api, world):
    building = make_building(world, address="城厢街道景港府9幢")
    rented = make_house(world, building=building, use=HouseUse.RENTED)
    make_house(world, building=building)
    make_house(world, area=world.sibling_microgrid, use=HouseUse.RENTED)
    houses = api.get(world.grid_worker, "/registry/houses", {"use": "rented"}).json()
    assert [(h["id"], h["building_id"], h["use_label"]) for h in houses["items"]] == [
        (rented.pk, building.pk, "出租")
    ]
    buildings = api.get(world.grid_worker, "/registry/buildings", {"q": "9幢"}).json()
    assert [b["id"] for b in buildings["items"]] == [building.pk]

    served = make_enterprise(world, name="服务库企业")
    make_enterprise(world, name="普通企业")
    today = clock.now().date()
    LibraryEntry.objects.create(enterprise=served, library=Library.SERVICE, entered_on=today)
    LibraryEntry.objects.create(
        enterprise=served, library=Library.CULTIVATION, entered_on=today, left_on=today
    )
    in_service = api.get(world.grid_worker, "/registry/enterprises", {"library": "service"}).json()
    assert [e["name"] for e in in_service["items"]] == ["服务库企业"]
    assert [lib["label"] for lib in in_service["items"][0]["libraries"]] == ["服务库"]
    detail = api.get(world.grid_worker, f"/registry/enterprises/{served.pk}").json()
    assert [lib["library"] for lib in detail["libraries"]] == ["service"]

    hydrant = make_facility(world, last_inspected_on=today)
    make_facility(world, kind=FacilityKind.ELEVATOR)
    facilities = api.get(world.grid_worker, "/registry/facilities", {"kind": "hydrant"}).json()
    assert [f["id"] for f in facilities["items"]] == [hydrant.pk]
    assert facilities["items"][0]["next_inspection_on"] == str(today + timedelta(days=30))


# Visits, verification and links ------------------------------------------------------------


def test_grid_worker_logs_visits_and_lists_them(api, world, people):
    mine, theirs = people
    visited_at = (clock.now() - timedelta(hours=2)).isoformat()
    response = api.post(
        world.grid_worker,
        "/registry/visits",
        {"person_id": mine.pk, "summary": "身体尚可,独自在家", "visited_at": visited_at},
    )
    assert response.status_code == 201, response.json()
    visit = response.json()
    assert visit["person"] == {"id": mine.pk, "name": mine.name} and visit["case_number"] is None
    assert Visit.objects.get().visitor == world.grid_worker

    firm = make_enterprise(world)
    raised = api.post(
        world.grid_worker,
        "/registry/visits",
        {
            "enterprise_id": firm.pk,
            "summary": "生产正常",
            "problems": "门前道路破损,货车难进",
            "raise_case": True,
        },
    )
    case = Case.objects.get(number=raised.json()["case_number"])
    assert CaseLink.objects.filter(case=case, enterprise=firm).exists()

    outside = api.post(
        world.grid_worker, "/registry/visits", {"person_id": theirs.pk, "summary": "路过"}
    )
    assert outside.status_code == 422 and Visit.objects.count() == 2
    both = api.post(
        world.grid_worker,
        "/registry/visits",
        {"person_id": mine.pk, "enterprise_id": firm.pk, "summary": "一起"},
    )
    assert both.status_code == 422 and "一名居民或一家企业" in both.json()["message"]

    listed = api.get(world.grid_worker, "/registry/visits", {"person": mine.pk}).json()
    assert [item["id"] for item in listed["items"]] == [visit["id"]]
    assert api.get(world.grid_worker, "/registry/visits").json()["total"] == 2
    recent = api.get(
        world.grid_worker,
        "/registry/visits",
        {"visited_from": (clock.now() - timedelta(hours=1)).isoformat()},
    ).json()
    assert [item["enterprise"]["id"] for item in recent["items"]] == [firm.pk]
    assert api.get(world.other_leader, "/registry/visits").json()["total"] == 0


def test_verification_progress_per_grid_within_the_callers_scope(api, world, people):
    mine, _ = people
    task = services.verification_task_create(
        actor=world.leader,
        title="人口信息核查",
        record_kind=RecordKind.PERSON,
        areas=[world.community],
        due_on=clock.now().date() + timedelta(days=7),
    )
    item = VerificationItem.objects.get(task=task, person=mine)
    services.verification_item_check(actor=world.grid_worker, item=item, status=ItemStatus.VERIFIED)

    tasks = api.get(world.grid_worker, "/registry/verification-tasks").json()
    assert [t["id"] for t in tasks["items"]] == [task.pk]
    assert tasks["items"][0]["areas"] == [{"code": world.community.code, "name": "湘湖社区"}]
    url = f"/registry/verification-tasks/{task.pk}/progress"
    mine_only = api.get(world.grid_worker, url).json()
    assert [(r["area"]["code"], r["total"], r["done"]) for r in mine_only["rows"]] == [
        (world.grid.code, 1, 1)
    ]
    leader = api.get(world.leader, url).json()
    assert (leader["total"], leader["done"]) == (2, 1)
    community = api.get(world.leader, url, {"level": "community"}).json()
    assert [(r["area"]["code"], r["rate"]) for r in community["rows"]] == [
        (world.community.code, 0.5)
    ]
    assert api.get(world.other_leader, url).status_code == 404


def test_cases_point_at_records_the_caller_may_see(api, world, people):
    mine, theirs = people
    case = make_case(world)
    url = f"/cases/{case.number}/links"
    added = api.post(world.dispatcher, url, {"kind": "person", "id": mine.pk})
    assert added.status_code == 200, added.json()
    assert api.post(world.dispatcher, url, {"kind": "person", "id": mine.pk}).status_code == 200
    api.post(world.dispatcher, url, {"kind": "person", "id": theirs.pk})
    assert CaseLink.objects.filter(case=case).count() == 2
    labels = [link["label"] for link in api.get(world.dispatcher, url).json()["links"]]
    assert labels == ["王阿婆", "李大伯"]
    # The grid worker sees the case (it is on their grid) but only their own resident.
    worker = api.get(world.grid_worker, url).json()["links"]
    assert [(link["kind"], link["id"]) for link in worker] == [("person", mine.pk)]
    detail = api.get(world.grid_worker, f"/registry/persons/{mine.pk}").json()
    assert [c["number"] for c in detail["cases"]] == [case.number]
    missing = api.post(world.dispatcher, url, {"kind": "facility", "id": 999999})
    assert missing.status_code == 422


# The contract --------------------------------------------------------------------------------

OPERATIONS = {
    ("/registry/persons", "get"),
    ("/registry/persons", "post"),
    ("/registry/persons/{id}", "get"),
    ("/registry/persons/{id}", "patch"),
    ("/registry/persons/{id}/reveal", "post"),
    ("/registry/houses", "get"),
    ("/registry/houses/{id}", "get"),
    ("/registry/buildings", "get"),
    ("/registry/buildings/{id}", "get"),
    ("/registry/enterprises", "get"),
    ("/registry/enterprises", "post"),
    ("/registry/enterprises/{id}", "get"),
    ("/registry/enterprises/{id}", "patch"),
    ("/registry/enterprises/{id}/reveal", "post"),
    ("/registry/facilities", "get"),
    ("/registry/facilities/{id}", "get"),
    ("/registry/visits", "get"),
    ("/registry/visits", "post"),
    ("/registry/verification-tasks", "get"),
    ("/registry/verification-tasks/{id}/progress", "get"),
    ("/cases/{number}/links", "get"),
    ("/cases/{number}/links", "post"),
}


@pytest.fixture
def document(client):
    return client.get(OPENAPI).json()


def test_document_lists_the_registry_operations(document):
    listed = {
        (path.removeprefix("/api/v1"), method)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert listed >= OPERATIONS
    person = document["components"]["schemas"]["PersonOut"]["properties"]
    assert "id_number_masked" in person and "birth_year" in person
    assert not [name for name in person if "sealed" in name or "digest" in name]
    assert "birth_date" not in person


def test_responses_match_the_document(api, client, document, world, people):
    mine, theirs = people
    firm = make_enterprise(world)
    house = make_house(world)
    case = make_case(world)

    def check(response, path, method="get"):
        return matches(document, response, path, method)

    for path in ("/registry/persons", "/registry/houses", "/registry/buildings"):
        check(api.get(world.grid_worker, path), path)
    check(api.get(world.grid_worker, "/registry/enterprises"), "/registry/enterprises")
    check(api.get(world.grid_worker, "/registry/facilities"), "/registry/facilities")
    check(api.get(world.grid_worker, f"/registry/persons/{mine.pk}"), "/registry/persons/{id}")
    check(api.get(world.grid_worker, f"/registry/houses/{house.pk}"), "/registry/houses/{id}")
    check(
        api.get(world.grid_worker, f"/registry/enterprises/{firm.pk}"), "/registry/enterprises/{id}"
    )
    check(api.get(world.grid_worker, f"/registry/persons/{theirs.pk}"), "/registry/persons/{id}")
    reveal = "/registry/persons/{id}/reveal"
    body = {"field": "phone", "reason": "核对"}
    check(api.post(world.grid_worker, f"/registry/persons/{mine.pk}/reveal", body), reveal, "post")
    check(api.post(world.leader, f"/registry/persons/{mine.pk}/reveal", body), reveal, "post")
    check(
        api.patch(world.grid_worker, f"/registry/persons/{mine.pk}", {"version": 99}),
        "/registry/persons/{id}",
        "patch",
    )
    check(
        api.post(world.grid_worker, "/registry/persons", {"area_code": world.microgrid.code}),
        "/registry/persons",
        "post",
    )
    visit = {"person_id": mine.pk, "summary": "在家"}
    check(api.post(world.grid_worker, "/registry/visits", visit), "/registry/visits", "post")
    check(api.get(world.grid_worker, "/registry/visits"), "/registry/visits")
    check(
        api.get(world.grid_worker, "/registry/verification-tasks"), "/registry/verification-tasks"
    )
    links = "/cases/{number}/links"
    link = {"kind": "enterprise", "id": firm.pk}
    check(api.post(world.grid_worker, f"/cases/{case.number}/links", link), links, "post")
    check(api.get(world.grid_worker, f"/cases/{case.number}/links"), links)


def test_fuzzing_the_registry_with_real_records_finds_no_server_error(
    world,
    people,
    wsgi_app,  # noqa: F811 - the fixture imported above
):
    """The contract test fuzzes every operation with random ids; here the ids are real and the
    key is a grid worker's, who may edit, so the inputs reach the services."""
    mine, _ = people
    firm = make_enterprise(world)
    case = make_case(world)
    schema = schemathesis.openapi.from_wsgi(OPENAPI, wsgi_app)
    key = api_token_create(name="模糊测试", user=world.grid_worker)[1]
    headers = {"Authorization": f"Bearer {key}"}
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if "/registry/persons" in result.ok().path
        or "/registry/enterprises" in result.ok().path
        or result.ok().path.endswith("/links")
        or result.ok().path == "/api/v1/registry/visits"
    ]
    assert len(operations) == 14

    def real(operation):
        if "{number}" in operation.path:
            return {"number": case.number}
        return {"id": firm.pk if "enterprises" in operation.path else mine.pk}

    strategies = [
        operation.as_strategy(
            GenerationMode.POSITIVE,
            path_parameters=real(operation) if operation.path_parameters else None,
        )
        for operation in operations
    ]

    @settings(
        max_examples=15 * len(operations),
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies), current=st.booleans())
    def fuzz(case, current):
        if current and isinstance(case.body, dict):
            # Past the version check and onto a real grid and resident, the services see the rest.
            if "version" in case.body:
                model = Person if "persons" in case.operation.path else Enterprise
                case.body["version"] = model.objects.get(pk=case.path_parameters["id"]).version
            if "area_code" in case.body:
                case.body["area_code"] = world.microgrid.code
            if "person_id" in case.body:
                case.body["person_id"] = mine.pk
        response = case.call(app=wsgi_app, headers=headers)
        case.validate_response(response, checks=checks, headers=headers)

    fuzz()
