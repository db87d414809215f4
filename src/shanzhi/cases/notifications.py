"""Who hears of what a transition did. Sent after the transaction commits, each message once.

Whom a transition tells, and the words the message begins with, are declared on the transition
(`Tell`); this module only knows how to find each audience.
"""

from collections.abc import Callable, Iterable

from shanzhi import clock
from shanzhi.accounts.models import Role, RoleGrant, User

from .models import Case, CaseAction, Notification


def unit_handlers(case: Case) -> list[User]:
    """The handlers of the unit now holding the case, and whoever claimed it."""
    if case.unit_id is None:
        return []
    handlers = RoleGrant.objects.filter(
        role=Role.HANDLER, revoked_at__isnull=True, user__unit_id=case.unit_id, user__is_active=True
    ).values("user_id")
    users = list(User.objects.filter(pk__in=handlers))
    if case.assignee_id and case.assignee is not None:
        users.append(case.assignee)
    return users


def _over_area(case: Case, role: str) -> list[User]:
    grants = RoleGrant.objects.filter(
        role=role, revoked_at__isnull=True, user__is_active=True
    ).filter(area__path__in=[*case.area.ancestor_paths, case.area.path])
    return list(User.objects.filter(pk__in=grants.values("user_id")))


def street_dispatchers(case: Case) -> list[User]:
    return _over_area(case, Role.DISPATCHER)


def _leaders(case: Case) -> list[User]:
    return _over_area(case, Role.LEADER)


def _reporter(case: Case) -> list[User]:
    return [case.reporter] if case.reporter_id and case.reporter is not None else []


AUDIENCES: dict[str, Callable[[Case], list[User]]] = {
    "unit": unit_handlers,
    "dispatchers": street_dispatchers,
    "leaders": _leaders,
    "reporter": _reporter,
}


def audience(case: Case, who: Iterable[str]) -> list[User]:
    """Everyone of the named audiences of a case (see spec.AUDIENCE_LABELS)."""
    return [user for name in who for user in AUDIENCES[name](case)]


def notify(*, users: Iterable[User], case: Case | None, kind: str, message: str, key: str) -> int:
    """Put a message in each user's inbox unless the same `key` already reached them."""
    recipients = {user.pk for user in users}
    if not recipients:
        return 0
    already = set(
        Notification.objects.filter(key=key, user_id__in=recipients).values_list(
            "user_id", flat=True
        )
    )
    moment = clock.now()
    new = [
        Notification(
            user_id=user_id, case=case, kind=kind, message=message[:300], key=key, created_at=moment
        )
        for user_id in sorted(recipients - already)
    ]
    # Two sweeps at once may both see a key as new; the unique constraint keeps one row.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def notify_transition(case: Case, log: CaseAction, *, version: int) -> None:
    """Tell the people the transition's declaration names, keyed by the case `version` it
    produced (so that a delivery repeated later, the case moved on, sends nothing twice)."""
    from .flows import FLOWS

    if log.from_state != log.to_state:
        # The case moved on: what its earlier messages asked for is done or no longer theirs.
        Notification.objects.filter(
            case=case, read_at__isnull=True, created_at__lte=log.created_at
        ).update(read_at=clock.now())

    flow = FLOWS.get(log.flow)
    transition = flow.transition(log.action) if flow is not None else None
    if transition is None or transition.tell is None:
        return
    notify(
        # Nobody is told of their own step.
        users=[user for user in audience(case, transition.tell.who) if user.pk != log.actor_id],
        case=case,
        kind=log.action,
        key=f"{log.action}:{case.pk}:{version}",
        message=f"{transition.tell.verb}:{case.number} {case.title}",
    )
