"""The second factor (动态口令): an administrator from enrolment to sign-in, /admin/ refusing without
it, codes never accepted twice, recovery codes, optional enrolment, and the administrator's reset."""

import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP

from shanzhi.accounts.models import (
    RecoveryCode,
    SecurityEvent,
    SecurityEventKind,
    TotpDevice,
)

from .factories import PASSWORD, make_superuser

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _required_for_administrators(settings):
    settings.SHANZHI_OTP_REQUIRED_ROLES = ["administrator"]


def code_for(device, steps_ahead=0):
    """What the phone shows now (or `steps_ahead` steps of 30 s later)."""
    totp = TOTP(bytes.fromhex(device.secret), TotpDevice.STEP, 0, TotpDevice.DIGITS, 0)
    totp.time = time.time() + steps_ahead * TotpDevice.STEP
    return f"{totp.token():06d}"


def wait_out_the_delay(device):
    """What waiting does after a wrong code: the delay it started has passed."""
    TotpDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(minutes=1)
    )


def sign_in(client, username="admin", next_url=""):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def kinds(user):
    return list(
        SecurityEvent.objects.filter(user=user).order_by("at", "pk").values_list("kind", flat=True)
    )


def enrol(client, user):
    """Enrol from the set-up page as a person would; returns the device and the recovery codes."""
    page = client.get(reverse("otp_setup"))
    assert page.status_code == 200
    device = TotpDevice.objects.get(user=user, confirmed=False)
    shown = page.content.decode()
    assert "<svg" in shown and "otpauth" not in shown  # the QR is drawn, not linked
    secret = re.search(r'data-testid="otp-secret">([A-Z2-7 ]+)<', shown).group(1)
    assert len(secret.replace(" ", "")) == 32
    done = client.post(reverse("otp_setup"), {"code": code_for(device), "next": "/admin/"})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-7]{5}-[a-z2-7]{5})</code>", done.content.decode())
    assert len(codes) == 10
    return TotpDevice.objects.get(pk=device.pk), codes


