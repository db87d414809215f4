"""The daily roll-up, kept equal to the raw cases by construction.

When a case changes, the workflow engine calls `rollup_case_refresh` in the same transaction.
The case's roll-up key before and after the change are both recomputed by running the columns'
aggregates over the raw cases that have that key (a handful), and the rows are overwritten. So a
row never drifts from a direct count, whatever the change was. `rollup_rebuild` does the same for
a whole street at once, for imports and repairs.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from shanzhi.areas.models import Area
from shanzhi.cases.models import Case, State

from .measures import COLUMNS
from .models import CaseDay, CaseDayKey


@dataclass(frozen=True)
class DayKey:
    street_id: int
    area_id: int
    case_type_id: int | None
    source: str
    unit_id: int | None
    count_day: date
    resolved_day: date | None
    due_day: date | None

    @property
    def text(self) -> str:
        parts = [
            self.street_id,
            self.area_id,
            self.case_type_id,
            self.source,
            self.unit_id,
            self.count_day,
            self.resolved_day,
            self.due_day,
        ]
        return "|".join("" if part is None else str(part) for part in parts)

    @classmethod
    def parse(cls, text: str) -> "DayKey":
        street, area, case_type, source, unit, count, resolved, due = text.split("|")
        return cls(
            street_id=int(street),
            area_id=int(area),
            case_type_id=int(case_type) if case_type else None,
            source=source,
            unit_id=int(unit) if unit else None,
            count_day=date.fromisoformat(count),
            resolved_day=date.fromisoformat(resolved) if resolved else None,
            due_day=date.fromisoformat(due) if due else None,
        )

    def fields(self) -> dict[str, Any]:
        return {
            "street_id": self.street_id,
            "area_id": self.area_id,
            "case_type_id": self.case_type_id,
            "source": self.source,
            "unit_id": self.unit_id,
            "count_day": self.count_day,
            "resolved_day": self.resolved_day,
            "due_day": self.due_day,
        }


def _day(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment is not None else None


def counting_moment(case: Case) -> datetime | None:
    """When a case counts: its report for on-the-spot, merged and rejected ones, else 受理."""
    if case.on_spot or case.state in (State.MERGED, State.REJECTED):
        return case.reported_at
    return case.accepted_at


def day_key(case: Case) -> DayKey | None:
    """The roll-up key of a case; None while it counts nowhere (reported, not yet accepted)."""
    counted = _day(counting_moment(case))
    if counted is None:
        return None
    return DayKey(
        street_id=case.street_id,
        area_id=case.area_id,
        case_type_id=case.case_type_id,
        source=case.source,
        unit_id=case.unit_id,
        count_day=counted,
        resolved_day=_day(case.resolved_at),
        due_day=_day(case.handle_due_at),
    )


# Aggregate names must not collide with Case's own fields (on_spot, handling_minutes).
_PREFIX = "n_"


def column_aggregates() -> dict[str, Any]:
    """The aggregates that fill a roll-up row from raw cases: one per column."""
    return {
        _PREFIX + column.key: Coalesce(Sum(column.sum_of, filter=column.q), 0)
        if column.sum_of
        else Count("pk", filter=column.q)
        for column in COLUMNS
    }


def _unprefixed(values: dict[str, Any]) -> dict[str, Any]:
    return {name.removeprefix(_PREFIX): value for name, value in values.items()}


def _recompute(key: DayKey) -> None:
    text = key.text
    CaseDay.objects.bulk_create([CaseDay(key=text, **key.fields())], ignore_conflicts=True)
    # Lock the row before counting, so two changes of the same key count one after the other.
    row = CaseDay.objects.select_for_update().only("pk").get(key=text)
    members = CaseDayKey.objects.filter(key=text).values("case_id")
    values = Case.objects.filter(pk__in=members).aggregate(**column_aggregates())
    CaseDay.objects.filter(pk=row.pk).update(**_unprefixed(values))


def rollup_case_refresh(case: Case) -> None:
    """Bring the roll-up in line with `case` as just saved (call inside its transaction)."""
    new = day_key(case)
    old_text = CaseDayKey.objects.filter(case_id=case.pk).values_list("key", flat=True).first()
    if new is None:
        CaseDayKey.objects.filter(case_id=case.pk).delete()
    elif old_text != new.text:
        CaseDayKey.objects.update_or_create(case_id=case.pk, defaults={"key": new.text})
    keys = {new.text: new} if new is not None else {}
    if old_text is not None and old_text not in keys:
        keys[old_text] = DayKey.parse(old_text)
    for text in sorted(keys):
        _recompute(keys[text])


def rollup_rebuild(*, street: Area | None = None, batch: int = 5000) -> int:
    """Recompute the roll-up of one street (or all) from the raw cases; returns rows written."""
    cases = Case.objects.all() if street is None else Case.objects.filter(street=street)
    rows = CaseDay.objects.all() if street is None else CaseDay.objects.filter(street=street)
    with transaction.atomic():
        CaseDayKey.objects.filter(case__in=cases.values("pk")).delete()
        rows.delete()
        fields = ("pk", "street_id", "area_id", "case_type_id", "source", "unit_id", "on_spot")
        moments = ("state", "reported_at", "accepted_at", "resolved_at", "handle_due_at")
        members = []
        for case in cases.only(*fields, *moments).iterator(chunk_size=batch):
            key = day_key(case)
            if key is not None:
                members.append(CaseDayKey(case_id=case.pk, key=key.text))
        CaseDayKey.objects.bulk_create(members, batch_size=batch)
        grouped = (
            cases.filter(day_key__isnull=False)
            .values("day_key__key")
            .order_by()
            .annotate(**column_aggregates())
        )
        new_rows = []
        for values in grouped:
            text = values.pop("day_key__key")
            new_rows.append(CaseDay(key=text, **DayKey.parse(text).fields(), **_unprefixed(values)))
        CaseDay.objects.bulk_create(new_rows, batch_size=batch)
    return len(new_rows)
