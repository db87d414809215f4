"""The one place that decides who may see and do what, over which part of the grid.

Every page, API handler, admin screen, export and report asks here. A user's scope is the union
of the subtrees of the areas they hold active role grants on; platform superusers see everything.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from shanzhi.accounts.models import Role, RoleGrant, Unit, User
from shanzhi.api.models import ApiToken
from shanzhi.areas.models import Area, Level
from shanzhi.cases.models import Attachment, Case, Source, State
from shanzhi.errors import NotFound
from shanzhi.jobs.models import Job

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
    """Drop the cached grants (and what was derived from them) after they change."""
    for cache in (_GRANTS_CACHE, "_shanzhi_privilege_paths"):
        if hasattr(user, cache):
            delattr(user, cache)


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


def can_edit_calendar(user: Any) -> bool:
    """One working-day calendar serves every street: only platform administrators edit it."""
    return is_platform_admin(user)


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


# Cases ---------------------------------------------------------------------------------------


def cases_visible_to(user: Any) -> QuerySet[Case]:
    """Cases in the user's scope, those their unit holds, and those they reported themselves."""
    if is_platform_admin(user):
        return Case.objects.all()
    if not _is_signed_in(user):
        return Case.objects.none()
    condition = _paths_q(scope_paths(user), "area__path") | Q(reporter=user)
    if user.unit_id is not None and has_role(user, Role.HANDLER):
        condition |= Q(unit_id=user.unit_id)
    return Case.objects.filter(condition)


def can_view_case(user: Any, case: Case) -> bool:
    if is_platform_admin(user):
        return True
    if not _is_signed_in(user):
        return False
    if case.reporter_id == user.pk or can_view_area(user, case.area):
        return True
    return (
        case.unit_id is not None and case.unit_id == user.unit_id and has_role(user, Role.HANDLER)
    )


def case_for(user: Any, number: str) -> Case:
    """The case with `number` if the user may see it; otherwise NotFound."""
    case = (
        Case.objects.select_related("area", "unit", "case_type", "street")
        .filter(number=number)
        .first()
    )
    if case is None or not can_view_case(user, case):
        raise NotFound("没有找到该事件,或您无权查看")
    return case


def _is_unit_handler(user: Any, case: Case) -> bool:
    return (
        case.unit_id is not None and user.unit_id == case.unit_id and has_role(user, Role.HANDLER)
    )


def can_perform(user: Any, case: Case, who: frozenset[str]) -> bool:
    """Whether `user` is one of the kinds of actor a transition names (None is the system)."""
    if user is None:
        return "system" in who
    if not _is_signed_in(user):
        return False
    kinds: dict[str, Any] = {
        "dispatcher": lambda: has_role(user, Role.DISPATCHER, case.area),
        "leader": lambda: has_role(user, Role.LEADER, case.area),
        "unit_handler": lambda: _is_unit_handler(user, case),
        "grid_worker": lambda: has_role(user, Role.GRID_WORKER, case.area),
        # Whoever holds the case at its level may pass it one level up.
        "escalator": lambda: (
            _is_unit_handler(user, case)
            or has_role(user, Role.GRID_WORKER, case.area)
            or has_role(user, Role.HANDLER, case.area)
            or has_role(user, Role.LEADER, case.area)
        ),
    }
    return any(kinds[kind]() for kind in who if kind in kinds)


def can_report(user: Any, source: str, area: Area, *, channel: ApiToken | None = None) -> bool:
    """Residents report anywhere (the QR page); staff channels need the matching role in scope.

    An API channel issued without a user (a 12345 bridge, say) reports in its own source only.
    """
    if source == Source.RESIDENT:
        return True
    if channel is not None and channel.user_id is None:
        return channel.revoked_at is None and source == channel.source
    if not _is_signed_in(user):
        return False
    if is_platform_admin(user):
        return True
    if source == Source.GRID_PATROL:
        return has_role(user, Role.GRID_WORKER, area)
    if source == Source.LEADER:
        return has_role(user, Role.LEADER, area) or has_role(user, Role.DISPATCHER, area)
    if source == Source.ENTERPRISE and (
        has_role(user, Role.GRID_WORKER, area) or has_role(user, Role.LEADER, area)
    ):
        # Problems an enterprise raises during a visit (走访) become its appeal (企业诉求).
        return True
    return has_role(user, Role.DISPATCHER, area) or (
        source == Source.API and can_view_area(user, area)
    )


