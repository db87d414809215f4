"""Pages through the Django test client: login, the scope tree, area detail, health."""

import pytest
from django.urls import reverse

from .factories import PASSWORD, make_area

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_with_wrong_password_says_so_in_chinese(client, world):
    response = client.post(reverse("login"), {"username": "gw", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_login_and_logout(client, world):
    response = client.post(reverse("login"), {"username": "gw", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get("/")["Location"] == reverse("field_home")  # a grid worker lands on /field/
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_grid_worker_home_shows_only_the_own_grid(client, world):
    html = signed_in(client, world.grid_worker).get("/areas/").content.decode()
    assert "湘湖第一网格" in html
    assert "湘湖第二网格" not in html
    assert "湘湖社区" not in html.replace("湘湖社区居委会", "")
    assert "网格员" in html
    assert 'hx-get="/areas/330109001001001/children/"' in html


def test_children_fragment_lists_children_with_counts_and_staff(client, world):
    response = signed_in(client, world.leader).get(
        f"/areas/{world.community.code}/children/", HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # a fragment, not a page
    assert "湘湖第一网格" in html and "湘湖第二网格" in html
    assert "网格员·gw" in html
    assert "下级 1 个" in html


def test_grid_worker_cannot_open_a_sibling_grid_by_any_page(client, world):
    client = signed_in(client, world.grid_worker)
    for url in (
        f"/areas/{world.sibling_grid.code}/",
        f"/areas/{world.sibling_grid.code}/children/",
        f"/areas/{world.community.code}/",
        f"/areas/{world.other_grid.code}/",
    ):
        assert client.get(url).status_code == 404, url


def test_area_detail_shows_breadcrumb_counts_units_and_staff(client, world):
    html = signed_in(client, world.leader).get(f"/areas/{world.community.code}/").content.decode()
    assert "湘湖社区" in html and "330109001001" in html
    assert "城厢街道</a>" in html  # breadcrumb up to the leader's own street
    assert "杭州市" not in html  # but not above their scope
    assert "<strong>2</strong> 个网格" in html
    assert "湘湖社区居委会" in html
    assert "领导·cl" in html


def test_tree_pages_do_not_query_per_row(client, world, django_assert_max_num_queries):
    client = signed_in(client, world.leader)
    url = f"/areas/{world.community.code}/children/"
    client.get(url)
    for n in range(3, 13):
        make_area(world.community, "grid", f"加测网格{n}", n)
    with django_assert_max_num_queries(6):
        response = client.get(url)
    assert response.content.decode().count('class="tree-node"') == 12


def test_healthz_answers_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_admin_link_only_for_administrators(client, world):
    assert "管理后台" not in signed_in(client, world.leader).get("/areas/").content.decode()
    assert "管理后台" in signed_in(client, world.admin).get("/areas/").content.decode()
