"""Setting up a street (开通街道) from its official division code, in one step.

Everything a street needs before its first case: the street under its district and city, the
units the catalogue routes to, the case-type catalogue (事项清单), its own copy of the ranking
rules, and a first administrator whose one-time password must be changed at first sign-in. The
same declarations serve the demo (`cases.catalogue`), so a real street starts where it does.
"""

import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from shanzhi.accounts.models import Role, Unit, UnitKind, User
from shanzhi.accounts.services import role_grant, unit_create, user_create
from shanzhi.analytics.models import RankingRule
from shanzhi.analytics.services import ranking_rules_copy
from shanzhi.areas.models import Area, Level
from shanzhi.areas.services import area_create
from shanzhi.cases.catalogue import STREET_UNITS
from shanzhi.cases.services import catalogue_seed
from shanzhi.errors import DomainError
from shanzhi.registry.imports import SPECS, template_write
from shanzhi.registry.services import registry_defaults_seed

from .divisions import StreetDivision, division_nearest, division_street

# Letters and digits that cannot be mistaken for each other when read off a printout.
_READABLE = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")
_SYMBOLS = "@#%+=?"
ONE_TIME_PASSWORD_LENGTH = 14


class StreetSetUpError(DomainError):
    code = "street_set_up"


@dataclass(frozen=True)
class StreetSetUp:
    """What `street_set_up` did; `password` is shown once and kept nowhere in the clear."""

    street: Area
    division: StreetDivision
    created: bool
    administrator: str = ""
    password: str = ""
    units: int = 0
    case_types: int = 0
    ranking_rules: int = 0

    @property
    def message(self) -> str:
        where = f"{self.division.full_name}({self.street.code})"
        if not self.created:
            return f"{where}已经开通,本次未作任何改动"
        return (
            f"已开通{where}:{self.units}个单位、{self.case_types}类事项、"
            f"{self.ranking_rules}条排名规则,系统管理员 {self.administrator}"
        )


def one_time_password() -> str:
    """A password the rules accept, readable off paper: letters, digits and one symbol."""
    while True:
        body = [secrets.choice(_READABLE) for _ in range(ONE_TIME_PASSWORD_LENGTH - 1)]
        body.insert(secrets.randbelow(len(body) + 1), secrets.choice(_SYMBOLS))
        password = "".join(body)
        classes = (str.islower, str.isupper, str.isdigit)
        if all(any(test(ch) for ch in password) for test in classes):
            try:
                validate_password(password)
            except ValidationError:
                continue
            return password


def street_division(code: str) -> StreetDivision:
    """The official division for `code`, or a Chinese error naming the nearest ones."""
    code = code.strip()
    division = division_street(code) if code.isdigit() and len(code) == 9 else None
    if division is not None:
        return division
    near = division_nearest(code)
    hint = "、".join(f"{d.full_name}({d.code})" for d in near)
    head = f"没有编码为“{code}”的乡级行政区划(街道、镇、乡的9位代码)"
    raise StreetSetUpError(f"{head}。最接近的是:{hint}" if hint else f"{head}。")


def _ancestors(division: StreetDivision) -> Area:
    city = Area.objects.filter(code=division.city_code).first() or area_create(
        code=division.city_code, name=division.city_name, level=Level.CITY
    )
    district = Area.objects.filter(code=division.district_code).first()
    if district is None:
        district = area_create(
            code=division.district_code,
            name=division.district_name,
            level=Level.DISTRICT,
            parent=city,
        )
    return district


def street_units_seed(*, street: Area) -> dict[str, Unit]:
    """The street's standard units (`cases.catalogue.STREET_UNITS`) by their catalogue name;
    units it already has are kept as they are."""
    short = street.name.removesuffix("街道").removesuffix("镇").removesuffix("乡")
    have = {u.name: u for u in Unit.objects.filter(area=street)}
    units = {}
    for name, kind in STREET_UNITS:
        full = f"{short}{name}" if kind == UnitKind.STATION else name
        units[name] = have.get(full) or unit_create(actor=None, name=full, kind=kind, area=street)
    return units


def street_set_up(*, code: str, admin_username: str = "") -> StreetSetUp:
    """Set up the street with official division code `code`; a street that exists is left alone.

    The first administrator is `admin_username` (default `<code>.admin`), granted over the street,
    with a one-time password returned here.
    """
    division = street_division(code)
    existing = Area.objects.filter(code=division.code).first()
    if existing is not None:
        if existing.level != Level.STREET:
            raise StreetSetUpError(f"编码“{division.code}”已被辖区“{existing.name}”使用")
        return StreetSetUp(street=existing, division=division, created=False)
    username = admin_username.strip() or f"{division.code}.admin"
    if User.objects.filter(username=username).exists():
        raise StreetSetUpError(f"用户名“{username}”已被使用,请另选一个管理员用户名")
    password = one_time_password()
    with transaction.atomic():
        district = _ancestors(division)
        street = area_create(
            code=division.code, name=division.name, level=Level.STREET, parent=district
        )
        units = street_units_seed(street=street)
        # The catalogue names its default units, so it comes once the units exist.
        case_types = catalogue_seed(street=street)
        defaults = RankingRule.objects.filter(street__isnull=True, is_active=True)
        rules = ranking_rules_copy(street=street, rules=defaults.prefetch_related("weights"))
        registry_defaults_seed()
        admin = user_create(
            actor=None,
            username=username,
            full_name=f"{division.name}系统管理员",
            unit=units[STREET_UNITS[0][0]],
            password=password,
            one_time=True,
        )
        role_grant(granter=None, user=admin, role=Role.ADMINISTRATOR, area=street)
    return StreetSetUp(
        street=street,
        division=division,
        created=True,
        administrator=username,
        password=password,
        units=len(units),
        case_types=case_types,
        ranking_rules=len(rules),
    )


def street_templates_write(*, directory: Path) -> list[Path]:
    """Write every registry import template (grids and their grid workers first) into
    `directory`, for the street's administrator to fill in."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for number, (kind, spec) in enumerate(SPECS.items(), start=1):
        target = directory / f"{number}-{spec.title}导入模板.xlsx"
        template_write(kind, target)
        written.append(target)
    return written
