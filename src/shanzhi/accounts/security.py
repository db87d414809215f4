"""The security log: one way to write it, for sign-ins, passwords, second factors, grants, keys.

Rows are only ever added (on PostgreSQL a trigger refuses UPDATE and DELETE). A row is written
in the caller's transaction, so an event is logged exactly when what it records happened.
"""

from shanzhi.areas.models import Area

from .models import RoleGrant, SecurityEvent, User


def home_area(user: User | None) -> Area | None:
    """Where an account belongs for the log's scope: its unit's area, else its outermost grant."""
    if user is None or user.pk is None:
        return None
    if user.unit is not None:
        return user.unit.area
    grant = (
        RoleGrant.objects.filter(user=user)
        .select_related("area")
        .order_by("area__depth", "area__path")
        .first()
    )
    return grant.area if grant is not None else None


def security_event_record(
    *,
    kind: str,
    user: User | None = None,
    username: str = "",
    actor: User | None = None,
    address: str = "",
    note: str = "",
) -> SecurityEvent:
    """Append one event about `user` (or, for a name no account has, about `username`)."""
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=(user.username if user is not None else username)[:150],
        actor=actor,
        address=address[:45],
        area=home_area(user),
        note=note[:300],
    )
