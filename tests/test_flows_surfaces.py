"""What the flows' declarations give every surface without a line written per flow: the API's
generated operations, the page's action forms, the papers, the queues, the notifications, the
resident's timeline, Open311 and the dashboard's panels."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from shanzhi import clock
from shanzhi.cases import services
from shanzhi.cases.flows import FLOWS
from shanzhi.cases.inbox import desk_queue
from shanzhi.cases.models import Case, Notification
from shanzhi.cases.selectors import inbox_for
from shanzhi.open311.representations import open311_status

from .case_factories import police
from .flow_factories import INSPECTION, flow_act, petitioned, reported, signed_off
from .test_api import Api
from .test_pages_cases import as_user, html_of

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_every_action_of_every_flow_has_an_operation_with_its_declared_inputs(client, world):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    schemas = document["components"]["schemas"]
    for flow in FLOWS.values():
        for transition in flow.transitions:
            path = f"/api/v1/cases/{{number}}/{transition.action}"
            assert path in paths, path
    grade = paths["/api/v1/cases/{number}/grade"]["post"]
    body = grade["requestBody"]["content"]["application/json"]["schema"]
    fields = schemas[body["$ref"].rsplit("/", 1)[1]]
    assert fields["properties"]["hazard_grade"]["enum"] == ["一般", "重大"]
    assert {"version", "hazard_grade", "record", "inspector", "signature"} <= set(
        fields["required"]
    )
    assert "subject_code" in fields["properties"] and "subject_code" not in fields["required"]
    # A step that requires photos takes a form with them.
    reinspection = paths["/api/v1/cases/{number}/request_reinspection"]["post"]
    assert "multipart/form-data" in reinspection["requestBody"]["content"]
    assert "安全隐患" in grade["description"] and "指挥中心坐席" in grade["description"]


def test_a_hazard_through_the_api_with_references_by_code(client, world):
    api = Api(client)
    case = reported(world, datetime(2025, 6, 2, 9, tzinfo=SHANGHAI), "AQ-SC-01")
    wrong = api.act(world.dispatcher, case, "dispatch", unit_id=police(world).pk)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "transition_refused")
    bad = api.act(world.dispatcher, case, "grade", hazard_grade="特别重大", **INSPECTION)
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    unknown = api.act(
        world.dispatcher,
        case,
        "grade",
        hazard_grade="一般",
        checklist_item="安全出口",
        subject_code="91330109MA2XXXXXXX",
        **INSPECTION,
    )
    assert unknown.json()["code"] == "invalid_input"
    done = api.act(
        world.dispatcher,
        case,
        "grade",
        hazard_grade="一般",
        checklist_item="安全出口",
        **INSPECTION,
    ).json()
    assert (done["flow"], done["state"], done["state_label"]) == ("hazard", "graded", "已定级")
    assert {"label": "隐患等级", "value": "一般"} in done["facts"]
    assert "order" in done["available_actions"]
    grade_row = done["timeline"][-1]
    assert grade_row["label"] == "核实定级" and "隐患等级:一般" in grade_row["details"]
    ordered = api.act(
        world.dispatcher,
        case,
        "order",
        orders="限期整改",
        unit_id=police(world).pk,
        rectify_deadline=(clock.now().date().replace(year=clock.now().year + 1)).isoformat(),
    ).json()
    assert ordered["state"] == "rectifying"
    assert ordered["documents"][0]["key"] == "rectification_notice"
    paper = client.get(
        f"/api/v1/cases/{case.number}/documents/rectification_notice",
        headers=api.headers(world.dispatcher),
    )
    assert paper.status_code == 200 and paper["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    missing = client.get(
        f"/api/v1/cases/{case.number}/documents/opinion", headers=api.headers(world.dispatcher)
    )
    assert missing.status_code == 404


def test_the_page_builds_each_step_form_from_its_declaration(client, world):
    case = reported(world, datetime(2025, 6, 2, 9, tzinfo=SHANGHAI), "XF-CF-01", source="petition")
    page = html_of(as_user(client, world.dispatcher).get(f"/cases/{case.number}/"))
    assert 'data-action="register"' in page and 'name="register-petition_form"' in page
    assert 'name="register-representatives"' in page and "每行一项" in page
    assert 'data-action="accept"' not in page  # not a step of the petition flow
    posted = as_user(client, world.dispatcher).post(
        f"/cases/{case.number}/act/register/",
        {"register-version": case.version, "register-petition_form": "来访"},
    )
    assert posted.status_code == 400 and "请填写信访请求" in html_of(posted)
    assert Case.objects.get(pk=case.pk).state == "reported"
    petition = petitioned(world, datetime(2025, 6, 3, 9, tzinfo=SHANGHAI))
    paper = as_user(client, world.dispatcher).get(
        f"/cases/{petition.number}/documents/acceptance_notice.docx"
    )
    assert paper.status_code == 200 and "attachment" in paper["Content-Disposition"]
    assert (
        as_user(client, world.dispatcher)
        .get(f"/cases/{petition.number}/documents/opinion.docx")
        .status_code
        == 404
    )


def test_queues_inbox_and_notifications_follow_the_declared_waits(
    world, django_capture_on_commit_callbacks
):
    moment = clock.now()
    case = reported(world, moment, "AQ-XF-03")
    assert case in desk_queue(user=world.dispatcher, name="hazard_verify")
    case = flow_act(
        world.dispatcher,
        moment,
        case,
        "grade",
        hazard_grade="一般",
        checklist_item="灭火器",
        **INSPECTION,
    )
    assert case in desk_queue(user=world.dispatcher, name="hazard_order")
    # Now, not replayed in the past: a replay tells nobody.
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_act(
            case=case,
            actor=world.dispatcher,
            action="order",
            orders="更换",
            unit=police(world),
            rectify_deadline=date(2099, 3, 9),
        )
    # The order tells the unit, and the case waits in its handlers' inbox.
    assert Notification.objects.filter(
        user=world.handler, case=case, message__startswith="隐患限期整改"
    ).exists()
    assert case in inbox_for(user=world.handler)
    assert case not in inbox_for(user=world.community_worker)
    assert open311_status(case.state) == "open"


def test_the_resident_sees_the_flows_public_steps_and_a_closed_status(client, world):
    case = signed_off(world, datetime(2025, 5, 6, 10, tzinfo=SHANGHAI), "一般")
    page = html_of(client.get(f"/t/{case.tracking_token}/"))
    for step in (
        "提交上报",
        "已核实定级",
        "已下达整改通知",
        "整改完成,申请复查",
        "复查合格,已销号",
    ):
        assert step in page, step
    assert "已整改销号" in page  # the state as the public reads it
    assert "检查员" not in page  # the inspection record is internal
    assert open311_status(case.state) == "closed"


def test_the_dashboard_panels_of_hazards_and_petitions_click_through(client, world):
    signed_off(world, datetime(2025, 5, 6, 10, tzinfo=SHANGHAI), "重大")
    petitioned(world, datetime(2025, 7, 1, 10, tzinfo=SHANGHAI))
    leader = as_user(client, world.leader)
    hazards = html_of(leader.get("/dashboard/lists/hazards/?period=2025"))
    assert 'data-testid="figure-hazards"' in hazards and "重大隐患整改率" in hazards
    assert "/cases/?kpi=hazards" in hazards and "100.00%" in hazards
    petitions = html_of(leader.get("/dashboard/lists/petitions/?period=2025"))
    assert "按期受理告知率" in petitions and "/cases/?kpi=petitions" in petitions
    listed = html_of(leader.get("/cases/?kpi=major_hazards&period=2025"))
    assert "发现重大隐患数" in listed and 'data-testid="figure-count">1<' in listed