def units_assignable_for(case: Case) -> QuerySet[Unit]:
    """Units a case may be given to (交办, 转办, 调解组织, 复查机关…): the active ones of its
    street and those above every street (district offices). Who may give it is the
    transition's `who`, checked by `can_perform`."""
    return Unit.objects.filter(is_active=True).filter(
        Q(street_id=case.street_id)
        | Q(street__isnull=True, area__path__in=case.street.ancestor_paths)
    )


# Public and field pages (the resident's QR page, tracking links, grid workers' phone pages) ----

# A grid worker reports and acts at these levels; a QR poster may name any node of a street.
FIELD_LEVELS = frozenset({Level.GRID, Level.MICROGRID, Level.DEDICATED_GRID})


def public_photos_q(prefix: str = "action__") -> Q:
    """Photos a tracking link (or Open311) may show: of the report, and of the results the
    reporter is told of, as each flow declares them."""
    from shanzhi.cases.flows import FLOWS, public_photo_actions

    condition = Q(pk__in=[])
    for key in FLOWS:
        condition |= Q(
            **{f"{prefix}flow": key, f"{prefix}action__in": sorted(public_photo_actions(key))}
        )
    return condition


def area_for_public_report(code: str) -> Area:
    """The area a QR poster names, if residents may report there: the street or a node below it."""
    area = Area.objects.select_related("street").filter(code=code).first()
    if area is None or area.street_id is None:
        raise NotFound("没有找到该上报地点,请核对二维码")
    return area


def case_for_tracking(token: str) -> Case:
    """The case a tracking link opens. Only the secret token grants this; the number never does."""
    case = (
        Case.objects.select_related("area", "unit", "merged_into")
        .filter(tracking_token=token)
        .first()
    )
    if case is None:
        raise NotFound("没有找到该事件,请核对查询链接")
    return case


def tracked_photo_for(case: Case, attachment_id: int) -> Attachment:
    """A photo the tracking link of `case` may show; otherwise NotFound."""
    photo = Attachment.objects.filter(public_photos_q(), case=case, pk=attachment_id).first()
    if photo is None:
        raise NotFound("没有找到该照片")
    return photo


def can_use_field_pages(user: Any) -> bool:
    """The phone pages for patrols are the grid workers'."""
    return has_role(user, Role.GRID_WORKER)


def field_areas_for(user: Any) -> QuerySet[Area]:
    """The grids and microgrids a grid worker patrols: where they report and act on the spot."""
    paths = scope_paths(user, [Role.GRID_WORKER])
    if not paths:
        return Area.objects.none()
    return Area.objects.filter(_paths_q(paths), level__in=FIELD_LEVELS)


def field_cases_for(user: Any) -> QuerySet[Case]:
    """Cases in the part of the grid the user patrols as a grid worker (not their other roles)."""
    paths = scope_paths(user, [Role.GRID_WORKER])
    if not paths:
        return Case.objects.none()
    return Case.objects.filter(_paths_q(paths, "area__path"))


