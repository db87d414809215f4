"""Journey: a grid worker signs in, sees only their own grid, expands it, signs out."""

import pytest

from .factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_grid_worker_sees_own_grid_expands_it_and_logs_out(page, world):
    page.goto("/areas/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", "gw")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    tree = page.get_by_test_id("scope-tree")
    tree.wait_for()
    assert tree.locator(".node-name").all_inner_texts() == ["湘湖第一网格"]
    assert "湘湖第二网格" not in page.content()

    page.click(f"li[data-code='{world.grid.code}'] > details > summary")
    microgrid = tree.locator(f"li[data-code='{world.microgrid.code}'] .node-name")
    microgrid.wait_for()
    assert microgrid.inner_text() == "景港府1号微网格"
    assert "山兴里1号微网格" not in page.content()

    page.click("text=退出登录")
    page.wait_for_url("**/accounts/login/")
    page.goto("/")
    assert "/accounts/login/" in page.url
