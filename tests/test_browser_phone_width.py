"""Every page a grid worker or a handler opens fits a 390 px phone: no sideways scroll."""

import pytest

from shanzhi.cases.models import State

from .browser import sign_in
from .case_factories import make_case
from .factories import PASSWORD
from .registry_factories import (
    make_building,
    make_enterprise,
    make_facility,
    make_house,
    make_person,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def too_wide(tab, urls: list[str]) -> dict[str, int]:
    """Each page wider than the phone, with its width."""
    wide = {}
    for url in urls:
        response = tab.goto(url)
        assert response is not None and response.status < 400, url
        tab.wait_for_load_state("networkidle")
        width = tab.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[url] = width
    return wide


def test_grid_worker_and_handler_pages_fit_a_phone(browser_context, world):
    long_text = "3号楼楼道里有电瓶车在充电,很危险,晚上还有人把电瓶车推进电梯里充电,物业说管不了"
    reported = make_case(world, text=long_text, reporter_name="王秀英")
    working = make_case(world, State.IN_PROGRESS, text=long_text)
    make_case(world, State.DISPATCHED, text=long_text)
    make_case(world, State.ARCHIVED, text=long_text)
    house = make_house(world, address="城厢街道景港府1幢1单元101室")
    person = make_person(world, name="王阿婆", tags=("living_alone",), house=house)
    building = make_building(world, compound="景港府", name="7幢", address="城厢街道湘湖路88号")
    enterprise = make_enterprise(world)
    facility = make_facility(world)
    pages = {
        "gw": [
            "/",
            f"/areas/{world.grid.code}/",
            f"/areas/{world.microgrid.code}/",
            "/field/",
            "/field/cases/",
            "/field/report/",
            "/field/visits/",
            f"/field/people/{person.pk}/",
            "/field/enterprises/",
            "/field/verification/",
            "/inbox/",
            "/cases/",
            f"/cases/{reported.number}/",
            "/registry/",
            "/registry/person/",
            "/registry/house/",
            "/registry/building/",
            "/registry/enterprise/",
            "/registry/facility/",
            f"/registry/person/{person.pk}/",
            f"/registry/house/{house.pk}/",
            f"/registry/building/{building.pk}/",
            f"/registry/enterprise/{enterprise.pk}/",
            f"/registry/facility/{facility.pk}/",
            "/registry/person/new/",
            f"/registry/person/{person.pk}/edit/",
        ],
        "police": ["/", "/inbox/", "/cases/", f"/cases/{working.number}/"],
        "cw": ["/", "/inbox/", "/cases/", f"/cases/{reported.number}/"],
    }
    wide: dict[str, int] = {}
    for username, urls in pages.items():
        tab = browser_context()
        tab.set_viewport_size(PHONE)
        sign_in(tab, username, PASSWORD)
        wide |= {f"{username} {url}": width for url, width in too_wide(tab, urls).items()}
    assert wide == {}, wide
