"""Two people acting on one case at once: exactly one wins, the other is told to refresh."""

import threading

import pytest
from django.db import connection, connections, transaction

from shanzhi.accounts.models import User
from shanzhi.cases import services
from shanzhi.cases.engine import CaseConflict
from shanzhi.cases.models import Case, CaseAction, State

from .case_factories import make_case
from .factories import make_user

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="行级锁与并发事务只在 PostgreSQL 上测试"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_handlers_claim_at_once_and_exactly_one_wins(world):
    case = make_case(world, State.DISPATCHED)
    seen_version = case.version
    second = make_user("police2", unit=world.handler.unit, role="handler", area=world.street)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def claim(username: str) -> None:
        actor = User.objects.get(username=username)
        barrier.wait()
        try:
            services.case_claim(case=case, actor=actor, expected_version=case.version)
            outcomes[username] = "won"
        except CaseConflict as exc:
            outcomes[username] = exc.message
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("police", second.username)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes.values()) == ["won", "该事件已被他人处理,请刷新"]
    assert CaseAction.objects.filter(case=case, action="claim").count() == 1
    case.refresh_from_db()
    winner = next(name for name, outcome in outcomes.items() if outcome == "won")
    assert case.assignee.username == winner and case.version == seen_version + 1


@postgres_only
@pytest.mark.django_db
def test_the_database_refuses_edits_of_the_action_log(world):
    case = make_case(world)
    row = CaseAction.objects.get(case=case)
    # The application role lacks the privilege; the owner would meet the trigger.
    with pytest.raises(Exception, match=r"只追加|permission denied"), transaction.atomic():
        CaseAction.objects.filter(pk=row.pk).update(note="改写历史")
    with pytest.raises(Exception, match=r"只追加|permission denied"), transaction.atomic():
        CaseAction.objects.filter(pk=row.pk).delete()
    assert CaseAction.objects.get(pk=row.pk).note == row.note


@pytest.mark.django_db
def test_a_stale_form_cannot_overwrite_a_newer_state(world):
    case = make_case(world, State.DISPATCHED)
    seen = Case.objects.get(pk=case.pk)  # what a second browser tab loaded
    services.case_claim(case=case, actor=world.handler, expected_version=case.version)
    with pytest.raises(CaseConflict):
        services.case_transfer(
            case=seen,
            actor=world.dispatcher,
            unit=world.handler.unit,
            reason="转办",
            expected_version=seen.version,
        )
    assert Case.objects.get(pk=case.pk).state == State.IN_PROGRESS


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_report_does_not_wait_for_another_report_of_the_same_street(world):
    """No row that every intake of a street must lock: the second report commits while the
    first one's transaction is still open, and both numbers stay unique and dated."""
    from django.utils import timezone

    from shanzhi.cases.models import Source

    # The street's first case of the year makes its sequence; only a report at that very
    # moment waits for it.
    services.case_report(area=world.microgrid, source=Source.RESIDENT, description="第一件")
    finished = threading.Event()
    numbers: list[str] = []

    def second_report() -> None:
        try:
            case, _ = services.case_report(
                area=world.sibling_microgrid, source=Source.RESIDENT, description="路灯不亮"
            )
            numbers.append(case.number)
            finished.set()
        finally:
            connections.close_all()

    with transaction.atomic():
        first, _ = services.case_report(
            area=world.microgrid, source=Source.RESIDENT, description="楼道堆物"
        )
        other = threading.Thread(target=second_report)
        other.start()
        assert finished.wait(timeout=10), "the second report waited for the first"
    other.join(timeout=10)
    day = f"{timezone.localdate(first.reported_at):%Y%m%d}"
    assert len({first.number, *numbers}) == 2
    assert all(n.startswith(f"330109001{day}") for n in (first.number, *numbers))
