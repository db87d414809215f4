"""Signing in: a lock after repeated failures, per account and per client address, its release,
and every step in the security log."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from shanzhi.accounts.models import SecurityEvent, SecurityEventKind, SignInThrottle, ThrottleKind

from .factories import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, address="10.0.0.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def signed_in(response) -> bool:
    return response.status_code == 302


def events(kind, **filters):
    return list(SecurityEvent.objects.filter(kind=kind, **filters).order_by("at", "pk"))


def lapse(kind, key):
    """Move the lock of `key` to have ended a minute ago (what waiting would do)."""
    SignInThrottle.objects.filter(kind=kind, key=key).update(
        locked_until=timezone.now() - timedelta(minutes=1)
    )


def test_twenty_five_wrong_passwords_then_the_right_one_is_refused(client, world):
    for _ in range(25):
        assert not signed_in(sign_in(client, "gw", "wrong"))
    response = sign_in(client, "gw", PASSWORD)
    assert not signed_in(response)
    assert "该账号连续登录失败次数过多,已被锁定" in response.content.decode()
    assert client.get("/").status_code == 302  # still signed out


def test_the_fifth_failure_locks_the_account_and_the_lock_is_logged(client, world):
    for n in range(4):
        response = sign_in(client, "gw", "wrong")
        assert "用户名或密码不正确" in response.content.decode(), n
    response = sign_in(client, "gw", "wrong")
    html = response.content.decode()
    assert "已被锁定,请于" in html and "后再试" in html
    assert len(events(SecurityEventKind.SIGN_IN_FAILED, user=world.grid_worker)) == 5
    [lock] = events(SecurityEventKind.LOCKED, user=world.grid_worker)
    assert "锁定 15 分钟" in lock.note and lock.address == "10.0.0.7"
    assert lock.area == world.grid_worker.unit.area
    # Locked: the right password does not get in, and is not counted as another failure.
    assert not signed_in(sign_in(client, "gw", PASSWORD))
    assert len(events(SecurityEventKind.SIGN_IN_FAILED, user=world.grid_worker)) == 5
    # Other accounts from the same address still sign in.
    assert signed_in(sign_in(client, "disp", PASSWORD))


def test_the_lock_ends_by_itself_and_its_end_is_logged(client, world):
    for _ in range(5):
        sign_in(client, "gw", "wrong")
    lapse(ThrottleKind.ACCOUNT, "gw")
    assert signed_in(sign_in(client, "gw", PASSWORD))
    [ended] = events(SecurityEventKind.UNLOCKED, user=world.grid_worker)
    assert "到期解除" in ended.note and ended.actor is None
    [signed] = events(SecurityEventKind.SIGN_IN, user=world.grid_worker)
    assert signed.note == "登录成功"
    # A good sign-in forgets the account's failures.
    assert not SignInThrottle.objects.filter(kind=ThrottleKind.ACCOUNT, key="gw").exists()


def test_each_further_lock_lasts_twice_as_long(client, world):
    for _ in range(5):
        sign_in(client, "gw", "wrong")
    lapse(ThrottleKind.ACCOUNT, "gw")
    for _ in range(5):
        sign_in(client, "gw", "wrong")
    first, second = events(SecurityEventKind.LOCKED, user=world.grid_worker)
    assert "锁定 15 分钟" in first.note and "锁定 30 分钟" in second.note
    throttle = SignInThrottle.objects.get(kind=ThrottleKind.ACCOUNT, key="gw")
    left = throttle.locked_until - timezone.now()
    assert timedelta(minutes=29) < left <= timedelta(minutes=30)


def test_names_without_an_account_lock_alike_so_locks_reveal_nothing(client, world):
    replies = set()
    for name in ("gw", "nobody-here"):
        for _ in range(5):
            response = sign_in(client, name, "wrong", address=f"10.1.0.{len(name)}")
        replies.add(response.content.decode().split('data-testid="login-error">')[1].split("<")[0])
    assert len(replies) == 1 and "已被锁定" in replies.pop()
    [unknown] = events(SecurityEventKind.LOCKED, username="nobody-here")
    assert unknown.user is None and unknown.area is None


def test_an_address_spraying_many_names_is_locked_for_all_of_them(client, world, settings):
    settings.SHANZHI_SIGNIN_ADDRESS_MAX_FAILURES = 6
    for n in range(6):
        sign_in(client, f"guess{n}", "wrong", address="10.9.9.9")
    response = sign_in(client, "disp", PASSWORD, address="10.9.9.9")
    assert not signed_in(response)
    assert "您所在的网络登录失败次数过多" in response.content.decode()
    [lock] = events(SecurityEventKind.LOCKED, username="")
    assert lock.address == "10.9.9.9" and "来源地址" in lock.note
    # The same person from another address is not held up.
    assert signed_in(sign_in(client, "disp", PASSWORD, address="10.9.9.10"))


def test_a_good_password_does_not_reset_the_address_count(client, world, settings):
    settings.SHANZHI_SIGNIN_ADDRESS_MAX_FAILURES = 4
    for n in range(3):
        sign_in(client, f"guess{n}", "wrong", address="10.8.8.8")
    assert signed_in(sign_in(client, "disp", PASSWORD, address="10.8.8.8"))
    client.post(reverse("logout"))
    sign_in(client, "guess9", "wrong", address="10.8.8.8")
    assert not signed_in(sign_in(client, "disp", PASSWORD, address="10.8.8.8"))


def test_an_administrator_lifts_a_lock_and_that_is_logged(client, world):
    for _ in range(5):
        sign_in(client, "gw", "wrong")
    client.force_login(world.admin)
    response = client.post(
        "/admin/accounts/user/",
        {"action": "unlock", "_selected_action": [world.grid_worker.pk]},
    )
    assert response.status_code == 302
    [lifted] = events(SecurityEventKind.UNLOCKED, user=world.grid_worker)
    assert lifted.actor == world.admin and lifted.note == "管理员解除登录锁定"
    client.post(reverse("logout"))
    assert signed_in(sign_in(client, "gw", PASSWORD))


def test_another_streets_administrator_cannot_lift_the_lock(client, world):
    for _ in range(5):
        sign_in(client, "gw", "wrong")
    client.force_login(world.other_admin)
    client.post(
        "/admin/accounts/user/",
        {"action": "unlock", "_selected_action": [world.grid_worker.pk]},
    )
    assert not events(SecurityEventKind.UNLOCKED)
    assert SignInThrottle.objects.get(kind=ThrottleKind.ACCOUNT, key="gw").locked_until
