"""The catalogue in the admin: each street's administrators edit their own, in Chinese, with bad
input refused and nothing changed; cases and their logs are shown but never written there."""

import json

import pytest
from django.forms.models import model_to_dict

from shanzhi.cases.models import CaseAction, CaseCategory, CaseType
from shanzhi.cases.services import catalogue_seed

from .case_factories import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogues(world):
    catalogue_seed(street=world.street)
    catalogue_seed(street=world.other_street)
    return (
        CaseType.objects.get(street=world.street, code="CG-WJ-01"),
        CaseType.objects.get(street=world.other_street, code="CG-WJ-01"),
    )


def form_data(case_type: CaseType, **changes) -> dict:
    """What the change form posts back for `case_type`, with `changes`."""
    data = {
        "name": case_type.name,
        "category": case_type.category_id,
        "default_unit": case_type.default_unit_id or "",
        "claim_limit_hours": case_type.claim_limit_hours,
        "handle_limit_days": case_type.handle_limit_days or "",
        "handle_limit_hours": case_type.handle_limit_hours or "",
        "priority": case_type.priority,
        "workflow": case_type.workflow,
        "keywords": "、".join(case_type.keywords),
        "extra_fields": json.dumps(case_type.extra_fields, ensure_ascii=False),
        "is_active": "on" if case_type.is_active else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def url(case_type: CaseType) -> str:
    return f"/admin/cases/casetype/{case_type.pk}/change/"


def test_street_admin_edits_a_type_of_their_street(client, world, catalogues):
    mine, _ = catalogues
    client.force_login(world.admin)
    page = client.get(url(mine)).content.decode()
    assert "分拨关键词" in page and "违章搭建" in page and "办理时限(工作日)" in page
    response = client.post(
        url(mine),
        form_data(mine, name="违法建设", keywords="违建, 私搭乱建、阳光房\n顶楼加盖,违建"),
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.name == "违法建设"
    assert mine.keywords == ["违建", "私搭乱建", "阳光房", "顶楼加盖"]
    assert mine.code == "CG-WJ-01" and mine.street == world.street


def test_street_admin_cannot_see_another_streets_catalogue(client, world, catalogues):
    mine, theirs = catalogues
    client.force_login(world.admin)
    listing = client.get("/admin/cases/casetype/", {"q": "CG-WJ-01"}).content.decode()
    assert url(mine) in listing
    assert url(theirs) not in listing
    assert client.get(url(theirs)).status_code == 302  # as if it did not exist
    before = model_to_dict(theirs)
    client.post(url(theirs), form_data(theirs, name="越权修改"))
    theirs.refresh_from_db()
    assert model_to_dict(theirs) == before
    categories = client.get("/admin/cases/casecategory/").content.decode()
    other_category = CaseCategory.objects.filter(street=world.other_street).first()
    assert f"/admin/cases/casecategory/{other_category.pk}/change/" not in categories


def test_both_handle_limits_are_refused_in_chinese_and_nothing_changes(client, world, catalogues):
    mine, _ = catalogues
    client.force_login(world.admin)
    before = model_to_dict(mine)
    for days, hours in ((5, 4), ("", "")):
        response = client.post(
            url(mine),
            form_data(mine, name="改了名字", handle_limit_days=days, handle_limit_hours=hours),
        )
        assert response.status_code == 200
        assert "办理时限须且只能按工作日或按小时设置一种" in response.content.decode()
    mine.refresh_from_db()
    assert model_to_dict(mine) == before


def test_malformed_extra_fields_are_refused_in_chinese(client, world, catalogues):
    mine, _ = catalogues
    client.force_login(world.admin)
    before = model_to_dict(mine)
    response = client.post(
        url(mine), form_data(mine, extra_fields='[{"name": "面积", "label": "面积"}]')
    )
    assert "name 须为小写英文字母、数字或下划线" in response.content.decode()
    mine.refresh_from_db()
    assert model_to_dict(mine) == before


def test_admin_adds_a_type_with_a_category_of_their_street_only(client, world, catalogues):
    mine, theirs = catalogues
    client.force_login(world.admin)
    data = form_data(mine, name="新事项", keywords="新事项")
    response = client.post(
        "/admin/cases/casetype/add/",
        {**data, "street": world.street.pk, "code": "cg-xx-09", "category": theirs.category_id},
    )
    assert response.status_code == 200
    assert not CaseType.objects.filter(code="CG-XX-09").exists()
    duplicate = client.post(
        "/admin/cases/casetype/add/", {**data, "street": world.street.pk, "code": "CG-WJ-01"}
    )
    assert "该街道已有同编码的事项" in duplicate.content.decode()
    response = client.post(
        "/admin/cases/casetype/add/", {**data, "street": world.street.pk, "code": "cg-xx-09"}
    )
    assert response.status_code == 302
    added = CaseType.objects.get(street=world.street, code="CG-XX-09")
    assert added.keywords == ["新事项"] and added.category == mine.category


def test_types_are_deactivated_never_deleted(client, world, catalogues):
    mine, _ = catalogues
    client.force_login(world.admin)
    assert client.get(f"/admin/cases/casetype/{mine.pk}/delete/").status_code == 403
    response = client.post(
        "/admin/cases/casetype/",
        {"action": "deactivate", "_selected_action": [mine.pk]},
        follow=True,
    )
    assert "已停用 1 项事项" in response.content.decode()
    mine.refresh_from_db()
    assert mine.is_active is False


def test_a_second_top_category_of_the_same_name_is_refused(client, world, catalogues):
    client.force_login(world.admin)
    before = CaseCategory.objects.count()
    response = client.post(
        "/admin/cases/casecategory/add/", {"street": world.street.pk, "name": "城市管理"}
    )
    assert "同一上级下已有同名类别" in response.content.decode()
    assert CaseCategory.objects.count() == before


def test_cases_and_their_logs_are_read_only(
    client, world, catalogues, django_assert_max_num_queries
):
    case = make_case(world, "archived")
    for _ in range(5):
        make_case(world, "dispatched")
    client.force_login(world.admin)
    with django_assert_max_num_queries(15):
        listing = client.get("/admin/cases/case/").content.decode()
    assert case.number in listing
    page = client.get(f"/admin/cases/case/{case.pk}/change/").content.decode()
    assert "受理" in page and "回访" in page  # the log, labelled in Chinese
    assert case.tracking_token not in page and "13800001111" not in page
    assert 'name="_save"' not in page
    assert client.post(f"/admin/cases/case/{case.pk}/change/", {"title": "x"}).status_code == 403
    assert client.get("/admin/cases/case/add/").status_code == 403
    assert client.get(f"/admin/cases/case/{case.pk}/delete/").status_code == 403
    with django_assert_max_num_queries(15):
        actions = client.get("/admin/cases/caseaction/").content.decode()
    assert case.number in actions
    action = CaseAction.objects.filter(case=case).first()
    assert client.get(f"/admin/cases/caseaction/{action.pk}/delete/").status_code == 403


def test_another_streets_admin_sees_none_of_these_cases(client, world, catalogues):
    case = make_case(world, "dispatched")
    client.force_login(world.other_admin)
    assert case.number not in client.get("/admin/cases/case/").content.decode()
    assert client.get(f"/admin/cases/case/{case.pk}/change/").status_code == 302
    assert case.number not in client.get("/admin/cases/caseaction/").content.decode()
