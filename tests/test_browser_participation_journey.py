"""Journey at 390 px: a resident proposes on the phone → staff shortlist → the council votes on
their phones while the tally screen counts → the result is published → progress is posted with
a photo → the resident sees it on their proposal link and the community's progress page."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from shanzhi.participation.models import Project, Proposal, Round, Stage

from .browser import sign_in
from .factories import PASSWORD
from .participation_factories import make_round, make_voter, propose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def tab_of(person):
    tab = person()
    tab.set_default_timeout(30_000)  # the machine is shared; a page waits on the live server
    return tab


def phone(person):
    tab = tab_of(person)
    tab.set_viewport_size(PHONE)
    return tab


def fits(tab) -> bool:
    return tab.locator("html").evaluate("html => html.scrollWidth") <= PHONE["width"]


def step(tab, round_pk: int, name: str) -> None:
    tab.goto(f"/participation/rounds/{round_pk}/")
    tab.click(f"[data-testid=stage-controls] button[value={name}]")
    tab.wait_for_url(f"**/participation/rounds/{round_pk}/")


def test_from_a_phone_proposal_to_the_progress_the_resident_sees(
    browser_context, world, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    person = browser_context
    round_ = make_round(world, seats=1, max_picks=1)
    propose(world, round_, "修建泳池")
    propose(world, round_, "楼道灯改造")

    # A resident scans the round's QR poster and proposes on the phone.
    resident = phone(person)
    resident.goto(f"/p/{world.microgrid.code}/propose/")
    assert fits(resident)
    resident.fill("input[name=title]", "小区加装休闲座椅")
    resident.fill("textarea[name=description]", "老人散步走累了没有地方坐")
    resident.fill("input[name=place]", "景港府中心花园")
    resident.fill("input[name=estimated_cost]", "3.5")
    resident.fill("input[name=beneficiaries]", "小区老年人")
    resident.fill("input[name=proposer_phone]", "13900001234")
    resident.click("button[type=submit]")
    resident.wait_for_url("**/p/t/*/")
    mine = resident.url
    assert "已收到,等待初定" in resident.content() and fits(resident)
    seat = Proposal.objects.get(title="小区加装休闲座椅")

    # The administrator moves the round to 初定; a community worker shortlists.
    admin = tab_of(person)
    sign_in(admin, "admin", PASSWORD)
    step(admin, round_.pk, "close")
    step(admin, round_.pk, "advance")
    step(admin, round_.pk, "open")
    worker = tab_of(person)
    sign_in(worker, "cw", PASSWORD)
    worker.goto(f"/participation/rounds/{round_.pk}/")
    pool = Proposal.objects.get(title="修建泳池")
    for proposal in Proposal.objects.exclude(pk=pool.pk):
        worker.click(f"[data-testid=decide-{proposal.pk}] button")
        worker.wait_for_url(f"**/participation/rounds/{round_.pk}/")
    form = worker.locator(f"[data-testid=decide-{pool.pk}]")
    form.locator("select[name=keep]").select_option("0")
    form.locator("input[name=reason]").fill("超出社区年度资金规模")
    form.locator("button").click()
    worker.wait_for_selector("text=未入围:超出社区年度资金规模")

    # Council members are registered; 审议, then 票决 opens.
    voters = [make_voter(world, round_, f"代表{i}") for i in range(3)]
    for name in ("close", "advance", "open", "close", "advance", "open"):
        step(admin, round_.pk, name)
    assert Round.objects.get().stage == Stage.VOTING

    # The meeting's screen polls the tally while the members vote on their phones.
    screen = tab_of(person)
    sign_in(screen, "leader", PASSWORD)
    screen.goto(f"/participation/rounds/{round_.pk}/tally/")
    assert screen.inner_text("[data-testid=ballots]") == "0"
    for voter in voters:
        member = phone(person)
        member.goto(f"/p/vote/{voter.token}/")
        assert fits(member)
        member.check(f"input[name=picks][value='{seat.pk}']")
        member.click("[data-testid=ballot] button[type=submit]")
        member.wait_for_selector("[data-testid=voted]")
    # The screen's page is not reloaded: htmx polling brings the new count (CSP allows no eval,
    # so the check is Playwright's own locator, not a script).
    expect(screen.locator("[data-testid=ballots]")).to_have_text("3", timeout=30_000)

    # The result is published; the chosen proposal becomes a project.
    step(admin, round_.pk, "close")
    step(admin, round_.pk, "advance")
    assert admin.inner_text("[data-testid=stages]").find("公布") >= 0
    project = Project.objects.get()
    assert project.proposal == seat

    # The community worker posts progress with a photo.
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (20, 160, 90)).save(buffer, format="PNG")
    (tmp_path / "座椅.png").write_bytes(buffer.getvalue())
    worker.goto(f"/participation/projects/{project.pk}/")
    form = worker.locator("[data-testid=update-form]")
    form.locator("select[name=status]").select_option(label="施工实施(50%)")
    form.locator("textarea[name=note]").fill("座椅已进场安装")
    form.locator("input[name=photos]").set_input_files(str(tmp_path / "座椅.png"))
    form.locator("button[type=submit]").click()
    worker.wait_for_selector("text=已更新项目进展")
    assert "50%" in worker.inner_text("[data-testid=project-progress]")

    # The resident sees it on their own link and on the community's progress page.
    resident.goto(mine)
    status = resident.inner_text("[data-testid=proposal-status]")
    assert "当选为民生实事项目" in status and "50%" in status
    resident.goto(f"/p/{world.community.code}/progress/")
    assert resident.inner_text(f"[data-testid=progress-{project.pk}]") == "50%"
    assert "座椅已进场安装" in resident.content() and fits(resident)
    photo = resident.locator(".photos img").first
    assert photo.evaluate("img => img.naturalWidth") == 60
