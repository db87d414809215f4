"""Who hears of what a transition did. Sent after the transaction commits, each message once."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction

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
    sent = 0
    for user in {u.pk: u for u in users}.values():
        try:
            with transaction.atomic():
                Notification.objects.create(
                    user=user,
                    case=case,
                    kind=kind,
                    message=message[:300],
                    key=key,
                    created_at=clock.now(),
                )
            sent += 1
        except IntegrityError:
            continue
    return sent


def notify_transition(case: Case, action: str) -> None:
    """Tell the people a transition concerns, keyed by the case version it produced."""
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
