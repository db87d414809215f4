"""Journey: a leader opens the 驾驶舱, the ECharts charts draw, and clicking a headline number
lands on the case list whose banner counts exactly that many cases."""

import re

import pytest
from django.core.cache import cache

from shanzhi.cases.models import State

from .browser import sign_in
from .case_factories import make_case
from .factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHARTS = ("trend", "categories", "areas", "deadline", "satisfaction")


def test_a_leader_reads_the_dashboard_and_clicks_through_to_the_cases(page, world):
    cache.clear()  # panels cached by an earlier test of the same scope must not show here
    for state in (State.ACCEPTED, State.ACCEPTED, State.DISPATCHED, State.RESOLVED):
        make_case(world, state)
    make_case(world, State.RESOLVED, area=world.far_grid)

    sign_in(page, "leader", PASSWORD)
    page.click("nav >> text=驾驶舱")
    page.wait_for_url("**/dashboard/")
    for name in CHARTS:
        page.wait_for_selector(f"[data-testid=chart-{name}][data-ready=true] canvas")
    page.wait_for_selector("[data-testid=list-overdue] [data-testid=list-count]")
    page.wait_for_selector("[data-testid=ranking]")
    intake = page.locator("[data-testid=headline-value-intake]")
    assert intake.inner_text().strip() == "5件"
    assert page.locator("[data-testid=chart-links-areas] a").first.inner_text() == "5"

    # The 办结量 under 办结率, then 受理量 itself.
    resolved = page.locator("[data-testid=headline-resolution_rate-numerator]")
    clicked = int(resolved.inner_text())
    assert clicked == 2
    resolved.click()
    page.wait_for_url(re.compile(r"/cases/\?.*kpi=resolution_rate"))
    banner = page.locator("[data-testid=figure-banner]")
    assert "城厢街道 办结量" in banner.inner_text()
    assert int(page.locator("[data-testid=figure-count]").inner_text()) == clicked
    assert page.locator("table.cases-table tbody tr[data-number]").count() == clicked

    page.go_back()
    page.locator("[data-testid=headline-value-intake]").click()
    page.wait_for_url(re.compile(r"/cases/\?.*kpi=intake"))
    assert int(page.locator("[data-testid=figure-count]").inner_text()) == 5
