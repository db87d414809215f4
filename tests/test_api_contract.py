"""The REST API keeps the contract its OpenAPI document states.

Real responses are validated against the document's response schemas, and schemathesis fuzzes
every operation through the WSGI application with a dispatcher's key: whatever it sends, the
answer is never a server error and always matches the schema documented for its status.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shanzhi.accounts.models import Unit
from shanzhi.api.tokens import api_token_create
from shanzhi.cases import services
from shanzhi.cases.models import Case, CaseType, Source

pytestmark = pytest.mark.django_db

OPENAPI = "/api/v1/openapi.json"
EXAMPLES_PER_OPERATION = 20


@pytest.fixture
def document(client):
    response = client.get(OPENAPI)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def street_cases(world, settings, tmp_path):
    """A reported, an accepted and an in-progress case on the persona world's street."""
    settings.MEDIA_ROOT = tmp_path
    services.catalogue_seed(street=world.street)
    case_type = (
        CaseType.objects.filter(street=world.street, workflow="general").order_by("code").first()
    )
    police = Unit.objects.get(name="城厢派出所")

    def report(description):
        case, _ = services.case_report(
            area=world.grid,
            source=Source.HOTLINE,
            description=description,
            actor=world.dispatcher,
            reporter_phone="13800001111",
        )
        return case

    reported = report("路灯不亮")
    accepted = services.case_accept(
        case=report("井盖缺失"), actor=world.dispatcher, case_type=case_type
    )
    working = services.case_claim(
        case=services.case_dispatch(
            case=services.case_accept(
                case=report("占道经营"), actor=world.dispatcher, case_type=case_type
            ),
            actor=world.dispatcher,
            unit=police,
        ),
        actor=world.handler,
    )
    return reported, accepted, working, case_type, police


def matches(document, response, path, method="get"):
    """Validate a real response against the schema the document gives for its status."""
    operation = document["paths"][f"/api/v1{path}"][method]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method.upper()} {path} 未说明状态码 {response.status_code}"
    schema = documented["content"]["application/json"]["schema"]
    validator = Draft202012Validator(
        {**schema, "components": document["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    errors = [error.message for error in validator.iter_errors(response.json())]
    assert errors == [], errors
    return response.json()


def test_document_names_the_api_and_its_errors(document):
    assert document["info"]["title"] == "善治 API" and document["info"]["version"] == "1"
    assert document["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "422"} <= set(responses), (method, path)
            error = responses["422"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorOut"}
            assert operation["security"] == [{"TokenAuth": []}]


def test_docs_page_is_served(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and OPENAPI in response.content.decode()


def test_real_responses_match_the_document(client, document, world, street_cases):
    reported, accepted, working, case_type, police = street_cases
    key = api_token_create(name="契约", user=world.dispatcher)[1]
    handler_key = api_token_create(name="契约", user=world.handler)[1]
    auth = {"authorization": f"Bearer {key}"}

    def get(path, params=None, headers=auth):
        return matches(document, client.get(f"/api/v1{path}", params or {}, headers=headers), path)

    def post(path, body, template, headers=auth, **extra):
        response = client.post(
            f"/api/v1{path}", body, content_type="application/json", headers=headers | extra
        )
        return matches(document, response, template, "post")

    assert get("/cases")["total"] == 3
    assert get("/cases", {"state": "in_progress", "page_size": 1})["items"][0]["unit"]["id"] == (
        police.pk
    )
    detail = matches(
        document, client.get(f"/api/v1/cases/{working.number}", headers=auth), "/cases/{number}"
    )
    assert detail["state"] == "in_progress" and len(detail["timeline"]) == 4
    assert get("/inbox")["total"] >= 2
    assert get("/case-types", {"page_size": 3})["items"][0]["street"]["code"] == world.street.code
    assert get("/areas", {"parent": world.community.code})["total"] == 2
    area = matches(
        document, client.get(f"/api/v1/areas/{world.grid.code}", headers=auth), "/areas/{code}"
    )
    assert area["code"] == world.grid.code

    body = {
        "area_code": world.grid.code,
        "description": "垃圾满溢",
        "reporter_phone": "13900002222",
    }
    created = post("/cases", body, "/cases", **{"Idempotency-Key": "契约-1"})
    assert created["state"] == "reported"
    assert (
        post("/cases", body, "/cases", **{"Idempotency-Key": "契约-1"})["number"]
        == (created["number"])
    )
    template = "/cases/{number}/accept"
    accepted_now = post(
        f"/cases/{reported.number}/accept",
        {"version": reported.version, "case_type_id": case_type.pk},
        template,
    )
    assert accepted_now["state"] == "accepted"
    stale = post(
        f"/cases/{reported.number}/reject",
        {"version": reported.version, "reason": "重复"},
        "/cases/{number}/reject",
    )
    assert stale["code"] == "version_conflict"
    forbidden = post(
        f"/cases/{accepted.number}/claim",
        {"version": accepted.version},
        "/cases/{number}/claim",
    )
    assert forbidden["code"] == "permission_denied"
    invalid = post(
        f"/cases/{working.number}/resolve",
        {"version": working.version},
        "/cases/{number}/resolve",
        headers={"authorization": f"Bearer {handler_key}"},
    )
    assert invalid["code"] == "validation_error" and invalid["errors"]
    missing = matches(
        document, client.get("/api/v1/cases/330109001209999999", headers=auth), "/cases/{number}"
    )
    assert missing["code"] == "not_found"
    assert get("/cases", headers={})["code"] == "unauthorized"


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, kept on the test's database connection.

    Django closes connections around each request it handles; inside a test that would end the
    test's transaction, so the handlers are disconnected as Django's own test client does.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_fuzzing_finds_no_server_error(world, street_cases, wsgi_app):
    reported, accepted, working, _, _ = street_cases
    schema = schemathesis.openapi.from_wsgi(OPENAPI, wsgi_app)
    headers = {
        "Authorization": f"Bearer {api_token_create(name='模糊测试', user=world.dispatcher)[1]}"
    }
    # Paths that name a real case or area, so the inputs reach the services.
    real = {"number": [reported.number, accepted.number, working.number], "code": [world.grid.code]}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 23
    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        for name in names & set(real):
            strategies += [
                operation.as_strategy(GenerationMode.POSITIVE, path_parameters={name: value})
                for value in real[name]
            ]

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies), current=st.booleans())
        def fuzz(case, current):
            if current and isinstance(case.body, dict):
                # Past the version check and onto a real place, the services see the rest.
                number = (case.path_parameters or {}).get("number")
                if number in real["number"] and "version" in case.body:
                    case.body["version"] = Case.objects.get(number=number).version
                if "area_code" in case.body:
                    case.body.update(area_code=world.microgrid.code, reporter_phone="13800001111")
                    case.body.pop("source", None)
            response = case.call(app=wsgi_app, headers=headers)
            case.validate_response(response, checks=checks, headers=headers)

        fuzz()
