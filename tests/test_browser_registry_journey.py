"""Journey: a grid worker opens a resident from the visit list, sees the ID number masked with no
way to unmask it, logs a visit, and the resident leaves the list."""

import re

import pytest
from django.urls import Resolver404, resolve

from shanzhi.registry.models import Visit

from .browser import sign_in
from .factories import PASSWORD
from .registry_factories import id_number, make_house, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNMASK_CONTROLS = (
    "form[action*=reveal], form[action*=unmask], [hx-post*=reveal], [data-testid=record-reveal]"
)


def staff_person_page(pk: int) -> str | None:
    """The staff page of a person, where the registry pages provide one."""
    url = f"/registry/person/{pk}/"
    try:
        resolve(url)
    except Resolver404:
        return None
    return url


def test_a_grid_worker_visits_a_resident_from_the_list_without_unmasking(page, world):
    number = id_number()
    resident = make_person(
        world,
        name="王阿婆",
        number=number,
        tags=("living_alone",),
        house=make_house(world, address="城厢街道景港府1幢101室"),
    )
    masked = f"{number[:6]}********{number[-4:]}"
    sign_in(page, "gw", PASSWORD)

    page.goto("/field/visits/")
    page.wait_for_selector("[data-testid=visits-badge]")
    assert page.locator("[data-testid=visits-badge]").inner_text() == "1"
    page.get_by_role("link", name="王阿婆").click()
    page.wait_for_url(f"**/field/people/{resident.pk}/")
    facts = page.locator("[data-testid=person-facts]").inner_text()
    assert masked in facts
    assert re.search(r"\d{6}\*{8}\d{3}[\dX]", facts)
    assert number not in page.content()
    assert page.locator(UNMASK_CONTROLS).count() == 0
    assert page.get_by_role("button", name=re.compile("查看完整|显示完整|解除脱敏")).count() == 0

    staff_url = staff_person_page(resident.pk)
    if staff_url is not None:
        page.goto(staff_url)
        assert masked in page.content() and number not in page.content()
        assert page.locator(UNMASK_CONTROLS).count() == 0
        page.go_back()
        page.wait_for_url(f"**/field/people/{resident.pk}/")

    page.get_by_role("link", name="登记走访").click()
    page.wait_for_url(f"**/field/people/{resident.pk}/visit/")
    assert page.locator("input[name=visited_at]").input_value()
    page.fill("textarea[name=summary]", "见到本人,身体尚好,提醒注意用电安全")
    page.click("button[type=submit]")
    page.wait_for_url("**/field/visits/")
    assert "已登记对王阿婆的走访" in page.locator(".messages").inner_text()
    assert page.get_by_role("link", name="王阿婆").count() == 0
    assert "网格内的关爱对象都已按期走访" in page.content()

    visit = Visit.objects.get()
    assert visit.person_id == resident.pk and visit.visitor_id == world.grid_worker.pk
    assert visit.summary == "见到本人,身体尚好,提醒注意用电安全"
