"""Password rules in Chinese, and the changes they force: at first sign-in, after a reset, by age."""

from datetime import timedelta

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shanzhi.accounts.models import SecurityEvent, SecurityEventKind, Unit, User
from shanzhi.accounts.services import user_create, user_set_password

from .factories import PASSWORD

pytestmark = pytest.mark.django_db

GOOD = "Xiang-hu-2026!"


def problems(password, user=None):
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return exc.messages
    return []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1!", "密码太短:至少需要 10 个字符"),
        ("shanzhi2026", "密码须包含大写字母、小写字母、数字、符号中的至少 3 类"),
        ("abcdefghijkl", "密码须包含大写字母、小写字母、数字、符号中的至少 3 类"),
        ("Password2026!", "密码过于常见"),
        ("Qwerty-12345", "密码过于常见"),
    ],
)
def test_weak_passwords_are_refused_in_chinese(password, message):
    assert any(message in line for line in problems(password)), problems(password)


def test_the_user_name_phone_and_name_are_not_a_password(world):
    user = User(username="chen.wangge", full_name="陈网格", phone="13900005050")
    assert "密码不能包含用户名或手机号。" in problems("Chen.Wangge#1", user)
    assert "密码不能包含用户名或手机号。" in problems("Tel13900005050!", user)
    assert "密码不能包含本人姓名。" in problems("陈网格-Gate-2026", user)
    assert problems(GOOD, user) == []


def test_a_good_password_passes_and_the_rules_are_settings(settings):
    assert problems(GOOD) == []
    assert problems("Grid@50pass") == []
    settings.AUTH_PASSWORD_VALIDATORS = [
        {
            "NAME": "shanzhi.accounts.passwords.LengthValidator",
            "OPTIONS": {"min_length": 16},
        }
    ]
    assert problems(GOOD) == ["密码太短:至少需要 16 个字符。"]


def test_the_admin_form_refuses_the_demo_password_in_chinese(client, world):
    client.force_login(world.admin)
    unit = Unit.objects.get(name="城厢派出所")
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "weak.one",
            "full_name": "弱密码",
            "unit": unit.pk,
            "new_password": "shanzhi2026",
            "is_active": "on",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "密码须包含大写字母、小写字母、数字、符号中的至少 3 类" in html
    assert "too short" not in html and "This password" not in html
    assert not User.objects.filter(username="weak.one").exists()


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_an_account_an_administrator_creates_changes_its_password_at_first_sign_in(world):
    unit = Unit.objects.get(name="城厢派出所")
    user_create(actor=world.admin, username="new.one", full_name="新人", unit=unit, password=GOOD)
    client = Client()
    response = sign_in(client, "new.one", GOOD)
    assert response.status_code == 302
    blocked = client.get("/")
    assert blocked.status_code == 302 and blocked["Location"].startswith(reverse("password_change"))
    page = client.get(blocked["Location"]).content.decode()
    assert "您的密码由管理员设置,请先修改" in page
    same = client.post(
        reverse("password_change"),
        {"old_password": GOOD, "new_password1": GOOD, "new_password2": GOOD},
    )
    assert "新密码不能与当前密码相同" in same.content.decode()
    weak = client.post(
        reverse("password_change"),
        {"old_password": GOOD, "new_password1": "new.one-abc", "new_password2": "new.one-abc"},
    )
    assert weak.status_code == 400 and "密码不能包含用户名" in weak.content.decode()
    done = client.post(
        reverse("password_change"),
        {
            "old_password": GOOD,
            "new_password1": "Mine-Only-2026",
            "new_password2": "Mine-Only-2026",
            "next": "/",
        },
    )
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/").status_code == 200
    user = User.objects.get(username="new.one")
    assert not user.must_change_password and user.check_password("Mine-Only-2026")
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.PASSWORD_CHANGED, user=user).exists()


def test_a_reset_forces_a_change_ends_other_sessions_and_is_logged(world):
    elsewhere = Client()
    assert sign_in(elsewhere, "disp", PASSWORD).status_code == 302
    user_set_password(actor=world.admin, target=world.dispatcher, password=GOOD)
    assert elsewhere.get("/inbox/").status_code == 302  # the old session is over
    client = Client()
    sign_in(client, "disp", GOOD)
    assert client.get("/inbox/")["Location"].startswith(reverse("password_change"))
    [reset] = SecurityEvent.objects.filter(kind=SecurityEventKind.PASSWORD_RESET)
    assert reset.user == world.dispatcher and reset.actor == world.admin


def test_an_old_password_must_be_changed_and_the_age_is_a_setting(world, settings):
    User.objects.filter(pk=world.dispatcher.pk).update(
        password_changed_at=timezone.now() - timedelta(days=91)
    )
    client = Client()
    sign_in(client, "disp", PASSWORD)
    response = client.get("/inbox/")
    assert response["Location"].startswith(reverse("password_change"))
    assert "已使用超过 90 天" in client.get(reverse("password_change")).content.decode()
    settings.SHANZHI_PASSWORD_MAX_AGE_DAYS = 0
    assert client.get("/inbox/").status_code == 200


def test_changing_the_password_keeps_this_session_and_ends_the_others(world):
    here, there = Client(), Client()
    sign_in(here, "disp", PASSWORD)
    sign_in(there, "disp", PASSWORD)
    here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": GOOD, "new_password2": GOOD},
    )
    assert here.get("/inbox/").status_code == 200
    assert there.get("/inbox/").status_code == 302


def test_a_wrong_current_password_changes_nothing(client, world):
    sign_in(client, "disp", PASSWORD)
    response = client.post(
        reverse("password_change"),
        {"old_password": "not-it", "new_password1": GOOD, "new_password2": GOOD},
    )
    assert response.status_code == 400 and "当前密码不正确" in response.content.decode()
    assert User.objects.get(pk=world.dispatcher.pk).check_password(PASSWORD)
