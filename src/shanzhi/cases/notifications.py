"""Who hears of what a transition did. Sent after the transaction commits, each message once."""

from collections.abc import Iterable

from shanzhi import clock
from shanzhi.accounts.models import Role, RoleGrant, User

from .models import Case, Notification

# Whom each action concerns: the unit now holding the case, or the dispatchers of its street.
UNIT_ACTIONS = {"dispatch": "新交办", "transfer": "转办", "reopen": "重办", "supervise": "督办"}
DISPATCHER_ACTIONS = {
    "return": "被退回",
    "escalate": "被上报",
    "request_extension": "申请延期",
    "resolve": "已办结待回访",
    "resolve_on_spot": "已就地处置待回访",
}


def unit_handlers(case: Case) -> list[User]:
    if case.unit_id is None:
        return []
    handlers = RoleGrant.objects.filter(
        role=Role.HANDLER, revoked_at__isnull=True, user__unit_id=case.unit_id, user__is_active=True
    ).values("user_id")
    return list(User.objects.filter(pk__in=handlers))


def street_dispatchers(case: Case) -> list[User]:
    grants = RoleGrant.objects.filter(
        role=Role.DISPATCHER, revoked_at__isnull=True, user__is_active=True
    ).filter(area__path__in=[*case.area.ancestor_paths, case.area.path])
    return list(User.objects.filter(pk__in=grants.values("user_id")))


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


def notify_transition(case: Case, action: str) -> None:
    """Tell the people a transition concerns, keyed by the case version it produced.

    A replayed past (the demo's year) notifies nobody: there is no one to act on it any more.
    """
    if clock.is_replaying():
        return
    key = f"{action}:{case.pk}:{case.version}"
    if action in UNIT_ACTIONS:
        users = unit_handlers(case)
        if case.assignee_id and case.assignee:
            users.append(case.assignee)
        notify(
            users=users,
            case=case,
            kind=action,
            key=key,
            message=f"{UNIT_ACTIONS[action]}:{case.number} {case.title}",
        )
    elif action in DISPATCHER_ACTIONS:
        notify(
            users=street_dispatchers(case),
            case=case,
            kind=action,
            key=key,
            message=f"{DISPATCHER_ACTIONS[action]}:{case.number} {case.title}",
        )
