"""Each role lands on its own work; error pages say where to go, in Chinese."""

import pytest
from django.test import Client
from django.urls import reverse

from shanzhi.cases.models import Notification

from .case_factories import make_case
from .factories import make_superuser

pytestmark = pytest.mark.django_db


def landing(client, user):
    client.force_login(user)
    return client.get("/")


@pytest.mark.parametrize(
    ("persona", "page"),
    [
        ("grid_worker", "field_home"),
        ("dispatcher", "desk"),
        ("handler", "inbox"),
        ("leader", "dashboard"),
        ("admin", "setup_checklist"),
        ("resident", "my_reports"),
    ],
)
def test_each_role_lands_on_its_own_page(client, world, persona, page):
    response = landing(client, getattr(world, persona))
    assert response.status_code == 302 and response["Location"] == reverse(page)
    assert client.get(response["Location"]).status_code == 200


def test_someone_without_a_role_sees_the_empty_tree_and_whom_to_ask(client, world):
    html = landing(client, world.outsider).content.decode()
    assert "您还没有任何辖区授权" in html


def test_the_platform_administrator_lands_on_opening_a_street(client, db):
    assert landing(client, make_superuser())["Location"] == reverse("street_setup")


def test_the_administrators_checklist_names_what_is_missing(client, world):
    client.force_login(world.admin)
    html = client.get(reverse("setup_checklist")).content.decode()
    assert "城厢街道(330109001)" in html and "南星街道" not in html
    assert "✗ 事项清单" in html  # the test street has no catalogue yet
    assert "✓ 指挥中心坐席" in html and "1名坐席" in html
    assert reverse("registry_import_template", args=["grids"]) in html


def test_the_header_shows_the_roles_pages_and_the_unread_count(client, world):
    case = make_case(world)
    for n in range(3):
        Notification.objects.create(
            user=world.dispatcher,
            case=case,
            kind="新交办",
            message="x",
            key=f"k{n}",
            created_at=case.reported_at,
        )
    client.force_login(world.dispatcher)
    html = client.get(reverse("desk")).content.decode()
    assert 'data-testid="unread" title="未读通知">3<' in html
    assert "受理台" in html and "我的网格" not in html
    client.force_login(world.grid_worker)
    html = client.get(reverse("inbox")).content.decode()
    assert f'href="{reverse("field_home")}">我的网格' in html
    client.force_login(world.admin)
    assert "开通清单" in client.get(reverse("area_tree")).content.decode()


def test_a_resident_reports_from_their_place_and_sees_their_reports(client, world):
    mine = make_case(world, area=world.microgrid, text="楼道灯不亮")
    mine.reporter = world.resident
    mine.save(update_fields=["reporter"])
    make_case(world, area=world.microgrid, text="别人的事")
    client.force_login(world.resident)
    html = client.get(reverse("my_reports")).content.decode()
    assert reverse("public_report", args=[world.microgrid.code]) in html
    assert "楼道灯不亮" in html and "别人的事" not in html
    assert reverse("public_track", args=[mine.tracking_token]) in html


def test_the_platform_administrator_opens_a_street_from_the_page(client, db):
    client.force_login(make_superuser())
    bad = client.post(reverse("street_setup"), {"code": "330302019"})
    assert bad.status_code == 400 and "五马街道(330302018)" in bad.content.decode()
    done = client.post(reverse("street_setup"), {"code": "330302018"})
    html = done.content.decode()
    assert "已开通浙江省温州市鹿城区五马街道(330302018)" in html
    assert 'data-testid="one-time-password"' in html
    again = client.post(reverse("street_setup"), {"code": "330302018"}).content.decode()
    assert "已经开通,本次未作任何改动" in again and "one-time-password" not in again


def test_only_the_platform_administrator_opens_streets(client, world):
    client.force_login(world.admin)
    assert client.post(reverse("street_setup"), {"code": "330302018"}).status_code == 403


def test_a_wrong_case_number_gets_a_chinese_page_that_says_where_to_go(client, world):
    client.force_login(world.dispatcher)
    response = client.get("/cases/2099NOPE/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "没有找到" in html and "Not Found" not in html
    assert 'action="/cases/"' in html  # look the case up instead


def test_an_administrators_403_does_not_tell_them_to_call_the_administrator(client, world):
    client.force_login(world.admin)
    html = client.get(reverse("desk")).content.decode()
    assert "联系" not in html and "角色授权" in html
    client.force_login(world.leader)
    html = client.get(reverse("desk")).content.decode()
    assert "请联系所在街道的系统管理员" in html


def test_a_form_that_fails_its_csrf_check_is_refused_in_chinese(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.dispatcher)
    response = client.post(reverse("desk_intake"), {"description": "x"})
    html = response.content.decode()
    assert response.status_code == 403 and "页面已过期,本次提交没有生效" in html
    assert "Forbidden" not in html
