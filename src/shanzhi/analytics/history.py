"""What a case counts for at every moment of its life, replayed from its action log.

Every event is in the log with its time: each dispatch, claim, return, every resolution, each
callback with its rating, reopen, extension, supervision, and the moments and deadline each step
set (the engine records them). Replaying the log gives the case's *progress* after each event;
the columns of `measures.COLUMNS` read a progress and say what the case counts for from then on.
Between two events a case changes in one way only: it becomes overdue when its deadline passes
while its handling clock runs.

So a case's contribution to the figures is a list of segments — from this moment on, under this
key (its street, flow, place, type, channel, unit and counting day), these column values — and
its *deltas* are the changes between segments. A figure as of any moment M is the sum of every
delta before M: the roll-up stores the deltas, so no figure of a closed period ever changes, and
the same replay counts a case directly for any moment.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from shanzhi.cases.flows import FLOWS, flows_with_callback, flows_with_claim
from shanzhi.cases.flows.spec import Kind

from .measures import COLUMNS, Progress

CLAIM_FLOWS = frozenset(flows_with_claim())
CALLBACK_FLOWS = frozenset(flows_with_callback())


@dataclass(frozen=True)
class CaseFacts:
    """What of a case does not change once it counts: where, what, through which channel."""

    case_id: int
    street_id: int
    flow: str
    area_id: int
    case_type_id: int | None
    source: str
    reported_at: datetime
    contactable: bool  # a phone or an account to call back
    handle_due_at: datetime | None = None  # for logs written before rows recorded deadlines


@dataclass(frozen=True)
class Row:
    """One row of the action log, as the replay reads it."""

    action: str
    flow: str
    to_state: str
    to_unit_id: int | None
    data: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class Key:
    flow: str
    area_id: int
    case_type_id: int | None
    source: str
    unit_id: int | None
    count_day: date


@dataclass(frozen=True)
class Segment:
    at: datetime
    key: Key | None  # None: the case counts nowhere (reported, not yet accepted)
    values: tuple[int, ...]


@dataclass(frozen=True)
class Delta:
    at: datetime
    key: Key
    values: tuple[int, ...]


_MOMENTS_OF_ACTION: dict[tuple[str, str], tuple[str, ...]] = {}


def _declared_moments(flow_key: str, action: str) -> tuple[str, ...]:
    """The moments a transition marks, for rows written before the engine recorded them."""
    found = _MOMENTS_OF_ACTION.get((flow_key, action))
    if found is None:
        flow = FLOWS.get(flow_key)
        transition = flow.transition(action) if flow is not None else None
        found = tuple(transition.marks) if transition is not None else ()
        _MOMENTS_OF_ACTION[(flow_key, action)] = found
    return found


def _rating_input(flow_key: str, action: str) -> str:
    flow = FLOWS.get(flow_key)
    transition = flow.transition(action) if flow is not None else None
    return transition.rates if transition is not None else ""


def _kind(flow_key: str, state: str) -> Kind:
    flow = FLOWS.get(flow_key)
    if flow is None or state not in flow.state_by_key:
        return Kind.OPEN
    return flow.state(state).kind


def _runs_handle(flow_key: str, state: str) -> bool:
    flow = FLOWS.get(flow_key)
    if flow is None or state not in flow.state_by_key:
        return False
    clock = flow.mirror("handle")
    return clock is not None and clock.name in flow.state(state).clocks


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    return datetime.fromisoformat(str(value))


def _advance(p: Progress, row: Row, facts: CaseFacts) -> None:
    """The progress after one row of the log."""
    data = row.data or {}
    state_flow = str(data.get("flow") or row.flow)
    p.state, p.kind = row.to_state, _kind(state_flow, row.to_state)
    p.running = _runs_handle(state_flow, row.to_state)
    p.unit_id = row.to_unit_id
    moments = data.get("moments")
    if moments is None:
        moments = _declared_moments(row.flow, row.action)
    if "accepted" in moments and p.accepted_at is None:
        p.accepted_at = row.at
    if "dispatched" in moments:
        p.dispatched = True
    if "resolved" in moments:
        p.resolved = True
        p.on_time = bool(data.get("on_time", True))
        minutes = data.get("handling_minutes")
        p.minutes = int(minutes) if minutes is not None else None
        p.wait_minutes = max(0, round((row.at - facts.reported_at).total_seconds() / 60))
    if "handle_due" in data:
        p.due = _moment(data["handle_due"])
    elif moments and "dispatched" in moments and p.due is None:
        p.due = facts.handle_due_at  # a row from before deadlines were recorded
    if row.action == "resolve_on_spot":
        p.on_spot = True
    if "claim_on_time" in data:
        p.claims.append(bool(data["claim_on_time"]))
    if row.action == "return":
        p.returned = True
    if row.action == "reopen":
        # Handled again: not 办结 until the next resolution, which then counts (by its time).
        p.reopened, p.resolved = True, False
    rated = _rating_input(row.flow, row.action)
    if rated and data.get(rated):
        p.ratings.append(str(data[rated]))
    if "hazard_grade" in data:
        p.grade = str(data["hazard_grade"])
    if row.action == "reach_agreement":
        p.agreement = True
    if data.get("performed") == "未履行":
        p.unperformed = True
    if data.get("notice_on_time"):
        p.notice_on_time = True
    if row.action == "request_review":
        p.review_asked = True
    if row.action == "request_recheck":
        p.recheck_asked = True
    if data.get("repeat_of"):
        p.repeat = True


def _count_day(p: Progress, facts: CaseFacts) -> date | None:
    """The day a case counts in: its report for on-the-spot, rejected and merged cases, its
    acceptance otherwise; None while it counts nowhere."""
    if p.on_spot or p.kind in (Kind.REJECTED, Kind.MERGED):
        return timezone.localdate(facts.reported_at)
    if p.accepted_at is not None:
        return timezone.localdate(p.accepted_at)
    return None


def _key(p: Progress, facts: CaseFacts) -> Key | None:
    day = _count_day(p, facts)
    if day is None:
        return None
    return Key(facts.flow, facts.area_id, facts.case_type_id, facts.source, p.unit_id, day)


def _values(p: Progress, overdue: bool) -> tuple[int, ...]:
    return tuple(column.value(p, overdue) for column in COLUMNS)


def case_segments(facts: CaseFacts, rows: Iterable[Row]) -> list[Segment]:
    """The case's key and column values from each change on, in time order."""
    p = Progress(
        flow=facts.flow,
        contactable=facts.contactable,
        claim_flow=facts.flow in CLAIM_FLOWS,
        callback_flow=facts.flow in CALLBACK_FLOWS,
    )
    ordered = list(rows)
    segments: list[Segment] = []
    for index, row in enumerate(ordered):
        _advance(p, row, facts)
        key = _key(p, facts)
        now = _values(p, overdue=p.due is not None and p.due < row.at)
        segments.append(Segment(row.at, key, now))
        # The one change without an event: the deadline passing while the clock runs.
        following = ordered[index + 1].at if index + 1 < len(ordered) else None
        if p.due is not None and p.due >= row.at and (following is None or p.due < following):
            later = _values(p, overdue=True)
            if later != now:
                # "As of M" counts what happened before M: overdue from just after the deadline.
                segments.append(Segment(p.due, key, later))
    return segments


