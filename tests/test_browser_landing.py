"""Journey: each role signs in and lands on its own work, with its pages in the top bar."""

import pytest

from .browser import sign_in
from .factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# username, where they land, what that page shows
LANDINGS = [
    ("gw", "/field/", "我的网格"),
    ("disp", "/desk/", "受理台"),
    ("police", "/inbox/", "我的待办"),
    ("leader", "/dashboard/", "驾驶舱"),
    ("admin", "/setup/", "开通清单"),
    ("resident", "/me/", "反映身边事"),
]


def test_each_role_lands_on_its_own_page(browser_context, world):
    for username, path, heading in LANDINGS:
        tab = browser_context()
        sign_in(tab, username, PASSWORD)
        tab.wait_for_url(f"**{path}")
        assert heading in tab.locator("h1").first.inner_text(), username
        tab.context.close()


def test_the_administrator_follows_the_checklist_to_what_is_missing(browser_context, world):
    tab = browser_context()
    sign_in(tab, "admin", PASSWORD)
    checklist = tab.get_by_test_id("checklist")
    assert "✗ 事项清单" in checklist.inner_text()
    assert tab.locator("nav.topnav").get_by_text("开通清单").is_visible()


def test_a_residents_landing_fits_a_phone(browser_context, world):
    tab = browser_context()
    tab.set_viewport_size({"width": 390, "height": 844})
    sign_in(tab, "resident", PASSWORD)
    tab.get_by_test_id("report-here").wait_for()
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    tab.get_by_test_id("report-here").click()
    tab.wait_for_url(f"**/r/{world.microgrid.code}/")
