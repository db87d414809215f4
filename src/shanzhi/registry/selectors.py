"""Reads of the registry shared by pages, API, exports and reports, always within a user's scope."""

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from shanzhi import policy
from shanzhi.areas.models import Area, Level
from shanzhi.cases.models import Case
from shanzhi.errors import DomainError
from shanzhi.protection import digest
from shanzhi.registry.models import (
    Building,
    Enterprise,
    House,
    ItemStatus,
    Person,
    Tag,
    TagKind,
    VerificationItem,
    VerificationTask,
    Visit,
)
from shanzhi.registry.services import RECORD_KINDS, AnyRecord, kind_of
from shanzhi.registry.validators import phone_check, resident_id_check

# The text columns a free-text search looks in, per kind; ID numbers and phones are matched
# exactly through their digests instead.
SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    "person": ("name",),
    "house": ("address",),
    "building": ("address", "compound", "name"),
    "enterprise": ("name", "address", "credit_code"),
    "facility": ("name", "code", "address"),
}


@dataclass(frozen=True)
class RecordFilters:
    area: Area | None = None
    q: str = ""
    tag: str = ""
    use: str = ""
    household_type: str = ""
    scale: str = ""
    library: str = ""
    facility_kind: str = ""


def _exact_digest(text: str) -> tuple[str, str] | None:
    """If the query is a whole ID number or phone, the column and digest that find it."""
    with suppress(DomainError):
        return "id_number_digest", digest(resident_id_check(text).number)
    with suppress(DomainError):
        return "phone_digest", digest(phone_check(text))
    return None


def record_list(*, user: Any, kind: str, filters: RecordFilters | None = None) -> QuerySet[Any]:
    """Live records of one kind the user may see, narrowed by `filters`."""
    filters = filters or RecordFilters()
    model = RECORD_KINDS[kind]
    records = policy.records_visible_to(user, model).select_related("area")
    if filters.area is not None:
        records = records.filter(area__path__startswith=filters.area.path)
    text = filters.q.strip()
    if text:
        exact = _exact_digest(text) if kind in ("person", "enterprise") else None
        if exact is not None and kind == "person":
            records = records.filter(**{exact[0]: exact[1]})
        elif exact is not None and exact[0] == "phone_digest":
            records = records.filter(contact_phone_digest=exact[1])
        else:
            condition = Q()
            for field in SEARCH_FIELDS[kind]:
                condition |= Q(**{f"{field}__icontains": text})
            records = records.filter(condition)
    if kind == "person":
        if filters.tag:
            tag = policy.tags_visible_to(user, filters.area or _any_area(user)).filter(
                code=filters.tag
            )
            records = records.filter(taggings__tag__in=tag)
        if filters.household_type:
            records = records.filter(household_type=filters.household_type)
    if kind == "house" and filters.use:
        records = records.filter(use=filters.use)
    if kind == "enterprise":
        if filters.scale:
            records = records.filter(scale=filters.scale)
        if filters.library:
            records = records.filter(
                library_entries__library=filters.library, library_entries__left_on__isnull=True
            ).distinct()
    if kind == "facility" and filters.facility_kind:
        records = records.filter(kind=filters.facility_kind)
    return records


def _any_area(user: Any) -> Area:
    """Where to judge tag visibility when no area is chosen: the user's first scope root."""
    roots = policy.scope_roots(user)
    return roots[0] if roots else Area(path="")


def person_tags_shown(*, user: Any, person: Person) -> list[Tag]:
    """The person's tags the viewer may see (sensitive ones only with that privilege)."""
    visible = policy.tags_visible_to(user, person.area)
    return list(visible.filter(taggings__person=person))


def record_cases(*, user: Any, record: AnyRecord) -> QuerySet[Case]:
    """The cases pointing at a record that the user may see, newest first."""
    return (
        policy.cases_visible_to(user)
        .filter(**{f"registry_links__{kind_of(record)}": record})
        .select_related("case_type", "unit")
        .order_by("-reported_at")
    )


