"""Shared set-up for journeys in a real headless Chromium (Debian's package, never a download)."""

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_context(live_server) -> Iterator["object"]:
    """A browser whose contexts are separate people (each with their own cookies)."""
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail("CI 上必须有 /usr/bin/chromium:make test 会用 apt 安装它")
        pytest.skip("本机没有 chromium,跳过浏览器测试(make test 会尝试安装)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def new_person():
            context = browser.new_context(base_url=live_server.url, locale="zh-CN")
            tab = context.new_page()
            tab.set_default_timeout(10_000)
            return tab

        yield new_person
        browser.close()


def sign_in(tab, username: str, password: str) -> None:
    tab.goto("/accounts/login/")
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", password)
    tab.click("button[type=submit]")
    tab.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def page(browser_context) -> "object":
    """One person's browser tab."""
    return browser_context()
