"""Open311 GeoReport v2 under /open311/v2/: every answer checked against the official schemas."""

import json
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse
from xml.etree import ElementTree as ET

import pytest
from django.core.cache import cache
from django.utils import timezone
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from shanzhi import clock
from shanzhi.api.models import ApiToken
from shanzhi.api.tokens import api_token_create
from shanzhi.cases import services
from shanzhi.cases.models import Case, CaseType, Source, State

from .case_factories import in_the_past, make_case, photo

SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "open311"
BASE = "/open311/v2"
SERVICE = "330109001-AQ-XF-01"  # 消防通道堵塞占用: a required 隐患等级 of 一般/重大


# Schemas ----------------------------------------------------------------------------------------

_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return "T" in value and datetime.fromisoformat(value).tzinfo is not None


@_formats.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlparse(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


@pytest.fixture(scope="module")
def schemas():
    """validate(data, name): name is a schema file, or "swagger:<Definition>" for an array of it."""
    if not SCHEMAS.is_dir():
        pytest.skip("../shared/open311 不存在:跳过 Open311 官方 schema 校验")
    registry: Registry = Registry().with_resources(
        (path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT4))
        for path in SCHEMAS.glob("*.json")
    )

    def validate(data, name: str) -> None:
        if name.startswith("swagger:"):
            ref = f"swagger.json#/definitions/{name.removeprefix('swagger:')}"
            schema = {"type": "array", "items": {"$ref": ref}}
        else:
            schema = {"$ref": name}
        Draft4Validator(schema, registry=registry, format_checker=_formats).validate(data)

    return validate


@pytest.fixture(autouse=True)
def _fresh(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()  # the rate limit counts in the cache


@pytest.fixture
def catalogue(world):
    services.catalogue_seed(street=world.street)
    return CaseType.objects.filter(street=world.street)


def _json(response, status: int = 200):
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def _xml(response, root: str, status: int = 200) -> ET.Element:
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("text/xml")
    element = ET.fromstring(response.content)  # noqa: S314 — our own answer, not untrusted input
    assert element.tag == root
    return element


def _error(response, status: int) -> str:
    body = _json(response, status)
    assert body == [{"code": status, "description": body[0]["description"]}]
    assert body[0]["description"]
    return body[0]["description"]


def _report(client, *, headers=None, remote: str = "127.0.0.1", **data):
    form = {
        "service_code": SERVICE,
        "address_id": "330109001001001001",
        "description": "3号楼消防通道被三辆车堵住了",
        "attribute[hazard_grade]": "一般",
    }
    form.update(data)
    return client.post(f"{BASE}/requests.json", form, headers=headers or {}, REMOTE_ADDR=remote)


def _type(world, code: str) -> CaseType:
    return CaseType.objects.get(street=world.street, code=code)


# Discovery and services -----------------------------------------------------------------------


def test_discovery_names_this_endpoint_in_both_formats(client, db):
    body = _json(client.get(f"{BASE}/discovery.json"))
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["application/json", "text/xml"]
    assert datetime.fromisoformat(endpoint["changeset"]).tzinfo is not None

    root = _xml(client.get(f"{BASE}/discovery.xml"), "discovery")
    assert root.findtext("endpoints/endpoint/url") == "http://testserver/open311/v2/"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "application/json",
        "text/xml",
    ]


def test_services_list_every_active_type_with_street_prefixed_codes(
    client, world, catalogue, schemas
):
    services.catalogue_seed(street=world.other_street)
    CaseType.objects.filter(street=world.street, code="CG-WJ-01").update(is_active=False)

    body = _json(client.get(f"{BASE}/services.json"))
    schemas(body, "services.json")
    codes = {row["service_code"] for row in body}
    assert SERVICE in codes and "330102008-AQ-XF-01" in codes
    assert "330109001-CG-WJ-01" not in codes
    fire = next(row for row in body if row["service_code"] == SERVICE)
    assert fire["service_name"] == "消防通道堵塞占用"
    assert fire["metadata"] is True
    assert fire["type"] == "realtime"
    assert fire["group"] == "安全隐患"
    assert "消防通道" in fire["keywords"].split(",")

    own = _json(client.get(f"{BASE}/services.json", {"jurisdiction_id": "330109001"}))
    assert own and all(row["service_code"].startswith("330109001-") for row in own)

    root = _xml(client.get(f"{BASE}/services.xml"), "services")
    assert len(root.findall("service")) == len(body)
    assert root.find("service/metadata").text in {"true", "false"}


