"""The staff's work queues: the dispatchers' desk, the leaders' oversight, the notification inbox.

Reads build on `selectors.case_list`, so every queue stays inside what the user may see; the one
write here marks notifications read.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from shanzhi import clock, policy
from shanzhi.accounts.models import User

from .flows import queues_for, states_of, waiting_q
from .models import Case, CaseAction, Notification
from .selectors import CaseFilters, case_list, overdue_q

# Notifications ----------------------------------------------------------------------------------


def notification_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications read (only those of `ids` when given); the count."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=clock.now())


# The dispatchers' desk (受理台) -------------------------------------------------------------------


@dataclass(frozen=True)
class DeskQueue:
    name: str
    label: str
    condition: Callable[[datetime], Q]
    order: tuple[str, ...]


def _waiting_in(queue: str) -> Callable[[datetime], Q]:
    return lambda moment: waiting_q("dispatcher", queue)


def _desk_queues() -> dict[str, DeskQueue]:
    """The desk's queues: every queue a flow makes dispatchers wait in (first come, first
    served: the oldest case waits longest), and the overdue cases."""
    queues = {
        queue.key: DeskQueue(queue.key, queue.label, _waiting_in(queue.key), queue.order)
        for queue in queues_for("dispatcher")
    }
    queues["overdue"] = DeskQueue("overdue", "超期", overdue_q, ("handle_due_at", "id"))
    return queues


DESK_QUEUES: dict[str, DeskQueue] = _desk_queues()


def _desk_cases(user: User) -> QuerySet[Case]:
    return case_list(user=user) & policy.desk_cases_for(user)


def desk_queue(*, user: User, name: str) -> QuerySet[Case]:
    """One queue of the desk, in the order it is worked through."""
    queue = DESK_QUEUES[name]
    return _desk_cases(user).filter(queue.condition(clock.now())).order_by(*queue.order)


def desk_counts(*, user: User) -> dict[str, int]:
    """How many cases wait in each queue of the desk, in one query."""
    moment = clock.now()
    return _desk_cases(user).aggregate(
        **{name: Count("pk", filter=q.condition(moment)) for name, q in DESK_QUEUES.items()}
    )


# The leaders' oversight (超期督办) ----------------------------------------------------------------


def oversight_overdue(*, user: User) -> QuerySet[Case]:
    """Overdue cases where the user leads, the longest overdue first."""
    overdue = case_list(user=user, filters=CaseFilters(deadline="overdue"))
    return (overdue & policy.oversight_cases_for(user)).order_by("handle_due_at", "id")


def oversight_supervised(*, user: User) -> QuerySet[Case]:
    """Open cases under supervision where the user leads, each with its latest supervision:
    `supervised_at`, `supervision_requirement` and `supervised_by` (None for the sweep)."""
    latest = CaseAction.objects.filter(case=OuterRef("pk"), action="supervise").order_by(
        "-created_at", "-id"
    )
    cases = case_list(user=user, filters=CaseFilters(states=tuple(states_of("open"))))
    return (
        (cases & policy.oversight_cases_for(user))
        .filter(supervise_count__gt=0)
        .annotate(
            supervised_at=Subquery(latest.values("created_at")[:1]),
            # The engine keeps the requirement as the action's note.
            supervision_requirement=Subquery(latest.values("note")[:1]),
            supervised_by=Subquery(
                latest.annotate(
                    who=Coalesce(NullIf(F("actor__full_name"), Value("")), F("actor__username"))
                ).values("who")[:1]
            ),
        )
        .order_by(F("supervised_at").desc(nulls_last=True), "id")
    )
