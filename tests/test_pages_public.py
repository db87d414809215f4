"""Phone pages through the Django test client: the resident's QR report page, the tracking link
with its rating, QR posters, and the grid worker's patrol pages."""

import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shanzhi.cases import services
from shanzhi.cases import services as case_services
from shanzhi.cases.models import Attachment, Case, CaseAction, Source, State
from shanzhi.errors import DomainError
from shanzhi.web import views_public

from .case_factories import case_type, make_case, police

pytestmark = pytest.mark.django_db

KEY = "0f0e0d0c0b0a09080706050403020100"


@pytest.fixture(autouse=True)
def _fresh_limits_and_media(settings, tmp_path):
    # The rate limit counts in the cache, which outlives a test; uploads go to a throwaway dir.
    cache.clear()
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    cache.clear()


def png(name: str = "现场.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 6), (30, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def report(client, world, **overrides):
    data = {
        "description": "3号楼门口的路灯坏了,晚上很黑",
        "reporter_name": "王阿姨",
        "reporter_phone": "13812345678",
        "client_key": KEY,
        **overrides,
    }
    return client.post(f"/r/{world.microgrid.code}/", data)


# The resident's report page ----------------------------------------------------------------------


def test_report_page_names_the_place_and_carries_a_fresh_client_key(client, world):
    first = client.get(f"/r/{world.microgrid.code}/")
    html = first.content.decode()
    assert first.status_code == 200
    assert "景港府1号微网格" in html
    assert "城厢街道 · 湘湖社区 · 湘湖第一网格" in html
    assert 'accept="image/*"' in html and "multiple" in html
    second = client.get(f"/r/{world.microgrid.code}/").content.decode()
    key = html.split('name="client_key" value="')[1].split('"')[0]
    assert len(key) == 32 and key not in second


def test_valid_report_creates_one_resident_case_and_shows_the_receipt(client, world):
    response = report(client, world, photos=[png("1.png"), png("2.png")])
    case = Case.objects.get()
    assert case.source == Source.RESIDENT
    assert case.area == world.microgrid and case.state == State.REPORTED
    assert case.reporter_phone == "13812345678" and case.reporter_name == "王阿姨"
    assert case.attachments.count() == 2
    assert response.status_code == 302
    assert response["Location"] == f"/t/{case.tracking_token}/receipt/"
    receipt = client.get(response["Location"]).content.decode()
    assert case.number in receipt
    assert f"/t/{case.tracking_token}/" in receipt


def test_the_same_client_key_twice_still_makes_one_case(client, world):
    first = report(client, world)
    second = report(client, world)
    assert Case.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_invalid_phone_is_refused_in_chinese_and_nothing_is_created(client, world):
    response = report(client, world, reporter_phone="12345")
    html = response.content.decode()
    assert response.status_code == 400
    assert "联系电话格式不正确" in html
    assert "3号楼门口的路灯坏了" in html  # what they typed is kept
    assert not Case.objects.exists()


def test_landline_with_area_code_is_accepted(client, world):
    report(client, world, reporter_phone="0571-82345678")
    assert Case.objects.get().reporter_phone == "0571-82345678"


def test_a_file_that_is_not_an_image_is_refused(client, world):
    fake = SimpleUploadedFile("照片.png", b"#!/bin/sh\necho hi\n", content_type="image/png")
    response = report(client, world, photos=[fake])
    assert response.status_code == 400
    assert "不是有效的图片" in response.content.decode()
    assert not Case.objects.exists()


def test_more_than_six_photos_are_refused(client, world):
    response = report(client, world, photos=[png(f"{i}.png") for i in range(7)])
    assert "最多上传6张照片" in response.content.decode()
    assert not Case.objects.exists()


def test_empty_description_is_refused(client, world):
    response = report(client, world, description="   ")
    assert "请描述发生了什么" in response.content.decode()
    assert not Case.objects.exists()


def test_rate_limit_answers_in_chinese_and_creates_nothing(client, world):
    for _ in range(views_public.REPORT_LIMIT):
        assert report(client, world, description="").status_code == 400
    response = report(client, world)
    assert response.status_code == 429
    assert "提交过于频繁" in response.content.decode()
    assert not Case.objects.exists()


def test_unknown_code_and_areas_above_a_street_are_not_found(client, world):
    for code in ("330109999999", world.street.parent.code, "3301"):
        response = client.get(f"/r/{code}/")
        assert response.status_code == 404, code
        assert "没有找到该上报地点" in response.content.decode()


def test_a_street_itself_may_be_reported_at(client, world):
    assert client.get(f"/r/{world.street.code}/").status_code == 200


# Tracking ----------------------------------------------------------------------------------------


def test_tracking_page_shows_the_public_timeline_and_hides_internal_notes(
    client, world, django_assert_max_num_queries
):
    case = make_case(world, State.IN_PROGRESS)
    case = services.case_return(case=case, actor=world.handler, reason="内部原因:不归我所管")
    case = services.case_dispatch(case=case, actor=world.dispatcher, unit=police(world))
    case = services.case_supervise(case=case, actor=world.leader, requirement="领导批示甲乙丙")
    with django_assert_max_num_queries(3):  # the case, its log, the log's photos
        response = client.get(f"/t/{case.tracking_token}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "提交上报" in html and "已受理" in html and "已交办" in html
    assert "城厢派出所" in html
    assert html.count("流转中") == 2  # the return and the supervision, without their reasons
    assert "不归我所管" not in html and "领导批示" not in html
    assert "已交办" in html and 'data-testid="state">已交办' in html
    assert "评价办理结果" not in html  # not resolved yet
    assert ">disp" not in html and "police" not in html  # staff names stay private


def test_a_case_number_does_not_open_the_tracking_page(client, world):
    case = make_case(world)
    for url in (f"/t/{case.number}/", f"/t/{case.number}/receipt/", f"/t/{case.pk}/"):
        assert client.get(url).status_code == 404, url


def test_tracking_a_resolved_case_shows_the_result_evidence_and_rating(client, world):
    case = make_case(world, State.IN_PROGRESS)
    services.case_resolve(
        case=case, actor=world.handler, result="已更换灯泡", photos=[png("修好了.png")]
    )
    html = client.get(f"/t/{case.tracking_token}/").content.decode()
    assert "已更换灯泡" in html and 'data-testid="resolution"' in html
    assert "评价办理结果" in html and "基本满意" in html
    evidence = Attachment.objects.get(action__action="resolve")
    photo_url = f"/t/{case.tracking_token}/photos/{evidence.pk}/"
    assert photo_url in html
    photo = client.get(photo_url)
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    other = make_case(world, text="另一个人反映的事情")
    assert client.get(f"/t/{other.tracking_token}/photos/{evidence.pk}/").status_code == 404


def test_rating_archives_the_case_and_a_second_rating_is_refused(client, world):
    case = make_case(world, State.RESOLVED)
    url = f"/t/{case.tracking_token}/rate/"
    response = client.post(url, {"satisfaction": "satisfied", "note": "很快"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == State.ARCHIVED and case.satisfaction == "satisfied"
    callback = CaseAction.objects.get(case=case, action="callback")
    assert callback.actor is None and callback.data["satisfaction"] == "satisfied"
    assert "感谢您的评价" in client.get(response["Location"]).content.decode()

    again = client.post(url, {"satisfaction": "unsatisfied"})
    assert again.status_code == 400
    assert "已经评价过" in again.content.decode()
    case.refresh_from_db()
    assert case.state == State.ARCHIVED and case.satisfaction == "satisfied"
    assert CaseAction.objects.filter(case=case, action="callback").count() == 1


def test_unsatisfied_rating_reopens_the_case(client, world):
    case = make_case(world, State.RESOLVED)
    client.post(
        f"/t/{case.tracking_token}/rate/", {"satisfaction": "unsatisfied", "note": "灯还是不亮"}
    )
    case.refresh_from_db()
    assert case.state == State.DISPATCHED and case.reopen_count == 1
    # The 不满意 is history (the timeline), not the case's present satisfaction.
    assert case.satisfaction == ""
    html = client.get(f"/t/{case.tracking_token}/").content.decode()
    assert "重新办理" in html and "回访评价" in html and "不满意" in html
    assert "您的评价:" not in html


def test_a_rating_needs_a_valid_choice(client, world):
    case = make_case(world, State.RESOLVED)
    response = client.post(f"/t/{case.tracking_token}/rate/", {"satisfaction": "great"})
    assert "请选择满意、基本满意或不满意" in response.content.decode()
    case.refresh_from_db()
    assert case.state == State.RESOLVED


# QR codes and posters ----------------------------------------------------------------------------


def test_qr_code_images_encode_the_report_page(client, world):
    svg = client.get(f"/qr/{world.microgrid.code}.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    image = client.get(f"/qr/{world.microgrid.code}.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert client.get("/qr/330109999999.svg").status_code == 404


def test_poster_is_for_staff_of_the_place(client, world):
    url = f"/qr/{world.microgrid.code}/"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(world.grid_worker)
    html = client.get(url).content.decode()
    assert f"http://testserver/r/{world.microgrid.code}/" in html
    assert f"/qr/{world.microgrid.code}.svg" in html
    client.force_login(world.other_leader)
    assert client.get(url).status_code == 404


# Grid workers' pages -----------------------------------------------------------------------------


def test_field_home_lists_only_the_own_grids_open_cases(
    client, world, django_assert_max_num_queries
):
    mine = make_case(world, text="微网格里乱堆杂物")
    dispatched = make_case(world, State.DISPATCHED, area=world.grid, text="网格里的下水道堵了")
    make_case(world, State.ARCHIVED, text="早已办完的事")
    sibling = make_case(world, area=world.sibling_microgrid, text="隔壁网格的事")
    client.force_login(world.grid_worker)
    html = client.get("/field/").content.decode()
    assert mine.number in html and dispatched.number in html
    assert sibling.number not in html and "早已办完的事" not in html
    assert f"/cases/{mine.number}/" in html
    assert f"/field/cases/{mine.number}/resolve-on-spot/" in html
    assert f"/field/cases/{dispatched.number}/resolve-on-spot/" not in html
    assert "<strong>2</strong>未办结" in html and "<strong>1</strong>待受理" in html

    for i in range(25):
        make_case(world, text=f"第{i}件巡查发现的事")
    with django_assert_max_num_queries(6):
        html = client.get("/field/").content.decode()
    assert "第 1 / 2 页,共 27 件" in html
    with django_assert_max_num_queries(5):
        fragment = client.get("/field/cases/?page=2", HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()
    assert "第 2 / 2 页" in fragment.content.decode()


def test_field_pages_are_for_grid_workers_only(client, world):
    assert client.get("/field/").status_code == 302
    client.force_login(world.dispatcher)
    for url in ("/field/", "/field/report/", "/field/cases/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "仅供网格员使用" in response.content.decode()


def test_field_report_offers_only_the_own_grid(client, world):
    client.force_login(world.grid_worker)
    html = client.get("/field/report/").content.decode()
    # The place is searched among the grid worker's own grid, not listed.
    assert 'hx-get="/places/search/?for=field"' in html
    offered = client.get("/places/search/", {"for": "field"}).content.decode()
    assert "景港府1号微网格" in offered and "湘湖第一网格" in offered
    assert "山兴里1号微网格" not in offered and "湘湖第二网格" not in offered
    assert (
        "山兴里"
        not in client.get("/places/search/", {"for": "field", "q": "山兴里"}).content.decode()
    )
    # The location script is a static file (the CSP allows no inline script); it finds the
    # hidden coordinate fields by the ids the page names.
    assert 'src="/static/web/field-report.js"' in html
    assert 'data-latitude="id_latitude"' in html
    response = client.post(
        "/field/report/",
        {"area": world.sibling_microgrid.code, "description": "隔壁的事", "client_key": KEY},
    )
    assert "只能选择您所在网格内的地点" in response.content.decode()
    assert not Case.objects.exists()


def test_field_report_creates_a_patrol_case_with_location(client, world):
    client.force_login(world.grid_worker)
    response = client.post(
        "/field/report/",
        {
            "area": world.microgrid.code,
            "description": "消防通道被电动车堵住",
            "latitude": "30.123456",
            "longitude": "120.654321",
            "photos": [png()],
            "client_key": KEY,
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.source == Source.GRID_PATROL and case.state == State.REPORTED
    assert case.reporter == world.grid_worker
    assert str(case.latitude) == "30.123456" and case.attachments.count() == 1
    assert case.number in client.get("/field/").content.decode()


def test_on_the_spot_report_creates_a_resolved_case_with_the_photo(client, world):
    kind = case_type(world)
    client.force_login(world.grid_worker)
    data = {
        "area": world.microgrid.code,
        "description": "楼道里堆放纸箱",
        "case_type": kind.pk,
        "on_spot": "on",
        "result": "已联系住户清理完毕",
        "photos": [png()],
        "client_key": KEY,
    }
    response = client.post("/field/report/", data)
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.state == State.RESOLVED and case.on_spot
    assert case.source == Source.GRID_PATROL and case.resolution == "已联系住户清理完毕"
    evidence = case.attachments.get()
    assert evidence.action is not None and evidence.action.action == "resolve_on_spot"
    data["photos"] = [png()]
    client.post("/field/report/", data)  # the phone retries
    assert Case.objects.count() == 1


def test_on_the_spot_without_a_photo_leaves_no_case(client, world):
    client.force_login(world.grid_worker)
    response = client.post(
        "/field/report/",
        {
            "area": world.microgrid.code,
            "description": "楼道里堆放纸箱",
            "on_spot": "on",
            "client_key": KEY,
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "就地处置须至少上传一张现场照片" in html
    assert "就地处置须填写处置结果" in html and "就地处置须选择事项类型" in html
    assert not Case.objects.exists()


def test_a_refused_on_the_spot_resolution_takes_the_report_back(client, world, monkeypatch):
    def refuse(**kwargs):
        raise DomainError("无权对该事件执行“就地处置”")

    monkeypatch.setattr(case_services, "case_resolve_on_spot", refuse)
    client.force_login(world.grid_worker)
    response = client.post(
        "/field/report/",
        {
            "area": world.microgrid.code,
            "description": "楼道里堆放纸箱",
            "case_type": case_type(world).pk,
            "on_spot": "on",
            "result": "已清理",
            "photos": [png()],
            "client_key": KEY,
        },
    )
    assert "无权对该事件执行" in response.content.decode()
    assert not Case.objects.exists()
    assert not CaseAction.objects.exists()


def test_resolve_an_existing_case_on_the_spot(client, world):
    case = make_case(world)
    client.force_login(world.grid_worker)
    url = f"/field/cases/{case.number}/resolve-on-spot/"
    assert "确认已就地处置" in client.get(url).content.decode()
    no_photo = client.post(
        url, {"result": "已处理", "case_type": case_type(world).pk, "version": case.version}
    )
    assert "请至少上传一张照片" in no_photo.content.decode()
    response = client.post(
        url,
        {
            "result": "已处理",
            "case_type": case_type(world).pk,
            "version": case.version,
            "photos": [png()],
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == State.RESOLVED and case.on_spot
    stale = client.post(
        url,
        {"result": "再处理", "case_type": case_type(world).pk, "version": 1, "photos": [png()]},
    )
    assert "该事件已被他人处理" in stale.content.decode()


def test_resolve_on_spot_is_not_offered_outside_the_own_grid(client, world):
    sibling = make_case(world, area=world.sibling_microgrid)
    client.force_login(world.grid_worker)
    assert client.get(f"/field/cases/{sibling.number}/resolve-on-spot/").status_code == 404
