"""The demo subdistrict: its grid, units and staff, the same for the same seed.

Everything is made through the services, as a real set-up would be, down to the street's case-type
catalogue. Later parts of the demo (the registry, a year of cases in `demo.cases`) are further
steps over the `DemoStreet` that `demo_build` returns.
"""

import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction

from shanzhi.accounts.models import Role, Unit, UnitKind, User
from shanzhi.accounts.services import role_grant, unit_create, user_create
from shanzhi.areas.models import Area, Level
from shanzhi.areas.services import area_create, area_create_many
from shanzhi.cases.catalogue import STREET_UNITS
from shanzhi.cases.services import catalogue_seed
from shanzhi.errors import DomainError
from shanzhi.streets.services import street_units_seed

from .places import (
    CITY,
    ESTATE_SUFFIXES,
    GIVEN_CHARS,
    PLACE_SYLLABLES,
    PROPERTY_COMPANIES,
    SURNAMES,
    StreetSpec,
)

DEMO_PASSWORD = "shanzhi2026"  # noqa: S105 - printed for the demo accounts on purpose
CHINESE_NUMERALS = "零一二三四五六七八九十"


@dataclass(frozen=True)
class Scale:
    zones: int
    communities: int
    grids: int
    microgrids: int
    dedicated_grids: int


# `full` is 城厢街道 as its 2023 report counts it: 14 片区, 36 社区, 186 网格, 1904 微网格.
SCALES = {
    "full": Scale(zones=14, communities=36, grids=186, microgrids=1904, dedicated_grids=4),
    "small": Scale(zones=2, communities=3, grids=8, microgrids=60, dedicated_grids=1),
}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: str
    scope: str


@dataclass
class DemoStreet:
    street: Area
    rng: random.Random
    seed: int  # later parts seed their own sequences from it, leaving `rng` to the grid's
    zones: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    grids: list[Area] = field(default_factory=list)
    microgrids: list[Area] = field(default_factory=list)
    units: dict[str, Unit] = field(default_factory=dict)
    accounts: list[DemoAccount] = field(default_factory=list)


def _chinese_number(n: int) -> str:
    if n <= 10:
        return CHINESE_NUMERALS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CHINESE_NUMERALS[tens]
    return f"{head}十{CHINESE_NUMERALS[ones] if ones else ''}"


def _partition(total: int, parts: int, minimum: int, rng: random.Random) -> list[int]:
    """Split `total` into `parts` counts of at least `minimum`, unevenly as real grids are."""
    counts = [minimum] * parts
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    for index in rng.choices(range(parts), weights=weights, k=total - minimum * parts):
        counts[index] += 1
    return counts


