"""API keys: they expire, work only within their scopes, record their last use, and are revoked
from the command line or the admin; every issue, use, refusal and revocation is logged."""

import io
import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from shanzhi.accounts.models import SecurityEvent, SecurityEventKind
from shanzhi.api.models import ApiToken
from shanzhi.api.scopes import Scope, scope_for
from shanzhi.api.tokens import TokenRuleError, api_token_create
from shanzhi.cases.models import Source

from .registry_factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def get(client, raw, url):
    return client.get(f"/api/v1{url}", headers={"authorization": f"Bearer {raw}"})


def post(client, raw, url, body):
    return client.post(
        f"/api/v1{url}",
        json.dumps(body),
        content_type="application/json",
        headers={"authorization": f"Bearer {raw}"},
    )


def logged(kind):
    return list(SecurityEvent.objects.filter(kind=kind).order_by("pk"))


def test_a_key_expires_after_its_days_and_then_answers_401(client, world, settings):
    settings.SHANZHI_API_TOKEN_DAYS = 30
    token, raw = api_token_create(name="对接", user=world.dispatcher)
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert get(client, raw, "/cases").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = get(client, raw, "/cases")
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"
    [refused] = logged(SecurityEventKind.TOKEN_REFUSED)
    assert "已过期" in refused.note and refused.user == world.dispatcher


def test_no_key_lives_longer_than_a_year_or_without_a_scope(world):
    with pytest.raises(TokenRuleError, match="有效期须为 1 到 366 天"):
        api_token_create(name="永久", user=world.dispatcher, days=3650)
    with pytest.raises(TokenRuleError, match="权限范围无效"):
        api_token_create(name="空", user=world.dispatcher, scopes=[])
    with pytest.raises(TokenRuleError, match="渠道密钥"):
        api_token_create(name="渠道", scopes=["read"])
    assert not ApiToken.objects.exists()


def test_a_read_only_key_reads_and_cannot_write(client, world):
    _, raw = api_token_create(name="只读", user=world.dispatcher, scopes=[Scope.READ])
    assert get(client, raw, "/cases").status_code == 200
    body = {"area_code": world.microgrid.code, "description": "路灯不亮"}
    refused = post(client, raw, "/cases", body)
    assert refused.status_code == 403
    assert refused.json() == {
        "code": "permission_denied",
        "message": "该接口密钥未被授予“上报事件”权限",
    }
    [logged_refusal] = logged(SecurityEventKind.TOKEN_REFUSED)
    assert "未被授予“上报事件”" in logged_refusal.note


def test_reading_personal_data_in_the_clear_takes_its_own_scope(client, world):
    person = make_person(world, area=world.microgrid)
    everyday = api_token_create(
        name="日常", user=world.leader, scopes=[Scope.READ, Scope.REGISTRY]
    )[1]
    url = f"/registry/persons/{person.pk}/reveal"
    body = {"field": "id_number", "reason": "核实身份"}
    assert post(client, everyday, url, body).status_code == 403
    trusted = api_token_create(name="核查", user=world.leader, scopes=[Scope.PERSONAL])[1]
    assert post(client, trusted, url, body).status_code == 200


def test_every_operation_falls_under_a_scope():
    assert scope_for("GET", "/api/v1/registry/persons") == Scope.READ
    assert scope_for("POST", "/api/v1/cases") == Scope.REPORT
    assert scope_for("POST", "/api/v1/cases/SZ1/dispatch") == Scope.CASES
    assert scope_for("POST", "/api/v1/cases/SZ1/links") == Scope.CASES
    assert scope_for("POST", "/api/v1/cases/SZ1/contact") == Scope.PERSONAL
    assert scope_for("PATCH", "/api/v1/registry/persons/3") == Scope.REGISTRY
    assert scope_for("POST", "/api/v1/registry/enterprises/3/reveal") == Scope.PERSONAL
    assert scope_for("POST", "/api/v1/registry/visits") == Scope.REGISTRY


def test_last_use_is_kept_and_logged_at_most_once_a_minute(client, world):
    token, raw = api_token_create(name="对接", user=world.dispatcher)
    assert token.last_used_at is None
    for _ in range(3):
        get(client, raw, "/cases")
    token.refresh_from_db()
    assert token.last_used_at is not None
    [used] = logged(SecurityEventKind.TOKEN_USED)
    assert used.user == world.dispatcher and token.prefix in used.note
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    get(client, raw, "/cases")
    assert len(logged(SecurityEventKind.TOKEN_USED)) == 2


def test_the_command_issues_narrow_keys_lists_and_revokes_them(client, world):
    out = io.StringIO()
    call_command("apitoken", "create", "--user", "disp", "--name", "网格通", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert "权限范围:查询" in out.getvalue() and "到期:" in out.getvalue()
    assert get(client, raw, "/cases").status_code == 200
    token = ApiToken.objects.get(name="网格通")
    assert token.scopes == ["read"]
    [issued] = logged(SecurityEventKind.TOKEN_ISSUED)
    assert issued.user == world.dispatcher

    listing = io.StringIO()
    call_command("apitoken", "list", stdout=listing)
    assert token.prefix in listing.getvalue() and "网格通" in listing.getvalue()

    call_command("apitoken", "revoke", token.prefix, stdout=io.StringIO())
    assert get(client, raw, "/cases").status_code == 401
    assert logged(SecurityEventKind.TOKEN_REVOKED)[0].note == str(token)
    with pytest.raises(CommandError, match="未吊销的密钥"):
        call_command("apitoken", "revoke", token.prefix)
    listing = io.StringIO()
    call_command("apitoken", "list", stdout=listing)
    assert token.prefix not in listing.getvalue()
    call_command("apitoken", "list", "--all", stdout=listing)
    assert "已吊销" in listing.getvalue()


def test_the_command_refuses_bad_scopes_and_days(world):
    with pytest.raises(CommandError, match="有效期"):
        call_command("apitoken", "create", "--user", "disp", "--name", "x", "--days", "0")
    with pytest.raises(CommandError, match="渠道密钥"):
        call_command("apitoken", "create", "--name", "x", "--scope", "read")


def test_an_administrator_revokes_keys_of_their_staff_in_the_admin(client, world):
    mine, raw = api_token_create(name="城厢对接甲", user=world.dispatcher)
    theirs, _ = api_token_create(name="南星对接乙", user=world.other_leader)
    channel, _ = api_token_create(name="热线桥接丙", source=Source.HOTLINE)
    client.force_login(world.admin)
    listing = client.get("/admin/api/apitoken/").content.decode()
    assert "城厢对接甲" in listing
    assert "南星对接乙" not in listing and "热线桥接丙" not in listing
    client.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [mine.pk, theirs.pk, channel.pk]},
    )
    mine.refresh_from_db(), theirs.refresh_from_db(), channel.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None and channel.revoked_at is None
    [revoked] = logged(SecurityEventKind.TOKEN_REVOKED)
    assert revoked.actor == world.admin
    assert get(client, raw, "/cases").status_code == 401
