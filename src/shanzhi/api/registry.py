"""The registry 人房企事物 over the API: records, unmasking, edits, visits, 核查 and case links.

Everything is read through the policy module and the registry selectors, so a caller sees the
records of their part of the grid and nothing else. ID numbers and phones leave the server
masked; the clear value comes only from the reveal operations, which the service logs. The full
birth date is never sent: with the masked ID number (region and last four digits) it would give
the whole number back, so lists and details carry the birth year, which is what care work and
age statistics need.
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Annotated, Any, Literal, cast

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from shanzhi import policy
from shanzhi.accounts.models import User
from shanzhi.areas.models import Area
from shanzhi.cases.models import Case
from shanzhi.errors import NotFound, PermissionDenied
from shanzhi.registry import selectors, services
from shanzhi.registry.models import (
    LINKED_KINDS,
    AccessField,
    AccessVia,
    Building,
    CaseLink,
    Enterprise,
    EnterpriseScale,
    Facility,
    FacilityKind,
    House,
    HouseholdType,
    HouseUse,
    Library,
    LibraryEntry,
    Person,
    PersonTag,
    RecordKind,
    Sex,
    Tag,
    TagKind,
    Visit,
)

from . import present
from .auth import acting_user
from .errors import InvalidInput
from .schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    AreaRef,
    Code,
    Id,
    Moment,
    Out,
    PageIn,
    PageOut,
    Ref,
    StateKey,
    Text,
)

router = Router()

RECORDS = ["人房企事物"]
VISITS = ["走访"]
TASKS = ["核查"]
LINKS = ["事件关联"]

# How many of a record's cases its detail lists, newest first.
RECENT_CASES = 20
MAX_COUNT = 2**31 - 1

ORDERING: dict[str, tuple[str, ...]] = {
    "person": ("area__path", "name", "pk"),
    "house": ("address", "pk"),
    "building": ("address", "pk"),
    "enterprise": ("name", "pk"),
    "facility": ("kind", "code", "pk"),
}

RecordVersion = Annotated[
    int,
    Field(ge=1, le=MAX_COUNT, description="调用方所见的记录版本号;与当前版本不符时返回 409"),
]
TagCode = Annotated[Text, Field(max_length=30)]


# Shapes --------------------------------------------------------------------------------------


class RecordListIn(PageIn):
    area: Code | None = Field(None, description="辖区编码,含其下级")
    q: Text = Field(
        "",
        max_length=100,
        description="关键词;居民和企业可用完整的身份证号或手机号精确查找",
    )


class PersonListIn(RecordListIn):
    tag: TagCode = Field("", description="标签编码,如 living_alone")
    household_type: HouseholdType | None = None


class HouseListIn(RecordListIn):
    use: HouseUse | None = None


class EnterpriseListIn(RecordListIn):
    scale: EnterpriseScale | None = None
    library: Library | None = Field(None, description="目前在库的企业库")


class FacilityListIn(RecordListIn):
    kind: FacilityKind | None = None


class TagOut(Out):
    code: str
    name: str
    kind: TagKind


class HouseRef(Out):
    id: int
    address: str


class CaseRef(Out):
    number: str
    title: str
    state: StateKey
    state_label: str
    reported_at: datetime


class RecordOut(Out):
    id: int
    area: AreaRef
    version: int
    verified_at: datetime | None = Field(description="最近一次核查的时间")


class RecordDetail(Out):
    created_at: datetime
    updated_at: datetime
    can_edit: bool = Field(description="调用方能否修改该记录")
    cases: list[CaseRef] = Field(description=f"指向该记录的事件,最近的{RECENT_CASES}件")


class PersonOut(RecordOut):
    name: str
    id_number_masked: str = Field(description="身份证号掩码,如 330109********123X")
    phone_masked: str = Field(description="联系电话掩码,如 139****2222;未登记时为空")
    birth_year: int = Field(description="出生年份;完整出生日期与掩码合起来即是身份证号,故不返回")
    sex: Sex
    sex_label: str
    household_type: HouseholdType
    household_type_label: str
    house: HouseRef | None
    tags: list[TagOut] = Field(description="调用方可见的标签;重点管理标签仅对有权者显示")


class PersonDetailOut(PersonOut, RecordDetail):
    note: str
    can_unmask: bool = Field(description="调用方能否查看完整身份证号和电话(每次查看留痕)")


class PersonPage(PageOut):
    items: list[PersonOut]


class BuildingOut(RecordOut):
    compound: str
    name: str
    address: str
    floors: int | None
    unit_count: int | None


class BuildingDetailOut(BuildingOut, RecordDetail):
    """一幢楼栋及指向它的事件。"""


class BuildingPage(PageOut):
    items: list[BuildingOut]


class HouseOut(RecordOut):
    building_id: int | None
    address: str
    unit_no: str
    floor: int | None
    room: str
    use: HouseUse
    use_label: str
    floor_area: float | None = Field(description="面积(平方米)")


class HouseDetailOut(HouseOut, RecordDetail):
    """一处房屋及指向它的事件。"""


class HousePage(PageOut):
    items: list[HouseOut]


class LibraryOut(Out):
    library: Library
    label: str
    entered_on: date


class EnterpriseOut(RecordOut):
    name: str
    credit_code: str
    industry: str
    scale: EnterpriseScale
    scale_label: str
    address: str
    building_id: int | None
    contact_name: str
    contact_phone_masked: str = Field(description="联系电话掩码;未登记时为空")
    employees: int | None
    libraries: list[LibraryOut] = Field(description="目前所在的企业库")


class EnterpriseDetailOut(EnterpriseOut, RecordDetail):
    can_unmask: bool = Field(description="调用方能否查看完整联系电话(每次查看留痕)")


class EnterprisePage(PageOut):
    items: list[EnterpriseOut]


class FacilityOut(RecordOut):
    code: str
    kind: FacilityKind
    kind_label: str
    name: str
    address: str
    owner: str
    enterprise_id: int | None
    inspection_cycle_days: int
    last_inspected_on: date | None
    next_inspection_on: date | None


class FacilityDetailOut(FacilityOut, RecordDetail):
    """一处设施及指向它的事件。"""


class FacilityPage(PageOut):
    items: list[FacilityOut]


class RevealIn(Schema):
    reason: Text = Field(max_length=200, description="查看原因,写入查看记录备查")


class PersonRevealIn(RevealIn):
    field: Literal["id_number", "phone"]


class EnterpriseRevealIn(RevealIn):
    field: Literal["contact_phone"] = "contact_phone"


class RevealOut(Out):
    field: str
    value: str = Field(description="完整的值;未登记时为空")


class PersonCreateIn(Schema):
    area_code: Code = Field(description="所在网格或微网格的编码")
    name: Text = Field(max_length=50)
    id_number: Text = Field(max_length=32, description="18位身份证号(15位旧号码自动升位)")
    phone: Text = Field("", max_length=30)
    household_type: HouseholdType = HouseholdType.REGISTERED
    house_id: Id | None = Field(None, description="居住房屋")
    tags: list[TagCode] = Field(default_factory=list, max_length=20, description="标签编码")
    note: Text = Field("", max_length=200)


class PersonUpdateIn(Schema):
    """Only the fields sent change; `house_id: null` clears the house, `phone: ""` the phone."""

    version: RecordVersion
    area_code: Code | None = Field(None, description="移到同一街道的另一网格")
    name: Text | None = Field(None, max_length=50)
    id_number: Text | None = Field(None, max_length=32)
    phone: Text | None = Field(None, max_length=30)
    household_type: HouseholdType | None = None
    house_id: Id | None = None
    tags: list[TagCode] | None = Field(
        None, max_length=20, description="替换调用方可见的标签;不可见的重点管理标签保持不变"
    )
    note: Text | None = Field(None, max_length=200)


class EnterpriseCreateIn(Schema):
    area_code: Code = Field(description="所在网格或微网格的编码")
    name: Text = Field(max_length=120)
    credit_code: Text = Field(max_length=32, description="18位统一社会信用代码")
    scale: EnterpriseScale
    address: Text = Field(max_length=200)
    industry: Text = Field("", max_length=50)
    contact_name: Text = Field("", max_length=50)
    contact_phone: Text = Field("", max_length=30)
    employees: int | None = Field(None, ge=0, le=MAX_COUNT)
    building_id: Id | None = Field(None, description="所在楼宇")


class EnterpriseUpdateIn(Schema):
    """Only the fields sent change; `building_id: null` clears the building."""

    version: RecordVersion
    area_code: Code | None = Field(None, description="移到同一街道的另一网格")
    name: Text | None = Field(None, max_length=120)
    credit_code: Text | None = Field(None, max_length=32)
    scale: EnterpriseScale | None = None
    address: Text | None = Field(None, max_length=200)
    industry: Text | None = Field(None, max_length=50)
    contact_name: Text | None = Field(None, max_length=50)
    contact_phone: Text | None = Field(None, max_length=30)
    employees: int | None = Field(None, ge=0, le=MAX_COUNT)
    building_id: Id | None = None


class VisitCreateIn(Schema):
    person_id: Id | None = Field(None, description="走访的居民;与 enterprise_id 二者填一个")
    enterprise_id: Id | None = Field(None, description="走访的企业")
    summary: Text = Field(max_length=2000, description="走访情况")
    problems: Text = Field("", max_length=2000, description="反映的问题")
    raise_case: bool = Field(False, description="把反映的问题转为诉求事件并关联该对象")
    visited_at: Moment | None = Field(None, description="走访时间;默认为现在,不带时区时按北京时间")


class VisitListIn(PageIn):
    person: Id | None = Field(None, description="居民 id")
    enterprise: Id | None = Field(None, description="企业 id")
    area: Code | None = Field(None, description="辖区编码,含其下级")
    visited_from: Moment | None = Field(None, description="走访时间不早于")
    visited_to: Moment | None = Field(None, description="走访时间早于")


class VisitOut(Out):
    id: int
    visited_at: datetime
    visitor: str
    person: Ref | None
    enterprise: Ref | None
    area: AreaRef
    summary: str
    problems: str
    case_number: str | None = Field(description="由反映问题转成的诉求事件编号")
    created_at: datetime


class VisitPage(PageOut):
    items: list[VisitOut]


class TaskOut(Out):
    id: int
    title: str
    record_kind: RecordKind
    record_kind_label: str
    due_on: date
    created_at: datetime
    created_by: str
    note: str
    areas: list[AreaRef] = Field(description="核查范围")


class TaskPage(PageOut):
    items: list[TaskOut]


class ProgressIn(Schema):
    level: Literal["grid", "community"] = Field("grid", description="按网格或按社区汇总")


class ProgressRowOut(Out):
    area: AreaRef
    total: int
    done: int
    rate: float = Field(description="完成率,0 到 1")


class ProgressOut(Out):
    task_id: int
    level: Literal["grid", "community"]
    total: int
    done: int
    rows: list[ProgressRowOut] = Field(description="调用方辖区范围内各网格或社区的进度")


LinkKind = Literal["person", "house", "building", "enterprise", "facility"]


class LinkIn(Schema):
    kind: LinkKind
    id: Id


class LinkOut(Out):
    kind: LinkKind
    id: int
    label: str
    created_at: datetime


class LinksOut(Out):
    number: str
    links: list[LinkOut] = Field(description="调用方可见的关联对象")


# Reading -------------------------------------------------------------------------------------


def _registry_user(request: HttpRequest) -> User:
    user = acting_user(request)
    if not policy.can_use_registry(user):
        raise PermissionDenied("无权查看人房企事物登记")
    return user


def _area(user: User, code: str) -> Area:
    try:
        return policy.area_for(user, code)
    except NotFound as exc:
        raise InvalidInput(exc.message) from exc


def _named(user: User, model: type[Any], pk: int, label: str) -> Any:
    """A record that a request body names: unknown to the caller is invalid input, not 404."""
    try:
        return policy.record_for(user, model, pk)
    except NotFound as exc:
        raise InvalidInput(f"没有找到该{label},或您无权查看") from exc


def _listed(user: User, kind: str, params: RecordListIn, **filters: str) -> QuerySet[Any]:
    area = _area(user, params.area) if params.area else None
    query = selectors.RecordFilters(area=area, q=params.q, **filters)
    return selectors.record_list(user=user, kind=kind, filters=query).order_by(*ORDERING[kind])


def _area_ref(area: Area) -> dict[str, str]:
    return {"code": area.code, "name": area.name}


def _record(record: services.AnyRecord) -> dict[str, Any]:
    return {
        "id": record.pk,
        "area": _area_ref(record.area),
        "version": record.version,
        "verified_at": record.verified_at,
    }


def _detail(user: User, record: services.AnyRecord) -> dict[str, Any]:
    cases = selectors.record_cases(user=user, record=record)[:RECENT_CASES]
    return {
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "can_edit": policy.can_edit_records_at(user, record.area),
        "cases": [
            {
                "number": case.number,
                "title": case.title,
                "state": case.state,
                "state_label": case.state_label,
                "reported_at": case.reported_at,
            }
            for case in cases
        ],
    }


def _person(person: Person, tags: Iterable[Tag]) -> dict[str, Any]:
    house = person.house
    return _record(person) | {
        "name": person.name,
        "id_number_masked": person.id_number_masked,
        "phone_masked": person.phone_masked,
        "birth_year": person.birth_date.year,
        "sex": person.sex,
        "sex_label": Sex(person.sex).label,
        "household_type": person.household_type,
        "household_type_label": HouseholdType(person.household_type).label,
        "house": {"id": house.pk, "address": house.address} if house is not None else None,
        "tags": [{"code": tag.code, "name": tag.name, "kind": tag.kind} for tag in tags],
    }


def _person_items(user: User, people: Iterable[Person]) -> list[dict[str, Any]]:
    """Rows fetched with their area, house and taggings; sensitive tags only where allowed."""
    items = []
    for person in people:
        sensitive = policy.can_see_sensitive_tags(user, person.area)
        tags = [
            tagging.tag
            for tagging in person.taggings.all()
            if sensitive or tagging.tag.kind != TagKind.SENSITIVE
        ]
        items.append(_person(person, tags))
    return items


def _person_detail(user: User, person: Person) -> dict[str, Any]:
    tags = selectors.person_tags_shown(user=user, person=person)
    return (
        _person(person, tags)
        | _detail(user, person)
        | {"note": person.note, "can_unmask": policy.can_unmask(user, person)}
    )


def _building(building: Building) -> dict[str, Any]:
    return _record(building) | {
        "compound": building.compound,
        "name": building.name,
        "address": building.address,
        "floors": building.floors,
        "unit_count": building.unit_count,
    }


def _house(house: House) -> dict[str, Any]:
    return _record(house) | {
        "building_id": house.building_id,
        "address": house.address,
        "unit_no": house.unit_no,
        "floor": house.floor,
        "room": house.room,
        "use": house.use,
        "use_label": HouseUse(house.use).label,
        "floor_area": float(house.floor_area) if house.floor_area is not None else None,
    }


def _enterprise(enterprise: Enterprise, entries: Iterable[LibraryEntry]) -> dict[str, Any]:
    """An enterprise with the libraries it is in now (`entries`)."""
    return _record(enterprise) | {
        "name": enterprise.name,
        "credit_code": enterprise.credit_code,
        "industry": enterprise.industry,
        "scale": enterprise.scale,
        "scale_label": EnterpriseScale(enterprise.scale).label,
        "address": enterprise.address,
        "building_id": enterprise.building_id,
        "contact_name": enterprise.contact_name,
        "contact_phone_masked": enterprise.contact_phone_masked,
        "employees": enterprise.employees,
        "libraries": [
            {
                "library": entry.library,
                "label": Library(entry.library).label,
                "entered_on": entry.entered_on,
            }
            for entry in entries
        ],
    }


def _current_entries() -> QuerySet[LibraryEntry]:
    return LibraryEntry.objects.filter(left_on__isnull=True).order_by("library")


def _enterprise_items(enterprises: Iterable[Enterprise]) -> list[dict[str, Any]]:
    """Rows fetched with their current library entries prefetched as `current_entries`."""
    return [_enterprise(row, getattr(row, "current_entries", [])) for row in enterprises]


def _enterprise_detail(user: User, enterprise: Enterprise) -> dict[str, Any]:
    entries = _current_entries().filter(enterprise=enterprise)
    return (
        _enterprise(enterprise, entries)
        | _detail(user, enterprise)
        | {"can_unmask": policy.can_unmask(user, enterprise)}
    )


def _facility(facility: Facility) -> dict[str, Any]:
    return _record(facility) | {
        "code": facility.code,
        "kind": facility.kind,
        "kind_label": FacilityKind(facility.kind).label,
        "name": facility.name,
        "address": facility.address,
        "owner": facility.owner,
        "enterprise_id": facility.enterprise_id,
        "inspection_cycle_days": facility.inspection_cycle_days,
        "last_inspected_on": facility.last_inspected_on,
        "next_inspection_on": facility.next_inspection_on,
    }


def _items(
    render: Callable[[Any], dict[str, Any]],
) -> Callable[[Iterable[Any]], list[dict[str, Any]]]:
    """A page's rows rendered one by one (from what the queryset already fetched)."""
    return lambda rows: [render(row) for row in rows]


