"""Bulk accept and dispatch at the desk, the case list in xlsx, and the 工单 on paper."""

import io

import openpyxl
import pytest
from django.urls import reverse

from shanzhi.cases import services
from shanzhi.cases.models import State

from .case_factories import case_type, make_case, police

pytestmark = pytest.mark.django_db


def fresh(case):
    case.refresh_from_db()
    return case


# Services -------------------------------------------------------------------------------------


def test_bulk_accept_takes_each_case_on_its_own_and_says_which_failed(world):
    typed = make_case(world, case_type=case_type(world))
    untyped = make_case(world)
    stale = make_case(world, case_type=case_type(world))
    outcomes = services.cases_accept_many(
        cases=[(typed, typed.version), (untyped, untyped.version), (stale, stale.version - 1)],
        actor=world.dispatcher,
    )
    assert [(o.number, o.done) for o in outcomes] == [
        (typed.number, True),
        (untyped.number, False),
        (stale.number, False),
    ]
    assert "逐件受理" in outcomes[1].message
    assert outcomes[2].message == "该事件已被他人处理,请刷新"
    assert fresh(typed).state == State.ACCEPTED
    assert fresh(untyped).state == fresh(stale).state == State.REPORTED


def test_bulk_accept_with_a_type_then_dispatch_to_the_default_unit_or_a_chosen_one(world):
    cases = [make_case(world) for _ in range(3)]
    chosen = case_type(world)
    accepted = services.cases_accept_many(
        cases=[(c, c.version) for c in cases], actor=world.dispatcher, case_type=chosen
    )
    assert all(o.done for o in accepted)
    first, *others = [fresh(c) for c in cases]
    default = services.unit_for(case_type=chosen, area=first.area)
    [sent] = services.cases_dispatch_many(cases=[(first, first.version)], actor=world.dispatcher)
    assert sent.done and sent.message == f"已交办“{default.name}”"
    sent = services.cases_dispatch_many(
        cases=[(c, c.version) for c in others], actor=world.dispatcher, unit=police(world)
    )
    assert all(o.done for o in sent)
    assert {fresh(c).unit for c in others} == {police(world)}
    assert {fresh(c).state for c in cases} == {State.DISPATCHED}


def test_someone_else_cannot_bulk_accept(world):
    case = make_case(world, case_type=case_type(world))
    [outcome] = services.cases_accept_many(cases=[(case, case.version)], actor=world.handler)
    assert not outcome.done and fresh(case).state == State.REPORTED


# Pages ----------------------------------------------------------------------------------------


def test_the_desk_bulk_page_accepts_the_ticked_cases_and_lists_the_refused(client, world):
    typed = make_case(world, case_type=case_type(world))
    untyped = make_case(world)
    client.force_login(world.dispatcher)
    assert reverse("desk_bulk") in client.get(reverse("desk")).content.decode()
    page = client.get(reverse("desk_bulk")).content.decode()
    assert f"{typed.number}:{typed.version}" in page
    response = client.post(
        reverse("desk_bulk"),
        {
            "queue": "reported",
            "picked": [f"{typed.number}:{typed.version}", f"{untyped.number}:{untyped.version}"],
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "已办 1 件,未办 1 件" in html
    assert f"{untyped.number}</a>:上报时未选事项类型" in html
    assert fresh(typed).state == State.ACCEPTED


def test_only_dispatchers_use_the_bulk_desk(client, world):
    client.force_login(world.leader)
    assert client.get(reverse("desk_bulk")).status_code == 403


def test_the_case_list_exports_the_visible_cases_masked(client, world):
    mine = make_case(world, text="电话13912345678的住户反映楼道堵塞", reporter_name="张三丰")
    make_case(world, area=world.sibling_microgrid, text="隔壁网格的事")
    client.force_login(world.grid_worker)
    assert "case-export" in client.get(reverse("case_list")).content.decode()
    response = client.get(reverse("case_list_export"))
    assert response.status_code == 200 and response["X-Shanzhi-Rows"] == "1"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[0] == "编号" and len(rows) == 2 and row["编号"] == mine.number
    assert "139****5678" in row["描述"] and "13912345678" not in row["描述"]
    assert row["上报人"] == "张**" and row["联系电话"] == "138****1111"


def test_the_export_follows_the_lists_filters(client, world):
    make_case(world, text="电瓶车充电")
    make_case(world, text="噪音扰民")
    client.force_login(world.dispatcher)
    response = client.get(reverse("case_list_export"), {"q": "噪音"})
    assert response["X-Shanzhi-Rows"] == "1"


def test_a_case_prints_as_a_work_order_with_its_timeline(client, world):
    case = make_case(world, State.RESOLVED, reporter_name="李四")
    client.force_login(world.dispatcher)
    detail = client.get(reverse("case_detail", args=[case.number])).content.decode()
    assert reverse("case_print", args=[case.number]) in detail
    html = client.get(reverse("case_print", args=[case.number])).content.decode()
    assert "事件处置工单" in html and case.number in html
    assert "李*" in html and "138****1111" in html
    assert "交办" in html and "承办人签字" in html and "已劝离并清理" in html
    client.force_login(world.other_leader)
    assert client.get(reverse("case_print", args=[case.number])).status_code == 404