class _Names:
    """Deterministic Chinese names that do not repeat within one street."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def person(self) -> str:
        for _ in range(1000):
            given = "".join(self.rng.choices(GIVEN_CHARS, k=self.rng.choice((1, 2, 2))))
            name = self.rng.choice(SURNAMES) + given
            if name not in self.used:
                self.used.add(name)
                return name
        raise DomainError("演示姓名已用尽")

    def place(self) -> str:
        for _ in range(1000):
            name = "".join(self.rng.sample(PLACE_SYLLABLES, 2))
            if name not in self.used:
                self.used.add(name)
                return name
        raise DomainError("演示地名已用尽")


def _ancestor(spec: StreetSpec) -> Area:
    """The city and district above the street, created the first time a street needs them."""
    city = Area.objects.filter(code=CITY[0]).first() or area_create(
        code=CITY[0], name=CITY[1], level=Level.CITY
    )
    district = Area.objects.filter(code=spec.district_code).first()
    if district is None:
        district = area_create(
            code=spec.district_code, name=spec.district_name, level=Level.DISTRICT, parent=city
        )
    return district


def _build_grid(demo: DemoStreet, spec: StreetSpec, scale: Scale, names: _Names) -> None:
    rng, street = demo.rng, demo.street
    demo.zones = area_create_many(
        parent=street,
        nodes=[
            (f"{street.code}P{i:02d}", f"第{_chinese_number(i)}片区", Level.ZONE)
            for i in range(1, scale.zones + 1)
        ],
    )
    community_names = list(spec.communities[: scale.communities])
    while len(community_names) < scale.communities:
        community_names.append(names.place())
    names.used.update(community_names)
    number = 0
    for zone, count in zip(
        demo.zones, _partition(scale.communities, scale.zones, 1, rng), strict=True
    ):
        nodes = []
        for _ in range(count):
            number += 1
            nodes.append(
                (
                    f"{street.code}{number:03d}",
                    f"{community_names[number - 1]}社区",
                    Level.COMMUNITY,
                )
            )
        demo.communities.extend(area_create_many(parent=zone, nodes=nodes))

    grid_counts = _partition(scale.grids, scale.communities, 3, rng)
    for community, count in zip(demo.communities, grid_counts, strict=True):
        short = community.name.removesuffix("社区")
        nodes = [
            (f"{community.code}{n:03d}", f"{short}第{_chinese_number(n)}网格", Level.GRID)
            for n in range(1, count + 1)
        ]
        demo.grids.extend(area_create_many(parent=community, nodes=nodes))

    park_names = list(spec.parks[: scale.dedicated_grids])
    while len(park_names) < scale.dedicated_grids:
        park_names.append(f"{names.place()}产业园")
    hosts = rng.sample(demo.communities, scale.dedicated_grids)
    dedicated = []
    for n, (host, park) in enumerate(zip(hosts, park_names, strict=True), start=1):
        dedicated.extend(
            area_create_many(
                parent=host,
                nodes=[(f"{host.code}Z{n:02d}", f"{park}专属网格", Level.DEDICATED_GRID)],
            )
        )

    holders = demo.grids + dedicated
    microgrid_counts = _partition(scale.microgrids, len(holders), 4, rng)
    for holder, count in zip(holders, microgrid_counts, strict=True):
        estate = names.place() + rng.choice(ESTATE_SUFFIXES)
        nodes = [
            (f"{holder.code}{n:03d}", f"{estate}{n}号微网格", Level.MICROGRID)
            for n in range(1, count + 1)
        ]
        demo.microgrids.extend(area_create_many(parent=holder, nodes=nodes))
    demo.grids.extend(dedicated)


def _build_units(demo: DemoStreet) -> None:
    demo.units.update(street_units_seed(street=demo.street))
    for index, community in enumerate(demo.communities):
        demo.units[community.code] = unit_create(
            actor=None,
            name=f"{community.name}居委会",
            kind=UnitKind.COMMUNITY_COMMITTEE,
            area=community,
        )
        if index % 3 == 0:
            company = PROPERTY_COMPANIES[index // 3 % len(PROPERTY_COMPANIES)]
            unit_create(
                actor=None,
                name=f"{company}{community.name.removesuffix('社区')}项目部",
                kind=UnitKind.PROPERTY,
                area=community,
            )


def _build_staff(demo: DemoStreet, spec: StreetSpec, names: _Names) -> None:
    password_hash = make_password(DEMO_PASSWORD)
    slug = spec.slug

    def staff(username: str, unit: Unit | None, role: str, area: Area, title: str = "") -> User:
        user = user_create(
            actor=None,
            username=f"{slug}.{username}",
            full_name=names.person(),
            unit=unit,
            password_hash=password_hash,
        )
        role_grant(granter=None, user=user, role=role, area=area)
        label = f"{area.name}{title or Role(role).label}"
        demo.accounts.append(DemoAccount(user.username, user.full_name, role, label))
        return user

    centre = demo.units["社会治理综合中心"]
    street = demo.street
    staff("admin", centre, Role.ADMINISTRATOR, street)
    staff("leader", centre, Role.LEADER, street, "主任")
    staff("leader2", demo.units["平安办"], Role.LEADER, street, "分管副主任")
    for n in range(1, 5):
        staff(f"dispatcher{n}", centre, Role.DISPATCHER, street)
    for index, (name, _) in enumerate(STREET_UNITS[1:], start=1):
        for n in (1, 2):
            staff(f"u{index:02d}.handler{n}", demo.units[name], Role.HANDLER, street, name)
    for n, zone in enumerate(demo.zones, start=1):
        staff(f"zone{n:02d}", centre, Role.LEADER, zone, "片长")
    for n, community in enumerate(demo.communities, start=1):
        committee = demo.units[community.code]
        staff(f"c{n:02d}.leader", committee, Role.LEADER, community, "书记")
        staff(f"c{n:02d}.handler", committee, Role.HANDLER, community, "社工")
    for n, grid in enumerate(demo.grids, start=1):
        committee = demo.units[grid.parent.code if grid.parent else ""]
        staff(f"gw{n:03d}", committee, Role.GRID_WORKER, grid, "专职网格员")
    for n, microgrid in enumerate(demo.rng.sample(demo.microgrids, 5), start=1):
        staff(f"resident{n}", None, Role.RESIDENT, microgrid, "居民")


@transaction.atomic
def demo_build(*, spec: StreetSpec, seed: int, scale: str) -> DemoStreet:
    """Create one demo street under its district and city; the same seed gives the same street."""
    if scale not in SCALES:
        raise DomainError(f"规模只能是 {'、'.join(SCALES)}")
    if Area.objects.filter(code=spec.code).exists():
        raise DomainError(f"街道“{spec.name}”({spec.code})已存在,未重复生成")
    district = _ancestor(spec)
    street = area_create(code=spec.code, name=spec.name, level=Level.STREET, parent=district)
    # A street's own sequence: adding a second street never changes the first one's data.
    rng = random.Random(f"shanzhi:{seed}:{spec.code}")  # noqa: S311 - demo data, not secrets
    demo = DemoStreet(street=street, rng=rng, seed=seed)
    names = _Names(demo.rng)
    _build_grid(demo, spec, SCALES[scale], names)
    _build_units(demo)
    _build_staff(demo, spec, names)
    # The catalogue names its default units, so it comes once the units exist.
    catalogue_seed(street=street)
    return demo