SCOPE_NOTE = "调用方辖区范围内、未注销的"
DETAIL_NOTE = "不存在、已注销或不在调用方辖区范围内时返回 404。"


@router.get(
    "/registry/persons",
    response={200: PersonPage} | READ_ERRORS,
    tags=RECORDS,
    operation_id="person_list",
    summary="居民列表",
    description=(
        f"{SCOPE_NOTE}居民,按网格和姓名排序;可按辖区、关键词(姓名,或完整身份证号/手机号精确查找)、"
        "标签和户籍类型筛选。身份证号和电话一律为掩码。"
    ),
)
def person_list(request: HttpRequest, params: Query[PersonListIn]) -> dict[str, Any]:
    user = _registry_user(request)
    people = (
        _listed(user, "person", params, tag=params.tag, household_type=params.household_type or "")
        .select_related("house")
        .prefetch_related(
            Prefetch(
                "taggings",
                queryset=PersonTag.objects.select_related("tag").order_by("tag__sort", "tag__code"),
            )
        )
    )
    return present.page(people, params, lambda rows: _person_items(user, rows))


@router.get(
    "/registry/persons/{id}",
    response={200: PersonDetailOut} | READ_ERRORS,
    tags=RECORDS,
    operation_id="person_detail",
    summary="居民详情",
    description=f"一名居民及指向他的事件;{DETAIL_NOTE}",
)
def person_detail(request: HttpRequest, id: Id) -> dict[str, Any]:
    user = _registry_user(request)
    return _person_detail(user, policy.record_for(user, Person, id))