def record_visits(*, user: Any, record: Person | Enterprise) -> QuerySet[Visit]:
    return (
        policy.visits_visible_to(user)
        .filter(**{kind_of(record): record})
        .select_related("visitor", "case")
        .order_by("-visited_at")
    )


@dataclass(frozen=True)
class CareDue:
    person: Person
    tags: list[str]
    last_visited_at: datetime | None
    due_since: datetime


def care_visits_due(*, user: Any, moment: datetime, area: Area | None = None) -> list[CareDue]:
    """Persons under care whose last visit is older than their tags' visit period, in the
    grids the user patrols, those never visited and the longest waiting first."""
    people = policy.records_visible_to(user, Person).filter(area__in=policy.field_areas_for(user))
    if area is not None:
        people = people.filter(area__path__startswith=area.path)
    care_tags = list(Tag.objects.filter(kind=TagKind.CARE, visit_interval_days__isnull=False))
    due: dict[int, CareDue] = {}
    for tag in care_tags:
        assert tag.visit_interval_days is not None  # noqa: S101 - filtered above
        cutoff = moment - timedelta(days=tag.visit_interval_days)
        tagged = (
            people.filter(taggings__tag=tag)
            .annotate(last_visit=Max("visits__visited_at"))
            .filter(Q(last_visit__isnull=True) | Q(last_visit__lt=cutoff))
            .select_related("area", "house")
        )
        for person in tagged:
            last = person.last_visit
            since = (last or person.created_at) + timedelta(days=tag.visit_interval_days)
            entry = due.get(person.pk)
            if entry is None:
                due[person.pk] = CareDue(person, [tag.name], last, since)
            else:
                entry.tags.append(tag.name)
    return sorted(
        due.values(),
        key=lambda d: (d.last_visited_at is not None, d.last_visited_at or d.due_since),
    )


@dataclass(frozen=True)
class Progress:
    area: Area
    total: int
    done: int

    @property
    def rate(self) -> float:
        return self.done / self.total if self.total else 0.0


def verification_progress(
    *, user: Any, task: VerificationTask, level: str = Level.GRID
) -> list[Progress]:
    """Done and total items of a task per grid (or per community), within the user's scope.

    Items sit on microgrids; each counts toward its ancestor at `level`.
    """
    rows = (
        policy.verification_items_for(user, task)
        .values("area__path")
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=~Q(status=ItemStatus.PENDING)),
        )
    )
    nodes = {a.path: a for a in Area.objects.filter(level=level, street_id=task.street_id)}
    totals: dict[str, list[int]] = {}
    for row in rows:
        path = row["area__path"]
        owner = next((p for p in nodes if path.startswith(p)), None)
        if owner is None:
            continue
        counts = totals.setdefault(owner, [0, 0])
        counts[0] += row["total"]
        counts[1] += row["done"]
    return [Progress(nodes[path], total, done) for path, (total, done) in sorted(totals.items())]


def verification_worklist(
    *, user: Any, task: VerificationTask, pending_only: bool = True
) -> QuerySet[VerificationItem]:
    """A grid worker's items of a task: the records of the grids they patrol."""
    items = VerificationItem.objects.filter(task=task, area__in=policy.field_areas_for(user))
    if pending_only:
        items = items.filter(status=ItemStatus.PENDING)
    return items.select_related("person", "house", "area").order_by("area__path", "pk")


def houses_of_building(*, user: Any, building_id: int) -> QuerySet[House]:
    return policy.records_visible_to(user, House).filter(building_id=building_id)


KIND_NAMES = {
    "person": "居民",
    "house": "房屋",
    "building": "楼栋",
    "enterprise": "企业",
    "facility": "设施",
}


