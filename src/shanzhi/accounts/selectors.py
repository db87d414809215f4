"""Reads of units, users and grants shared by pages, admin and commands."""

from collections import defaultdict
from collections.abc import Iterable

from shanzhi.areas.models import Area

from .models import RoleGrant


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
