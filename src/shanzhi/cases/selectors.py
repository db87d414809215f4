"""Reads of cases shared by pages, API, Open311, exports and reports."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from typing import Any

from django.db.models import F, Q, QuerySet

from shanzhi import clock, policy
from shanzhi.accounts.models import Role, User
from shanzhi.areas.models import Area

from .models import OPEN_STATES, RUNNING_STATES, Case, CaseAction, Notification, State

DUPLICATE_WINDOW = timedelta(days=30)
DUPLICATE_SIMILARITY = 0.45


@dataclass(frozen=True)
class CaseFilters:
    states: tuple[str, ...] = ()
    area: Area | None = None
    case_type_id: int | None = None
    category_id: int | None = None
    source: str = ""
    unit_id: int | None = None
    deadline: str = ""  # "overdue" | "due_soon" | ""
    query: str = ""
    reported_from: datetime | None = None
    reported_to: datetime | None = None


def _with_relations(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.select_related("area", "unit", "case_type", "assignee")


def overdue_q(moment: datetime) -> Q:
    """Open past the handling deadline: derived from the deadline at query time."""
    return Q(state__in=RUNNING_STATES, handle_due_at__lte=moment)


def due_soon_q(moment: datetime) -> Q:
    return Q(state__in=RUNNING_STATES, due_soon_at__lte=moment, handle_due_at__gt=moment)


def case_list(*, user: Any, filters: CaseFilters | None = None) -> QuerySet[Case]:
    """The cases `user` may see, narrowed by `filters`, newest first."""
    f = filters or CaseFilters()
    cases = policy.cases_visible_to(user)
    if f.states:
        cases = cases.filter(state__in=f.states)
    if f.area is not None:
        cases = cases.filter(area__path__startswith=f.area.path)
    if f.case_type_id:
        cases = cases.filter(case_type_id=f.case_type_id)
    if f.category_id:
        cases = cases.filter(
            Q(case_type__category_id=f.category_id)
            | Q(case_type__category__parent_id=f.category_id)
        )
    if f.source:
        cases = cases.filter(source=f.source)
    if f.unit_id:
        cases = cases.filter(unit_id=f.unit_id)
    moment = clock.now()
    if f.deadline == "overdue":
        cases = cases.filter(overdue_q(moment))
    elif f.deadline == "due_soon":
        cases = cases.filter(due_soon_q(moment))
    if f.query:
        cases = cases.filter(
            Q(number__icontains=f.query)
            | Q(title__icontains=f.query)
            | Q(description__icontains=f.query)
            | Q(address__icontains=f.query)
        )
    if f.reported_from:
        cases = cases.filter(reported_at__gte=f.reported_from)
    if f.reported_to:
        cases = cases.filter(reported_at__lt=f.reported_to)
    return _with_relations(cases).order_by("-reported_at", "-id")


def deadline_status(case: Case, moment: datetime | None = None) -> str:
    """ "overdue", "due_soon" or "" for one case, by the same rule the filters use."""
    moment = moment or clock.now()
    if case.state not in RUNNING_STATES or case.handle_due_at is None:
        return ""
    if case.handle_due_at <= moment:
        return "overdue"
    if case.due_soon_at is not None and case.due_soon_at <= moment:
        return "due_soon"
    return ""


def case_timeline(*, case: Case) -> QuerySet[CaseAction]:
    """The action log of a case, oldest first, with actors, units and attachments."""
    return (
        case.actions.select_related("actor", "from_unit", "to_unit")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def inbox_for(*, user: User) -> QuerySet[Case]:
    """我的待办: the cases waiting for this user's action, most urgent first."""
    waiting = Q(pk__in=[])
    dispatcher_paths = policy.scope_paths(user, [Role.DISPATCHER])
    for path in dispatcher_paths:
        waiting |= Q(area__path__startswith=path) & (
            Q(state__in=[State.REPORTED, State.ACCEPTED, State.RESOLVED])
            | Q(state=State.IN_PROGRESS, extension_requested_until__isnull=False)
        )
    if user.unit_id is not None and policy.has_role(user, Role.HANDLER):
        waiting |= Q(unit_id=user.unit_id, state__in=RUNNING_STATES)
    for path in policy.scope_paths(user, [Role.GRID_WORKER]):
        waiting |= Q(area__path__startswith=path, state=State.REPORTED)
    for path in policy.scope_paths(user, [Role.LEADER]):
        waiting |= Q(area__path__startswith=path) & (
            overdue_q(clock.now())
            | Q(state=State.IN_PROGRESS, extension_requested_until__isnull=False)
        )
    return _with_relations(Case.objects.filter(waiting)).order_by(
        F("handle_due_at").asc(nulls_last=True), "-priority", "reported_at"
    )


def notifications_for(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    items = Notification.objects.filter(user=user).select_related("case")
    return items.filter(read_at__isnull=True) if unread_only else items


def case_possible_duplicates(*, case: Case, limit: int = 5) -> list[tuple[Case, float]]:
    """Open cases at the same place, of the same type when known, whose text is alike."""
    candidates = Case.objects.filter(
        street_id=case.street_id,
        area_id=case.area_id,
        state__in=OPEN_STATES,
        merged_into__isnull=True,
        reported_at__gte=case.reported_at - DUPLICATE_WINDOW,
    ).exclude(pk=case.pk)
    if case.case_type_id:
        candidates = candidates.filter(
            Q(case_type_id=case.case_type_id) | Q(case_type__isnull=True)
        )
    scored = []
    for other in candidates.order_by("-reported_at")[:200]:
        ratio = SequenceMatcher(None, case.description, other.description).ratio()
        if ratio >= DUPLICATE_SIMILARITY:
            scored.append((other, round(ratio, 2)))
    scored.sort(key=lambda row: -row[1])
    return scored[:limit]
