"""The figures' store, kept equal to the cases' logs by construction.

Each case's deltas (`CaseDelta`, see `history`) are replaced from its log inside the transaction
of every transition (`rollup_case_refresh`): a handful of rows, the case's own, so two writers
never wait on each other here. The months that are over are also added up for the nodes of the
area tree (`NodeMonth`), which long periods and big areas are read from; those rows are written
when a month closes (`rollup_close`, run by the sweep) and by `rollup_rebuild`, never by a
transition of the running month — only a replay of the past (the demo, an import) changes a
closed month, and then the change is added to its totals at once.
"""

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import BigIntegerField, F, IntegerField, Model, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from shanzhi import clock
from shanzhi.areas.models import Area, Level
from shanzhi.cases.models import Case, CaseAction, CaseType

from .history import CaseFacts, Delta, case_deltas, rows_of
from .measures import COLUMNS
from .models import AreaNode, CaseDelta, NodeMonth, RollupState

# The levels monthly totals are kept for: what dashboards, rankings and reports ask for.
NODE_LEVELS = (Level.CITY, Level.DISTRICT, Level.STREET, Level.ZONE, Level.COMMUNITY)
# These are added up from the deltas; the levels above streets from the streets' totals.
STREET_AND_BELOW = (Level.STREET, Level.ZONE, Level.COMMUNITY)
ROW_FIELDS = ("action", "flow", "to_state", "to_unit_id", "data", "created_at")
BATCH = 2000


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return month_of(date(day.year + day.month // 12, day.month % 12 + 1, 1))


def month_start(moment: datetime) -> date:
    return month_of(timezone.localdate(moment))


def facts_of(case: Case) -> CaseFacts:
    return CaseFacts(
        case_id=case.pk,
        street_id=case.street_id,
        flow=case.flow,
        area_id=case.area_id,
        case_type_id=case.case_type_id,
        source=case.source,
        reported_at=case.reported_at,
        contactable=bool(case.reporter_phone or case.reporter_id),
        handle_due_at=case.handle_due_at,
    )


def _row(case: Case | CaseFacts, delta: Delta) -> CaseDelta:
    key = delta.key
    day = timezone.localdate(delta.at)
    row = CaseDelta(
        case_id=case.case_id if isinstance(case, CaseFacts) else case.pk,
        street_id=case.street_id,
        flow=key.flow,
        area_id=key.area_id,
        case_type_id=key.case_type_id,
        source=key.source,
        unit_id=key.unit_id,
        count_day=key.count_day,
        count_month=month_of(key.count_day),
        at=delta.at,
        month=month_of(day),
    )
    for column, value in zip(COLUMNS, delta.values, strict=True):
        setattr(row, column.key, value)
    return row


# Upkeep inside a transition ------------------------------------------------------------------

_local = threading.local()


@contextmanager
def rollup_deferred(*, street: Area) -> Iterator[None]:
    """Skip the per-transition upkeep while a bulk job (the demo's replayed year) moves many
    cases of `street`, then rebuild that street's store once at the end."""
    previous = getattr(_local, "deferred", False)
    _local.deferred = True
    try:
        yield
    finally:
        _local.deferred = previous
    rollup_rebuild(street=street)


def closed_until(street_id: int) -> date | None:
    """The first month of the street not yet added up in `NodeMonth` (None: none is)."""
    return (
        RollupState.objects.filter(street_id=street_id)
        .values_list("closed_until", flat=True)
        .first()
    )


def _signature(row: CaseDelta) -> tuple[Any, ...]:
    """What makes two delta rows the same change: its moment, key and values."""
    return (
        row.at,
        row.flow,
        row.area_id,
        row.case_type_id,
        row.source,
        row.unit_id,
        row.count_day,
        *(getattr(row, column.key) for column in COLUMNS),
    )


def rollup_case_refresh(case: Case) -> None:
    """Bring the case's deltas in line with its log (call inside its transaction): only the rows
    that differ are deleted or added — a transition usually appends one or two — and they are
    the case's own, so writers of one street never wait on each other here. A change to a month
    already added up (a replay of the past) is added to that month's totals too."""
    if getattr(_local, "deferred", False):
        return
    actions = CaseAction.objects.filter(case_id=case.pk).order_by("created_at", "id")
    log = rows_of(actions.values(*ROW_FIELDS))
    new = [_row(case, delta) for delta in case_deltas(facts_of(case), log)]
    pending: dict[tuple[Any, ...], list[CaseDelta]] = {}
    for row in new:
        pending.setdefault(_signature(row), []).append(row)
    removed: list[CaseDelta] = []
    for row in CaseDelta.objects.filter(case_id=case.pk):
        same = pending.get(_signature(row))
        if same:
            same.pop()
        else:
            removed.append(row)
    added = [row for rows in pending.values() for row in rows]
    if not removed and not added:
        return
    boundary = closed_until(case.street_id)
    if boundary is not None:
        _totals_change(removed, added, boundary=boundary)
    if removed:
        CaseDelta.objects.filter(pk__in=[row.pk for row in removed]).delete()
    CaseDelta.objects.bulk_create(added)


def _totals_change(
    removed: Sequence[CaseDelta], added: Sequence[CaseDelta], *, boundary: date
) -> None:
    """Take the removed deltas of closed months from the nodes' monthly totals and add the added
    ones. Only a replay of the past has any: a transition now changes no closed month."""
    changed = [(row, -1) for row in removed if row.month < boundary]
    changed += [(row, 1) for row in added if row.month < boundary]
    if not changed:
        return
    areas = {row.area_id for row, _ in changed}
    nodes_of: dict[int, list[int]] = {}
    for area_id, node_id in AreaNode.objects.filter(area_id__in=areas).values_list(
        "area_id", "node_id"
    ):
        nodes_of.setdefault(area_id, []).append(node_id)
    types = {row.case_type_id for row, _ in changed if row.case_type_id is not None}
    category_of = dict(CaseType.objects.filter(pk__in=types).values_list("pk", "category_id"))
    above = set(
        Area.objects.filter(
            pk__in={n for nodes in nodes_of.values() for n in nodes},
            level__in=(Level.CITY, Level.DISTRICT),
        ).values_list("pk", flat=True)
    )
    sums: dict[tuple[int, str, int | None, date, date], list[int]] = {}
    for row, sign in changed:
        category = category_of.get(row.case_type_id) if row.case_type_id else None
        for node in nodes_of.get(row.area_id, []):
            key = (node, row.flow, None if node in above else category, row.count_month, row.month)
            found = sums.setdefault(key, [0] * len(COLUMNS))
            for i, column in enumerate(COLUMNS):
                found[i] += sign * getattr(row, column.key)
    for (node, flow, category, count_month, month), values in sorted(
        sums.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or 0, *item[0][3:])
    ):
        if not any(values):
            continue  # the replay moved a change within the month: its totals stand
        total, _ = NodeMonth.objects.select_for_update().get_or_create(
            node_id=node, flow=flow, category_id=category, count_month=count_month, month=month
        )
        NodeMonth.objects.filter(pk=total.pk).update(
            **{c.key: F(c.key) + v for c, v in zip(COLUMNS, values, strict=True) if v}
        )


# Set-based upkeep: rebuild and month closing ---------------------------------------------------


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


def _sums(prefix: str = "") -> dict[str, Any]:
    return {f"s_{c.key}": Coalesce(Sum(f"{prefix}{c.key}"), 0) for c in COLUMNS}


_TOTAL_COLUMNS = {c.key: f"s_{c.key}" for c in COLUMNS}
_KEY_COLUMNS = {
    "node_id": "r_node",
    "flow": "r_flow",
    "category_id": "r_category",
    "count_month": "r_count",
    "month": "r_month",
}


def _area_nodes(street: Area) -> None:
    """Map every place of the street to its ancestors at the levels totals are kept for."""
    AreaNode.objects.filter(area__street=street).delete()
    places = list(Area.objects.filter(path__startswith=street.path).values_list("pk", "path"))
    by_path = {
        path: pk
        for pk, path in Area.objects.filter(level__in=NODE_LEVELS).values_list("pk", "path")
        if street.path.startswith(path) or path.startswith(street.path)
    }
    links = []
    for pk, path in places:
        for node_path, node in by_path.items():
            if path.startswith(node_path):
                links.append(AreaNode(area_id=pk, node_id=node))
    AreaNode.objects.bulk_create(links, batch_size=BATCH)


def _add_months(street: Area, first: date | None, until: date) -> None:
    """Add the street's deltas of the months [first, until) to its nodes' totals (street,
    zones, communities), then recompute the totals of those months above the street."""
    deltas = CaseDelta.objects.filter(street=street, month__lt=until)
    if first is not None:
        deltas = deltas.filter(month__gte=first)
    grouped = (
        deltas.filter(area__rollup_nodes__node__level__in=STREET_AND_BELOW)
        .order_by()
        .values(
            r_node=F("area__rollup_nodes__node_id"),
            r_flow=F("flow"),
            r_category=F("case_type__category_id"),
            r_count=F("count_month"),
            r_month=F("month"),
        )
        .annotate(**_sums())
    )
    _insert_from(NodeMonth, _KEY_COLUMNS | _TOTAL_COLUMNS, grouped)
    for ancestor in Area.objects.filter(
        path__in=street.ancestor_paths, level__in=(Level.CITY, Level.DISTRICT)
    ):
        _ancestor_months(ancestor, first, until)


def _ancestor_months(node: Area, first: date | None, until: date) -> None:
    """A district's or city's totals: the sums of its streets' totals, over every category (a
    category belongs to one street; a breakdown by category reads the streets' rows)."""
    rows = NodeMonth.objects.filter(node=node, month__lt=until)
    streets = NodeMonth.objects.filter(
        node__level=Level.STREET, node__path__startswith=node.path, month__lt=until
    )
    if first is not None:
        rows, streets = rows.filter(month__gte=first), streets.filter(month__gte=first)
    rows.delete()
    grouped = (
        streets.order_by()
        .values(r_flow=F("flow"), r_count=F("count_month"), r_month=F("month"))
        .annotate(
            r_node=Value(node.pk, output_field=IntegerField()),
            r_category=Cast(Value(None), output_field=BigIntegerField()),
            **_sums(),
        )
    )
    _insert_from(NodeMonth, _KEY_COLUMNS | _TOTAL_COLUMNS, grouped)


# The columns of a delta row, as `_replay_street` writes them.
_DELTA_FIELDS = (
    "case_id",
    "street_id",
    "flow",
    "area_id",
    "case_type_id",
    "source",
    "unit_id",
    "count_day",
    "count_month",
    "at",
    "month",
    *(column.key for column in COLUMNS),
)
_FACT_FIELDS = (
    "pk",
    "street_id",
    "flow",
    "area_id",
    "case_type_id",
    "source",
    "reported_at",
    "reporter_phone",
    "reporter_id",
    "handle_due_at",
)


def _values_of(facts: CaseFacts, delta: Delta) -> tuple[Any, ...]:
    key = delta.key
    return (
        facts.case_id,
        facts.street_id,
        key.flow,
        key.area_id,
        key.case_type_id,
        key.source,
        key.unit_id,
        key.count_day,
        month_of(key.count_day),
        delta.at,
        month_of(timezone.localdate(delta.at)),
        *delta.values,
    )


def _write_deltas(rows: list[tuple[Any, ...]]) -> None:
    """Insert delta rows: by COPY on PostgreSQL (the rebuild's bulk), by batches elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        columns = ", ".join(quote(name) for name in _DELTA_FIELDS)
        table = quote(CaseDelta._meta.db_table)
        statement = f"COPY {table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    CaseDelta.objects.bulk_create(
        [CaseDelta(**dict(zip(_DELTA_FIELDS, row, strict=True))) for row in rows],
        batch_size=BATCH,
    )


def _replay_street(street: Area) -> int:
    """Every case's deltas, from its log; returns how many were written."""
    written = 0
    cases = Case.objects.filter(street=street).only(*_FACT_FIELDS).order_by("pk")
    facts = {case.pk: facts_of(case) for case in cases.iterator(chunk_size=BATCH * 5)}
    actions = (
        CaseAction.objects.filter(street_id=street.pk)
        .order_by("case_id", "created_at", "id")
        .values("case_id", *ROW_FIELDS)
    )
    batch: list[tuple[Any, ...]] = []
    current: int | None = None
    rows: list[dict[str, Any]] = []

    def flush_case() -> None:
        if current is not None and current in facts:
            case = facts[current]
            batch.extend(_values_of(case, delta) for delta in case_deltas(case, rows_of(rows)))

    for action in actions.iterator(chunk_size=BATCH * 5):
        if action["case_id"] != current:
            flush_case()
            current, rows = action["case_id"], []
        rows.append(action)
        if len(batch) >= BATCH * 10:
            _write_deltas(batch)
            written += len(batch)
            batch = []
    flush_case()
    _write_deltas(batch)
    return written + len(batch)


def rollup_rebuild(*, street: Area | None = None) -> int:
    """Recompute the store of one street (or all) from the cases' logs; returns the deltas
    written. The months before the running one are added up again for the area tree. All of it
    is one transaction: readers see the old store or the new one."""
    until = month_start(clock.now())
    written = 0
    with transaction.atomic():
        streets = [street] if street is not None else list(Area.objects.filter(level=Level.STREET))
        if street is None:
            CaseDelta.objects.all().delete()
            NodeMonth.objects.all().delete()
        for one in streets:
            if street is not None:
                CaseDelta.objects.filter(street=one).delete()
                NodeMonth.objects.filter(
                    node__path__startswith=one.path, node__level__in=STREET_AND_BELOW
                ).delete()
            written += _replay_street(one)
            _area_nodes(one)
            _add_months(one, None, until)
            RollupState.objects.update_or_create(street=one, defaults={"closed_until": until})
    return written


def rollup_close(*, moment: datetime | None = None) -> int:
    """Add the months that have ended since each street's last closing to the totals; returns
    the streets closed. Safe to run often (the sweep does): a street already closed up to this
    month is left alone."""
    until = month_start(moment or clock.now())
    closed = 0
    for state in RollupState.objects.filter(closed_until__lt=until).select_related("street"):
        with transaction.atomic():
            locked = RollupState.objects.select_for_update().get(pk=state.pk)
            if locked.closed_until >= until:
                continue
            _add_months(state.street, locked.closed_until, until)
            locked.closed_until = until
            locked.save(update_fields=["closed_until"])
            closed += 1
    return closed
