"""The REST API through the Django test client: keys, scope, intake, every transition, errors."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from shanzhi.accounts.models import Role, Unit
from shanzhi.api.tokens import api_token_create
from shanzhi.cases import services
from shanzhi.cases.catalogue import CATALOGUE
from shanzhi.cases.flows import actions as flow_actions
from shanzhi.cases.models import Case, CaseType, Source, State
from shanzhi.registry.models import AccessLog

from .factories import make_user

pytestmark = pytest.mark.django_db

PHONE = "13800001111"


class Api:
    """The test client speaking JSON with a key for each persona."""

    def __init__(self, client):
        self.client = client
        self._keys = {}

    def key(self, user):
        if user.pk not in self._keys:
            self._keys[user.pk] = api_token_create(name=f"{user.username}的密钥", user=user)[1]
        return self._keys[user.pk]

    def headers(self, user, **extra):
        return {"authorization": f"Bearer {self.key(user)}", **extra}

    def get(self, user, url, params=None):
        return self.client.get(f"/api/v1{url}", params or {}, headers=self.headers(user))

    def post(self, user, url, body, **headers):
        return self.client.post(
            f"/api/v1{url}",
            json.dumps(body),
            content_type="application/json",
            headers=self.headers(user, **headers),
        )

    def act(self, user, case, action, **inputs):
        version = Case.objects.get(pk=case.pk).version
        return self.post(user, f"/cases/{case.number}/{action}", {"version": version, **inputs})


@pytest.fixture
def api(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    services.catalogue_seed(street=world.street)
    return Api(client)


@pytest.fixture
def police(world):
    return Unit.objects.get(name="城厢派出所")


@pytest.fixture
def case_type(world):
    return CaseType.objects.filter(street=world.street, workflow="general").order_by("code").first()


def report(world, area=None, description="小区门口路灯不亮", **extra):
    case, _ = services.case_report(
        area=area or world.grid,
        source=Source.HOTLINE,
        description=description,
        actor=world.dispatcher,
        reporter_name="王女士",
        reporter_phone=PHONE,
        **extra,
    )
    return case


def accepted(world, case_type, **extra):
    return services.case_accept(
        case=report(world, **extra), actor=world.dispatcher, case_type=case_type
    )


def dispatched(world, case_type, unit):
    case = accepted(world, case_type)
    return services.case_dispatch(case=case, actor=world.dispatcher, unit=unit)


def in_progress(world, case_type, unit):
    return services.case_claim(case=dispatched(world, case_type, unit), actor=world.handler)


def resolved(world, case_type, unit):
    case = in_progress(world, case_type, unit)
    return services.case_resolve(
        case=case, actor=world.handler, result="已修复", evidence="更换灯泡"
    )


def photo():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, format="PNG")
    upload = io.BytesIO(buffer.getvalue())
    upload.name = "现场.png"
    return upload


# Keys ----------------------------------------------------------------------------------------


def test_every_operation_needs_a_live_key(api, world):
    case = report(world)
    for url in ("/cases", f"/cases/{case.number}", "/case-types", "/areas", "/inbox"):
        response = api.client.get(f"/api/v1{url}")
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
        assert "密钥" in response.json()["message"]
    wrong = api.client.get("/api/v1/cases", headers={"authorization": "Bearer sz_nonsense"})
    assert wrong.status_code == 401
    token, raw = api_token_create(name="吊销", user=world.dispatcher)
    assert (
        api.client.get("/api/v1/cases", headers={"authorization": f"Bearer {raw}"}).status_code
        == 200
    )
    token.revoked_at = timezone.now()
    token.save()
    assert (
        api.client.get("/api/v1/cases", headers={"authorization": f"Bearer {raw}"}).status_code
        == 401
    )


def test_apitoken_command_prints_a_working_key_once(api, world):
    out = io.StringIO()
    call_command("apitoken", "create", "--user", "disp", "--name", "网格通", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    response = api.client.get("/api/v1/cases", headers={"authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    out = io.StringIO()
    call_command("apitoken", "create", "--name", "12345", "--source", "hotline", stdout=out)
    assert "只能上报事件" in out.getvalue()


def test_a_channel_key_only_reports_through_its_channel(api, world):
    _, raw = api_token_create(name="12345热线对接", source=Source.HOTLINE)
    headers = {"authorization": f"Bearer {raw}"}

    def report_as_channel(**extra):
        body = {"area_code": world.microgrid.code, "description": "楼道堆放杂物"} | extra
        return api.client.post(
            "/api/v1/cases", json.dumps(body), content_type="application/json", headers=headers
        )

    response = report_as_channel(reporter_phone=PHONE)
    assert response.status_code == 201
    case = Case.objects.get(number=response.json()["number"])
    assert case.source == Source.HOTLINE and case.reporter is None
    assert response.json()["reporter_phone"] == "138****1111"
    assert response.json()["available_actions"] == []
    refused = report_as_channel(source="leader")
    assert refused.status_code == 403 and "12345热线" in refused.json()["message"]
    for url in ("/cases", f"/cases/{case.number}", "/inbox", "/areas"):
        denied = api.client.get(f"/api/v1{url}", headers=headers)
        assert denied.status_code == 403
        assert denied.json()["message"] == "该接口密钥代表上报渠道,只能上报事件"
    assert Case.objects.count() == 1


# Scope ---------------------------------------------------------------------------------------


def test_grid_worker_cannot_reach_a_case_of_the_sibling_grid(api, world):
    own = report(world, area=world.microgrid)
    sibling = report(world, area=world.sibling_grid, description="隔壁网格的井盖缺失")
    response = api.get(world.grid_worker, f"/cases/{sibling.number}")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "没有找到该事件,或您无权查看"}
    numbers = [item["number"] for item in api.get(world.grid_worker, "/cases").json()["items"]]
    assert numbers == [own.number]
    everyone = api.get(world.community_worker, "/cases").json()
    assert everyone["total"] == 2
    refused = api.act(world.grid_worker, sibling, "escalate", reason="上报")
    assert refused.status_code == 404


def test_case_list_filters_paginates_and_does_not_query_per_row(
    api, world, case_type, police, django_assert_max_num_queries
):
    for n in range(3):
        report(world, description=f"第{n}盏路灯不亮")
    dispatched(world, case_type, police)
    report(world, area=world.far_grid, description="湖头陈的垃圾桶满了")
    api.key(world.dispatcher)
    with django_assert_max_num_queries(6):
        first = api.get(world.dispatcher, "/cases", {"page_size": 2})
    body = first.json()
    assert body["total"] == 5 and len(body["items"]) == 2 and body["page"] == 1
    for n in range(10):
        report(world, description=f"又一盏路灯不亮{n}")
    with django_assert_max_num_queries(6):
        many = api.get(world.dispatcher, "/cases", {"page_size": 100})
    assert many.json()["total"] == 15 and len(many.json()["items"]) == 15
    item = next(i for i in many.json()["items"] if i["state"] == "dispatched")
    assert item["unit"] == {"id": police.pk, "name": "城厢派出所"}
    assert item["case_type"] == {"id": case_type.pk, "name": case_type.name}
    assert item["state_label"] == "已交办" and item["deadline_status"] is None

    def total(**params):
        return api.get(world.dispatcher, "/cases", params).json()["total"]

    assert total(state=["reported"]) == 14
    assert (
        api.client.get(
            "/api/v1/cases?state=reported&state=dispatched", headers=api.headers(world.dispatcher)
        ).json()["total"]
        == 15
    )
    assert total(area=world.other_community.code) == 1
    assert total(q="湖头陈") == 1
    assert total(unit=police.pk) == 1
    assert total(case_type=case_type.pk) == 1
    assert total(source="hotline") == 15
    assert total(deadline="overdue") == 0
    assert total(reported_from=(timezone.now() + timedelta(days=1)).isoformat()) == 0
    assert api.get(world.dispatcher, "/cases", {"page": 2, "page_size": 10}).json()["items"]
    outside = api.get(world.dispatcher, "/cases", {"area": world.other_grid.code})
    assert outside.status_code == 422 and outside.json()["code"] == "invalid_input"


def test_page_size_is_capped_with_a_chinese_message(api, world):
    response = api.get(world.dispatcher, "/cases", {"page_size": 1000})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert "每页条数(page_size)不能大于100" in body["message"]
    assert body["errors"] == [{"field": "page_size", "message": "不能大于100"}]


# Intake --------------------------------------------------------------------------------------


def test_report_is_idempotent_by_key(api, world):
    body = {
        "area_code": world.microgrid.code,
        "description": "景港府1号楼电梯困人",
        "reporter_name": "李先生",
        "reporter_phone": PHONE,
        "latitude": 30.1712345,
        "longitude": 120.2654321,
    }
    first = api.post(world.dispatcher, "/cases", body, **{"Idempotency-Key": "app-001"})
    assert first.status_code == 201
    again = api.post(world.dispatcher, "/cases", body, **{"Idempotency-Key": "app-001"})
    assert again.status_code == 200
    assert again.json()["number"] == first.json()["number"]
    assert Case.objects.count() == 1
    created = first.json()
    assert created["state"] == "reported" and created["version"] == 1
    assert created["source"] == "api" and created["area"]["code"] == world.microgrid.code
    assert created["latitude"] == pytest.approx(30.171235)
    assert created["timeline"][0]["label"] == "上报"
    by_body = api.post(world.dispatcher, "/cases", body | {"client_key": "app-002"})
    assert api.post(world.dispatcher, "/cases", body | {"client_key": "app-002"}).status_code == 200
    assert by_body.status_code == 201 and Case.objects.count() == 2


def test_someone_elses_idempotency_key_does_not_reveal_their_case(api, world):
    body = {"area_code": world.grid.code, "description": "路面塌陷"}
    assert (
        api.post(world.dispatcher, "/cases", body, **{"Idempotency-Key": "k1"}).status_code == 201
    )
    neighbour = make_user(
        "gw2", unit=world.grid_worker.unit, role=Role.GRID_WORKER, area=world.sibling_grid
    )
    body = {
        "area_code": world.sibling_grid.code,
        "description": "路面塌陷",
        "source": "grid_patrol",
    }
    response = api.post(neighbour, "/cases", body, **{"Idempotency-Key": "k1"})
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"
    assert "路面塌陷" not in response.content.decode()


def test_report_refuses_bad_input_in_chinese_and_changes_nothing(api, world):
    missing = api.post(world.dispatcher, "/cases", {"area_code": world.grid.code})
    assert missing.status_code == 422
    assert "描述(description)必填" in missing.json()["message"]
    blank = api.post(world.dispatcher, "/cases", {"area_code": world.grid.code, "description": " "})
    assert blank.status_code == 422
    assert blank.json() == {"code": "invalid_report", "message": "请描述发生了什么"}
    phone = api.post(
        world.dispatcher,
        "/cases",
        {"area_code": world.grid.code, "description": "噪音", "reporter_phone": "12345"},
    )
    assert phone.json()["code"] == "invalid_report" and "联系电话" in phone.json()["message"]
    nowhere = api.post(world.dispatcher, "/cases", {"area_code": "9999", "description": "噪音"})
    assert nowhere.status_code == 422 and nowhere.json()["code"] == "invalid_input"
    patrol = api.post(
        world.dispatcher,
        "/cases",
        {"area_code": world.grid.code, "description": "噪音", "source": "grid_patrol"},
    )
    assert patrol.status_code == 403
    assert Case.objects.count() == 0


# Transitions ---------------------------------------------------------------------------------


def test_every_transition_has_an_operation(api):
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]
    actions = {p.rsplit("/", 1)[1] for p in paths if p.startswith("/api/v1/cases/{number}/")}
    # Besides every flow's transitions, a case has its registry links, its reporter's contact,
    # its documents and its routing suggestions.
    assert actions == set(flow_actions()) | {"links", "contact", "{key}", "suggestions"}


def test_the_closed_loop_through_the_api(api, world, case_type, police):
    number = api.post(
        world.dispatcher,
        "/cases",
        {"area_code": world.grid.code, "description": "路灯不亮", "reporter_phone": PHONE},
    ).json()["number"]
    case = Case.objects.get(number=number)

    def act(user, action, **inputs):
        response = api.act(user, case, action, **inputs)
        assert response.status_code == 200, response.json()
        return response.json()

    body = act(world.dispatcher, "accept", case_type_id=case_type.pk, priority="high")
    assert body["state"] == "accepted" and body["priority"] == "high"
    assert "dispatch" in body["available_actions"]
    body = act(world.dispatcher, "dispatch", unit_id=police.pk, note="请尽快处理")
    assert body["unit"]["name"] == "城厢派出所" and body["handle_due_at"]
    body = act(world.handler, "claim")
    assert body["state"] == "in_progress" and body["assignee"] == "police"
    due_at = Case.objects.get(pk=case.pk).handle_due_at + timedelta(days=5)
    body = act(world.handler, "request_extension", due_at=due_at.isoformat(), reason="等配件")
    assert body["extension_requested_until"]
    body = act(world.leader, "approve_extension", note="同意")
    assert body["extension_count"] == 1
    body = act(world.handler, "resolve", result="已更换灯泡", evidence="更换记录")
    assert body["state"] == "resolved" and body["resolution"] == "已更换灯泡"
    body = act(world.dispatcher, "callback", satisfaction="unsatisfied", note="仍然不亮")
    assert body["state"] == "dispatched" and body["reopen_count"] == 1
    assert [row["label"] for row in body["timeline"]][-2:] == ["回访", "重办"]
    act(world.handler, "claim")
    act(world.handler, "resolve", result="更换线路", evidence="照片见附件")
    body = act(world.dispatcher, "callback", satisfaction="satisfied")
    assert body["state"] == "archived" and body["satisfaction"] == "satisfied"
    assert body["available_actions"] == []
    labels = [row["label"] for row in body["timeline"]]
    assert labels[:4] == ["上报", "受理", "交办", "签收"]
    dispatch_row = body["timeline"][2]
    assert dispatch_row["actor"] == "disp" and dispatch_row["to_unit"] == "城厢派出所"
    assert dispatch_row["from_state"] == "accepted" and dispatch_row["to_state_label"] == "已交办"


def test_reject_return_transfer_and_escalate(api, world, case_type, police):
    case = report(world)
    body = api.act(world.dispatcher, case, "reject", reason="不属于街道职责").json()
    assert body["state"] == "rejected"

    case = dispatched(world, case_type, police)
    body = api.act(world.handler, case, "return", reason="不归派出所管").json()
    assert body["state"] == "accepted" and body["unit"] is None and body["return_count"] == 1

    centre = Unit.objects.get(name="社会治理综合中心")
    body = api.act(world.dispatcher, case, "transfer", unit_id=centre.pk, reason="转综治").json()
    assert body["state"] == "dispatched" and body["unit"]["id"] == centre.pk

    case = accepted(world, case_type)
    body = api.act(world.grid_worker, case, "escalate", reason="网格无法处理").json()
    assert body["level"] == "community" and body["level_label"] == "社区"


def test_extension_denied_supervised_reopened_and_closed(api, world, case_type, police):
    case = in_progress(world, case_type, police)
    due_at = (case.handle_due_at + timedelta(days=3)).replace(tzinfo=None)  # read as Beijing time
    assert (
        api.act(
            world.handler, case, "request_extension", due_at=due_at.isoformat(), reason="需协调"
        ).status_code
        == 200
    )
    body = api.act(world.dispatcher, case, "deny_extension", note="请按期办结").json()
    assert body["extension_requested_until"] is None
    body = api.act(world.leader, case, "supervise", requirement="三日内办结").json()
    assert body["supervise_count"] == 1 and body["state"] == "in_progress"

    case = resolved(world, case_type, police)
    body = api.act(world.dispatcher, case, "reopen", reason="复核发现未修好").json()
    assert body["state"] == "dispatched" and body["reopen_count"] == 1

    case = resolved(world, case_type, police)
    body = api.act(world.dispatcher, case, "close_without_callback", reason="电话空号").json()
    assert body["state"] == "archived"


def test_merge_a_duplicate(api, world):
    kept = report(world, description="路灯不亮")
    duplicate = report(world, description="路灯又不亮了")
    body = api.act(world.dispatcher, duplicate, "merge", target_number=kept.number).json()
    assert body["state"] == "merged" and body["merged_into"] == kept.number
    unknown = report(world)
    response = api.act(world.dispatcher, unknown, "merge", target_number="330109001209900001")
    assert response.status_code == 422 and response.json()["code"] == "invalid_input"


def test_grid_worker_resolves_on_the_spot_with_a_photo(api, world, case_type):
    case = report(world, area=world.microgrid)
    response = api.client.post(
        f"/api/v1/cases/{case.number}/resolve_on_spot",
        {
            "version": case.version,
            "case_type_id": case_type.pk,
            "result": "已清理",
            "photos": photo(),
        },
        headers=api.headers(world.grid_worker),
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "resolved" and body["on_spot"] is True
    assert body["timeline"][-1]["attachment_count"] == 1
    without = api.client.post(
        f"/api/v1/cases/{report(world).number}/resolve_on_spot",
        {"version": 1, "case_type_id": case_type.pk, "result": "已清理"},
        headers=api.headers(world.grid_worker),
    )
    assert without.status_code == 422 and "现场照片(photos)必填" in without.json()["message"]


def test_a_stale_version_is_a_conflict(api, world, case_type):
    case = report(world)
    services.case_reject(case=case, actor=world.dispatcher, reason="重复", expected_version=1)
    response = api.post(
        world.dispatcher,
        f"/cases/{case.number}/accept",
        {"version": 1, "case_type_id": case_type.pk},
    )
    assert response.status_code == 409
    assert response.json() == {"code": "version_conflict", "message": "该事件已被他人处理,请刷新"}
    assert Case.objects.get(pk=case.pk).state == State.REJECTED


def test_a_role_that_may_not_act_gets_403(api, world, case_type, police):
    case = report(world)
    response = api.act(world.handler, case, "accept", case_type_id=case_type.pk)
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "message": "无权对该事件执行“受理”"}
    accepted_case = accepted(world, case_type)
    response = api.act(world.grid_worker, accepted_case, "dispatch", unit_id=police.pk)
    assert response.status_code == 403 and "交办" in response.json()["message"]
    assert Case.objects.get(pk=accepted_case.pk).state == State.ACCEPTED


def test_missing_inputs_are_422_in_chinese(api, world, police, case_type):
    case = report(world)
    absent = api.act(world.dispatcher, case, "reject")
    assert absent.status_code == 422
    assert absent.json()["code"] == "validation_error"
    assert "理由(reason)必填" in absent.json()["message"]
    blank = api.act(world.dispatcher, case, "reject", reason="  ")
    assert blank.status_code == 422
    assert blank.json() == {"code": "missing_input", "message": "不予受理需要填写:理由"}
    no_version = api.post(world.dispatcher, f"/cases/{case.number}/reject", {"reason": "重复"})
    assert "版本号(version)必填" in no_version.json()["message"]
    wrong_state = api.act(world.dispatcher, case, "dispatch", unit_id=police.pk)
    assert wrong_state.status_code == 422
    assert wrong_state.json()["code"] == "transition_refused"
    other = accepted(world, case_type)
    foreign = Unit.objects.get(name="南星社会治理综合中心")
    response = api.act(world.dispatcher, other, "dispatch", unit_id=foreign.pk)
    assert response.status_code == 422 and response.json()["code"] == "invalid_input"
    assert Case.objects.get(pk=case.pk).state == State.REPORTED


# Reading -------------------------------------------------------------------------------------


def test_reporter_phone_is_masked_unless_the_viewer_calls_back_or_handles(
    api, world, case_type, police
):
    case = report(world)
    assert api.get(world.grid_worker, f"/cases/{case.number}").json()["reporter_phone"] == (
        "138****1111"
    )
    assert api.get(world.handler, f"/cases/{case.number}").json()["reporter_phone"] == "138****1111"
    # Even those who call back see it masked until they ask, with a reason that is logged.
    assert api.get(world.dispatcher, f"/cases/{case.number}").json()["reporter_phone"] == (
        "138****1111"
    )
    asked = api.post(world.dispatcher, f"/cases/{case.number}/contact", {"reason": "回访"})
    assert asked.status_code == 200 and asked.json()["phone"] == PHONE
    refused = api.post(world.handler, f"/cases/{case.number}/contact", {"reason": "回访"})
    assert refused.status_code == 403
    held = dispatched(world, case_type, police)
    asked = api.post(world.handler, f"/cases/{held.number}/contact", {"reason": "联系核实"})
    assert asked.json()["phone"] == PHONE
    logged = AccessLog.objects.filter(subject_kind="case", field="phone", via="api")
    assert list(logged.values_list("user__username", "reason")) == [
        ("police", "联系核实"),
        ("disp", "回访"),
    ]


def test_detail_reads_a_bounded_number_of_queries(
    api, world, case_type, police, django_assert_max_num_queries
):
    case = resolved(world, case_type, police)
    api.key(world.dispatcher)
    with django_assert_max_num_queries(9):
        body = api.get(world.dispatcher, f"/cases/{case.number}").json()
    assert len(body["timeline"]) == 5 and body["available_actions"] == [
        "callback",
        "reopen",
        "close_without_callback",
    ]


def test_case_types_are_the_callers_street_catalogue(api, world):
    body = api.get(world.grid_worker, "/case-types", {"page_size": 100}).json()
    assert body["total"] == len(CATALOGUE)
    first = body["items"][0]
    assert first["street"]["code"] == world.street.code and first["category"]["name"]
    assert first["handle_limit_label"]
    assert api.get(world.other_leader, "/case-types").json()["total"] == 0
    services.catalogue_seed(street=world.other_street)
    other = api.get(world.other_leader, "/case-types", {"page_size": 5}).json()
    assert other["total"] == len(CATALOGUE) and len(other["items"]) == 5
    assert {item["street"]["code"] for item in other["items"]} == {world.other_street.code}


def test_areas_follow_the_scope(api, world):
    body = api.get(world.grid_worker, "/areas").json()
    assert [item["code"] for item in body["items"]] == [world.grid.code, world.microgrid.code]
    assert body["items"][0]["child_count"] == 1 and body["items"][0]["level_label"] == "网格"
    children = api.get(world.community_leader, "/areas", {"parent": world.community.code}).json()
    assert [item["name"] for item in children["items"]] == ["湘湖第一网格", "湘湖第二网格"]
    assert api.get(world.grid_worker, f"/areas/{world.sibling_grid.code}").status_code == 404
    detail = api.get(world.grid_worker, f"/areas/{world.grid.code}").json()
    assert detail["parent_code"] == world.community.code and detail["boundary"] is None


def test_inbox_holds_what_waits_for_the_caller(api, world, case_type, police):
    waiting = report(world)
    held = dispatched(world, case_type, police)
    dispatcher_inbox = {i["number"] for i in api.get(world.dispatcher, "/inbox").json()["items"]}
    assert waiting.number in dispatcher_inbox and held.number not in dispatcher_inbox
    handler_inbox = api.get(world.handler, "/inbox").json()
    assert [i["number"] for i in handler_inbox["items"]] == [held.number]


# Errors --------------------------------------------------------------------------------------


def test_errors_are_json_with_code_and_message(api, world, monkeypatch):
    unknown = api.get(world.dispatcher, "/no-such-thing")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    wrong_method = api.client.delete("/api/v1/cases", headers=api.headers(world.dispatcher))
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"
    broken = api.client.post(
        "/api/v1/cases",
        "{not json",
        content_type="application/json",
        headers=api.headers(world.dispatcher),
    )
    assert broken.status_code == 400 and broken.json()["code"] == "bad_request"
    bad_number = api.get(world.dispatcher, "/cases/not-a-number!")
    assert bad_number.status_code in {404, 422} and "message" in bad_number.json()

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("shanzhi.cases.selectors.case_list", explode)
    crashed = api.get(world.dispatcher, "/cases")
    assert crashed.status_code == 500
    assert crashed.json() == {"code": "server_error", "message": "服务器内部错误"}


def test_extra_field_answers_are_checked_against_the_catalogue(api, world):
    hazard = CaseType.objects.get(street=world.street, code="AQ-XF-01")
    body = {
        "area_code": world.microgrid.code,
        "description": "消防通道被三辆车堵住",
        "case_type_id": hazard.pk,
        "extra": {},
    }
    missing = api.post(world.dispatcher, "/cases", body)
    assert missing.status_code == 422 and "隐患等级" in missing.json()["message"]
    wrong = api.post(world.dispatcher, "/cases", body | {"extra": {"hazard_grade": "特大"}})
    assert wrong.status_code == 422 and "只能是:一般、重大" in wrong.json()["message"]
    assert not Case.objects.exists()
    made = api.post(world.dispatcher, "/cases", body | {"extra": {"hazard_grade": "重大"}})
    assert made.status_code == 201
    assert Case.objects.get().extra == {"hazard_grade": "重大"}