@router.get(
    "/registry/houses",
    response={200: HousePage} | READ_ERRORS,
    tags=RECORDS,
    operation_id="house_list",
    summary="房屋列表",
    description=f"{SCOPE_NOTE}房屋,按地址排序;可按辖区、地址关键词和用途筛选。",
)
def house_list(request: HttpRequest, params: Query[HouseListIn]) -> dict[str, Any]:
    user = _registry_user(request)
    houses = _listed(user, "house", params, use=params.use or "")
    return present.page(houses, params, _items(_house))


@router.get(
    "/registry/houses/{id}",
    response={200: HouseDetailOut} | READ_ERRORS,
    tags=RECORDS,
    operation_id="house_detail",
    summary="房屋详情",
    description=f"一处房屋及指向它的事件;{DETAIL_NOTE}",
)
def house_detail(request: HttpRequest, id: Id) -> dict[str, Any]:
    user = _registry_user(request)
    house = policy.record_for(user, House, id)
    return _house(house) | _detail(user, house)


@router.get(
    "/registry/buildings",
    response={200: BuildingPage} | READ_ERRORS,
    tags=RECORDS,
    operation_id="building_list",
    summary="楼栋列表",
    description=f"{SCOPE_NOTE}楼栋,按地址排序;可按辖区和关键词(地址、小区、楼栋名)筛选。",
)
def building_list(request: HttpRequest, params: Query[RecordListIn]) -> dict[str, Any]:
    user = _registry_user(request)
    return present.page(_listed(user, "building", params), params, _items(_building))


