"""The daily roll-up, kept equal to the raw cases by construction.

When a case changes, the workflow engine calls `rollup_case_refresh` in the same transaction.
The case's roll-up key before and after the change are both recomputed by running the columns'
aggregates over the raw cases that have that key (a handful), and the rows are overwritten. So a
row never drifts from a direct count, whatever the change was. `rollup_rebuild` does the same for
a whole street at once, for imports and repairs, in SQL (keys and rows by INSERT … SELECT).
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Case as Choose
from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    F,
    Func,
    Model,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from shanzhi.areas.models import Area, Level
from shanzhi.cases.models import Case

from .measures import COLUMNS, NOT_TAKEN_UP, REPORT_COUNTED
from .models import CaseDay, CaseDayKey


@dataclass(frozen=True)
class DayKey:
    street_id: int
    flow: str
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
            self.flow,
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
        street, flow, area, case_type, source, unit, count, resolved, due = text.split("|")
        return cls(
            street_id=int(street),
            flow=flow,
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
            "flow": self.flow,
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
    if case.on_spot or case.state in NOT_TAKEN_UP:
        return case.reported_at
    return case.accepted_at


def day_key(case: Case) -> DayKey | None:
    """The roll-up key of a case; None while it counts nowhere (reported, not yet accepted)."""
    counted = _day(counting_moment(case))
    if counted is None:
        return None
    return DayKey(
        street_id=case.street_id,
        flow=case.flow,
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


# Stands for the key in the counting query, which is compiled once per database vendor.
_KEY_PARAM = "\x00rollup-key\x00"
_counting: dict[str, tuple[str, tuple[Any, ...], int, list[str]]] = {}


def _counting_query() -> tuple[str, tuple[Any, ...], int, list[str]]:
    """The SQL that counts every column over the cases of one key, with the position of the
    key among its parameters: building the ORM query anew for each change costs far more than
    running it."""
    vendor = connection.vendor
    if vendor not in _counting:
        members = CaseDayKey.objects.filter(key=_KEY_PARAM).values("case_id")
        query = (
            Case.objects.filter(pk__in=members)
            .order_by()
            .values(r_one=Value(1, output_field=CharField()))
            .annotate(**column_aggregates())
            .values(*(_PREFIX + column.key for column in COLUMNS))
        )
        sql, params = query.query.sql_with_params()
        position = params.index(_KEY_PARAM)
        _counting[vendor] = (sql, tuple(params), position, [c.key for c in COLUMNS])
    return _counting[vendor]


def _recompute(key: DayKey) -> None:
    text = key.text
    CaseDay.objects.bulk_create([CaseDay(key=text, **key.fields())], ignore_conflicts=True)
    # Lock the row before counting, so two changes of the same key count one after the other.
    row = CaseDay.objects.select_for_update().only("pk").get(key=text)
    sql, params, position, names = _counting_query()
    bound = list(params)
    bound[position] = text
    with connection.cursor() as cursor:
        cursor.execute(sql, bound)
        found = cursor.fetchone()
    values = dict(zip(names, found or [0] * len(names), strict=True))
    CaseDay.objects.filter(pk=row.pk).update(**{k: v or 0 for k, v in values.items()})


_local = threading.local()


@contextmanager
def rollup_deferred(*, street: Area) -> Iterator[None]:
    """Skip the per-transition upkeep while a bulk job (the demo's replayed year) moves many
    cases of `street`, then rebuild that street's roll-up once, set-based, at the end."""
    previous = getattr(_local, "deferred", False)
    _local.deferred = True
    try:
        yield
    finally:
        _local.deferred = previous
    rollup_rebuild(street=street)


def rollup_case_refresh(case: Case) -> None:
    """Bring the roll-up in line with `case` as just saved (call inside its transaction)."""
    if getattr(_local, "deferred", False):
        return
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


def _local_day(moment: Any) -> TruncDate:
    """The local calendar day of a moment, in SQL: what `_day` computes in Python."""
    return TruncDate(moment, tzinfo=timezone.get_current_timezone())


def _key_parts() -> dict[str, Any]:
    """The parts of `day_key`, as expressions over a case row (aliases `k_…`)."""
    moment = Choose(
        When(REPORT_COUNTED, then=F("reported_at")),
        default=F("accepted_at"),
        output_field=DateTimeField(),
    )
    return {
        "k_street": F("street_id"),
        "k_flow": F("flow"),
        "k_area": F("area_id"),
        "k_type": F("case_type_id"),
        "k_source": F("source"),
        "k_unit": F("unit_id"),
        "k_count": _local_day(moment),
        "k_resolved": _local_day("resolved_at"),
        "k_due": _local_day("handle_due_at"),
    }


class _Joined(Func):
    """Texts joined by "|" as one flat `a || '|' || b …` (nested CONCATs overflow SQLite's
    parser)."""

    arg_joiner = " || '|' || "
    template = "(%(expressions)s)"
    output_field = CharField()


def _key_text(parts: dict[str, Any]) -> _Joined:
    """`DayKey.text` in SQL: the parts as text, None as "", joined by "|"."""
    return _Joined(
        *(Coalesce(Cast(expression, CharField()), Value("")) for expression in parts.values())
    )


# A case counts somewhere once its counting moment is set (see `counting_moment`).
_COUNTED = REPORT_COUNTED | Q(accepted_at__isnull=False)
# The roll-up row's columns, in the order the grouped query names them (`k_…` aliases).
_KEY_COLUMNS = {
    "street_id": "k_street",
    "flow": "k_flow",
    "area_id": "k_area",
    "case_type_id": "k_type",
    "source": "k_source",
    "unit_id": "k_unit",
    "count_day": "k_count",
    "resolved_day": "k_resolved",
    "due_day": "k_due",
}


def _insert_from(model: type[Model], columns: dict[str, str], query: QuerySet[Any]) -> int:
    """INSERT INTO model's table (columns) SELECT the query's aliases: set-based, in the
    database, without bringing a row to Python. Returns the rows inserted."""
    quote = connection.ops.quote_name
    inner, params = query.query.sql_with_params()
    targets = ", ".join(quote(column) for column in columns)
    sources = ", ".join(quote(alias) for alias in columns.values())
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({targets}) "  # noqa: S608 - quoted names
        f"SELECT {sources} FROM ({inner}) AS rebuilt"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return max(cursor.rowcount, 0)


def _rebuild_street(street_id: int) -> int:
    """Fill the roll-up of one street whose rows were just deleted; returns rows written."""
    cases = Case.objects.filter(street_id=street_id).filter(_COUNTED).order_by()
    parts = _key_parts()
    members = cases.values(r_case=F("pk"), r_key=_key_text(parts))
    _insert_from(CaseDayKey, {"case_id": "r_case", "key": "r_key"}, members)
    grouped = cases.values(r_key=_key_text(parts), **parts).annotate(**column_aggregates())
    counts = {column.key: _PREFIX + column.key for column in COLUMNS}
    return _insert_from(CaseDay, {"key": "r_key", **_KEY_COLUMNS, **counts}, grouped)


def rollup_rebuild(*, street: Area | None = None) -> int:
    """Recompute the roll-up of one street (or all) from the raw cases; returns rows written.

    Set-based, one street at a time: for each street one INSERT … SELECT writes every case's
    key (`CaseDayKey`) and one INSERT … SELECT … GROUP BY writes the rows (`CaseDay`), the keys
    computed in SQL exactly as `day_key` does in Python. Nothing per case passes through Python,
    so it runs at ten million cases as at a hundred. All of it is one transaction: readers see
    the old roll-up or the new one.
    """
    with transaction.atomic():
        if street is None:
            CaseDayKey.objects.all().delete()
            CaseDay.objects.all().delete()
            street_ids = list(
                Area.objects.filter(level=Level.STREET).order_by("pk").values_list("pk", flat=True)
            )
        else:
            CaseDayKey.objects.filter(case__street=street).delete()
            CaseDay.objects.filter(street=street).delete()
            street_ids = [street.pk]
        return sum(_rebuild_street(street_id) for street_id in street_ids)
