"""Registry records for tests, made through the real services with valid numbers."""

import itertools
from datetime import date

from shanzhi.registry import services
from shanzhi.registry.models import (
    Building,
    Enterprise,
    EnterpriseScale,
    Facility,
    FacilityKind,
    House,
    HouseUse,
    Person,
    Tag,
)
from shanzhi.registry.validators import credit_code_complete, resident_id_complete

_serial = itertools.count(1)


def id_number(
    birth: date = date(1950, 3, 7), *, female: bool = False, region: str = "330109"
) -> str:
    """A valid 18-digit resident ID number, a new one on every call."""
    sequence = (next(_serial) % 499) * 2 + (0 if female else 1)
    return resident_id_complete(f"{region}{birth:%Y%m%d}{sequence:03d}")


def credit_code() -> str:
    """A valid unified social credit code, a new one on every call."""
    from shanzhi.registry.validators import organization_code_complete

    organisation = organization_code_complete(f"{next(_serial):08d}")
    return credit_code_complete(f"91330109{organisation}")


def make_building(world, *, area=None, address: str = "", **fields) -> Building:
    area = area or world.microgrid
    return services.record_create(
        actor=None,
        model=Building,
        area=area,
        fields={
            "compound": fields.pop("compound", "景港府"),
            "name": fields.pop("name", "1幢"),
            "address": address or f"城厢街道景港府{next(_serial)}幢",
            **fields,
        },
    )


def make_house(world, *, area=None, building=None, address: str = "", **fields) -> House:
    area = area or (building.area if building else world.microgrid)
    return services.record_create(
        actor=None,
        model=House,
        area=area,
        fields={
            "building": building,
            "address": address or f"城厢街道景港府1幢{next(_serial)}室",
            "use": fields.pop("use", HouseUse.OWNER_OCCUPIED),
            **fields,
        },
    )


def make_person(
    world,
    *,
    area=None,
    name: str = "王阿婆",
    number: str = "",
    phone: str = "13900002222",
    tags: tuple[str, ...] = (),
    house=None,
    **fields,
) -> Person:
    """A resident of the world's microgrid (or `area`), tagged with the tag codes given."""
    area = area or (house.area if house else world.microgrid)
    person = services.record_create(
        actor=None,
        model=Person,
        area=area,
        fields={
            "name": name,
            "house": house,
            **services.person_protected_fields(id_number=number or id_number(), phone=phone),
            **fields,
        },
    )
    if tags:
        services.person_tags_set(actor=None, person=person, tags=Tag.objects.filter(code__in=tags))
    return person


def make_enterprise(world, *, area=None, name: str = "景港机械有限公司", **fields) -> Enterprise:
    area = area or world.microgrid
    return services.record_create(
        actor=None,
        model=Enterprise,
        area=area,
        fields=services.enterprise_fields(
            name=name,
            credit_code=fields.pop("code", "") or credit_code(),
            scale=fields.pop("scale", EnterpriseScale.ABOVE),
            address=fields.pop("address", "城厢街道工业园1号"),
            contact_name=fields.pop("contact_name", "李经理"),
            contact_phone=fields.pop("contact_phone", "13700003333"),
            **fields,
        ),
    )


def make_facility(world, *, area=None, code: str = "", **fields) -> Facility:
    area = area or world.microgrid
    return services.record_create(
        actor=None,
        model=Facility,
        area=area,
        fields={
            "code": code or f"XF-{next(_serial):05d}",
            "kind": fields.pop("kind", FacilityKind.HYDRANT),
            "name": fields.pop("name", "室外消火栓"),
            "address": fields.pop("address", "景港府东门"),
            **fields,
        },
    )