@router.get(
    "/registry/buildings/{id}",
    response={200: BuildingDetailOut} | READ_ERRORS,
    tags=RECORDS,
    operation_id="building_detail",
    summary="楼栋详情",
    description=f"一幢楼栋及指向它的事件;{DETAIL_NOTE}",
)
def building_detail(request: HttpRequest, id: Id) -> dict[str, Any]:
    user = _registry_user(request)
    building = policy.record_for(user, Building, id)
    return _building(building) | _detail(user, building)


@router.get(
    "/registry/enterprises",
    response={200: EnterprisePage} | READ_ERRORS,
    tags=RECORDS,
    operation_id="enterprise_list",
    summary="企业列表",
    description=(
        f"{SCOPE_NOTE}企业,按名称排序;可按辖区、关键词(名称、地址、信用代码,或完整联系电话)、"
        "规模和所在企业库筛选。联系电话为掩码。"
    ),
)
def enterprise_list(request: HttpRequest, params: Query[EnterpriseListIn]) -> dict[str, Any]:
    user = _registry_user(request)
    enterprises = _listed(
        user, "enterprise", params, scale=params.scale or "", library=params.library or ""
    )
    enterprises = enterprises.prefetch_related(
        Prefetch("library_entries", queryset=_current_entries(), to_attr="current_entries")
    )
    return present.page(enterprises, params, _enterprise_items)


