"""Journeys through two specialised flows in a real Chromium, each step on the case page's action
panel, which the flow's declaration builds: a hazard found → graded → ordered → re-inspection
fails → rectified → signed off; a petition registered → 受理告知 → 处理意见书 → 送达 → 复查."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shanzhi.cases import services
from shanzhi.cases.models import Case, Source

from .browser import sign_in
from .case_factories import case_type
from .factories import PASSWORD
from .test_browser_case_journey import act, png_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _date(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _inspect(form, record: str) -> None:
    form.locator("textarea[name$=-record]").fill(record)
    form.locator("input[name$=-inspector]").fill("王建华、李明")
    form.locator("input[name$=-signature][value=signed]").check()


def test_a_hazard_from_patrol_to_sign_off_with_a_failed_reinspection(
    browser_context, world, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    case, _ = services.case_report(
        area=world.microgrid,
        source=Source.GRID_PATROL,
        actor=world.grid_worker,
        description="景港府1幢消防通道堆放杂物,堵塞通道",
        case_type=case_type(world, "AQ-XF-01"),
    )
    dispatcher = browser_context()
    sign_in(dispatcher, "disp", PASSWORD)
    dispatcher.goto(f"/cases/{case.number}/")
    assert dispatcher.locator("[data-testid=flow]").inner_text() == "安全隐患"

    def grade(form):
        form.locator("input[name$=hazard_grade][value=一般]").check()
        form.locator("input[name$=checklist_item]").fill("消防通道是否畅通")
        _inspect(form, "通道内堆放纸箱、旧家具")

    act(dispatcher, "grade", grade)
    dispatcher.wait_for_selector("details[data-action='order']")

    def order(form):
        form.locator("textarea[name$=orders]").fill("三日内清理通道内全部杂物")
        form.locator("select[name$=-unit]").select_option(label="城厢派出所")
        form.locator("input[name$=rectify_deadline]").fill(_date(3))

    act(dispatcher, "order", order)
    dispatcher.wait_for_selector("#case-timeline li[data-action='order']")
    documents = dispatcher.locator("[data-testid=case-documents]")
    assert "隐患整改通知书" in documents.inner_text()

    handler = browser_context()
    sign_in(handler, "police", PASSWORD)

    def request(form, text):
        form.locator("textarea[name$=rectification]").fill(text)
        form.locator("input[type=file]").set_input_files(png_file(tmp_path, "整改后.png"))

    handler.goto(f"/cases/{case.number}/")
    act(handler, "request_reinspection", lambda f: request(f, "已清理大部分杂物"))
    handler.wait_for_selector("#case-timeline li[data-action='request_reinspection']")

    dispatcher.goto(f"/cases/{case.number}/")

    def fail(form):
        _inspect(form, "通道仍有旧家具未清理")
        form.locator("input[name$=rectify_deadline]").fill(_date(5))

    act(dispatcher, "fail_reinspection", fail)
    dispatcher.wait_for_selector("#case-timeline li[data-action='fail_reinspection']")
    assert Case.objects.get().state == "rectifying"

    handler.goto(f"/cases/{case.number}/")
    act(handler, "request_reinspection", lambda f: request(f, "已全部清理"))
    handler.wait_for_selector("text=已全部清理")

    dispatcher.goto(f"/cases/{case.number}/")
    act(dispatcher, "pass_reinspection", lambda f: _inspect(f, "通道畅通,隐患已消除"))
    dispatcher.wait_for_selector("#case-timeline li[data-action='pass_reinspection']")
    timeline = dispatcher.locator("[data-testid=case-timeline]").inner_text()
    steps = ["核实定级", "交办整改", "申请复查", "复查不通过", "申请复查", "复查通过并销号"]
    positions, start = [], 0
    for step in steps:
        start = timeline.find(step, start)
        assert start >= 0, (step, timeline)
        positions.append(start)
        start += len(step)
    assert "隐患等级:一般" in timeline
    assert Case.objects.get().state == "signed_off"


def test_a_petition_from_registration_to_review(browser_context, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    case, _ = services.case_report(
        area=world.microgrid,
        source=Source.PETITION,
        actor=world.dispatcher,
        description="信访人来访,反映邻居违章搭建影响采光",
        reporter_name="张三",
        case_type=case_type(world, "XF-CF-01"),
    )
    dispatcher = browser_context()
    sign_in(dispatcher, "disp", PASSWORD)
    dispatcher.goto(f"/cases/{case.number}/")

    def register(form):
        form.locator("select[name$=petition_form]").select_option("来访")
        assert form.locator("input[name$=-petitioner]").input_value() == "张三"
        form.locator("input[name$=petitioner_address]").fill("湘湖社区景港府1幢")
        form.locator("textarea[name$=-request]").fill("要求拆除违章搭建")
        form.locator("textarea[name$=-facts]").fill("邻居在楼顶搭建阳光房")
        form.locator("textarea[name$=-reasons]").fill("影响采光和安全")

    act(dispatcher, "register", register)
    dispatcher.wait_for_selector("details[data-action='notify_accept']")
    act(
        dispatcher,
        "notify_accept",
        lambda form: form.locator("select[name$=-unit]").select_option(label="城厢派出所"),
    )
    dispatcher.wait_for_selector("text=受理告知书")

    handler = browser_context()
    sign_in(handler, "police", PASSWORD)
    handler.goto(f"/cases/{case.number}/")

    def opinion(form):
        form.locator("textarea[name$=-opinion]").fill("责令当事人限期拆除")
        form.locator("input[name$=decision][value=支持]").check()
        form.locator("textarea[name$=opinion_facts]").fill("经查,违章搭建属实")
        form.locator("textarea[name$=legal_basis]").fill("《城乡规划法》第六十四条")

    act(handler, "issue_opinion", opinion)
    handler.wait_for_selector("#case-timeline li[data-action='issue_opinion']")

    dispatcher.goto(f"/cases/{case.number}/")

    def serve(form):
        form.locator("input[name$=served_on]").fill(_date(0))
        form.locator("input[name$=served_by][value=直接送达]").check()

    act(dispatcher, "serve", serve)
    dispatcher.wait_for_selector("#case-timeline li[data-action='serve']")

    def review(form):
        form.locator("textarea[name$=review_request]").fill("信访人不服,请求复查")
        form.locator("select[name$=-unit]").select_option(label="城厢派出所")

    act(dispatcher, "request_review", review)
    dispatcher.wait_for_selector("#case-timeline li[data-action='request_review']")
    documents = dispatcher.locator("[data-testid=case-documents]").inner_text()
    assert "信访事项受理告知书" in documents and "信访事项处理意见书" in documents
    with dispatcher.expect_download() as download:
        dispatcher.click("text=信访事项处理意见书")
    assert download.value.suggested_filename.endswith("信访事项处理意见书.docx")
    assert Case.objects.get().state == "reviewing"
