"""Factories that build rows through the services, so tests see what real set-up produces."""

import itertools

from shanzhi.accounts.models import Role, Unit, UnitKind, User
from shanzhi.accounts.services import role_grant, unit_create, user_create
from shanzhi.areas.models import Area, Level
from shanzhi.areas.services import area_create

PASSWORD = "correct-horse-电池"
_serial = itertools.count(1)

# How many code characters each level adds below its code base; zones add a "P" and two digits.
_SUFFIX = {
    Level.ZONE: "P{:02d}",
    Level.COMMUNITY: "{:03d}",
    Level.GRID: "{:03d}",
    Level.DEDICATED_GRID: "Z{:02d}",
    Level.MICROGRID: "{:03d}",
}


def make_street(code: str = "330109001", name: str = "城厢街道") -> Area:
    city = Area.objects.filter(code="3301").first() or area_create(
        code="3301", name="杭州市", level=Level.CITY
    )
    district = Area.objects.filter(code=code[:6]).first() or area_create(
        code=code[:6], name=f"{code[:6]}区", level=Level.DISTRICT, parent=city
    )
    return area_create(code=code, name=name, level=Level.STREET, parent=district)


def make_area(parent: Area, level: str, name: str = "", number: int | None = None) -> Area:
    base = parent
    while base.level == Level.ZONE and base.parent is not None:
        base = base.parent
    number = number if number is not None else next(_serial) % 100
    code = base.code + _SUFFIX[Level(level)].format(number)
    return area_create(
        code=code, name=name or f"{Level(level).label}{number}", level=level, parent=parent
    )


def make_unit(area: Area, name: str = "", kind: str = UnitKind.STREET_OFFICE) -> Unit:
    return unit_create(actor=None, name=name or f"单位{next(_serial)}", kind=kind, area=area)


def make_user(
    username: str = "",
    *,
    unit: Unit | None = None,
    role: str | None = None,
    area: Area | None = None,
    full_name: str = "",
) -> User:
    user = user_create(
        actor=None,
        username=username or f"user{next(_serial)}",
        full_name=full_name or username,
        unit=unit,
        password=PASSWORD,
    )
    if role is not None and area is not None:
        role_grant(granter=None, user=user, role=role, area=area)
    return user


def make_superuser(username: str = "root") -> User:
    return User.objects.create_superuser(username=username, password=PASSWORD)


__all__ = [
    "PASSWORD",
    "Role",
    "make_area",
    "make_street",
    "make_superuser",
    "make_unit",
    "make_user",
]


class Rollback(Exception):
    """Raised inside `transaction.atomic()` to undo on purpose what a test just built."""
