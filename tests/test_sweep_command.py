"""`shanzhi sweep`: reminds of cases due soon and supervises overdue ones, each only once."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from shanzhi import clock
from shanzhi.accounts.models import Unit
from shanzhi.cases import services
from shanzhi.cases.management.commands.sweep import Command as SweepCommand
from shanzhi.cases.models import Case, CaseAction, CaseType, Notification, Source

pytestmark = pytest.mark.django_db


def dispatched_at(world, moment: datetime, text: str) -> Case:
    """A fight reported and dispatched to the police at `moment` (4 natural hours to handle)."""
    services.catalogue_seed(street=world.street)
    fight = CaseType.objects.get(street=world.street, code="ZA-DJ-01")
    with clock.acting_at(moment):
        case, _ = services.case_report(
            area=world.microgrid,
            source=Source.RESIDENT,
            description=text,
            reporter_phone="13900002222",
        )
        case = services.case_accept(case=case, actor=world.dispatcher, case_type=fight)
        return services.case_dispatch(
            case=case, actor=world.dispatcher, unit=Unit.objects.get(name="城厢派出所")
        )


def sweep() -> str:
    out = StringIO()
    call_command("sweep", stdout=out)
    return out.getvalue()


def test_sweep_reminds_and_supervises_once(world, settings):
    settings.SHANZHI_DUE_SOON_SHARE = 0.2
    now = clock.now()
    # Due in half an hour: past the last fifth of its four hours.
    due_soon = dispatched_at(world, now - timedelta(hours=3.5), "烧烤店门口有人打架")
    # Two hours past its deadline.
    overdue = dispatched_at(world, now - timedelta(hours=6), "小区门口两伙人因停车冲突")
    assert due_soon.due_soon_at < now < due_soon.handle_due_at
    assert overdue.handle_due_at < now

    assert "临期提醒 1 条,自动督办 1 件" in sweep()
    reminder = Notification.objects.get(kind="due_soon")
    assert (reminder.user, reminder.case) == (world.handler, due_soon)
    supervision = CaseAction.objects.get(action="supervise")
    assert (supervision.case, supervision.actor) == (overdue, None)
    overdue.refresh_from_db()
    assert overdue.supervise_count == 1

    counts = (Notification.objects.count(), CaseAction.objects.count())
    assert "临期提醒 0 条,自动督办 0 件" in sweep()
    assert (Notification.objects.count(), CaseAction.objects.count()) == counts
    overdue.refresh_from_db()
    assert overdue.supervise_count == 1


def test_sweep_with_nothing_due_changes_nothing(world):
    fresh = dispatched_at(world, clock.now(), "楼道里有人打架")
    before = CaseAction.objects.filter(case=fresh).count()
    assert "临期提醒 0 条,自动督办 0 件" in sweep()
    assert CaseAction.objects.filter(case=fresh).count() == before
    assert not Notification.objects.filter(kind="due_soon").exists()


def test_help_documents_the_cron_line():
    text = SweepCommand().create_parser("shanzhi", "sweep").format_help()
    cron = [line for line in text.splitlines() if line.strip().startswith("* * * * *")]
    assert cron and cron[0].rstrip().endswith("shanzhi sweep >> var/sweep.log 2>&1")
