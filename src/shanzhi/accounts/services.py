"""Writes for units, users and role grants. Callers pass the acting user; rules are checked here."""

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from shanzhi import policy
from shanzhi.areas.models import Area, Level
from shanzhi.errors import DomainError, PermissionDenied

from .models import Role, RoleGrant, SecurityEventKind, Unit, UnitKind, User
from .security import security_event_record
from .signin import signin_unlock

# The levels each role is granted on: a grid worker works a grid or microgrid, dispatchers and
# administrators serve a street or more, leaders and handlers a community or more.
ROLE_LEVELS: dict[str, frozenset[str]] = {
    Role.RESIDENT: frozenset({Level.MICROGRID, Level.GRID, Level.DEDICATED_GRID}),
    Role.GRID_WORKER: frozenset({Level.GRID, Level.DEDICATED_GRID, Level.MICROGRID}),
    Role.DISPATCHER: frozenset({Level.STREET, Level.DISTRICT, Level.CITY}),
    Role.HANDLER: frozenset(
        {Level.COMMUNITY, Level.ZONE, Level.STREET, Level.DISTRICT, Level.CITY}
    ),
    Role.LEADER: frozenset({Level.COMMUNITY, Level.ZONE, Level.STREET, Level.DISTRICT, Level.CITY}),
    Role.ADMINISTRATOR: frozenset({Level.STREET, Level.DISTRICT, Level.CITY}),
}


class AccountRuleError(DomainError):
    code = "account_rule"


def _street_of(area: Area) -> Area | None:
    return area.street


@transaction.atomic
def unit_create(*, actor: User | None, name: str, kind: str, area: Area, phone: str = "") -> Unit:
    """Create a unit on an area node within the actor's administrator scope."""
    if actor is not None and not policy.can_add_unit_at(actor, area):
        raise PermissionDenied(f"无权在“{area.name}”下设立单位")
    name = name.strip()
    if not name:
        raise AccountRuleError("单位名称不能为空")
    if kind not in UnitKind.values:
        raise AccountRuleError("单位类别无效")
    if Unit.objects.filter(area=area, name=name).exists():
        raise AccountRuleError(f"“{area.name}”下已有名为“{name}”的单位")
    return Unit.objects.create(
        name=name, kind=kind, area=area, street=_street_of(area), phone=phone.strip()
    )


@transaction.atomic
def unit_update(
    *, actor: User | None, unit: Unit, name: str, kind: str, phone: str, is_active: bool
) -> Unit:
    """Edit a unit; deactivating keeps it, and its history, in place."""
    if actor is not None and not policy.can_manage_unit(actor, unit):
        raise PermissionDenied(f"无权修改单位“{unit.name}”")
    name = name.strip()
    if not name:
        raise AccountRuleError("单位名称不能为空")
    if Unit.objects.filter(area=unit.area, name=name).exclude(pk=unit.pk).exists():
        raise AccountRuleError(f"“{unit.area.name}”下已有名为“{name}”的单位")
    unit.name, unit.kind, unit.phone, unit.is_active = name, kind, phone.strip(), is_active
    unit.save(update_fields=["name", "kind", "phone", "is_active"])
    return unit


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    full_name: str,
    unit: Unit | None,
    password: str | None = None,
    password_hash: str | None = None,
    phone: str = "",
    one_time: bool = False,
) -> User:
    """Create a staff member (or, with no unit, a resident account).

    A password an administrator sets is an initial one: the person changes it at first sign-in,
    as they do a `one_time` password the system printed for them (a new street's administrator).
    """
    if actor is not None and (unit is None or not policy.can_manage_unit(actor, unit)):
        raise PermissionDenied("只能在本人管理范围内的单位中新增人员")
    username = username.strip()
    if not username:
        raise AccountRuleError("用户名不能为空")
    if User.objects.filter(username=username).exists():
        raise AccountRuleError(f"用户名“{username}”已被使用")
    user = User(
        username=username,
        full_name=full_name.strip(),
        unit=unit,
        street=unit.street if unit is not None else None,
        phone=phone.strip(),
    )
    if password_hash is not None:
        user.password = password_hash
    elif password is not None:
        user.password = make_password(password)
    else:
        user.set_unusable_password()
    user.must_change_password = (actor is not None or one_time) and user.has_usable_password()
    user.save()
    security_event_record(
        kind=SecurityEventKind.USER_CREATED,
        user=user,
        actor=actor,
        note=f"单位:{unit.name}" if unit is not None else "居民账号",
    )
    return user


