"""Reads of units, users and grants shared by pages, admin and commands."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from shanzhi.areas.models import Area

from .models import RoleGrant, SecurityEvent


def staff_by_area(*, areas: Iterable[Area]) -> dict[int, list[RoleGrant]]:
    """Active grants held on each of `areas`, with their users: one query for all of them."""
    ids = [area.pk for area in areas]
    staff: dict[int, list[RoleGrant]] = defaultdict(list)
    grants = (
        RoleGrant.objects.filter(area_id__in=ids, revoked_at__isnull=True)
        .select_related("user")
        .order_by("role", "user__username")
    )
    for grant in grants:
        staff[grant.area_id].append(grant)
    return staff


def security_events_filtered(
    *,
    events: QuerySet[SecurityEvent],
    kind: str = "",
    username: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[SecurityEvent]:
    """The security log narrowed by event, user name (part of it) and local dates, newest first."""
    if kind:
        events = events.filter(kind=kind)
    if username:
        events = events.filter(username__icontains=username.strip())
    zone = timezone.get_current_timezone()
    if since is not None:
        events = events.filter(at__gte=datetime.combine(since, time.min, tzinfo=zone))
    if until is not None:
        events = events.filter(
            at__lt=datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
        )
    return events.select_related("user", "actor", "area").order_by("-at", "-pk")