@router.get(
    "/registry/enterprises/{id}",
    response={200: EnterpriseDetailOut} | READ_ERRORS,
    tags=RECORDS,
    operation_id="enterprise_detail",
    summary="企业详情",
    description=f"一家企业、所在企业库及指向它的事件;{DETAIL_NOTE}",
)
def enterprise_detail(request: HttpRequest, id: Id) -> dict[str, Any]:
    user = _registry_user(request)
    return _enterprise_detail(user, policy.record_for(user, Enterprise, id))


@router.get(
    "/registry/facilities",
    response={200: FacilityPage} | READ_ERRORS,
    tags=RECORDS,
    operation_id="facility_list",
    summary="设施列表",
    description=f"{SCOPE_NOTE}设施,按类别和编号排序;可按辖区、关键词和类别筛选。",
)
def facility_list(request: HttpRequest, params: Query[FacilityListIn]) -> dict[str, Any]:
    user = _registry_user(request)
    facilities = _listed(user, "facility", params, facility_kind=params.kind or "")
    return present.page(facilities, params, _items(_facility))


@router.get(
    "/registry/facilities/{id}",
    response={200: FacilityDetailOut} | READ_ERRORS,
    tags=RECORDS,
    operation_id="facility_detail",
    summary="设施详情",
    description=f"一处设施及指向它的事件;{DETAIL_NOTE}",
)
def facility_detail(request: HttpRequest, id: Id) -> dict[str, Any]:
    user = _registry_user(request)
    facility = policy.record_for(user, Facility, id)
    return _facility(facility) | _detail(user, facility)


# Personal data in the clear -----------------------------------------------------------------

REVEAL_NOTE = (
    "返回完整的值,并写入个人信息查看记录(谁、查看了谁的哪一项、何时、原因),由领导查阅、"
    "任何人不能修改。角色未被授予查看权限时返回 403,且不留记录;原因为空时返回 422。"
)


@router.post(
    "/registry/persons/{id}/reveal",
    response={200: RevealOut} | WRITE_ERRORS,
    tags=RECORDS,
    operation_id="person_reveal",
    summary="查看居民完整身份证号或电话",
    description=REVEAL_NOTE,
)
def person_reveal(request: HttpRequest, id: Id, payload: PersonRevealIn) -> dict[str, Any]:
    user = _registry_user(request)
    person = policy.record_for(user, Person, id)
    value = services.personal_reveal(
        actor=user, record=person, field=payload.field, reason=payload.reason, via=AccessVia.API
    )
    return {"field": payload.field, "value": value}


@router.post(
    "/registry/enterprises/{id}/reveal",
    response={200: RevealOut} | WRITE_ERRORS,
    tags=RECORDS,
    operation_id="enterprise_reveal",
    summary="查看企业完整联系电话",
    description=REVEAL_NOTE,
)
def enterprise_reveal(request: HttpRequest, id: Id, payload: EnterpriseRevealIn) -> dict[str, Any]:
    user = _registry_user(request)
    enterprise = policy.record_for(user, Enterprise, id)
    value = services.personal_reveal(
        actor=user,
        record=enterprise,
        field=AccessField.CONTACT_PHONE,
        reason=payload.reason,
        via=AccessVia.API,
    )
    return {"field": payload.field, "value": value}


# Writing -------------------------------------------------------------------------------------


def _editable_at(user: User, area: Area) -> None:
    # Asked before the inputs are checked, so that whoever may not edit learns that first.
    if not policy.can_edit_records_at(user, area):
        raise PermissionDenied("无权在该网格登记或修改记录")


def _filled(value: str, message: str) -> str:
    if not value.strip():
        raise InvalidInput(message)
    return value.strip()


