"""Registry lists to xlsx, in the columns of the import templates so that an export re-imports.

The rows are `selectors.record_list`'s, so an export holds what the same user's list page shows
with the same filters. ID numbers and phones are masked; in the clear only for a user whose role
grants exporting personal data, with a stated reason, and each such file is one access-log row.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from shanzhi import clock, policy
from shanzhi.accounts.models import User
from shanzhi.areas.models import Area
from shanzhi.errors import DomainError, PermissionDenied
from shanzhi.protection import unseal
from shanzhi.registry.imports import SPECS, Source, Spec
from shanzhi.registry.models import (
    AccessVia,
    Building,
    Facility,
    House,
    LibraryEntry,
    Person,
    PersonTag,
    TagKind,
)
from shanzhi.registry.selectors import RecordFilters, record_list
from shanzhi.registry.services import export_log
from shanzhi.spreadsheets import row_safe

CHUNK = 2000
Values = dict[str, Any]


@dataclass
class _Reader:
    """What the exporting user may read: personal data in the clear, sensitive tags per area."""

    user: User
    personal: bool
    _sensitive: dict[int, bool]

    def clear_or_masked(self, sealed: str, masked: str) -> str:
        return unseal(sealed) if self.personal else masked

    def sees_sensitive(self, area: Area) -> bool:
        if area.pk not in self._sensitive:
            self._sensitive[area.pk] = policy.can_see_sensitive_tags(self.user, area)
        return self._sensitive[area.pk]


def _persons(records: QuerySet[Any], reader: _Reader) -> Iterator[Values]:
    taggings = PersonTag.objects.select_related("tag").order_by("tag__sort", "tag__code")
    people = records.select_related("area", "house").prefetch_related(
        Prefetch("taggings", queryset=taggings)
    )
    person: Person
    for person in people.iterator(chunk_size=CHUNK):
        sensitive = reader.sees_sensitive(person.area)
        tags = [
            t.tag.name
            for t in person.taggings.all()
            if sensitive or t.tag.kind != TagKind.SENSITIVE
        ]
        yield {
            "area": person.area.code,
            "name": person.name,
            "id_number": reader.clear_or_masked(person.id_number_sealed, person.id_number_masked),
            "phone": reader.clear_or_masked(person.phone_sealed, person.phone_masked),
            "household_type": person.get_household_type_display(),
            "house": person.house.address if person.house else "",
            "tags": "、".join(tags),
            "note": person.note,
        }


def _building_values(building: Building | None) -> Values:
    if building is None:
        return {}
    return {
        "compound": building.compound,
        "building_name": building.name,
        "building_address": building.address,
        "floors": building.floors,
        "unit_count": building.unit_count,
    }


def _house_values(house: House) -> Values:
    return {
        "area": house.area.code,
        "address": house.address,
        "unit_no": house.unit_no,
        "floor": house.floor,
        "room": house.room,
        "use": house.get_use_display(),
        "floor_area": house.floor_area,
    }


def _houses(records: QuerySet[Any], reader: _Reader) -> Iterator[Values]:
    house: House
    for house in records.select_related("area", "building").iterator(chunk_size=CHUNK):
        yield _building_values(house.building) | _house_values(house)


def _buildings(records: QuerySet[Any], reader: _Reader) -> Iterator[Values]:
    """Each building's houses the user may see, a row each; a building without any, one row."""
    houses = policy.records_visible_to(reader.user, House).select_related("area")
    buildings = records.prefetch_related(
        Prefetch("houses", queryset=houses.order_by("address"), to_attr="shown_houses")
    )
    building: Any
    for building in buildings.iterator(chunk_size=CHUNK):
        values = _building_values(building)
        if not building.shown_houses:
            yield values | {"area": building.area.code}
        for house in building.shown_houses:
            yield values | _house_values(house)


def _enterprises(records: QuerySet[Any], reader: _Reader) -> Iterator[Values]:
    open_entries = LibraryEntry.objects.filter(left_on__isnull=True).order_by("entered_on")
    enterprises = records.select_related("area", "building").prefetch_related(
        Prefetch("library_entries", queryset=open_entries, to_attr="open_entries")
    )
    enterprise: Any
    for enterprise in enterprises.iterator(chunk_size=CHUNK):
        yield {
            "area": enterprise.area.code,
            "name": enterprise.name,
            "credit_code": enterprise.credit_code,
            "scale": enterprise.get_scale_display(),
            "industry": enterprise.industry,
            "address": enterprise.address,
            "building": enterprise.building.address if enterprise.building else "",
            "contact_name": enterprise.contact_name,
            "contact_phone": reader.clear_or_masked(
                enterprise.contact_phone_sealed, enterprise.contact_phone_masked
            ),
            "employees": enterprise.employees,
            "libraries": "、".join(
                f"{entry.get_library_display()}:{entry.entered_on:%Y-%m-%d}"
                for entry in enterprise.open_entries
            ),
        }