def field_case_for(user: Any, number: str) -> Case:
    """A case of the user's patrol area by number; otherwise NotFound."""
    case = (
        field_cases_for(user)
        .select_related("area", "unit", "case_type", "street")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise NotFound("没有找到该事件,或它不在您的网格内")
    return case


# Open311 (the public GeoReport v2 API) --------------------------------------------------------


def cases_public() -> QuerySet[Case]:
    """Cases anyone may list without signing in: typed ones, neither rejected nor merged.

    What of them is shown (never the reporter) is decided by the Open311 representation.
    """
    return Case.objects.filter(case_type__isnull=False).exclude(
        state__in=[State.REJECTED, State.MERGED]
    )


# REST API (/api/v1/) --------------------------------------------------------------------------


def can_see_reporter_contact(user: Any, case: Case) -> bool:
    """Who sees the reporter's phone unmasked: dispatchers over the case (they call back), the
    handlers of the unit holding it, and the reporter themself."""
    if not _is_signed_in(user):
        return False
    return (
        case.reporter_id == user.pk
        or has_role(user, Role.DISPATCHER, case.area)
        or _is_unit_handler(user, case)
    )


def streets_visible_to(user: Any) -> QuerySet[Area]:
    """The streets the user works for: those in their scope and the street of each scope root,
    whose catalogue (事项清单) they report and act by."""
    if is_platform_admin(user):
        return Area.objects.filter(level=Level.STREET)
    paths = scope_paths(user)
    if not paths:
        return Area.objects.none()
    above = {root.street_id for root in scope_roots(user) if root.street_id is not None}
    return Area.objects.filter(Q(pk__in=above) | _paths_q(paths), level=Level.STREET)


# Staff pages (inbox, case list and detail, the dispatchers' desk, leaders' oversight) ---------
# Who sees the reporter's phone on the detail page is `can_see_reporter_contact` above, shared
# with the API so that both answer alike.

# Residents follow their own cases by the tracking link; the staff pages are for these roles.
STAFF_ROLES = frozenset(
    {Role.GRID_WORKER, Role.DISPATCHER, Role.HANDLER, Role.LEADER, Role.ADMINISTRATOR}
)


def can_use_case_pages(user: Any) -> bool:
    """我的待办, the case list and the case pages: staff of any role, and platform superusers."""
    return is_platform_admin(user) or any(g.role in STAFF_ROLES for g in active_grants(user))


def can_use_desk(user: Any) -> bool:
    """受理台 and 代为登记 are the dispatchers'."""
    return has_role(user, Role.DISPATCHER)


def can_use_oversight(user: Any) -> bool:
    """超期督办 is the leaders'."""
    return has_role(user, Role.LEADER)


def desk_cases_for(user: Any) -> QuerySet[Case]:
    """Cases in the part of the grid the user dispatches for (not their other roles)."""
    paths = scope_paths(user, [Role.DISPATCHER])
    if not paths:
        return Case.objects.none()
    return Case.objects.filter(_paths_q(paths, "area__path"))


def oversight_cases_for(user: Any) -> QuerySet[Case]:
    """Cases in the part of the grid the user leads."""
    paths = scope_paths(user, [Role.LEADER])
    if not paths:
        return Case.objects.none()
    return Case.objects.filter(_paths_q(paths, "area__path"))


def intake_areas_for(user: Any) -> QuerySet[Area]:
    """Where a dispatcher may register a caller's matter: their dispatch scope within streets."""
    paths = scope_paths(user, [Role.DISPATCHER])
    if not paths:
        return Area.objects.none()
    return Area.objects.filter(_paths_q(paths), street__isnull=False)


def case_areas_for(user: Any, case: Case) -> QuerySet[Area]:
    """The places a case may be moved to on acceptance: its street's nodes in the user's scope."""
    return areas_visible_to(user).filter(street_id=case.street_id)


def case_attachment_for(user: Any, number: str, attachment_id: int) -> Attachment:
    """A photo or file of a case the user may see; otherwise NotFound."""
    case = case_for(user, number)
    attachment = Attachment.objects.filter(case=case, pk=attachment_id).first()
    if attachment is None:
        raise NotFound("没有找到该附件")
    return attachment


# Catalogue admin (事项清单 and the read-only case screens of the admin) ----------------------
# Imported here so that this area's additions stay one block at the end of the module.
from shanzhi.cases.models import CaseAction, CaseCategory, CaseType  # noqa: E402


def catalogue_streets_manageable_by(user: Any) -> QuerySet[Area]:
    """Streets whose catalogue the user administers: those within their administrator scope."""
    if is_platform_admin(user):
        return Area.objects.filter(level=Level.STREET)
    paths = scope_paths(user, [Role.ADMINISTRATOR])
    return Area.objects.filter(_paths_q(paths), level=Level.STREET)


def can_manage_catalogue(user: Any, street: Area) -> bool:
    return is_platform_admin(user) or has_role(user, Role.ADMINISTRATOR, street)


def case_types_manageable_by(user: Any) -> QuerySet[CaseType]:
    """The catalogue entries an administrator sees and edits: only their own streets'."""
    return CaseType.objects.filter(street__in=catalogue_streets_manageable_by(user))


def case_categories_manageable_by(user: Any) -> QuerySet[CaseCategory]:
    return CaseCategory.objects.filter(street__in=catalogue_streets_manageable_by(user))


def case_actions_visible_to(user: Any) -> QuerySet[CaseAction]:
    """Action-log rows of the cases the user may see."""
    return CaseAction.objects.filter(case__in=cases_visible_to(user).values("pk"))


# Registry (人房企事物) and personal data ----------------------------------------------------
from shanzhi.registry.models import (  # noqa: E402
    AccessLog,
    Privilege,
    RolePrivilege,
    Tag,
    TagKind,
    VerificationItem,
    VerificationTask,
    Visit,
)

# Who reads the registry of their part of the grid. Handlers of stations work cases, not people.
REGISTRY_ROLES = frozenset({Role.GRID_WORKER, Role.DISPATCHER, Role.LEADER, Role.ADMINISTRATOR})
# Who keeps it true: the grid workers who walk it and the administrators who import it.
REGISTRY_EDITORS = frozenset({Role.GRID_WORKER, Role.ADMINISTRATOR})
_PRIVILEGE_CACHE = "_shanzhi_privilege_paths"


def registry_paths(user: Any) -> list[str]:
    return scope_paths(user, REGISTRY_ROLES)


def records_visible_to(user: Any, model: type[Any]) -> QuerySet[Any]:
    """Live records of a registry model (Person, House, …) within the user's registry scope."""
    live = model.objects.filter(deleted_at__isnull=True)
    if is_platform_admin(user):
        return live
    paths = registry_paths(user)
    if not paths:
        return model.objects.none()
    return live.filter(_paths_q(paths, "area__path"))


def record_for(user: Any, model: type[Any], pk: Any) -> Any:
    """A live record the user may see; otherwise NotFound, as if it did not exist."""
    try:
        record = records_visible_to(user, model).select_related("area", "street").get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise NotFound("没有找到该记录,或您无权查看") from None
    return record


def can_use_registry(user: Any) -> bool:
    return is_platform_admin(user) or bool(registry_paths(user))


def can_edit_records_at(user: Any, area: Area) -> bool:
    return is_platform_admin(user) or any(has_role(user, role, area) for role in REGISTRY_EDITORS)


def _privilege_paths(user: Any, privilege: str) -> list[str]:
    """The areas where the user's roles carry `privilege` (read once per user object)."""
    if not _is_signed_in(user):
        return []
    cached: dict[str, list[str]] | None = getattr(user, _PRIVILEGE_CACHE, None)
    if cached is None:
        roles_by_privilege: dict[str, set[str]] = {}
        for role, granted in RolePrivilege.objects.values_list("role", "privilege"):
            roles_by_privilege.setdefault(granted, set()).add(role)
        cached = {
            name: scope_paths(user, roles_by_privilege.get(name, set()))
            for name in Privilege.values
        }
        setattr(user, _PRIVILEGE_CACHE, cached)
    return cached[privilege]


def has_privilege(user: Any, privilege: str, area: Area) -> bool:
    if is_platform_admin(user):
        return True
    return any(area.path.startswith(path) for path in _privilege_paths(user, privilege))


def can_unmask(user: Any, record: Any) -> bool:
    """Whether the user may read this record's ID number and phones in the clear (logged)."""
    return has_privilege(user, Privilege.UNMASK, record.area)


def can_see_sensitive_tags(user: Any, area: Area) -> bool:
    return has_privilege(user, Privilege.SENSITIVE_TAGS, area)


def can_export_personal(user: Any, area: Area) -> bool:
    return has_privilege(user, Privilege.EXPORT_PERSONAL, area)


def tags_visible_to(user: Any, area: Area) -> QuerySet[Tag]:
    tags = Tag.objects.all()
    if not can_see_sensitive_tags(user, area):
        tags = tags.exclude(kind=TagKind.SENSITIVE)
    return tags


def can_visit(user: Any, record: Any) -> bool:
    """Grid workers visit the people and enterprises of their grids; leaders visit enterprises."""
    return is_platform_admin(user) or any(
        has_role(user, role, record.area)
        for role in (Role.GRID_WORKER, Role.LEADER, Role.ADMINISTRATOR)
    )


def visits_visible_to(user: Any) -> QuerySet[Visit]:
    if is_platform_admin(user):
        return Visit.objects.all()
    paths = registry_paths(user)
    if not paths:
        return Visit.objects.none()
    return Visit.objects.filter(_paths_q(paths, "area__path"))


def can_issue_verification(user: Any, area: Area) -> bool:
    """核查 tasks are ordered by the leaders of the area they cover."""
    return is_platform_admin(user) or has_role(user, Role.LEADER, area)


def verification_tasks_visible_to(user: Any) -> QuerySet[VerificationTask]:
    """Tasks with at least one record in the user's scope, and those the user issued."""
    if is_platform_admin(user):
        return VerificationTask.objects.all()
    if not _is_signed_in(user):
        return VerificationTask.objects.none()
    in_scope = VerificationItem.objects.filter(_paths_q(registry_paths(user), "area__path"))
    return VerificationTask.objects.filter(
        Q(pk__in=in_scope.values("task_id")) | Q(created_by=user)
    ).distinct()


def verification_items_for(user: Any, task: VerificationTask) -> QuerySet[VerificationItem]:
    items = VerificationItem.objects.filter(task=task)
    if is_platform_admin(user) or task.created_by_id == user.pk:
        return items
    return items.filter(_paths_q(registry_paths(user), "area__path"))


def can_check_item(user: Any, item: VerificationItem) -> bool:
    return can_edit_records_at(user, item.area)


def access_logs_visible_to(user: Any) -> QuerySet[AccessLog]:
    """Leaders read who looked at the personal data of their area."""
    if is_platform_admin(user):
        return AccessLog.objects.all()
    paths = scope_paths(user, [Role.LEADER])
    if not paths:
        return AccessLog.objects.none()
    return AccessLog.objects.filter(_paths_q(paths, "area__path"))


def can_import_at(user: Any, area: Area) -> bool:
    """Imports (grids and staff, or records) are the administrators' of that part of the grid."""
    return is_platform_admin(user) or has_role(user, Role.ADMINISTRATOR, area)


def can_view_record(user: Any, record: Any) -> bool:
    """Registry scope, deleted records included: a case keeps showing what it was linked to."""
    return is_platform_admin(user) or any(
        record.area.path.startswith(path) for path in registry_paths(user)
    )


def can_read_access_logs(user: Any) -> bool:
    """查看记录 is the leaders' (and the platform's)."""
    return is_platform_admin(user) or has_role(user, Role.LEADER)


# Figures (驾驶舱, 比拼晾晒, 工作总结) ------------------------------------------------------------
# Figures count the subtrees of the viewer's grants (see shanzhi.analytics.selectors).

FIGURE_ROLES = frozenset({Role.LEADER, Role.ADMINISTRATOR, Role.DISPATCHER})


def can_view_figures(user: Any) -> bool:
    """The dashboard and reports are for leaders, administrators and dispatchers."""
    return is_platform_admin(user) or any(g.role in FIGURE_ROLES for g in active_grants(user))


def can_enter_baseline(user: Any, area: Area) -> bool:
    """Leaders and administrators enter the past figures of their own area."""
    return is_platform_admin(user) or any(
        has_role(user, role, area) for role in (Role.LEADER, Role.ADMINISTRATOR)
    )


def can_import_somewhere(user: Any) -> bool:
    """Imports run per street: the page is for administrators of a street or above (each row
    is then checked by can_import_at)."""
    return is_platform_admin(user) or any(
        grant.role == Role.ADMINISTRATOR
        and grant.area.level in (Level.CITY, Level.DISTRICT, Level.STREET)
        for grant in active_grants(user)
    )


def can_manage_ranking_rules(user: Any, street: Area | None) -> bool:
    """比拼晾晒 rules: the platform's own (no street) are its administrators'; a street's copy is
    also its street administrators'."""
    if is_platform_admin(user):
        return True
    return street is not None and has_role(user, Role.ADMINISTRATOR, street)


def ranking_rule_streets_for(user: Any) -> QuerySet[Area]:
    """The streets whose own ranking rules the user may add and edit."""
    if is_platform_admin(user):
        return Area.objects.filter(level=Level.STREET)
    return streets_visible_to(user).filter(
        _paths_q(scope_paths(user, [Role.ADMINISTRATOR]), "path")
    )


def scope_q(user: Any, field: str = "area__path", roles: Iterable[str] | None = None) -> Q:
    """The user's part of the grid (of the grants of `roles`) as a condition on an area path;
    everything for platform superusers. Figures filter their roll-up rows with it."""
    if is_platform_admin(user):
        return Q()
    return _paths_q(scope_paths(user, roles), field)


# Open311 media ---------------------------------------------------------------------------------


def public_photo_for(number: str, attachment_id: int) -> Attachment:
    """A photo anyone may fetch through Open311: an image of a public request's report or result,
    the same photos its tracking link shows; otherwise NotFound."""
    photo = Attachment.objects.filter(
        public_photos_q(),
        pk=attachment_id,
        case__in=cases_public().filter(number=number),
        content_type__startswith="image/",
    ).first()
    if photo is None:
        raise NotFound("没有找到该照片")
    return photo


# Security log (安全日志) -------------------------------------------------------------------
from shanzhi.accounts.models import SecurityEvent  # noqa: E402

SECURITY_LOG_ROLES = frozenset({Role.LEADER, Role.ADMINISTRATOR})


def can_read_security_log(user: Any) -> bool:
    """安全日志 is for leaders and administrators (of their part of the grid) and the platform."""
    return is_platform_admin(user) or any(
        grant.role in SECURITY_LOG_ROLES for grant in active_grants(user)
    )


def security_events_visible_to(user: Any) -> QuerySet[SecurityEvent]:
    """Events of the accounts that belong to the user's leader or administrator scope.

    Events tied to no area (names no account has, locks of an address) are the platform's.
    """
    if is_platform_admin(user):
        return SecurityEvent.objects.all()
    paths = scope_paths(user, SECURITY_LOG_ROLES)
    if not paths:
        return SecurityEvent.objects.none()
    return SecurityEvent.objects.filter(_paths_q(paths, "area__path"))


def api_tokens_visible_to(user: Any) -> QuerySet[ApiToken]:
    """API keys an administrator oversees: those of the staff they manage. Channel keys (no
    user) belong to the platform."""
    if is_platform_admin(user):
        return ApiToken.objects.all()
    return ApiToken.objects.filter(user__in=users_manageable_by(user).values("pk"))


def can_revoke_api_token(user: Any, token: ApiToken) -> bool:
    if is_platform_admin(user):
        return True
    return token.user is not None and can_manage_user(user, token.user)


# Long jobs ---------------------------------------------------------------------------------------


def jobs_visible_to(user: Any) -> QuerySet[Job]:
    """A person sees the jobs they started (their result may hold what only they may read);
    the platform's own jobs (the sweep, the demo) are the platform administrators'."""
    if not _is_signed_in(user):
        return Job.objects.none()
    if is_platform_admin(user):
        return Job.objects.all()
    return Job.objects.filter(created_by=user)


def job_for(user: Any, job_id: int) -> Job:
    """The job if the user may see it; otherwise NotFound, as if it did not exist."""
    job = jobs_visible_to(user).filter(pk=job_id).first()
    if job is None:
        raise NotFound("没有找到该任务,或您无权查看")
    return job


# 民生实事 and 志愿服务 (participation) ----------------------------------------------------------
from shanzhi.participation.models import (  # noqa: E402
    Activity,
    Project,
    Round,
    Volunteer,
    Voter,
)

# Staff who run rounds and volunteering in their part of the grid: the administrator opens and
# closes the stages; the others shortlist, enter meetings' proposals and paper ballots, and
# post progress, sign volunteers in and serve the counter.
PARTICIPATION_ROLES = frozenset({Role.ADMINISTRATOR, Role.LEADER, Role.HANDLER, Role.DISPATCHER})


def can_use_participation(user: Any) -> bool:
    return is_platform_admin(user) or any(
        grant.role in PARTICIPATION_ROLES for grant in active_grants(user)
    )


def rounds_visible_to(user: Any) -> QuerySet[Round]:
    """Rounds of the user's part of the grid, and the street's rounds above a community's staff."""
    if is_platform_admin(user):
        return Round.objects.all()
    paths = scope_paths(user, PARTICIPATION_ROLES)
    if not paths:
        return Round.objects.none()
    above = [ancestor for path in paths for ancestor in Area(path=path).ancestor_paths]
    return Round.objects.filter(_paths_q(paths, "area__path") | Q(area__path__in=above))


def round_for(user: Any, pk: int) -> Round:
    round_ = rounds_visible_to(user).select_related("area", "street").filter(pk=pk).first()
    if round_ is None:
        raise NotFound("没有找到该民生实事轮次,或您无权查看")
    return round_


def can_set_up_round(user: Any, area: Area) -> bool:
    """A round (and its rule) is set up by the administrator of its street or community."""
    return is_platform_admin(user) or has_role(user, Role.ADMINISTRATOR, area)


def can_manage_round(user: Any, round_: Round) -> bool:
    """Opening and closing the stages is the administrator's of the round's area."""
    return can_set_up_round(user, round_.area)


def can_work_round(user: Any, round_: Round) -> bool:
    """Shortlisting, meetings' proposals, voters, paper ballots: staff over the round's area."""
    return is_platform_admin(user) or any(
        has_role(user, role, round_.area) for role in PARTICIPATION_ROLES
    )


def can_update_project(user: Any, project: Project) -> bool:
    """Progress is posted by staff over the project's place (a community's own projects by its
    community staff)."""
    return is_platform_admin(user) or any(
        has_role(user, role, project.area) for role in PARTICIPATION_ROLES
    )


def project_for(user: Any, pk: int) -> Project:
    project = (
        Project.objects.filter(round__in=rounds_visible_to(user))
        .select_related("round", "area", "status", "street")
        .filter(pk=pk)
        .first()
    )
    if project is None:
        raise NotFound("没有找到该项目,或您无权查看")
    return project


def voter_for_token(token: str) -> Voter:
    """The voter a personal voting link names; only the secret opens it."""
    voter = Voter.objects.select_related("round", "person").filter(token=token).first()
    if voter is None:
        raise NotFound("投票链接无效,请向会务人员核对")
    return voter


def volunteer_for_token(token: str) -> Volunteer:
    volunteer = Volunteer.objects.select_related("person", "street").filter(token=token).first()
    if volunteer is None or not volunteer.is_active:
        raise NotFound("志愿者链接无效,请向社区核对")
    return volunteer


def volunteers_visible_to(user: Any) -> QuerySet[Volunteer]:
    if is_platform_admin(user):
        return Volunteer.objects.all()
    return Volunteer.objects.filter(_paths_q(scope_paths(user, PARTICIPATION_ROLES), "area__path"))


def activities_visible_to(user: Any) -> QuerySet[Activity]:
    if is_platform_admin(user):
        return Activity.objects.all()
    return Activity.objects.filter(_paths_q(scope_paths(user, PARTICIPATION_ROLES), "area__path"))


def can_run_volunteering(user: Any, area: Area) -> bool:
    """Activities, sign-in, partner units, rewards and the counter: staff over the area."""
    return is_platform_admin(user) or any(
        has_role(user, role, area) for role in PARTICIPATION_ROLES
    )


def participation_areas_for(user: Any) -> QuerySet[Area]:
    """Where the user may set up rounds and activities: streets and communities of their scope."""
    return areas_visible_to(user).filter(level__in=[Level.STREET, Level.COMMUNITY])


def person_for_id_number(user: Any, number: str) -> Any:
    """The registry person with this 身份证号 (checked, 18 digits) in the user's participation
    scope: staff registering a council member or a volunteer have the ID card in hand, so an
    exact match is all they are shown (never a list of people)."""
    from shanzhi.protection import digest
    from shanzhi.registry.models import Person

    people = Person.objects.filter(id_number_digest=digest(number), deleted_at__isnull=True)
    if not is_platform_admin(user):
        people = people.filter(_paths_q(scope_paths(user, PARTICIPATION_ROLES), "area__path"))
    person = people.select_related("area").first()
    if person is None:
        raise NotFound("登记库中没有该身份证号的居民,或不在您的辖区范围内")
    return person


# Landing and street set-up -------------------------------------------------------------------

# Where each role starts its day, the first held role in this order deciding: set-up work first
# for an administrator, then the desk, the dashboard, the inbox, the field pages, a resident's own.
LANDING_ROLES: tuple[str, ...] = (
    Role.ADMINISTRATOR,
    Role.DISPATCHER,
    Role.LEADER,
    Role.HANDLER,
    Role.GRID_WORKER,
    Role.RESIDENT,
)


def landing_role(user: Any) -> str | None:
    """The role whose page the user lands on, or None when they hold none."""
    held = set(roles_of(user))
    return next((role for role in LANDING_ROLES if role in held), None)


def can_set_up_streets(user: Any) -> bool:
    """Opening a new street is the platform administrator's (the street has no one yet)."""
    return is_platform_admin(user)


def setup_streets_for(user: Any) -> QuerySet[Area]:
    """The streets whose set-up checklist the user keeps: those they administer."""
    if is_platform_admin(user):
        return Area.objects.filter(level=Level.STREET)
    paths = scope_paths(user, [Role.ADMINISTRATOR])
    if not paths:
        return Area.objects.none()
    return Area.objects.filter(_paths_q(paths), level=Level.STREET)


def resident_report_areas_for(user: Any) -> QuerySet[Area]:
    """The microgrids (or grids) a signed-in resident belongs to, where they report from."""
    paths = scope_paths(user, [Role.RESIDENT])
    if not paths:
        return Area.objects.none()
    return Area.objects.filter(path__in=paths)


def own_reports_for(user: Any) -> QuerySet[Case]:
    """The cases a signed-in person reported themselves."""
    if not _is_signed_in(user):
        return Case.objects.none()
    return Case.objects.filter(reporter=user)


# Routing and recurring problems (源头治理) -------------------------------------------------------


def can_see_hotspots(user: Any) -> bool:
    """The dashboard's 高发问题 panel: leaders and the dispatchers who route the cases."""
    return has_role(user, Role.LEADER) or has_role(user, Role.DISPATCHER)


def can_adopt_hotspot(user: Any, area: Area) -> bool:
    """Turning a recurring problem into a source-governance task is a leader's decision."""
    return has_role(user, Role.LEADER, area)


def can_see_routing(user: Any, case: Case) -> bool:
    """Routing suggestions are for whoever fixes a case's type or unit: the dispatcher."""
    return has_role(user, Role.DISPATCHER, case.area)