def _same_street(record: Any, area: Area, label: str) -> Any:
    if record.street_id != area.street_id:
        raise InvalidInput(f"{label}不在该网格所属的街道")
    return record


def _tags(user: User, area: Area, codes: list[str]) -> list[Tag]:
    wanted = set(codes)
    tags = list(policy.tags_visible_to(user, area).filter(code__in=wanted))
    unknown = wanted - {tag.code for tag in tags}
    if unknown:
        raise InvalidInput(f"没有找到标签:{'、'.join(sorted(unknown))}")
    return tags


def _id_number_fields(number: str) -> dict[str, Any]:
    fields = services.person_protected_fields(id_number=number, phone="")
    return {key: value for key, value in fields.items() if not key.startswith("phone_")}


def _phone_fields(phone: str) -> dict[str, Any]:
    # The enterprise contact's columns are the person's phone columns under another prefix.
    fields = services.contact_phone_fields(phone)
    return {key.removeprefix("contact_"): value for key, value in fields.items()}


@router.post(
    "/registry/persons",
    response={201: PersonDetailOut} | WRITE_ERRORS,
    tags=RECORDS,
    operation_id="person_create",
    summary="登记居民",
    description=(
        "在网格或微网格上登记一名居民,限本网格网格员和管理员。身份证号按国标校验位校验,"
        "出生日期和性别由号码得出;15位旧号码自动升为18位;同一街道内身份证号不能重复。"
    ),
)
def person_create(request: HttpRequest, payload: PersonCreateIn) -> Status[dict[str, Any]]:
    user = _registry_user(request)
    area = _area(user, payload.area_code)
    _editable_at(user, area)
    house = (
        _same_street(_named(user, House, payload.house_id, "房屋"), area, "房屋")
        if payload.house_id
        else None
    )
    fields = {
        "name": _filled(payload.name, "请填写姓名"),
        "household_type": payload.household_type,
        "house": house,
        "note": payload.note.strip(),
        **_id_number_fields(payload.id_number),
        **_phone_fields(payload.phone),
    }
    tags = _tags(user, area, payload.tags)
    person = cast(
        Person,
        services.record_create(actor=user, model=Person, area=area, fields=fields, tags=tags),
    )
    return Status(201, _person_detail(user, policy.record_for(user, Person, person.pk)))


@router.patch(
    "/registry/persons/{id}",
    response={200: PersonDetailOut} | WRITE_ERRORS,
    tags=RECORDS,
    operation_id="person_update",
    summary="修改居民",
    description=(
        "只修改请求体中给出的字段;version 须为调用方所见的版本,不符时返回 409。"
        "tags 替换调用方可见的标签,看不到的重点管理标签保持不变。"
    ),
)
def person_update(request: HttpRequest, id: Id, payload: PersonUpdateIn) -> dict[str, Any]:
    user = _registry_user(request)
    person = policy.record_for(user, Person, id)
    _editable_at(user, person.area)
    area = _area(user, payload.area_code) if payload.area_code else None
    target = area or person.area
    given = payload.model_fields_set
    fields: dict[str, Any] = {}
    if payload.name is not None:
        fields["name"] = _filled(payload.name, "请填写姓名")
    if payload.id_number is not None:
        fields |= _id_number_fields(payload.id_number)
    if payload.phone is not None:
        fields |= _phone_fields(payload.phone)
    if payload.household_type is not None:
        fields["household_type"] = payload.household_type
    if "house_id" in given:
        fields["house"] = (
            _same_street(_named(user, House, payload.house_id, "房屋"), target, "房屋")
            if payload.house_id
            else None
        )
    if payload.note is not None:
        fields["note"] = payload.note.strip()
    tags = _tags(user, target, payload.tags) if payload.tags is not None else None
    services.record_update(
        actor=user,
        record=person,
        expected_version=payload.version,
        fields=fields,
        area=area,
        tags=tags,
    )
    return _person_detail(user, policy.record_for(user, Person, person.pk))


@router.post(
    "/registry/enterprises",
    response={201: EnterpriseDetailOut} | WRITE_ERRORS,
    tags=RECORDS,
    operation_id="enterprise_create",
    summary="登记企业",
    description=(
        "在网格或微网格上登记一家企业,限本网格网格员和管理员。统一社会信用代码按国标校验位校验,"
        "同一街道内不能重复。"
    ),
)
def enterprise_create(request: HttpRequest, payload: EnterpriseCreateIn) -> Status[dict[str, Any]]:
    user = _registry_user(request)
    area = _area(user, payload.area_code)
    _editable_at(user, area)
    building = (
        _same_street(_named(user, Building, payload.building_id, "楼宇"), area, "楼宇")
        if payload.building_id
        else None
    )
    fields = services.enterprise_fields(
        name=payload.name,
        credit_code=payload.credit_code,
        scale=payload.scale,
        address=_filled(payload.address, "请填写企业地址"),
        industry=payload.industry,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        employees=payload.employees,
        building=building,
    )
    enterprise = services.record_create(actor=user, model=Enterprise, area=area, fields=fields)
    return Status(201, _enterprise_detail(user, policy.record_for(user, Enterprise, enterprise.pk)))