def _facilities(records: QuerySet[Any], reader: _Reader) -> Iterator[Values]:
    facility: Facility
    for facility in records.select_related("area", "enterprise").iterator(chunk_size=CHUNK):
        yield {
            "area": facility.area.code,
            "code": facility.code,
            "kind": facility.get_kind_display(),
            "name": facility.name,
            "address": facility.address,
            "owner": facility.owner,
            "enterprise": facility.enterprise.credit_code if facility.enterprise else "",
            "inspection_cycle_days": facility.inspection_cycle_days,
            "last_inspected_on": facility.last_inspected_on,
        }


@dataclass(frozen=True)
class ExportKind:
    title: str
    spec: Spec
    rows: Callable[[QuerySet[Any], _Reader], Iterator[Values]]


# By the record kinds of the list pages (/registry/<kind>/); houses export with their buildings
# in the layout of the buildings template.
EXPORTS: dict[str, ExportKind] = {
    "person": ExportKind("居民", SPECS["persons"], _persons),
    "house": ExportKind("房屋", SPECS["buildings"], _houses),
    "building": ExportKind("楼栋房屋", SPECS["buildings"], _buildings),
    "enterprise": ExportKind("企业", SPECS["enterprises"], _enterprises),
    "facility": ExportKind("设施", SPECS["facilities"], _facilities),
}
# The import kinds name the same lists.
ALIASES = {
    "persons": "person",
    "houses": "house",
    "buildings": "building",
    "enterprises": "enterprise",
    "facilities": "facility",
}


def export_kind(name: str) -> str:
    """The record kind an export of `name` (person or persons, house, …) lists."""
    kind = ALIASES.get(name, name)
    if kind not in EXPORTS:
        raise DomainError(f"导出类别只能是:{'、'.join(EXPORTS)}", code="export_kind")
    return kind


def export_filename(kind: str, *, personal: bool) -> str:
    day = timezone.localdate(clock.now())
    marked = "(含个人信息)" if personal else ""
    return f"{EXPORTS[export_kind(kind)].title}清单{marked}-{day:%Y%m%d}.xlsx"


def personal_export_area(user: User, filters: RecordFilters) -> Area:
    """The area a clear export covers and is logged under: the filter's, or the user's one
    scope root."""
    if filters.area is not None:
        return filters.area
    roots = policy.scope_roots(user)
    if len(roots) != 1:
        raise DomainError("请先选择一个辖区,再导出含个人信息的清单", code="export_area")
    return roots[0]


def registry_export(
    *,
    user: User,
    kind: str,
    target: Source,
    filters: RecordFilters | None = None,
    personal: bool = False,
    reason: str = "",
    via: str = AccessVia.EXPORT,
) -> int:
    """Write the user's list of `kind` under `filters` to `target` as xlsx; return the row count.

    With `personal` the ID numbers and phones are in the clear: only for a role granted that
    over the exported area, with a reason, and logged once for the file (who, where, how many).
    """
    kind = export_kind(kind)
    filters = filters or RecordFilters()
    if not policy.can_use_registry(user):
        raise PermissionDenied("您无权查看登记数据")
    area = personal_export_area(user, filters) if personal else None
    if area is not None and not policy.can_export_personal(user, area):
        raise PermissionDenied("您的角色无权导出含个人信息的清单,可导出脱敏清单")
    if personal and not reason.strip():
        raise DomainError("请填写导出原因,导出记录将留存备查", code="reason_required")
    export = EXPORTS[kind]
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(export.spec.title)
    header = []
    for column in export.spec.columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    records = record_list(user=user, kind=kind, filters=filters)
    count = 0
    for values in export.rows(records, _Reader(user, personal, {})):
        sheet.append(row_safe(values.get(column.key, "") for column in export.spec.columns))
        count += 1
    if area is not None:
        # Logged before the file is written out: a clear export that fails is still on record.
        export_log(actor=user, area=area, kind=kind, count=count, reason=reason, via=via)
    book.save(target)
    return count
