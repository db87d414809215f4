"""The html report draws its charts in a real Chromium under the strict CSP: SVG images (no
script), loaded and sized, with their captions, and not a single policy violation."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shanzhi import clock
from shanzhi.cases.models import State

from .browser import sign_in
from .case_factories import make_case
from .factories import PASSWORD
from .test_browser_csp import violations, visit, watched

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_html_report_shows_its_charts_under_the_policy(browser_context, world):
    with clock.acting_at(datetime(2025, 3, 20, 10, tzinfo=ZoneInfo("Asia/Shanghai"))):
        make_case(world, State.RESOLVED)
        make_case(world, State.ACCEPTED)
    leader = watched(browser_context)
    sign_in(leader, "leader", PASSWORD)
    visit(leader, f"/reports/?area={world.street.code}&period=2025&format=html", "article.report")
    charts = leader.locator("[data-testid=report-chart]")
    assert charts.count() == 2
    for index in range(2):
        image = charts.nth(index).locator("img")
        assert image.evaluate("i => i.complete && i.naturalWidth > 0")
        assert image.bounding_box()["width"] > 300
    captions = charts.locator("figcaption").all_inner_texts()
    assert captions[0].startswith("图1 各月受理量") and captions[1].startswith("图2 各类别受理量")
    assert violations(leader) == []
