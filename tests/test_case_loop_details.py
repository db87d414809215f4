"""The loop's details: evidence text kept in sight, ratings credited to the reporter, a reopened
case back with its handler and the desk told, notifications done when the case moves on, the
old 不满意 as history, dates with their year, and how late an overdue case is."""

import re
from datetime import timedelta

from django.utils import timezone

from shanzhi import clock
from shanzhi.cases import services
from shanzhi.cases.models import Notification, State

from .case_factories import in_the_past, make_case


def test_the_evidence_text_shows_in_the_timeline_and_on_the_residents_page(client, world):
    case = make_case(world, State.IN_PROGRESS)
    services.case_resolve(
        case=case, actor=world.handler, result="已清理楼道", evidence="物业签字确认单号 A-17"
    )
    client.force_login(world.dispatcher)
    staff = client.get(f"/cases/{case.number}/").content.decode()
    assert "凭证文字说明:物业签字确认单号 A-17" in staff
    client.logout()
    public = client.get(f"/t/{case.tracking_token}/").content.decode()
    assert "已清理楼道" in public and "凭证文字说明:物业签字确认单号 A-17" in public


def test_a_rating_through_the_link_is_the_reporters_not_the_systems(client, world):
    case = make_case(world, State.RESOLVED, reporter_name="王秀英")
    client.post(f"/t/{case.tracking_token}/rate/", {"satisfaction": "satisfied"})
    client.force_login(world.dispatcher)
    html = client.get(f"/cases/{case.number}/").content.decode()
    rated = re.search(r'<li data-action="callback">(.*?)</li>', html, re.S)
    assert rated is not None
    assert "上报人王秀英(评价链接)" in rated.group(1) and "系统" not in rated.group(1)


def test_a_reopening_rating_tells_the_desk_and_goes_back_to_the_resolving_handler(
    client, world, django_capture_on_commit_callbacks
):
    case = make_case(world, State.RESOLVED)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_rate(case=case, token=case.tracking_token, satisfaction="unsatisfied")
    case.refresh_from_db()
    assert (case.state, case.assignee) == (State.DISPATCHED, world.handler)
    told = set(Notification.objects.filter(case=case, kind="reopen").values_list("user", flat=True))
    assert {world.dispatcher.pk, world.handler.pk} <= told
    client.force_login(world.handler)
    assert case.number in client.get("/inbox/").content.decode()
    # The 不满意 is history: the facts say the case awaits a new callback.
    client.force_login(world.dispatcher)
    html = client.get(f"/cases/{case.number}/").content.decode()
    assert 'data-testid="satisfaction-history"' in html and "此前评价不满意" in html


def test_a_notification_is_done_once_its_case_moves_on(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(world, State.DISPATCHED)
    note = Notification.objects.get(case=case, user=world.handler, kind="dispatch")
    assert note.read_at is None
    with django_capture_on_commit_callbacks(execute=True):
        services.case_claim(case=case, actor=world.handler)
    note.refresh_from_db()
    assert note.read_at is not None
    # A step that leaves the state as it is (督办, 申请延期) keeps earlier messages open.
    with django_capture_on_commit_callbacks(execute=True):
        services.case_supervise(case=case, actor=world.leader, requirement="今日办结")
    told = Notification.objects.get(case=case, kind="supervise", user=world.handler)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_request_extension(
            case=case,
            actor=world.handler,
            due_at=clock.now() + timedelta(days=10),
            reason="等配件",
        )
    told.refresh_from_db()
    assert told.read_at is None


def test_nobody_is_told_of_their_own_step(world, django_capture_on_commit_callbacks):
    case = make_case(world, State.RESOLVED)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_reopen(case=case, actor=world.dispatcher, reason="核实未解决")
    kinds = Notification.objects.filter(case=case, kind="reopen")
    assert world.handler.pk in set(kinds.values_list("user", flat=True))
    assert not kinds.filter(user=world.dispatcher).exists()


def test_dates_show_the_year_unless_it_is_this_one():
    now = timezone.localtime(clock.now())
    this_year = now.replace(month=3, day=5, hour=9, minute=30)
    last_year = this_year.replace(year=now.year - 1)
    assert clock.moment_label(this_year) == "03-05 09:30"
    assert clock.moment_label(last_year) == f"{now.year - 1}-03-05 09:30"


def test_oversight_says_how_many_days_a_case_is_overdue(client, world):
    with in_the_past(30):
        late = make_case(world, State.DISPATCHED, text="井盖缺失")
    days = (clock.now() - late.handle_due_at).days
    client.force_login(world.leader)
    html = client.get("/oversight/").content.decode()
    assert f"超期{days}天" in html and days >= 20