def test_services_of_an_unknown_jurisdiction_is_404(client, db):
    assert "jurisdiction_id" in _error(
        client.get(f"{BASE}/services.json", {"jurisdiction_id": "999999999"}), 404
    )


def test_service_definition_lists_the_extra_fields(client, world, catalogue, schemas):
    body = _json(client.get(f"{BASE}/services/{SERVICE}.json"))
    schemas(body, "service-definition.json")
    (grade,) = body["attributes"]
    assert grade["code"] == "hazard_grade"
    assert grade["datatype"] == "singlevaluelist"
    assert grade["required"] is True
    assert grade["description"] == "隐患等级"
    assert grade["values"] == [{"key": "一般", "name": "一般"}, {"key": "重大", "name": "重大"}]

    root = _xml(client.get(f"{BASE}/services/{SERVICE}.xml"), "service_definition")
    assert root.findtext("service_code") == SERVICE
    values = root.findall("attributes/attribute/values/value")
    assert [v.findtext("name") for v in values] == ["一般", "重大"]

    free = _json(client.get(f"{BASE}/services/330109001-CG-WJ-01.json"))
    schemas(free, "service-definition.json")
    assert free["attributes"][0]["datatype"] == "string"
    assert "values" not in free["attributes"][0]


def test_unknown_service_code_is_404_in_either_format(client, catalogue):
    _error(client.get(f"{BASE}/services/330109001-XX-99.json"), 404)
    root = _xml(client.get(f"{BASE}/services/nonsense.xml"), "errors", 404)
    assert root.findtext("error/code") == "404"
    assert "没有找到事项编码" in root.findtext("error/description")


def test_unsupported_format_and_method_answer_in_open311_errors(client, catalogue):
    assert "不支持的格式" in _error(client.get(f"{BASE}/services.html"), 400)
    response = client.post(f"{BASE}/services.json")
    _error(response, 405)
    assert response["Allow"] == "GET"
    assert _json(client.get(f"{BASE}/services"))  # no extension means JSON


# Reporting -------------------------------------------------------------------------------------


def test_post_without_key_is_a_residents_report(client, world, catalogue, schemas):
    body = _json(
        _report(
            client,
            address_id=world.microgrid.code,
            last_name="张",
            first_name="三",
            phone="13800001111",
            account_id="app-42",
            media_url="https://example.org/p/1.jpg",
        )
    )
    schemas(body, "requests.json")
    schemas(body, "swagger:RequestResponse")
    (receipt,) = body
    case = Case.objects.get(number=receipt["service_request_id"])
    assert receipt["token"] == case.tracking_token
    assert receipt["account_id"] == "app-42"
    assert receipt["service_notice"] == "“消防通道堵塞占用”自交办起3个工作日内办结"
    assert case.source == Source.RESIDENT
    assert case.reporter is None
    assert case.area == world.microgrid
    assert case.case_type == _type(world, "AQ-XF-01")
    assert (case.reporter_name, case.reporter_phone) == ("张三", "13800001111")
    assert case.extra == {"hazard_grade": "一般", "media_url": "https://example.org/p/1.jpg"}
    assert case.state == State.REPORTED

    tokens = _json(client.get(f"{BASE}/tokens/{case.tracking_token}.json"))
    schemas(tokens, "swagger:TokenResponse")
    assert tokens == [{"service_request_id": case.number, "token": case.tracking_token}]
    root = _xml(client.get(f"{BASE}/tokens/{case.tracking_token}.xml"), "service_requests")
    assert root.findtext("request/service_request_id") == case.number
    _error(client.get(f"{BASE}/tokens/not-a-token.json"), 404)


