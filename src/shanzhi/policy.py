"""The one place that decides who may see and do what, over which part of the grid.

Every page, API handler, admin screen, export and report asks here. A user's scope is the union
of the subtrees of the areas they hold active role grants on; platform superusers see everything.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from shanzhi.accounts.models import Role, RoleGrant, Unit, User
from shanzhi.areas.models import Area
from shanzhi.errors import NotFound

_GRANTS_CACHE = "_shanzhi_active_grants"


def _is_signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def active_grants(user: Any) -> list[RoleGrant]:
    """The user's active grants with their areas, read once per user object."""
    if not _is_signed_in(user):
        return []
    cached = getattr(user, _GRANTS_CACHE, None)
    if cached is None:
        cached = list(
            RoleGrant.objects.filter(user=user, revoked_at__isnull=True).select_related("area")
        )
        setattr(user, _GRANTS_CACHE, cached)
    return cached


def forget_grants(user: Any) -> None:
    """Drop the cached grants after they change."""
    if hasattr(user, _GRANTS_CACHE):
        delattr(user, _GRANTS_CACHE)


def _outermost(paths: Iterable[str]) -> list[str]:
    """Remove paths that lie under another path of the set."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(path.startswith(outer) for outer in kept):
            kept.append(path)
    return kept


def scope_paths(user: Any, roles: Iterable[str] | None = None) -> list[str]:
    """The outermost area paths the user's grants (optionally of these roles) cover."""
    wanted = set(roles) if roles is not None else None
    return _outermost(
        grant.area.path for grant in active_grants(user) if wanted is None or grant.role in wanted
    )


def _paths_q(paths: list[str], field: str = "path") -> Q:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{field}__startswith": path})
    return condition


def is_platform_admin(user: Any) -> bool:
    return _is_signed_in(user) and bool(user.is_superuser)


def has_role(user: Any, role: str, area: Area | None = None) -> bool:
    """Whether the user holds `role`, over `area` when one is given."""
    if area is None:
        return any(grant.role == role for grant in active_grants(user))
    return any(area.is_within(grant.area) for grant in active_grants(user) if grant.role == role)


def roles_of(user: Any) -> list[str]:
    return sorted({grant.role for grant in active_grants(user)})


# Areas ---------------------------------------------------------------------------------------


def areas_visible_to(user: Any) -> QuerySet[Area]:
    """Every area node the user may see."""
    if is_platform_admin(user):
        return Area.objects.all()
    paths = scope_paths(user)
    if not paths:
        return Area.objects.none()
    return Area.objects.filter(_paths_q(paths))


def can_view_area(user: Any, area: Area) -> bool:
    if is_platform_admin(user):
        return True
    return any(area.path.startswith(path) for path in scope_paths(user))


def area_for(user: Any, code: str) -> Area:
    """The area with `code` if the user may see it; otherwise NotFound, as if it did not exist."""
    area = Area.objects.filter(code=code).first()
    if area is None or not can_view_area(user, area):
        raise NotFound("没有找到该辖区,或您无权查看")
    return area


def scope_roots(user: Any) -> list[Area]:
    """The topmost nodes of the user's scope, where their tree starts."""
    if is_platform_admin(user):
        return list(Area.objects.filter(parent__isnull=True).order_by("code"))
    by_path = {grant.area.path: grant.area for grant in active_grants(user)}
    return [by_path[path] for path in scope_paths(user)]


def can_manage_area(user: Any, area: Area) -> bool:
    """Administrators manage the nodes of their scope (not the node they were granted on)."""
    if is_platform_admin(user):
        return True
    return any(
        area.path.startswith(path) and area.path != path
        for path in scope_paths(user, [Role.ADMINISTRATOR])
    )


def can_add_area_under(user: Any, parent: Area | None) -> bool:
    """New roots (cities, districts, streets without a parent) are the platform's to add."""
    if parent is None:
        return is_platform_admin(user)
    return is_platform_admin(user) or has_role(user, Role.ADMINISTRATOR, parent)


def can_use_admin(user: Any) -> bool:
    """The administration screens are for platform superusers and administrators."""
    return is_platform_admin(user) or has_role(user, Role.ADMINISTRATOR)


# Units ---------------------------------------------------------------------------------------


def units_visible_to(user: Any) -> QuerySet[Unit]:
    if is_platform_admin(user):
        return Unit.objects.all()
    paths = scope_paths(user)
    if not paths:
        return Unit.objects.none()
    return Unit.objects.filter(_paths_q(paths, "area__path"))


def can_add_unit_at(user: Any, area: Area) -> bool:
    return is_platform_admin(user) or has_role(user, Role.ADMINISTRATOR, area)


def can_manage_unit(user: Any, unit: Unit) -> bool:
    return can_add_unit_at(user, unit.area)


def units_manageable_by(user: Any) -> QuerySet[Unit]:
    if is_platform_admin(user):
        return Unit.objects.all()
    paths = scope_paths(user, [Role.ADMINISTRATOR])
    return Unit.objects.filter(_paths_q(paths, "area__path"))


def areas_manageable_by(user: Any) -> QuerySet[Area]:
    """Nodes the user may put units, grants or children on."""
    if is_platform_admin(user):
        return Area.objects.all()
    return Area.objects.filter(_paths_q(scope_paths(user, [Role.ADMINISTRATOR])))


# Users and grants ----------------------------------------------------------------------------


def users_visible_to(user: Any) -> QuerySet[User]:
    """Staff whose unit or an active grant lies in the user's scope, and the user themself."""
    if is_platform_admin(user):
        return User.objects.all()
    if not _is_signed_in(user):
        return User.objects.none()
    paths = scope_paths(user)
    in_scope = _paths_q(paths, "unit__area__path") | (
        _paths_q(paths, "grants__area__path") & Q(grants__revoked_at__isnull=True)
    )
    ids = User.objects.filter(in_scope).values("pk")
    return User.objects.filter(Q(pk__in=ids) | Q(pk=user.pk))


def can_manage_user(user: Any, target: User) -> bool:
    """Administrators manage non-superuser staff of the units in their scope."""
    if is_platform_admin(user):
        return True
    if target.is_superuser or target.unit is None:
        return False
    return has_role(user, Role.ADMINISTRATOR, target.unit.area)


def users_manageable_by(user: Any) -> QuerySet[User]:
    if is_platform_admin(user):
        return User.objects.all()
    paths = scope_paths(user, [Role.ADMINISTRATOR])
    return User.objects.filter(_paths_q(paths, "unit__area__path"), is_superuser=False)


def grants_visible_to(user: Any) -> QuerySet[RoleGrant]:
    if is_platform_admin(user):
        return RoleGrant.objects.all()
    paths = scope_paths(user)
    if not paths:
        return RoleGrant.objects.none()
    return RoleGrant.objects.filter(_paths_q(paths, "area__path"))


def can_grant_role(user: Any, role: str, area: Area) -> bool:
    """A role may be granted only within the granter's own administrator scope."""
    if is_platform_admin(user):
        return True
    return has_role(user, Role.ADMINISTRATOR, area)


def can_revoke_grant(user: Any, grant: RoleGrant) -> bool:
    return can_grant_role(user, grant.role, grant.area) and grant.user_id != user.pk