def case_deltas(facts: CaseFacts, rows: Iterable[Row]) -> list[Delta]:
    """The changes between the case's segments: what the roll-up adds up to any moment."""
    deltas: list[Delta] = []
    previous_key: Key | None = None
    previous: tuple[int, ...] = (0,) * len(COLUMNS)
    for segment in case_segments(facts, rows):
        if segment.key == previous_key:
            change = tuple(a - b for a, b in zip(segment.values, previous, strict=True))
            if previous_key is not None and any(change):
                deltas.append(Delta(segment.at, previous_key, change))
        else:
            if previous_key is not None and any(previous):
                deltas.append(Delta(segment.at, previous_key, tuple(-v for v in previous)))
            if segment.key is not None and any(segment.values):
                deltas.append(Delta(segment.at, segment.key, segment.values))
        previous_key, previous = segment.key, segment.values
    return _merged(deltas)


def _merged(deltas: list[Delta]) -> list[Delta]:
    """Deltas of the same moment and key added together; those that cancel out dropped."""
    merged: dict[tuple[datetime, Key], list[int]] = {}
    for delta in deltas:
        found = merged.setdefault((delta.at, delta.key), [0] * len(COLUMNS))
        for i, value in enumerate(delta.values):
            found[i] += value
    return [Delta(at, key, tuple(values)) for (at, key), values in merged.items() if any(values)]


@dataclass
class State:
    """A case's key and values at one moment, for counting it directly."""

    key: Key | None
    values: tuple[int, ...] = field(default_factory=tuple)


def case_state_at(facts: CaseFacts, rows: Sequence[Row], moment: datetime) -> State:
    """What the case counts for as of `moment`: its last segment that began before it."""
    found = State(None)
    for segment in case_segments(facts, [row for row in rows if row.at < moment]):
        if segment.at < moment:
            found = State(segment.key, segment.values)
    return found


def rows_of(actions: Iterable[dict[str, Any]]) -> list[Row]:
    """Action-log rows (as `values()` dicts, in the order they happened) for the replay."""
    return [
        Row(
            action=str(a["action"]),
            flow=str(a["flow"]),
            to_state=str(a["to_state"]),
            to_unit_id=a["to_unit_id"],
            data=a["data"] or {},
            at=a["created_at"],
        )
        for a in actions
    ]


__all__ = [
    "CaseFacts",
    "Delta",
    "Key",
    "Row",
    "case_deltas",
    "case_segments",
    "case_state_at",
    "rows_of",
]
