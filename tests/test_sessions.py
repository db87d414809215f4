"""Sessions: they end after an idle period, and signing out ends every session of the account."""

import time

import pytest
from django.test import Client
from django.urls import reverse

from shanzhi.accounts.models import SecurityEvent, SecurityEventKind
from shanzhi.accounts.signin import SEEN_KEY

from .factories import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username="disp"):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def idle_for(client, seconds):
    session = client.session
    session[SEEN_KEY] = int(time.time()) - seconds
    session.save()


def test_a_session_idle_past_the_limit_ends_and_says_why(client, world):
    sign_in(client)
    idle_for(client, 31 * 60)
    response = client.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=/inbox/")
    page = client.get(response["Location"]).content.decode()
    assert "长时间未操作,已自动退出" in page
    assert client.get("/inbox/").status_code == 302
    [expired] = SecurityEvent.objects.filter(kind=SecurityEventKind.SESSION_EXPIRED)
    assert expired.user == world.dispatcher and "30 分钟" in expired.note


def test_a_session_within_the_limit_goes_on_and_its_clock_restarts(client, world):
    sign_in(client)
    idle_for(client, 29 * 60)
    assert client.get("/inbox/").status_code == 200
    assert int(time.time()) - client.session[SEEN_KEY] < 5
    idle_for(client, 29 * 60)
    assert client.get("/inbox/").status_code == 200


def test_the_idle_limit_is_a_setting(client, world, settings):
    settings.SHANZHI_SESSION_IDLE_MINUTES = 5
    sign_in(client)
    idle_for(client, 6 * 60)
    assert client.get("/inbox/").status_code == 302


def test_htmx_requests_of_an_ended_session_reload_the_sign_in_page(client, world):
    sign_in(client)
    idle_for(client, 31 * 60)
    response = client.get("/inbox/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_signing_out_ends_the_accounts_sessions_in_every_browser(world):
    office, phone, other = Client(), Client(), Client()
    sign_in(office)
    sign_in(phone)
    sign_in(other, "leader")
    assert phone.get("/inbox/").status_code == 200
    office.post(reverse("logout"))
    assert office.get("/inbox/").status_code == 302
    assert phone.get("/inbox/").status_code == 302
    assert other.get("/inbox/").status_code == 200  # someone else's session is untouched
    [out] = SecurityEvent.objects.filter(kind=SecurityEventKind.SIGN_OUT)
    assert out.user == world.dispatcher and "全部会话" in out.note
    # Signing in again works as before.
    assert sign_in(phone).get("/inbox/").status_code == 200


def test_signing_out_is_a_post(client, world):
    sign_in(client)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get("/inbox/").status_code == 200


def test_the_admin_signs_out_everywhere_too(world):
    desk, laptop = Client(), Client()
    desk.force_login(world.admin)
    laptop.force_login(world.admin)
    assert desk.post("/admin/logout/").status_code == 302
    assert laptop.get("/admin/").status_code == 302