def test_post_answers_xml_with_the_receipt(client, world, catalogue):
    root = _xml(
        client.post(
            f"{BASE}/requests.xml",
            {
                "service_code": SERVICE,
                "address_id": world.microgrid.code,
                "description": "楼道堆满纸箱",
                "attribute[hazard_grade]": "重大",
            },
        ),
        "service_requests",
    )
    number = root.findtext("request/service_request_id")
    assert Case.objects.get(number=number).extra == {"hazard_grade": "重大"}
    assert root.findtext("request/token")


def test_post_with_only_coordinates_lands_on_the_services_street(client, world, catalogue):
    body = _json(_report(client, address_id="", lat="30.181234", long="120.271234"))
    case = Case.objects.get(number=body[0]["service_request_id"])
    assert case.area == world.street
    assert (str(case.latitude), str(case.longitude)) == ("30.181234", "120.271234")


def test_post_with_a_photo_keeps_it_and_lists_it_as_media_url(client, world, catalogue, schemas):
    response = client.post(
        f"{BASE}/requests.json",
        {
            "service_code": SERVICE,
            "address_id": world.microgrid.code,
            "description": "消防通道堆放杂物",
            "attribute[hazard_grade]": "一般",
            "media": photo(),
        },
    )
    number = _json(response)[0]["service_request_id"]
    assert Case.objects.get(number=number).attachments.count() == 1
    listed = _json(client.get(f"{BASE}/requests/{number}.json"))
    schemas(listed, "requests.json")
    photo_id = Case.objects.get(number=number).attachments.get().pk
    assert listed[0]["media_url"] == f"http://testserver{BASE}/requests/{number}/media/{photo_id}"
    served = client.get(listed[0]["media_url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"


def test_anonymous_reports_are_rate_limited_per_address(client, world, catalogue, settings):
    settings.SHANZHI_OPEN311_RATE_LIMIT = 2
    assert _report(client).status_code == 200
    assert _report(client).status_code == 200
    refused = _report(client)
    assert "上报过于频繁" in _error(refused, 429)
    root = _xml(
        client.post(f"{BASE}/requests.xml", {"service_code": SERVICE}), "errors", status=429
    )
    assert root.findtext("error/code") == "429"
    assert Case.objects.count() == 2
    assert _report(client, remote="10.1.2.3").status_code == 200
    assert Case.objects.count() == 3


def test_a_channel_key_attributes_the_source_and_is_not_rate_limited(
    client, world, catalogue, settings
):
    settings.SHANZHI_OPEN311_RATE_LIMIT = 1
    _, key = api_token_create(name="12345热线对接", user=world.dispatcher, source=Source.HOTLINE)
    for _ in range(2):
        _json(_report(client, api_key=key))
    # Some clients put the key in the query string.
    _json(
        client.post(
            f"{BASE}/requests.json?api_key={key}",
            {
                "service_code": SERVICE,
                "lat": "30.18",
                "long": "120.27",
                "description": "小区门口消防通道被占",
                "attribute[hazard_grade]": "一般",
            },
        )
    )
    cases = Case.objects.all()
    assert cases.count() == 3
    assert {c.source for c in cases} == {Source.HOTLINE}
    # The hotline's callers reported them; the channel's user is who logged them.
    assert {c.reporter for c in cases} == {None}
    assert {c.actions.get().actor for c in cases} == {world.dispatcher}


def test_a_channel_key_without_a_user_reports_in_its_own_source(client, world, catalogue):
    _, key = api_token_create(name="12345热线桥接", source=Source.HOTLINE)
    _json(_report(client, api_key=key))
    case = Case.objects.get()
    assert (case.source, case.reporter) == (Source.HOTLINE, None)
    assert case.extra == {"hazard_grade": "一般"}


def test_an_invalid_or_revoked_key_is_403_and_changes_nothing(client, world, catalogue):
    assert "api_key" in _error(_report(client, api_key="sz_wrong"), 403)
    token, key = api_token_create(name="旧对接", user=world.dispatcher, source=Source.HOTLINE)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=clock.now())
    _error(_report(client, api_key=key), 403)
    assert not Case.objects.exists()


def test_the_same_idempotency_key_returns_the_first_case(client, catalogue):
    headers = {"Idempotency-Key": "3f0c7c1e-2b7a-4d0e-9a41-6b1d2f0e7a55"}
    first = _json(_report(client, headers=headers))
    again = _json(_report(client, headers=headers, description="重复提交"))
    assert first == again
    assert Case.objects.count() == 1
    _json(_report(client, headers={"Idempotency-Key": "another"}))
    assert Case.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"address_id": "", "address_string": ""}, "请提供位置"),
        ({"lat": "30.1"}, "lat 与 long 须同时提供"),
        ({"address_id": "", "lat": "91", "long": "120"}, "lat 须在"),
        ({"service_code": ""}, "缺少 service_code"),
        ({"service_code": "330109001-XX-99"}, "没有找到事项编码"),
        ({"attribute[hazard_grade]": ""}, "请填写“隐患等级”"),
        ({"attribute[hazard_grade]": "很大"}, "只能是:一般、重大"),
        ({"attribute[colour]": "红"}, "没有附加字段 colour"),
        ({"address_id": "330102008001001"}, "不在该事项所属街道内"),
        ({"address_id": "NOSUCHAREA"}, "address_id"),
        ({"jurisdiction_id": "330102008"}, "jurisdiction_id"),
        ({"description": " "}, "请描述发生了什么"),
        ({"phone": "12345"}, "联系电话格式不正确"),
        ({"media_url": "ftp://x/y.jpg"}, "media_url"),
    ],
)
def test_bad_reports_are_400_with_a_chinese_reason(client, world, catalogue, change, message):
    assert message in _error(_report(client, **change), 400)
    assert not Case.objects.exists()


