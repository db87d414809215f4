"""The routing panel and the hotspot panel in a real Chromium, under the strict CSP."""

import pytest

from .browser import sign_in
from .case_factories import case_type
from .factories import PASSWORD
from .test_browser_csp import violations, visit, watched
from .test_hotspots import plant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_click_on_a_suggestion_fills_the_type_at_intake(browser_context, world):
    charging = case_type(world, "AQ-DD-01")
    tab = watched(browser_context)
    sign_in(tab, "disp", PASSWORD)
    visit(tab, "/desk/intake/")
    tab.fill("[data-testid=place-search]", world.microgrid.name)
    tab.locator(f".place-option[data-code='{world.microgrid.code}']").click()
    tab.fill("textarea[name=description]", "楼道里有人给电瓶车拉线充电,很危险")
    tab.locator("textarea[name=description]").press("End")
    button = tab.locator(f"button.suggestion[data-type='{charging.pk}']")
    button.wait_for()
    assert "关键词" in tab.locator("#routing-suggestions").inner_text()
    assert tab.locator("select[name=case_type]").input_value() == ""
    button.click()
    assert tab.locator("select[name=case_type]").input_value() == str(charging.pk)
    assert violations(tab) == []


def test_the_dashboard_shows_the_hotspot_panel(browser_context, world):
    plant(world)
    tab = watched(browser_context)
    sign_in(tab, "leader", PASSWORD)
    visit(tab, "/dashboard/", "[data-testid=hotspot]")
    assert world.microgrid.name in tab.locator("[data-testid=list-hotspots]").inner_text()
    assert violations(tab) == []