@router.patch(
    "/registry/enterprises/{id}",
    response={200: EnterpriseDetailOut} | WRITE_ERRORS,
    tags=RECORDS,
    operation_id="enterprise_update",
    summary="修改企业",
    description="只修改请求体中给出的字段;version 须为调用方所见的版本,不符时返回 409。",
)
def enterprise_update(request: HttpRequest, id: Id, payload: EnterpriseUpdateIn) -> dict[str, Any]:
    user = _registry_user(request)
    enterprise = policy.record_for(user, Enterprise, id)
    _editable_at(user, enterprise.area)
    area = _area(user, payload.area_code) if payload.area_code else None
    given = payload.model_fields_set
    building = enterprise.building
    if "building_id" in given:
        building = (
            _same_street(
                _named(user, Building, payload.building_id, "楼宇"), area or enterprise.area, "楼宇"
            )
            if payload.building_id
            else None
        )
    # Every field is checked again as the service builds them; the contact phone, sealed, is
    # rebuilt only when a new one is sent.
    fields = services.enterprise_fields(
        name=payload.name if payload.name is not None else enterprise.name,
        credit_code=(
            payload.credit_code if payload.credit_code is not None else enterprise.credit_code
        ),
        scale=payload.scale or enterprise.scale,
        address=_filled(
            payload.address if payload.address is not None else enterprise.address,
            "请填写企业地址",
        ),
        industry=payload.industry if payload.industry is not None else enterprise.industry,
        contact_name=(
            payload.contact_name if payload.contact_name is not None else enterprise.contact_name
        ),
        contact_phone=payload.contact_phone or "",
        employees=payload.employees if "employees" in given else enterprise.employees,
        building=building,
    )
    if payload.contact_phone is None:
        fields = {key: value for key, value in fields.items() if not key.startswith("contact_ph")}
    services.record_update(
        actor=user,
        record=enterprise,
        expected_version=payload.version,
        fields=fields,
        area=area,
    )
    return _enterprise_detail(user, policy.record_for(user, Enterprise, enterprise.pk))


# Visits (走访) -------------------------------------------------------------------------------


def _visit(visit: Visit) -> dict[str, Any]:
    """A visit fetched with its visitor, subject, area and case."""
    person, enterprise = visit.person, visit.enterprise
    return {
        "id": visit.pk,
        "visited_at": visit.visited_at,
        "visitor": visit.visitor.full_name or visit.visitor.username,
        "person": {"id": person.pk, "name": person.name} if person is not None else None,
        "enterprise": (
            {"id": enterprise.pk, "name": enterprise.name} if enterprise is not None else None
        ),
        "area": _area_ref(visit.area),
        "summary": visit.summary,
        "problems": visit.problems,
        "case_number": visit.case.number if visit.case is not None else None,
        "created_at": visit.created_at,
    }


@router.post(
    "/registry/visits",
    response={201: VisitOut} | WRITE_ERRORS,
    tags=VISITS,
    operation_id="visit_create",
    summary="登记走访",
    description=(
        "登记对一名居民或一家企业的走访,限该网格的网格员、领导和管理员。raise_case 为真时,"
        "反映的问题转为诉求事件并关联该对象,事件编号见 case_number。"
    ),
)
def visit_create(request: HttpRequest, payload: VisitCreateIn) -> Status[dict[str, Any]]:
    user = _registry_user(request)
    person = _named(user, Person, payload.person_id, "居民") if payload.person_id else None
    enterprise = (
        _named(user, Enterprise, payload.enterprise_id, "企业") if payload.enterprise_id else None
    )
    visit = services.visit_log(
        actor=user,
        summary=payload.summary,
        person=person,
        enterprise=enterprise,
        visited_at=payload.visited_at,
        problems=payload.problems,
        raise_case=payload.raise_case,
    )
    return Status(201, _visit(visit))


@router.get(
    "/registry/visits",
    response={200: VisitPage} | READ_ERRORS,
    tags=VISITS,
    operation_id="visit_list",
    summary="走访记录",
    description="调用方辖区范围内的走访记录,最近的在前;可按居民、企业、辖区和走访时间筛选。",
)
def visit_list(request: HttpRequest, params: Query[VisitListIn]) -> dict[str, Any]:
    user = _registry_user(request)
    visits = policy.visits_visible_to(user)
    if params.person:
        visits = visits.filter(person_id=params.person)
    if params.enterprise:
        visits = visits.filter(enterprise_id=params.enterprise)
    if params.area:
        visits = visits.filter(area__path__startswith=_area(user, params.area).path)
    if params.visited_from:
        visits = visits.filter(visited_at__gte=params.visited_from)
    if params.visited_to:
        visits = visits.filter(visited_at__lt=params.visited_to)
    visits = visits.select_related("visitor", "person", "enterprise", "area", "case").order_by(
        "-visited_at", "-pk"
    )
    return present.page(visits, params, _items(_visit))


# Verification tasks (核查) -------------------------------------------------------------------