def _natural_key(kind: str, key: str) -> dict[str, str]:
    """How a record of `kind` is named by people: ID number, credit code, code or address."""
    from shanzhi.registry.validators import credit_code_check

    if kind == "person":
        return {"id_number_digest": digest(resident_id_check(key).number)}
    if kind == "enterprise":
        return {"credit_code": credit_code_check(key)}
    if kind == "facility":
        return {"code": key}
    return {"address": key}


def record_find(*, user: Any, street_id: int | None, kind: str, key: str) -> AnyRecord:
    """The live record of the street, within the user's registry scope, that `key` names (an ID
    number, a credit code, a facility code or an address); a DomainError in Chinese otherwise."""
    key = key.strip()
    if not key:
        raise DomainError(f"请填写{KIND_NAMES[kind]}的身份证号、信用代码、编号或地址")
    found = (
        policy.records_visible_to(user, RECORD_KINDS[kind])
        .filter(street_id=street_id, **_natural_key(kind, key))
        .first()
    )
    if found is None:
        raise DomainError(f"在本街道您的辖区内没有找到该{KIND_NAMES[kind]}")
    return found


def record_find_any(*, user: Any, street_id: int | None, kinds: list[str], key: str) -> AnyRecord:
    """The first of `kinds` whose record `key` names; the last kind's refusal when none does."""
    refusal: DomainError | None = None
    for kind in kinds:
        try:
            return record_find(user=user, street_id=street_id, kind=kind, key=key)
        except DomainError as exc:
            refusal = exc
    names = "或".join(KIND_NAMES[kind] for kind in kinds)
    raise DomainError(f"在本街道您的辖区内没有找到该{names}") from refusal


# Choosing a place (发生地) ---------------------------------------------------------------------

PLACE_RESULTS = 12


@dataclass(frozen=True)
class PlaceMatch:
    """An area a search found, with its place in the tree and the building that led to it."""

    area: Area
    trail: str  # the nodes between the street and the area, e.g. 湖滨社区 › 第3网格
    building: str = ""


def _trails(areas: list[Area]) -> dict[int, str]:
    """Each area's ancestors below its street as one line, read in one query."""
    paths = {path for area in areas for path in area.ancestor_paths}
    names = dict(
        Area.objects.filter(path__in=paths)
        .exclude(level__in=[Level.CITY, Level.DISTRICT, Level.STREET])
        .values_list("path", "name")
    )
    return {
        area.pk: " › ".join(names[path] for path in area.ancestor_paths if path in names)
        for area in areas
    }


def place_search(
    *, areas: QuerySet[Area], text: str, limit: int = PLACE_RESULTS
) -> list[PlaceMatch]:
    """The areas among `areas` whose name or code holds `text`, then those with a building whose
    小区, name or address holds it; without text, the first areas of the tree."""
    text = text.strip()
    found: list[tuple[Area, str]] = []
    if not text:
        found = [(area, "") for area in areas.order_by("path")[:limit]]
    else:
        by_name = areas.filter(Q(name__icontains=text) | Q(code__icontains=text.upper()))
        found = [(area, "") for area in by_name.order_by("depth", "path")[:limit]]
        seen = {area.pk for area, _ in found}
        buildings = (
            Building.objects.filter(
                Q(compound__icontains=text) | Q(name__icontains=text) | Q(address__icontains=text),
                area__in=areas,
                deleted_at__isnull=True,
            )
            .select_related("area")
            .order_by("address")
        )
        for building in buildings[: limit * 2]:
            if len(found) >= limit:
                break
            if building.area_id not in seen:
                seen.add(building.area_id)
                found.append((building.area, building.address))
    trails = _trails([area for area, _ in found])
    return [PlaceMatch(area, trails.get(area.pk, ""), building) for area, building in found]


def place_label(area: Area) -> str:
    """How a chosen place reads next to the search box: its trail and its name."""
    trail = _trails([area]).get(area.pk, "")
    return f"{trail} › {area.name}" if trail else area.name
