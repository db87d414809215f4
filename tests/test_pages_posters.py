"""QR posters from building and microgrid pages, and a community's printed one sheet a building."""

import pytest
from django.urls import reverse

from .registry_factories import make_building

pytestmark = pytest.mark.django_db


def test_microgrid_and_community_pages_link_their_posters(client, world):
    client.force_login(world.leader)
    html = client.get(reverse("area_detail", args=[world.microgrid.code])).content.decode()
    assert reverse("public_poster", args=[world.microgrid.code]) in html
    html = client.get(reverse("area_detail", args=[world.community.code])).content.decode()
    assert reverse("area_posters", args=[world.community.code]) in html


def test_a_building_page_links_its_poster_which_opens_the_microgrids_report(client, world):
    building = make_building(world, area=world.microgrid, address="湘湖路1号")
    client.force_login(world.leader)
    html = client.get(reverse("registry_detail", args=["building", building.pk])).content.decode()
    assert reverse("building_poster", args=[building.pk]) in html
    poster = client.get(reverse("building_poster", args=[building.pk])).content.decode()
    assert "湘湖路1号" in poster and poster.count('data-testid="poster-sheet"') == 1
    assert f"/r/{world.microgrid.code}/" in poster
    assert reverse("public_qr", args=[world.microgrid.code, "svg"]) in poster


def test_a_community_prints_one_sheet_per_building_in_scope(
    client, world, django_assert_max_num_queries
):
    for n in range(1, 6):
        make_building(world, area=world.microgrid, address=f"湘湖路{n}号")
    make_building(world, area=world.sibling_microgrid, address="山兴里9号")
    client.force_login(world.leader)
    url = reverse("area_posters", args=[world.community.code])
    with django_assert_max_num_queries(12):
        html = client.get(url).content.decode()
    assert html.count('data-testid="poster-sheet"') == 6
    client.force_login(world.grid_worker)  # sees only the own grid's buildings
    html = client.get(reverse("area_posters", args=[world.grid.code])).content.decode()
    assert html.count('data-testid="poster-sheet"') == 5 and "山兴里9号" not in html
    assert client.get(url).status_code == 404  # the community is not in a grid worker's scope