@router.get(
    "/registry/verification-tasks",
    response={200: TaskPage} | READ_ERRORS,
    tags=TASKS,
    operation_id="verification_task_list",
    summary="核查任务",
    description="在调用方辖区范围内有核查对象的任务,以及调用方发布的任务,最近发布的在前。",
)
def verification_task_list(request: HttpRequest, params: Query[PageIn]) -> dict[str, Any]:
    user = _registry_user(request)
    tasks = (
        policy.verification_tasks_visible_to(user)
        .select_related("created_by")
        .prefetch_related(Prefetch("areas", queryset=Area.objects.order_by("path")))
        .order_by("-created_at", "-pk")
    )

    def item(task: Any) -> dict[str, Any]:
        return {
            "id": task.pk,
            "title": task.title,
            "record_kind": task.record_kind,
            "record_kind_label": RecordKind(task.record_kind).label,
            "due_on": task.due_on,
            "created_at": task.created_at,
            "created_by": task.created_by.full_name or task.created_by.username,
            "note": task.note,
            "areas": [_area_ref(area) for area in task.areas.all()],
        }

    return present.page(tasks, params, _items(item))


@router.get(
    "/registry/verification-tasks/{id}/progress",
    response={200: ProgressOut} | READ_ERRORS,
    tags=TASKS,
    operation_id="verification_progress",
    summary="核查进度",
    description=(
        "一个核查任务在调用方辖区范围内各网格(或各社区)已核查与应核查的条数;"
        "任务不存在或调用方看不到时返回 404。"
    ),
)
def verification_progress(
    request: HttpRequest, id: Id, params: Query[ProgressIn]
) -> dict[str, Any]:
    user = _registry_user(request)
    task = policy.verification_tasks_visible_to(user).filter(pk=id).first()
    if task is None:
        raise NotFound("没有找到该核查任务,或您无权查看")
    rows = selectors.verification_progress(user=user, task=task, level=params.level)
    return {
        "task_id": task.pk,
        "level": params.level,
        "total": sum(row.total for row in rows),
        "done": sum(row.done for row in rows),
        "rows": [
            {"area": _area_ref(row.area), "total": row.total, "done": row.done, "rate": row.rate}
            for row in rows
        ],
    }


# Cases pointing at records ------------------------------------------------------------------


def _links(user: User, case: Case) -> dict[str, Any]:
    """The case's links to records the caller may see (one query per kind that has any)."""
    links = list(CaseLink.objects.filter(case=case).order_by("created_at", "pk"))
    shown = []
    for kind in LINKED_KINDS:
        ids = {getattr(link, f"{kind}_id") for link in links} - {None}
        if not ids:
            continue
        records = policy.records_visible_to(user, services.RECORD_KINDS[kind]).filter(pk__in=ids)
        labels = {record.pk: str(record) for record in records}
        shown += [
            (link, kind, labels[getattr(link, f"{kind}_id")])
            for link in links
            if getattr(link, f"{kind}_id") in labels
        ]
    shown.sort(key=lambda row: (row[0].created_at, row[0].pk))
    return {
        "number": case.number,
        "links": [
            {
                "kind": kind,
                "id": getattr(link, f"{kind}_id"),
                "label": label,
                "created_at": link.created_at,
            }
            for link, kind, label in shown
        ],
    }


@router.get(
    "/cases/{number}/links",
    response={200: LinksOut} | READ_ERRORS,
    tags=LINKS,
    operation_id="case_link_list",
    summary="事件关联的对象",
    description=(
        "事件指向的人、房、楼、企、物中调用方可见的那些;"
        "事件不存在或不在调用方辖区范围内时返回 404。"
    ),
)
def case_link_list(request: HttpRequest, number: Code) -> dict[str, Any]:
    user = acting_user(request)
    return _links(user, policy.case_for(user, number))


@router.post(
    "/cases/{number}/links",
    response={200: LinksOut} | WRITE_ERRORS,
    tags=LINKS,
    operation_id="case_link_add",
    summary="关联对象",
    description=(
        "让事件指向本街道的一条登记记录(同一记录只关联一次,重复提交不报错);"
        "返回事件关联的全部可见对象。"
    ),
)
def case_link_add(request: HttpRequest, number: Code, payload: LinkIn) -> dict[str, Any]:
    user = acting_user(request)
    case = policy.case_for(user, number)
    record = _named(user, services.RECORD_KINDS[payload.kind], payload.id, "记录")
    services.case_link_add(actor=user, case=case, record=record)
    return _links(user, case)


class ContactOut(Out):
    phone: str = Field(description="上报人的完整联系电话")


@router.post(
    "/cases/{number}/contact",
    response={200: ContactOut} | WRITE_ERRORS,
    tags=LINKS,
    operation_id="case_contact_reveal",
    summary="查看上报人完整电话",
    description=(
        "回访或办理需要时查看上报人的完整电话:须为该事件的坐席或承办单位办理人,"
        "须填写原因;每次查看写入个人信息查看记录。"
    ),
)
def case_contact_reveal(request: HttpRequest, number: Code, payload: RevealIn) -> dict[str, Any]:
    user = acting_user(request)
    case = policy.case_for(user, number)
    phone = services.case_contact_reveal(
        actor=user, case=case, reason=payload.reason, via=AccessVia.API
    )
    return {"phone": phone}
