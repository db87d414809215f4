"""The main pages in a real Chromium with the Content-Security-Policy on: none of them (nor the
charts, the htmx fragments and the admin) sets off a single violation."""

import pytest
from django.core.cache import cache

from shanzhi.cases.models import State

from .browser import sign_in
from .case_factories import make_case
from .factories import PASSWORD
from .registry_factories import make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


def watched(new_person):
    """A tab that records CSP violations, from the page's own events and from the console."""
    tab = new_person()
    tab.add_init_script(WATCH)
    tab.console_errors = []
    tab.on(
        "console",
        lambda message: (
            tab.console_errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return tab


def visit(tab, url, ready="main"):
    tab.console_errors.clear()
    tab.goto(url)
    tab.wait_for_selector(ready)
    tab.wait_for_load_state("networkidle")


def violations(tab):
    return tab.evaluate("window.__violations") + tab.console_errors


def test_the_main_pages_load_under_the_policy_without_a_violation(browser_context, world):
    cache.clear()
    case = make_case(world, State.DISPATCHED)
    for state in (State.ACCEPTED, State.RESOLVED):
        make_case(world, state)
    make_person(world, area=world.microgrid)
    seen: dict[str, list[str]] = {}

    anonymous = watched(browser_context)
    for url in ("/accounts/login/", f"/r/{world.microgrid.code}/", f"/t/{case.tracking_token}/"):
        visit(anonymous, url)
        seen[url] = violations(anonymous)
    visit(anonymous, "/api/v1/docs", "#swagger-ui .info")
    seen["/api/v1/docs"] = violations(anonymous)

    dispatcher = watched(browser_context)
    sign_in(dispatcher, "disp", PASSWORD)
    for url in (
        "/inbox/",
        "/desk/",
        f"/cases/{case.number}/",
        "/cases/",
        "/registry/person/",
        f"/qr/{world.microgrid.code}/",
        "/desk/bulk/",
        f"/cases/{case.number}/print/",
        f"/qr/{world.community.code}/buildings/",
        "/areas/",
    ):
        visit(dispatcher, url)
        seen[url] = violations(dispatcher)
    # An htmx fragment: the scope tree opens a node.
    dispatcher.locator("details summary").first.click()
    dispatcher.wait_for_selector(".tree-children .tree-node, .tree-children .empty")
    seen["/areas/ (tree fragment)"] = violations(dispatcher)

    leader = watched(browser_context)
    sign_in(leader, "leader", PASSWORD)
    visit(leader, "/dashboard/", "[data-testid=chart-trend][data-ready=true] canvas")
    for name in ("categories", "areas", "deadline", "satisfaction"):
        leader.wait_for_selector(f"[data-testid=chart-{name}][data-ready=true] canvas")
    # ECharts writes its tooltip as HTML when a mark is hovered.
    box = leader.locator("[data-testid=chart-trend] canvas").bounding_box()
    leader.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    leader.wait_for_timeout(300)
    seen["/dashboard/"] = violations(leader)
    report = f"/reports/?area={world.street.code}&period=2025&format=html"
    for url in ("/reports/", report, "/security-log/", "/accounts/security/", "/figures/rankings/"):
        visit(leader, url)
        seen[url] = violations(leader)

    worker = watched(browser_context)
    sign_in(worker, "gw", PASSWORD)
    for url in ("/field/", "/field/report/", "/field/visits/"):
        visit(worker, url)
        seen[url] = violations(worker)

    admin = watched(browser_context)
    sign_in(admin, "admin", PASSWORD)
    visit(admin, "/setup/")
    seen["/setup/"] = violations(admin)
    for url in ("/admin/", "/admin/accounts/user/", "/admin/accounts/securityevent/"):
        visit(admin, url, "#content")
        seen[url] = violations(admin)

    assert {url: found for url, found in seen.items() if found} == {}


def test_enrolling_the_second_factor_shows_its_qr_code_under_the_policy(
    browser_context, world, settings
):
    settings.SHANZHI_OTP_REQUIRED_ROLES = ["administrator"]
    admin = watched(browser_context)
    sign_in(admin, "admin", PASSWORD)
    admin.wait_for_selector("[data-testid=otp-qr] svg")
    assert "/accounts/otp/setup/" in admin.url
    assert violations(admin) == []
