"""Staff case pages through the Django test client: 我的待办, the case list, the case detail with
its action panel, the dispatchers' desk and intake, and the leaders' oversight."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shanzhi.accounts.models import Unit
from shanzhi.cases import services
from shanzhi.cases.models import Case, CaseAction, Notification, Source, State
from shanzhi.cases.notifications import notify

from .case_factories import case_type, in_the_past, make_case, photo, police

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def as_user(client, user):
    client.force_login(user)
    return client


def act(client, case, action, *, version=None, **fields):
    """Post the action panel's form of `action`, at the case's current version unless told."""
    data = {f"{action}-version": version if version is not None else case.version}
    data |= {f"{action}-{name}": value for name, value in fields.items()}
    return client.post(f"/cases/{case.number}/act/{action}/", data)


def fresh(case):
    return Case.objects.get(pk=case.pk)


def html_of(response):
    return response.content.decode()


# Access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/inbox/", "/cases/", "/desk/", "/desk/intake/", "/oversight/", "/cases/X/"]
)
def test_every_page_asks_for_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_residents_and_staff_without_roles_are_refused_in_chinese(client, world):
    case = make_case(world)
    for user in (world.resident, world.outsider):
        client = as_user(client, user)
        for url in ("/inbox/", "/cases/", f"/cases/{case.number}/"):
            response = client.get(url)
            assert response.status_code == 403, (user, url)
            assert "没有使用此页面的权限" in html_of(response)


def test_desk_is_for_dispatchers_and_oversight_for_leaders(client, world):
    assert as_user(client, world.dispatcher).get("/desk/").status_code == 200
    assert as_user(client, world.dispatcher).get("/oversight/").status_code == 403
    assert as_user(client, world.leader).get("/oversight/").status_code == 200
    for user in (world.leader, world.handler, world.grid_worker):
        client = as_user(client, user)
        assert client.get("/desk/").status_code == 403
        assert client.get("/desk/intake/").status_code == 403
    assert as_user(client, world.handler).get("/oversight/").status_code == 403


def test_nav_links_follow_the_roles(client, world):
    dispatcher = html_of(as_user(client, world.dispatcher).get("/areas/"))
    assert "我的待办" in dispatcher and "受理台" in dispatcher and "超期督办" not in dispatcher
    leader = html_of(as_user(client, world.leader).get("/areas/"))
    assert "超期督办" in leader and "受理台" not in leader
    resident = html_of(as_user(client, world.resident).get("/areas/"))
    assert "我的待办" not in resident and 'href="/cases/"' not in resident


def test_a_case_out_of_scope_is_not_found(client, world):
    case = make_case(world, area=world.sibling_microgrid)
    assert as_user(client, world.grid_worker).get(f"/cases/{case.number}/").status_code == 404
    assert as_user(client, world.other_leader).get(f"/cases/{case.number}/").status_code == 404
    response = act(as_user(client, world.other_leader), case, "supervise", requirement="快")
    assert response.status_code == 404
    assert fresh(case).supervise_count == 0
    assert as_user(client, world.leader).get(f"/cases/{case.number}/").status_code == 200


# The case list -------------------------------------------------------------------------------


def listed(client, query=""):
    html = html_of(client.get(f"/cases/{query}"))
    return {case.number for case in Case.objects.all() if f'data-number="{case.number}"' in html}


def test_filters_narrow_the_list(client, world):
    ours = make_case(world, text="3号楼楼道电瓶车充电")
    sibling = make_case(world, area=world.sibling_microgrid, text="山兴里垃圾没人清运")
    hotline = make_case(world, source=Source.HOTLINE, actor=world.dispatcher, text="噪音扰民")
    accepted = make_case(world, State.ACCEPTED, text="路灯不亮")
    with in_the_past(30):
        overdue = make_case(world, State.DISPATCHED, text="井盖缺失")
    client = as_user(client, world.leader)

    assert listed(client) == {
        ours.number,
        sibling.number,
        hotline.number,
        accepted.number,
        overdue.number,
    }
    assert sibling.number not in listed(client, f"?area={world.grid.code}")
    assert listed(client, f"?area={world.sibling_grid.code}") == {sibling.number}
    assert listed(client, "?state=accepted") == {accepted.number}
    assert listed(client, "?source=hotline") == {hotline.number}
    assert listed(client, "?q=垃圾") == {sibling.number}
    assert listed(client, "?deadline=overdue") == {overdue.number}
    assert listed(client, f"?case_type={case_type(world).pk}") == {accepted.number, overdue.number}
    assert listed(client, f"?unit={police(world).pk}") == {overdue.number}
    today = timezone.localdate()
    assert overdue.number not in listed(client, f"?reported_from={today:%Y-%m-%d}")
    assert listed(client, f"?reported_to={today - timedelta(days=10):%Y-%m-%d}") == {overdue.number}
    assert 'data-testid="case-count">1</strong> 件' in html_of(client.get("/cases/?q=垃圾"))


def test_list_stays_inside_the_scope_and_names_bad_filters(client, world):
    make_case(world)
    theirs = make_case(world, area=world.sibling_microgrid)
    client = as_user(client, world.grid_worker)
    assert theirs.number not in listed(client)
    response = client.get(f"/cases/?area={world.sibling_grid.code}&reported_from=昨天")
    html = html_of(response)
    assert response.status_code == 200
    assert "没有找到该辖区,或您无权查看" in html and "日期格式不正确" in html
    assert theirs.number not in html


def test_list_answers_htmx_with_the_results_alone(client, world):
    case = make_case(world)
    response = as_user(client, world.dispatcher).get(
        "/cases/?state=reported", HTTP_HX_REQUEST="true"
    )
    html = html_of(response)
    assert "<html" not in html and 'id="case-results"' in html
    assert case.number in html and 'id="case-filters"' not in html


def test_list_is_paginated_and_does_not_query_per_row(client, world, django_assert_max_num_queries):
    make_case(world, State.IN_PROGRESS)
    client = as_user(client, world.dispatcher)
    with CaptureQueriesContext(connection) as one_row:
        client.get("/cases/")
    for n in range(24):
        make_case(world, State.DISPATCHED if n % 2 else State.REPORTED, text=f"第{n}件")
    with django_assert_max_num_queries(len(one_row)):
        html = html_of(client.get("/cases/"))
    assert html.count('<tr data-number="') == 20
    assert "第 1 / 2 页" in html and "下一页" in html
    assert html_of(client.get("/cases/?page=2")).count('<tr data-number="') == 5


# The case detail -------------------------------------------------------------------------------


def test_detail_shows_facts_timeline_and_masks_the_phone(client, world):
    case = make_case(world, State.DISPATCHED, reporter_name="王阿姨")
    for user in (world.grid_worker, world.leader, world.dispatcher, world.handler):
        html = html_of(as_user(client, user).get(f"/cases/{case.number}/"))
        assert "138****1111" in html and "13800001111" not in html, user
        # Those who call back or handle it may ask for the whole number (logged).
        offered = 'data-testid="contact-form"' in html
        assert offered == (user in (world.dispatcher, world.handler)), user
    assert "王阿姨" in html and case.case_type.name in html and "城厢派出所" in html
    assert "景港府1号微网格" in html and "居民上报" in html
    for label in ("上报", "受理", "交办"):
        assert f"<strong>{label}</strong>" in html
    assert "已受理 → 已交办" in html


def test_action_panel_offers_claim_only_to_the_units_handler(client, world):
    case = make_case(world, State.DISPATCHED)
    handler = html_of(as_user(client, world.handler).get(f"/cases/{case.number}/"))
    assert 'data-action="claim"' in handler and 'data-action="return"' in handler
    for user in (world.community_worker, world.dispatcher, world.leader, world.grid_worker):
        html = html_of(as_user(client, user).get(f"/cases/{case.number}/"))
        assert 'data-action="claim"' not in html, user
    dispatcher = html_of(as_user(client, world.dispatcher).get(f"/cases/{case.number}/"))
    assert 'data-action="transfer"' in dispatcher
    assert 'data-action="supervise"' in html_of(
        as_user(client, world.leader).get(f"/cases/{case.number}/")
    )


def test_dispatcher_sees_routing_suggestions_with_the_unit_preselected(client, world):
    case_type(world)
    case = make_case(world, text="楼道里有人给电瓶车充电,飞线很危险")
    html = html_of(as_user(client, world.dispatcher).get(f"/cases/{case.number}/"))
    assert "智能分拨建议" in html
    fragment = html_of(client.get(f"/routing/cases/{case.number}/suggestions/"))
    assert "电动自行车违规充电" in fragment and "关键词" in fragment
    # Keywords carry no confidence, so they never choose the type beforehand.
    assert f'<option value="{case_type(world, "AQ-DD-01").pk}" selected>' not in html
    services.case_accept(case=case, actor=world.dispatcher, case_type=case_type(world))
    html = html_of(as_user(client, world.dispatcher).get(f"/cases/{case.number}/"))
    committee = Unit.objects.get(name="湘湖社区居委会")
    assert f'<option value="{committee.pk}" selected>' in html
    assert "智能分拨建议" not in html_of(
        as_user(client, world.leader).get(f"/cases/{case.number}/")
    )


def test_the_full_loop_through_the_action_posts(client, world):
    services.catalogue_seed(street=world.street)
    case = make_case(world)
    dispatcher = as_user(client, world.dispatcher)

    response = act(
        dispatcher, case, "accept", case_type=case_type(world).pk, area=world.microgrid.code
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.number}/"
    case = fresh(case)
    assert case.state == State.ACCEPTED and case.case_type == case_type(world)

    act(dispatcher, case, "dispatch", unit=police(world).pk, note="请尽快处置")
    case = fresh(case)
    assert case.state == State.DISPATCHED and case.unit == police(world)

    handler = as_user(client, world.handler)
    act(handler, case, "claim")
    case = fresh(case)
    assert case.state == State.IN_PROGRESS and case.assignee == world.handler

    later = timezone.localtime(case.handle_due_at) + timedelta(days=3)
    response = act(
        handler, case, "request_extension", due_at=f"{later:%Y-%m-%dT%H:%M}", reason="需协调物业"
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.extension_requested_until == later.replace(second=0, microsecond=0)

    dispatcher = as_user(client, world.dispatcher)
    assert 'data-action="approve_extension"' in html_of(dispatcher.get(f"/cases/{case.number}/"))
    act(dispatcher, case, "approve_extension", note="同意")
    case = fresh(case)
    assert case.handle_due_at == later.replace(second=0, microsecond=0)
    assert case.extension_requested_until is None

    handler = as_user(client, world.handler)
    response = handler.post(
        f"/cases/{case.number}/act/resolve/",
        {
            "resolve-version": case.version,
            "resolve-result": "已清理楼道",
            "resolve-photos": photo(),
        },
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.state == State.RESOLVED and case.resolution == "已清理楼道"
    evidence = case.attachments.get()
    assert evidence.action.action == "resolve"

    dispatcher = as_user(client, world.dispatcher)
    response = act(dispatcher, case, "callback", satisfaction="satisfied", note="居民认可")
    assert response.status_code == 302
    case = fresh(case)
    assert case.state == State.ARCHIVED and case.satisfaction == "satisfied"

    html = html_of(dispatcher.get(f"/cases/{case.number}/"))
    for label in ("受理", "交办", "签收", "申请延期", "批准延期", "办结", "回访"):
        assert f"<strong>{label}</strong>" in html
    assert "满意度:满意" in html and "当前没有您可执行的操作" in html
    photo_response = dispatcher.get(f"/cases/{case.number}/photos/{evidence.pk}/")
    assert photo_response.status_code == 200 and photo_response["Content-Type"] == "image/png"
    other = as_user(client, world.other_leader)
    assert other.get(f"/cases/{case.number}/photos/{evidence.pk}/").status_code == 404


def test_unsatisfied_callback_reopens(client, world):
    case = make_case(world, State.RESOLVED)
    response = act(as_user(client, world.dispatcher), case, "callback", satisfaction="unsatisfied")
    assert response.status_code == 302
    case = fresh(case)
    assert case.state == State.DISPATCHED and case.reopen_count == 1


def test_a_stale_version_changes_nothing_and_says_so(client, world):
    case = make_case(world, State.DISPATCHED)
    stale = case.version
    services.case_claim(case=case, actor=world.handler)
    response = act(
        as_user(client, world.handler), case, "return", version=stale, reason="不归我们管"
    )
    assert response.status_code == 409
    assert "该事件已被他人处理,请刷新" in html_of(response)
    case = fresh(case)
    assert case.state == State.IN_PROGRESS and case.unit == police(world)
    assert not CaseAction.objects.filter(case=case, action="return").exists()


def test_a_missing_reason_is_named_in_chinese(client, world):
    case = make_case(world, State.IN_PROGRESS)
    response = act(as_user(client, world.handler), case, "return", reason="   ")
    assert response.status_code == 400
    assert "请填写理由" in html_of(response)
    assert fresh(case).state == State.IN_PROGRESS and fresh(case).version == case.version


def test_resolve_needs_a_photo_or_a_text_as_evidence(client, world):
    case = make_case(world, State.IN_PROGRESS)
    response = act(as_user(client, world.handler), case, "resolve", result="已处理")
    assert response.status_code == 400
    assert "办理凭证(照片或文字说明)" in html_of(response)
    assert fresh(case).state == State.IN_PROGRESS
    response = act(
        as_user(client, world.handler), case, "resolve", result="已处理", evidence="见回执"
    )
    assert response.status_code == 302 and fresh(case).state == State.RESOLVED


def test_the_engines_refusal_shows_and_changes_nothing(client, world):
    case = make_case(world)
    response = act(as_user(client, world.handler), case, "claim")
    assert response.status_code == 400
    assert "事件当前为“待受理”,不能签收" in html_of(response)
    response = act(as_user(client, world.leader), case, "reject", reason="不归我们管")
    assert response.status_code == 403 and "无权对该事件执行“不予受理”" in html_of(response)
    assert fresh(case).state == State.REPORTED


def test_action_posts_answer_htmx_with_the_detail_region(client, world):
    case = make_case(world, State.DISPATCHED)
    client = as_user(client, world.handler)
    response = client.post(
        f"/cases/{case.number}/act/claim/", {"claim-version": case.version}, HTTP_HX_REQUEST="true"
    )
    html = html_of(response)
    assert response.status_code == 200 and "<html" not in html
    assert 'id="case-body"' in html and "已签收" in html
    response = client.post(
        f"/cases/{case.number}/act/claim/", {"claim-version": case.version}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "该事件已被他人处理,请刷新" in html_of(response)


def test_unknown_actions_and_gets_are_refused(client, world):
    case = make_case(world)
    client = as_user(client, world.dispatcher)
    assert client.post(f"/cases/{case.number}/act/explode/", {}).status_code == 404
    assert client.get(f"/cases/{case.number}/act/reject/").status_code == 405


def test_dispatcher_merges_a_duplicate_from_the_detail_page(client, world):
    kept = make_case(world, text="3号楼楼道里有电瓶车在充电,很危险")
    duplicate = make_case(world, text="3号楼楼道里有电瓶车在充电,太危险了")
    html = html_of(as_user(client, world.dispatcher).get(f"/cases/{duplicate.number}/"))
    assert "疑似重复事件" in html and kept.number in html and "合并到此事件" in html
    assert "合并到此事件" not in html_of(
        as_user(client, world.leader).get(f"/cases/{duplicate.number}/")
    )
    response = act(as_user(client, world.dispatcher), duplicate, "merge", target=kept.number)
    assert response.status_code == 302
    assert fresh(duplicate).state == State.MERGED and fresh(duplicate).merged_into == kept


def test_detail_does_not_query_per_timeline_row(client, world, django_assert_max_num_queries):
    case = make_case(world, State.IN_PROGRESS)
    client = as_user(client, world.leader)
    url = f"/cases/{case.number}/"
    with CaptureQueriesContext(connection) as few_rows:
        client.get(url)
    for n in range(15):
        case = services.case_supervise(case=case, actor=world.leader, requirement=f"第{n}次督办")
    with django_assert_max_num_queries(len(few_rows)):
        html = html_of(client.get(url))
    assert html.count('data-action="supervise"') == 16  # fifteen rows and the form


# 我的待办 -----------------------------------------------------------------------------------------


def test_inbox_lists_the_handlers_cases_most_urgent_first_with_badges(client, world):
    calm = make_case(world, State.DISPATCHED, text="楼道堆物")
    with in_the_past(30):
        late = make_case(world, State.DISPATCHED, text="井盖缺失")
    make_case(world, text="还没交办的")
    html = html_of(as_user(client, world.handler).get("/inbox/"))
    assert html.index(late.number) < html.index(calm.number)
    # How late, in days: dispatched 30 days ago with 5 working days to handle it.
    assert re.search(r'<span class="badge badge-overdue">超期(2[0-9])天</span>', html)
    assert "还没交办的" not in html
    assert "共 2 件" in html


def test_due_soon_cases_carry_the_badge_on_inbox_list_and_detail(client, world, settings):
    # With the whole handling time counted as the warning share, a fresh dispatch is due soon.
    settings.SHANZHI_DUE_SOON_SHARE = 1.0
    case = make_case(world, State.DISPATCHED)
    client = as_user(client, world.handler)
    badge = '<span class="badge badge-due_soon">临期</span>'
    for url in ("/inbox/", "/cases/?deadline=due_soon", f"/cases/{case.number}/"):
        assert badge in html_of(client.get(url)), url
    assert case.number not in html_of(client.get("/cases/?deadline=overdue"))


def test_inbox_notifications_are_marked_read(client, world):
    case = make_case(world, State.DISPATCHED)
    for n in range(3):
        notify(users=[world.handler], case=case, kind="dispatch", key=f"k{n}", message=f"新交办{n}")
    notify(users=[world.dispatcher], case=case, kind="return", key="other", message="别人的通知")
    client = as_user(client, world.handler)
    html = html_of(client.get("/inbox/"))
    assert "新交办2" in html and "别人的通知" not in html and "3 条未读" in html
    first = Notification.objects.get(message="新交办0")
    response = client.post("/inbox/notifications/read/", {"id": first.pk}, HTTP_HX_REQUEST="true")
    html = html_of(response)
    assert "<html" not in html and "新交办0" not in html and "2 条未读" in html
    response = client.post("/inbox/notifications/read/")
    assert response.status_code == 302
    assert not Notification.objects.filter(user=world.handler, read_at__isnull=True).exists()
    assert Notification.objects.get(message="别人的通知").read_at is None


def test_inbox_does_not_query_per_row(client, world, django_assert_max_num_queries):
    make_case(world, State.DISPATCHED)
    notify(users=[world.handler], case=None, kind="x", key="k", message="提醒")
    client = as_user(client, world.handler)
    with CaptureQueriesContext(connection) as one_row:
        client.get("/inbox/")
    for n in range(15):
        case = make_case(world, State.IN_PROGRESS, text=f"第{n}件")
        notify(users=[world.handler], case=case, kind="x", key=f"k{n}", message=f"通知{n}")
    with django_assert_max_num_queries(len(one_row)):
        html = html_of(client.get("/inbox/"))
    assert html.count('<tr data-number="') == 16


def test_inbox_regions_are_htmx_fragments(client, world):
    make_case(world)
    client = as_user(client, world.grid_worker)
    for url, region in (
        ("/inbox/cases/", "inbox-cases"),
        ("/inbox/notifications/", "inbox-notifications"),
    ):
        html = html_of(client.get(url, HTTP_HX_REQUEST="true"))
        assert "<html" not in html and f'id="{region}"' in html
    assert "待受理" in html_of(client.get("/inbox/cases/"))


# 受理台 ------------------------------------------------------------------------------------------


def test_desk_counts_the_queues_and_pages_each(client, world):
    make_case(world)
    make_case(world)
    make_case(world, State.ACCEPTED)
    make_case(world, State.RESOLVED)
    waiting = make_case(world, State.IN_PROGRESS)
    services.case_request_extension(
        case=waiting,
        actor=world.handler,
        due_at=waiting.handle_due_at + timedelta(days=5),
        reason="等配件",
    )
    with in_the_past(30):
        make_case(world, State.DISPATCHED)
    client = as_user(client, world.dispatcher)
    html = html_of(client.get("/desk/"))
    for name, count in (
        ("reported", 2),
        ("accepted", 1),
        ("resolved", 1),
        ("extension", 1),
        ("overdue", 1),
    ):
        assert f'data-testid="count-{name}">{count}<' in html, name
    fragment = html_of(client.get("/desk/queues/extension/", HTTP_HX_REQUEST="true"))
    assert "<html" not in fragment and waiting.number in fragment and "延期待审批" in fragment
    assert client.get("/desk/queues/nonsense/").status_code == 404


def test_desk_queue_pages_link_back_to_the_same_queue(client, world):
    for n in range(21):
        make_case(world, text=f"第{n}件")
    fragment = html_of(as_user(client, world.dispatcher).get("/desk/queues/reported/"))
    assert fragment.count('<tr data-number="') == 20
    assert 'href="/desk/?queue=reported&amp;page=2"' in fragment
    assert 'hx-get="/desk/queues/reported/?queue=reported&amp;page=2"' in fragment


def test_intake_registers_a_hotline_call_and_shows_duplicates(client, world):
    earlier = make_case(world, text="景港府3号楼楼道里有电瓶车在充电,很危险")
    client = as_user(client, world.dispatcher)
    page = html_of(client.get("/desk/intake/"))
    assert "12345热线" in page and "居民上报" not in page
    assert "keyup changed delay:500ms from:[name='description']" in page
    data = {
        "source": Source.HOTLINE,
        "area": world.microgrid.code,
        "description": "景港府3号楼楼道里有电瓶车在充电,太危险了",
        "reporter_name": "李先生",
        "reporter_phone": "13912345678",
        "client_key": "intake-key-1",
    }
    response = client.post("/desk/intake/", data)
    case = Case.objects.get(client_key="intake-key-1")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.number}/"
    assert case.source == Source.HOTLINE and case.reporter_phone == "13912345678"
    html = html_of(client.get(response["Location"]))
    assert "疑似重复事件" in html and earlier.number in html and "139****5678" in html
    again = client.post("/desk/intake/", data)
    assert again["Location"] == f"/cases/{case.number}/"
    assert Case.objects.filter(client_key="intake-key-1").count() == 1


def test_intake_refuses_bad_input_in_chinese(client, world):
    client = as_user(client, world.dispatcher)
    response = client.post(
        "/desk/intake/",
        {
            "source": Source.RESIDENT,
            "area": world.other_grid.code,
            "description": " ",
            "reporter_phone": "12345",
            "client_key": "k",
        },
    )
    html = html_of(response)
    assert response.status_code == 400
    assert "请从列表中选择来源渠道" in html and "只能选择您受理范围内的地点" in html
    assert "请填写诉求内容" in html and "联系电话格式不正确" in html
    assert not Case.objects.exists()


def test_suggest_fragment_routes_by_keywords(client, world):
    case_type(world)
    client = as_user(client, world.dispatcher)
    html = html_of(
        client.get(
            "/routing/suggest/",
            {"description": "楼道里电瓶车拉线充电", "area": world.microgrid.code},
            HTTP_HX_REQUEST="true",
        )
    )
    assert "<html" not in html and "电动自行车违规充电" in html and "湘湖社区居委会" in html
    html = html_of(client.get("/routing/suggest/", {"description": "电瓶车充电"}))
    assert "请先选择发生地" in html
    html = html_of(
        client.get(
            "/routing/suggest/", {"description": "电瓶车充电", "area": world.other_grid.code}
        )
    )
    assert "没有找到该辖区" in html


# 超期督办 ----------------------------------------------------------------------------------------


def test_oversight_lists_overdue_cases_and_supervises_them(client, world):
    with in_the_past(30):
        late = make_case(world, State.DISPATCHED, text="井盖缺失")
    on_time = make_case(world, State.DISPATCHED, text="楼道堆物")
    client = as_user(client, world.leader)
    html = html_of(client.get("/oversight/"))
    assert late.number in html and on_time.number not in html
    assert "暂无督办中的事件" in html
    response = client.post(
        f"/cases/{late.number}/act/supervise/",
        {
            "supervise-version": late.version,
            "supervise-requirement": "三日内办结",
            "next": "/oversight/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/oversight/"
    assert fresh(late).supervise_count == 1
    assert f"已督办:事件 {late.number}" in html_of(client.get(response["Location"]))
    fragment = html_of(client.get("/oversight/supervised/", HTTP_HX_REQUEST="true"))
    assert "<html" not in fragment and late.number in fragment
    assert "leader:三日内办结" in fragment
    assert late.number not in html_of(as_user(client, world.other_leader).get("/oversight/"))


def test_supervise_form_refuses_an_unsafe_next(client, world):
    case = make_case(world, State.DISPATCHED)
    response = as_user(client, world.leader).post(
        f"/cases/{case.number}/act/supervise/",
        {
            "supervise-version": case.version,
            "supervise-requirement": "抓紧",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == f"/cases/{case.number}/"


def test_the_reporters_phone_is_masked_until_a_callback_asks_and_the_ask_is_logged(client, world):
    from shanzhi.registry.models import AccessLog

    case = make_case(world, State.RESOLVED, reporter_phone="13800001111")
    url = f"/cases/{case.number}/"
    client.force_login(world.dispatcher)
    page = client.get(url).content.decode()
    assert "138****1111" in page and "13800001111" not in page
    assert 'data-testid="contact-form"' in page
    blank = client.post(f"{url}contact/", {"reason": " "}, HTTP_HX_REQUEST="true")
    assert blank.status_code == 400 and "查看原因" in blank.content.decode()
    asked = client.post(f"{url}contact/", {"reason": "回访联系"}, HTTP_HX_REQUEST="true")
    assert asked.status_code == 200 and "13800001111" in asked.content.decode()
    log = AccessLog.objects.get()
    assert (log.user, log.subject_id, log.field, log.reason) == (
        world.dispatcher,
        case.pk,
        "phone",
        "回访联系",
    )

    client.force_login(world.grid_worker)
    assert 'data-testid="contact-form"' not in client.get(url).content.decode()
    refused = client.post(f"{url}contact/", {"reason": "看看"})
    assert refused.status_code == 403 and "13800001111" not in refused.content.decode()
    assert AccessLog.objects.count() == 1