# Listing ------------------------------------------------------------------------------------------


@pytest.fixture
def cases(world, catalogue):
    fire = _type(world, "AQ-XF-01")
    with in_the_past(days=10):
        done = make_case(world, State.ARCHIVED, text="楼道电瓶车充电", reporter_name="李四")
    with in_the_past(days=5):
        working = make_case(world, State.IN_PROGRESS, text="路灯不亮,请联系13912345678")
    services.case_supervise(case=working, actor=world.leader, requirement="内部督办:今日办结")
    fresh = make_case(world, State.REPORTED, case_type=fire, reporter_name="王五")
    rejected = make_case(world, State.REPORTED, case_type=fire, text="不是我们管的事")
    services.case_reject(case=rejected, actor=world.dispatcher, reason="不属于本街道职责")
    duplicate = make_case(world, State.REPORTED, case_type=fire, text="消防通道又被堵")
    services.case_merge(case=duplicate, actor=world.dispatcher, kept=fresh)
    with in_the_past(days=120):
        old = make_case(world, State.REPORTED, case_type=fire, text="半年前的事")
    untyped = make_case(world, State.REPORTED, text="还没定类的事")
    return {
        "done": done,
        "working": working,
        "fresh": fresh,
        "rejected": rejected,
        "merged": duplicate,
        "old": old,
        "untyped": untyped,
    }


def _numbers(response) -> list[str]:
    return [row["service_request_id"] for row in _json(response)]


def test_requests_list_the_last_90_days_newest_first(client, cases, schemas):
    body = _json(client.get(f"{BASE}/requests.json"))
    schemas(body, "requests.json")
    numbers = [row["service_request_id"] for row in body]
    assert numbers == [cases[k].number for k in ("fresh", "working", "done")]
    rows = {row["service_request_id"]: row for row in body}
    done, working = rows[cases["done"].number], rows[cases["working"].number]
    assert done["status"] == "closed"
    assert done["status_notes"] == "已劝离并清理"
    assert done["service_code"] == "330109001-WY-SS-01"
    assert working["status"] == "open"
    assert working["agency_responsible"] == "城厢派出所"
    due = cases["working"].handle_due_at.replace(microsecond=0)
    assert datetime.fromisoformat(working["expected_datetime"]) == due
    assert working["address_id"] == cases["working"].area.code
    assert datetime.fromisoformat(working["updated_datetime"]) > datetime.fromisoformat(
        working["requested_datetime"]
    )


