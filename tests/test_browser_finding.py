"""Journeys at the desk in a real Chromium: the place is found by search, the caller's earlier
cases and a possible duplicate show while the dispatcher types, and a case is found by phone."""

from datetime import timedelta

import pytest

from shanzhi import clock
from shanzhi.cases import services
from shanzhi.cases.models import Case, Source

from .browser import sign_in
from .case_factories import case_type
from .factories import PASSWORD
from .registry_factories import make_building

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALLER = "13800001111"


def test_the_desk_registers_a_call_told_of_the_callers_cases_and_a_duplicate(page, world):
    fumes = case_type(world, "HW-DQ-01")
    make_building(world, compound="景港府", name="7幢", address="城厢街道湘湖路88号")
    with clock.acting_at(clock.now() - timedelta(minutes=10)):
        resident, _ = services.case_report(
            area=world.microgrid,
            source=Source.RESIDENT,
            description="楼下饭店油烟太大了,家里全是油烟味",
            reporter_phone="13900002222",
        )
    earlier, _ = services.case_report(
        area=world.sibling_microgrid,
        source=Source.HOTLINE,
        actor=world.dispatcher,
        description="小区门口路灯不亮",
        reporter_phone=CALLER,
    )
    sign_in(page, "disp", PASSWORD)
    page.goto("/desk/intake/")
    page.fill("input[name=reporter_phone]", CALLER)
    callers = page.locator("[data-testid=caller-cases]")
    callers.wait_for()
    assert earlier.number in callers.inner_text()

    # 发生地 by the building's address: the result names its microgrid, a click chooses it.
    page.fill("[data-testid=place-search]", "湘湖路88")
    option = page.locator(".place-option", has_text="城厢街道湘湖路88号")
    option.wait_for()
    assert option.get_attribute("data-code") == world.microgrid.code
    option.click()
    assert "景港府1号微网格" in page.locator("[data-testid=place-chosen]").inner_text()
    assert page.locator("input[name=area]").input_value() == world.microgrid.code

    page.select_option("select[name=case_type]", str(fumes.pk))
    page.fill("textarea[name=description]", "市民来电:湘湖路88号底商饭店油烟直排,呛人")
    duplicates = page.locator("[data-testid=intake-duplicates]")
    duplicates.wait_for()
    assert resident.number in duplicates.inner_text()

    page.click("form[data-testid=intake-form] button[type=submit].primary")
    page.wait_for_url("**/cases/*/")
    case = Case.objects.exclude(pk__in=[resident.pk, earlier.pk]).get()
    assert (case.area, case.case_type, case.source) == (world.microgrid, fumes, Source.HOTLINE)
    # On the new case's page, ready for acceptance, the resident's report is the suggestion.
    assert resident.number in page.locator("[data-testid=case-duplicates]").inner_text()


def test_the_case_list_finds_a_reporter_by_phone(page, world):
    mine, _ = services.case_report(
        area=world.microgrid,
        source=Source.HOTLINE,
        actor=world.dispatcher,
        description="楼道堆物",
        reporter_phone=CALLER,
    )
    other, _ = services.case_report(
        area=world.microgrid,
        source=Source.HOTLINE,
        actor=world.dispatcher,
        description="井盖缺失",
        reporter_phone="13900002222",
    )
    sign_in(page, "disp", PASSWORD)
    page.goto("/cases/")
    page.fill("[data-testid=case-filters] input[name=q]", "138 0000 1111")
    page.click("[data-testid=case-filters] button[type=submit]")
    page.wait_for_url("**q=138*")
    rows = page.locator("tr[data-number]")
    rows.first.wait_for()
    assert [rows.nth(i).get_attribute("data-number") for i in range(rows.count())] == [mine.number]
    assert other.number not in page.content()
