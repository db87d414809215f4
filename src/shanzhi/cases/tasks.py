"""Notification delivery as a task: a transition's request does not wait for its messages."""

from celery import shared_task  # type: ignore[import-untyped]
from django.conf import settings

from shanzhi import clock

from .models import Case, CaseAction
from .notifications import notify_transition


def notifications_send(case: Case, log: CaseAction) -> None:
    """Tell the people a transition names: on a worker, or here at once without a broker.

    A replayed past (the demo's year) notifies nobody: there is no one to act on it any more.
    """
    if clock.is_replaying():
        return
    if settings.CELERY_TASK_ALWAYS_EAGER:
        notify_transition(case, log, version=case.version)
    else:
        notify_action.delay(log.pk, case.version)


@shared_task(name="shanzhi.cases.tasks.notify_action")
def notify_action(action_id: int, version: int) -> None:
    """Deliver one transition's messages; a second delivery finds them sent (their key)."""
    log = CaseAction.objects.select_related("case__area", "case__assignee").get(pk=action_id)
    notify_transition(log.case, log, version=version)