def test_rejected_merged_and_untyped_cases_are_never_public(client, cases):
    listed = _numbers(client.get(f"{BASE}/requests.json", {"status": "open,closed"}))
    for hidden in ("rejected", "merged", "untyped"):
        assert cases[hidden].number not in listed
        _error(client.get(f"{BASE}/requests/{cases[hidden].number}.json"), 404)
    named = ",".join(cases[k].number for k in ("rejected", "merged", "fresh"))
    assert _numbers(client.get(f"{BASE}/requests.json", {"service_request_id": named})) == [
        cases["fresh"].number
    ]


def test_requests_filter_by_status_code_and_dates(client, cases):
    def get(**query: str) -> list[str]:
        return _numbers(client.get(f"{BASE}/requests.json", query))

    assert get(status="closed") == [cases["done"].number]
    assert get(status="open") == [cases["fresh"].number, cases["working"].number]
    assert get(service_code=SERVICE) == [cases["fresh"].number]
    assert get(service_code="330109001-WY-SS-01") == [
        cases["working"].number,
        cases["done"].number,
    ]
    now = clock.now()
    assert get(start_date=(now - timedelta(days=7)).isoformat()) == [
        cases["fresh"].number,
        cases["working"].number,
    ]
    assert get(end_date=(now - timedelta(days=7)).isoformat()) == [cases["done"].number]
    # A bare end date includes its whole (local) day.
    five_days_ago = timezone.localtime(now - timedelta(days=5)).date().isoformat()
    assert get(end_date=five_days_ago) == [cases["working"].number, cases["done"].number]
    assert cases["old"].number in get(start_date=(now - timedelta(days=200)).date().isoformat())
    # Named numbers override every other filter, as the spec says.
    assert get(service_request_id=cases["old"].number, status="closed") == [cases["old"].number]
    assert get(jurisdiction_id="330102008") == []
    assert get(page_size="1", page="2") == [cases["working"].number]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start_date": "yesterday"}, "W3C"),
        ({"status": "pending"}, "status"),
        ({"service_code": "AQXF01"}, "service_code"),
        ({"page_size": "5000"}, "page_size"),
        ({"start_date": "2026-02-01", "end_date": "2026-01-01"}, "start_date"),
    ],
)
def test_bad_filters_are_400(client, db, query, message):
    assert message in _error(client.get(f"{BASE}/requests.json", query), 400)


def test_no_personal_data_in_public_answers(client, world, cases):
    for fmt in ("json", "xml"):
        text = client.get(f"{BASE}/requests.{fmt}").content.decode()
        text += client.get(f"{BASE}/requests/{cases['working'].number}.{fmt}").content.decode()
        hidden = ("13800001111", "13912345678", "李四", "王五", "内部督办", "不属于本街道职责")
        for personal in (*hidden, cases["done"].tracking_token):
            assert personal not in text
        assert "139****5678" in text


def test_one_request_in_both_spellings_and_formats(client, cases, schemas):
    number = cases["working"].number
    body = _json(client.get(f"{BASE}/requests/{number}.json"))
    schemas(body, "requests.json")
    assert body == _json(client.get(f"{BASE}/request/{number}.json"))
    root = _xml(client.get(f"{BASE}/request/{number}.xml"), "service_requests")
    (row,) = root.findall("request")
    assert row.findtext("service_request_id") == number
    assert row.findtext("status") == "open"
    assert row.find("zipcode").text is None


def test_listing_reads_a_fixed_number_of_queries(
    client, world, catalogue, django_assert_max_num_queries
):
    fire = _type(world, "AQ-XF-01")
    for _ in range(3):
        make_case(world, State.REPORTED, case_type=fire, photos=[photo()])
    with django_assert_max_num_queries(3):
        few = _json(client.get(f"{BASE}/requests.json"))
    for _ in range(6):
        make_case(world, State.IN_PROGRESS, photos=[photo()])
    with django_assert_max_num_queries(3):
        many = _json(client.get(f"{BASE}/requests.json"))
    assert (len(few), len(many)) == (3, 9)
    assert all(row["media_url"] for row in many)
