"""Reads of the area tree, shared by pages, API, admin and commands."""

from django.db.models import Count, QuerySet

from .models import Area, Level


def area_subtree(*, area: Area, include_self: bool = True) -> QuerySet[Area]:
    """The node and everything below it: one prefix query on the indexed path."""
    nodes = Area.objects.filter(path__startswith=area.path)
    if not include_self:
        nodes = nodes.exclude(pk=area.pk)
    return nodes


def area_ancestors(*, area: Area) -> QuerySet[Area]:
    """The nodes above `area`, root first: one query, the paths being read off its own path."""
    return Area.objects.filter(path__in=area.ancestor_paths).order_by("depth")


def area_children(*, area: Area) -> QuerySet[Area]:
    """Direct children, each with `child_count`, ordered by code."""
    return areas_with_child_counts(areas=Area.objects.filter(parent=area))


def area_level_counts(*, area: Area) -> dict[str, int]:
    """How many nodes of each level lie at or below `area`."""
    rows = area_subtree(area=area).values("level").annotate(n=Count("id")).order_by()
    counts = {str(level): 0 for level in Level}
    counts.update({row["level"]: row["n"] for row in rows})
    return counts


def areas_with_child_counts(*, areas: QuerySet[Area]) -> QuerySet[Area]:
    """The given nodes, each with `child_count`, ordered by code."""
    return areas.annotate(child_count=Count("children")).order_by("code")
