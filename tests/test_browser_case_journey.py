"""Journey: a resident reports by QR → dispatcher dispatches → handler claims and resolves with a
photo → the resident rates → the case is archived, and its timeline shows every step."""

import io

import pytest
from PIL import Image

from shanzhi.cases.models import Case, State
from shanzhi.cases.services import catalogue_seed

from .browser import sign_in
from .factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png_file(tmp_path, name: str) -> str:
    path = tmp_path / name
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 120, 200)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def act(tab, action: str, fill) -> None:
    """Open an action of the case's action panel, fill it and submit it."""
    panel = tab.locator(f"details[data-action='{action}']")
    panel.locator("summary").click()
    fill(panel)
    panel.locator("button[type=submit]").click()


def test_a_case_closes_the_loop_from_qr_report_to_archive(
    browser_context, world, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    catalogue_seed(street=world.street)
    person = browser_context

    # The resident scans the poster on their building.
    resident = person()
    resident.goto(f"/r/{world.microgrid.code}/")
    assert "景港府1号微网格" in resident.content()
    resident.fill("textarea[name=description]", "3号楼门口的路灯不亮,晚上很黑")
    resident.fill("input[name=reporter_phone]", "13800001111")
    resident.set_input_files("input[name=photos]", png_file(tmp_path, "楼道.png"))
    resident.click("button[type=submit]")
    resident.wait_for_url("**/receipt/")
    case = Case.objects.get()
    assert case.number in resident.content()
    tracking = f"/t/{case.tracking_token}/"

    # The dispatcher accepts it with the suggested type and dispatches it to the police.
    dispatcher = person()
    sign_in(dispatcher, "disp", PASSWORD)
    dispatcher.goto(f"/cases/{case.number}/")
    act(
        dispatcher,
        "accept",
        lambda form: form.locator("select[name$=case_type]").select_option(label="路灯损坏"),
    )
    dispatcher.wait_for_selector("details[data-action='dispatch']")
    act(
        dispatcher,
        "dispatch",
        lambda form: form.locator("select[name$=unit]").select_option(label="城厢派出所"),
    )
    dispatcher.wait_for_selector("text=已交办")
    assert Case.objects.get().state == State.DISPATCHED

    # The police handler claims it and resolves it with a photo.
    handler = person()
    sign_in(handler, "police", PASSWORD)
    handler.goto(f"/cases/{case.number}/")
    act(handler, "claim", lambda form: None)
    handler.wait_for_selector("details[data-action='resolve']")

    def resolve(form):
        form.locator("textarea[name$=result]").fill("已更换路灯灯泡,照明恢复正常")
        form.locator("input[type=file]").set_input_files(png_file(tmp_path, "整改后.png"))

    act(handler, "resolve", resolve)
    handler.wait_for_selector("text=已办结")
    assert Case.objects.get().state == State.RESOLVED

    # The resident rates the result through their tracking link.
    resident.goto(tracking)
    assert "已更换路灯灯泡" in resident.content()
    resident.locator("input[name=satisfaction][value=satisfied]").check()
    resident.click("#rating button[type=submit]")
    resident.wait_for_selector("text=感谢")
    assert Case.objects.get().state == State.ARCHIVED

    # The timeline shows every step of the loop, in order.
    dispatcher.goto(f"/cases/{case.number}/")
    timeline = dispatcher.locator("[data-testid=case-timeline]").inner_text()
    steps = ["上报", "受理", "交办", "签收", "办结", "回访"]
    positions = [timeline.find(step) for step in steps]
    assert all(p >= 0 for p in positions), timeline
    assert positions == sorted(positions)
    assert "已归档" in dispatcher.content()