def test_an_administrator_enrols_then_signs_in_with_the_code(world):
    client = Client()
    response = sign_in(client, next_url="/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('otp_setup')}?next=/admin/"
    # Until enrolled, the password alone reaches nothing: not the admin, not any page.
    for url in ("/admin/", "/", "/inbox/", "/accounts/password/", "/security-log/"):
        blocked = client.get(url)
        assert blocked.status_code == 302 and reverse("otp_setup") in blocked["Location"], url

    device, _ = enrol(client, world.admin)
    assert device.confirmed
    assert client.get("/admin/").status_code == 200
    assert kinds(world.admin)[-2:] == [SecurityEventKind.SIGN_IN, SecurityEventKind.OTP_ENROLLED]

    client.post(reverse("logout"))
    response = sign_in(client, next_url="/admin/")
    assert response["Location"] == f"{reverse('otp_verify')}?next=/admin/"
    assert client.get("/admin/").status_code == 302
    # The code just used at enrolment is not accepted again; the next one is.
    replay = client.post(reverse("otp_verify"), {"code": code_for(device), "next": "/admin/"})
    assert replay.status_code == 400 and "动态口令不正确" in replay.content.decode()
    wait_out_the_delay(device)
    ok = client.post(reverse("otp_verify"), {"code": code_for(device, 1), "next": "/admin/"})
    assert ok.status_code == 302 and ok["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert kinds(world.admin)[-3:] == [
        SecurityEventKind.SIGN_IN,
        SecurityEventKind.OTP_FAILED,
        SecurityEventKind.OTP_VERIFIED,
    ]


def test_the_admin_refuses_a_session_that_skipped_the_second_factor(world):
    client = Client()
    client.force_login(world.admin)  # the password step only
    response = client.get("/admin/")
    assert response.status_code == 302 and reverse("otp_setup") in response["Location"]
    # Even a session that does not remember owing it is refused by the admin site itself.
    session = client.session
    session["shanzhi_second_factor"] = False
    session.save()
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    follow = client.get(response["Location"])
    assert follow.status_code == 302 and reverse("otp_verify") in follow["Location"]


def test_the_admins_own_sign_in_page_leads_to_the_one_sign_in(client, db):
    response = client.get("/admin/login/?next=/admin/areas/area/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/admin/areas/area/"


def test_a_wrong_code_is_refused_logged_and_makes_the_next_try_wait(world):
    client = Client()
    sign_in(client)
    device, _ = enrol(client, world.admin)
    client.post(reverse("logout"))
    sign_in(client)
    wrong = client.post(reverse("otp_verify"), {"code": "000000"})
    assert wrong.status_code == 400
    again = client.post(reverse("otp_verify"), {"code": code_for(device, 1)})
    assert again.status_code == 400 and "错误次数过多,请" in again.content.decode()
    assert client.get("/admin/").status_code == 302
    [failed] = SecurityEvent.objects.filter(kind=SecurityEventKind.OTP_FAILED)
    assert failed.user == world.admin and "第 1 次" in failed.note


def test_a_recovery_code_signs_in_once(world):
    client = Client()
    sign_in(client)
    _, codes = enrol(client, world.admin)
    client.post(reverse("logout"))
    sign_in(client)
    response = client.post(reverse("otp_verify"), {"code": codes[3].upper()})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    [used] = SecurityEvent.objects.filter(kind=SecurityEventKind.RECOVERY_CODE_USED)
    assert "剩余 9 个" in used.note
    client.post(reverse("logout"))
    sign_in(client)
    refused = client.post(reverse("otp_verify"), {"code": codes[3]})
    assert refused.status_code == 400 and "动态口令不正确" in refused.content.decode()


def test_secrets_and_recovery_codes_are_not_readable_in_the_database(world):
    client = Client()
    sign_in(client)
    device, codes = enrol(client, world.admin)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_totpdevice WHERE id = %s", [device.pk])
        stored = cursor.fetchone()[0]
    assert device.secret not in stored and stored.startswith("g1:")
    digests = set(RecoveryCode.objects.values_list("digest", flat=True))
    assert not any(code.replace("-", "") in digests or code in digests for code in codes)


def test_the_phone_cannot_be_replaced_with_the_password_alone(world):
    client = Client()
    sign_in(client)
    enrol(client, world.admin)
    client.post(reverse("logout"))
    sign_in(client)
    response = client.get(reverse("otp_setup"))
    assert response.status_code == 302 and reverse("otp_verify") in response["Location"]
    assert TotpDevice.objects.filter(user=world.admin).count() == 1


def test_others_sign_in_with_the_password_and_may_enrol_by_choice(world):
    client = Client()
    response = sign_in(client, "leader")
    assert response["Location"] == reverse("home")
    page = client.get(reverse("account_security")).content.decode()
    assert "未绑定" in page
    enrol(client, world.leader)
    client.post(reverse("logout"))
    assert sign_in(client, "leader")["Location"].startswith(reverse("otp_verify"))
    # Not required of a leader: they may remove it (from a verified session).
    device = TotpDevice.objects.get(user=world.leader)
    client.post(reverse("otp_verify"), {"code": code_for(device, 1)})
    client.post(reverse("account_security"), {"action": "remove"})
    assert not TotpDevice.objects.filter(user=world.leader).exists()
    assert SecurityEventKind.OTP_REMOVED in kinds(world.leader)


def test_an_administrator_must_keep_theirs(world):
    client = Client()
    sign_in(client)
    enrol(client, world.admin)
    client.post(reverse("account_security"), {"action": "remove"}, follow=True)
    assert TotpDevice.objects.filter(user=world.admin, confirmed=True).exists()


def test_an_administrator_resets_a_lost_phone_and_the_person_enrols_again(world, settings):
    settings.SHANZHI_OTP_REQUIRED_ROLES = ["administrator", "leader"]
    person = Client()
    sign_in(person, "leader")
    enrol(person, world.leader)
    admin = Client()
    sign_in(admin)
    enrol(admin, world.admin)
    admin.post(
        "/admin/accounts/user/",
        {"action": "remove_second_factor", "_selected_action": [world.leader.pk]},
    )
    [removed] = SecurityEvent.objects.filter(kind=SecurityEventKind.OTP_REMOVED)
    assert removed.user == world.leader and removed.actor == world.admin
    person.post(reverse("logout"))
    assert sign_in(person, "leader")["Location"].startswith(reverse("otp_setup"))


def test_renewed_recovery_codes_replace_the_old_ones(world):
    client = Client()
    sign_in(client)
    _, old = enrol(client, world.admin)
    page = client.post(reverse("account_security"), {"action": "renew_codes"}).content.decode()
    new = re.findall(r"<code>([a-z2-7]{5}-[a-z2-7]{5})</code>", page)
    assert len(new) == 10 and not set(new) & set(old)
    client.post(reverse("logout"))
    sign_in(client)
    assert client.post(reverse("otp_verify"), {"code": old[0]}).status_code == 400


def test_platform_superusers_owe_it_with_the_administrators(db, settings):
    make_superuser("root")
    client = Client()
    response = sign_in(client, "root")
    assert response["Location"].startswith(reverse("otp_setup"))
    settings.SHANZHI_OTP_REQUIRED_ROLES = ["leader"]
    other = Client()
    assert sign_in(other, "root")["Location"] == reverse("home")
