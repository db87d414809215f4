"""A grid worker cannot reach a person of a sibling grid by any route: the staff pages, the phone
pages, search, the REST API or an export. Each route is first shown to work for their own grid,
so that a route that shows nobody at all cannot pass."""

import io

import openpyxl
import pytest
from django.urls import reverse

from shanzhi.api.tokens import api_token_create

from .registry_factories import id_number, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world):
    mine = make_person(world, name="本网格居民", number=id_number(), tags=("living_alone",))
    theirs = make_person(
        world,
        name="隔壁网格居民",
        area=world.sibling_microgrid,
        number=id_number(),
        tags=("living_alone",),
    )
    return mine, theirs


def _clear_number(person) -> str:
    from shanzhi.protection import unseal

    return unseal(person.id_number_sealed)


def test_staff_pages_and_search(client, world, people):
    mine, theirs = people
    client.force_login(world.grid_worker)
    listing = client.get(reverse("registry_list", args=["person"])).content.decode()
    assert mine.name in listing and theirs.name not in listing
    for text, shown in ((_clear_number(mine), mine), (_clear_number(theirs), None)):
        found = client.get(reverse("registry_list", args=["person"]), {"q": text})
        body = found.content.decode()
        assert (mine.name in body) == (shown is mine)
        assert theirs.name not in body
    assert client.get(reverse("registry_detail", args=["person", mine.pk])).status_code == 200
    assert client.get(reverse("registry_detail", args=["person", theirs.pk])).status_code == 404


def test_phone_pages(client, world, people):
    mine, theirs = people
    client.force_login(world.grid_worker)
    visits = client.get(reverse("field_visits")).content.decode()
    assert mine.name in visits and theirs.name not in visits
    assert client.get(reverse("field_person", args=[mine.pk])).status_code == 200
    assert client.get(reverse("field_person", args=[theirs.pk])).status_code == 404


def test_rest_api(client, world, people):
    mine, theirs = people
    _, key = api_token_create(user=world.grid_worker, name="测试")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    listing = client.get("/api/v1/registry/persons", **auth).json()
    names = [row["name"] for row in listing["items"]]
    assert names == [mine.name]
    searched = client.get("/api/v1/registry/persons", {"q": _clear_number(theirs)}, **auth)
    assert searched.json()["items"] == []
    assert client.get(f"/api/v1/registry/persons/{mine.pk}", **auth).status_code == 200
    assert client.get(f"/api/v1/registry/persons/{theirs.pk}", **auth).status_code == 404


def test_export(client, world, people):
    mine, theirs = people
    client.force_login(world.grid_worker)
    response = client.get(reverse("registry_export", args=["person"]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    cells = {str(cell) for row in sheet.iter_rows(values_only=True) for cell in row}
    assert mine.name in cells and theirs.name not in cells
    assert _clear_number(mine) not in cells
    assert mine.id_number_masked in cells
