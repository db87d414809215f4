"""Transport and headers: the CSP on every response and nothing inline for it to refuse, HTTPS
redirect and HSTS behind the proxy's header, and `check --deploy` clean with the README's
production settings."""

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from shanzhi.headers import POLICY, POLICY_WITH_STYLE_ATTRIBUTES

from .case_factories import make_case

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "src" / "shanzhi" / "web" / "templates"
# The standalone html report is a file to keep and mail, never served under the policy.
STANDALONE = {TEMPLATES / "web" / "reports" / "document.html"}

INLINE = {
    "inline script": re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I
    ),
    "event handler": re.compile(r"<[^>]+\son[a-z]+\s*=", re.I),
    "hx-on": re.compile(r"\shx-on[:-]", re.I),
    "javascript: URL": re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I),
    "style element": re.compile(r"<style[\s>]", re.I),
    "style attribute": re.compile(r"<[^>]+\sstyle\s*=", re.I),
}


def inline_parts(html: str) -> list[str]:
    return [name for name, pattern in INLINE.items() if pattern.search(html)]


def test_no_template_has_inline_script_handlers_or_styles():
    found = {
        str(path.relative_to(TEMPLATES)): inline_parts(path.read_text(encoding="utf-8"))
        for path in TEMPLATES.rglob("*.html")
        if path not in STANDALONE
    }
    assert {name: parts for name, parts in found.items() if parts} == {}


def test_every_kind_of_response_carries_the_policy(client, world):
    case = make_case(world)
    urls = [
        reverse("login"),
        "/healthz",
        f"/r/{world.microgrid.code}/",
        "/api/v1/cases",
        "/open311/v2/services.json",
        "/no-such-page/",
    ]
    for url in urls:
        response = client.get(url)
        assert response["Content-Security-Policy"] == POLICY, url
    client.force_login(world.dispatcher)
    pages = ("/areas/", "/inbox/", "/desk/", f"/cases/{case.number}/", "/registry/person/")
    mine = ("/desk/bulk/", f"/cases/{case.number}/print/", f"/qr/{world.community.code}/buildings/")
    for url in (*pages, *mine):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == POLICY, url
        assert inline_parts(response.content.decode()) == [], url
    for user, url in ((world.admin, "/setup/"), (world.resident, "/me/")):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and inline_parts(response.content.decode()) == [], url
    client.force_login(world.admin)
    admin = client.get("/admin/")
    assert admin["Content-Security-Policy"] == POLICY
    assert "script-src 'self'" in POLICY and "unsafe" not in POLICY


def test_only_the_dashboard_allows_style_attributes_and_nothing_more(client, world):
    client.force_login(world.leader)
    page = client.get(reverse("dashboard"))
    assert page["Content-Security-Policy"] == POLICY_WITH_STYLE_ATTRIBUTES
    relaxed = set(POLICY_WITH_STYLE_ATTRIBUTES.split("; ")) - set(POLICY.split("; "))
    assert relaxed == {"style-src-elem 'self'", "style-src-attr 'unsafe-inline'"}
    chart = client.get(reverse("dashboard_chart", args=["trend"]))
    assert chart["Content-Security-Policy"] == POLICY


def test_report_only_is_a_setting(client, world, settings):
    settings.SHANZHI_CSP_REPORT_ONLY = True
    response = client.get(reverse("login"))
    assert response["Content-Security-Policy-Report-Only"] == POLICY
    assert "Content-Security-Policy" not in response


def test_behind_a_tls_proxy_http_is_redirected_and_https_gets_hsts(client, world, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    plain = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="http")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert secure["X-Content-Type-Options"] == "nosniff"
    assert secure["Referrer-Policy"] == "same-origin"
    # The load balancer's health probe stays on plain HTTP.
    assert client.get("/healthz", HTTP_X_FORWARDED_PROTO="http").status_code == 200


def production_settings() -> dict[str, str]:
    """The environment README.md gives for production, with fresh secrets in place of its
    placeholders."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("# shanzhi.env", 1)[1].split("```", 1)[0]
    env = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(\S*)", block, re.M))
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["SHANZHI_DATA_KEY"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    return env


def test_check_deploy_is_clean_with_the_readmes_production_settings(tmp_path):
    env = production_settings()
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER"):
        assert name in env, name
    run_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SHANZHI_", "SECURE_", "DATABASE_"))
    }
    run_env |= env | {"SHANZHI_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "shanzhi.manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_proxy_header_setting_is_read_from_the_environment():
    code = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    env = os.environ | {"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=env | {"DJANGO_SETTINGS_MODULE": "shanzhi.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')", done.stderr