@transaction.atomic
def user_update(
    *, actor: User, target: User, full_name: str, unit: Unit | None, phone: str, is_active: bool
) -> User:
    """Edit a staff member; deactivating keeps the account and its history."""
    if not policy.can_manage_user(actor, target):
        raise PermissionDenied(f"无权修改人员“{target}”")
    if unit is not None and not policy.can_manage_unit(actor, unit):
        raise PermissionDenied(f"无权把人员调入单位“{unit.name}”")
    if target.pk == actor.pk and not is_active:
        raise AccountRuleError("不能停用自己的账号")
    was_active = target.is_active
    target.full_name = full_name.strip()
    target.unit = unit
    target.street = unit.street if unit is not None else None
    target.phone = phone.strip()
    target.is_active = is_active
    target.save(update_fields=["full_name", "unit", "street", "phone", "is_active"])
    if was_active != is_active:
        security_event_record(
            kind=SecurityEventKind.USER_ACTIVATED
            if is_active
            else SecurityEventKind.USER_DEACTIVATED,
            user=target,
            actor=actor,
        )
    return target


def role_grant_check(*, granter: User | None, user: User, role: str, area: Area) -> None:
    """Raise if `granter` may not grant `role` over `area` to `user`; changes nothing."""
    if role not in Role.values:
        raise AccountRuleError("角色无效")
    role_label = Role(role).label
    if granter is not None and not policy.can_grant_role(granter, role, area):
        raise PermissionDenied(f"无权在“{area.name}”授予“{role_label}”角色:超出本人管理范围")
    if area.level not in ROLE_LEVELS[role]:
        levels = "、".join(Level(level).label for level in sorted(ROLE_LEVELS[role]))
        raise AccountRuleError(f"“{role_label}”只能授予在{levels}层级上,不能授予在{area.name}")
    if RoleGrant.objects.filter(user=user, role=role, area=area, revoked_at__isnull=True).exists():
        raise AccountRuleError(f"{user}已在“{area.name}”拥有“{role_label}”角色")


@transaction.atomic
def role_grant(*, granter: User | None, user: User, role: str, area: Area) -> RoleGrant:
    """Grant `role` over `area`. `granter` None is the system itself (set-up and demo)."""
    role_grant_check(granter=granter, user=user, role=role, area=area)
    role_label = Role(role).label
    try:
        with transaction.atomic():
            grant = RoleGrant.objects.create(
                user=user, role=role, area=area, street=_street_of(area), granted_by=granter
            )
    except IntegrityError as exc:
        raise AccountRuleError(f"{user}已在“{area.name}”拥有“{role_label}”角色") from exc
    policy.forget_grants(user)
    security_event_record(
        kind=SecurityEventKind.GRANT_ADDED,
        user=user,
        actor=granter,
        note=f"在“{area.name}”({area.code})授予“{role_label}”",
    )
    return grant


@transaction.atomic
def role_revoke(*, actor: User, grant: RoleGrant) -> RoleGrant:
    """Revoke a grant; the row stays as the history of who held what."""
    if not policy.can_revoke_grant(actor, grant):
        raise PermissionDenied("无权撤销该授权")
    grant = RoleGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is not None:
        raise AccountRuleError("该授权已撤销")
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor
    grant.save(update_fields=["revoked_at", "revoked_by"])
    policy.forget_grants(grant.user)
    security_event_record(
        kind=SecurityEventKind.GRANT_REVOKED,
        user=grant.user,
        actor=actor,
        note=f"撤销“{grant.area.name}”({grant.area.code})的“{Role(grant.role).label}”",
    )
    return grant


@transaction.atomic
def user_set_password(*, actor: User, target: User, password: str) -> User:
    """Reset the password of a staff member the actor manages.

    The new password is the administrator's, so the person must change it at their next sign-in;
    a reset also lifts a sign-in lock, and (with the password) ends the person's sessions.
    """
    if not policy.can_manage_user(actor, target):
        raise PermissionDenied(f"无权修改人员“{target}”的密码")
    target.set_password(password)
    target.password_changed_at = timezone.now()
    target.must_change_password = target.pk != actor.pk
    target.save(update_fields=["password", "password_changed_at", "must_change_password"])
    security_event_record(
        kind=SecurityEventKind.PASSWORD_RESET,
        user=target,
        actor=actor,
        note="管理员重置密码,下次登录须修改" if target.must_change_password else "本人设置密码",
    )
    signin_unlock(actor=actor, user=target)
    return target
