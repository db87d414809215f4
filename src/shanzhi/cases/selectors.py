"""Reads of cases shared by pages, API, Open311, exports and reports."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from shanzhi import clock, policy
from shanzhi.accounts.models import Role, User
from shanzhi.areas.models import Area

from .flows import FLOWS, flow_of, is_running, running_q, states_of, waiting_q
from .flows.spec import Input, InputKind, TransitionSpec
from .models import Case, CaseAction, CaseType, HandlingLevel, Notification, phone_digest

DUPLICATE_WINDOW = timedelta(days=30)
DUPLICATE_SIMILARITY = 0.45
# Both reports naming one routing keyword (油烟) count about as much as a third of their words.
DUPLICATE_KEYWORD_BONUS = 0.3


@dataclass(frozen=True)
class CaseFilters:
    states: tuple[str, ...] = ()
    flow: str = ""
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
    """Past the handling deadline while the handling clock runs: derived at query time."""
    return running_q() & Q(handle_due_at__lte=moment)


def due_soon_q(moment: datetime) -> Q:
    return running_q() & Q(due_soon_at__lte=moment, handle_due_at__gt=moment)


def case_list(*, user: Any, filters: CaseFilters | None = None) -> QuerySet[Case]:
    """The cases `user` may see, narrowed by `filters`, newest first."""
    f = filters or CaseFilters()
    cases = policy.cases_visible_to(user)
    if f.states:
        cases = cases.filter(state__in=f.states)
    if f.flow:
        cases = cases.filter(flow=f.flow)
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
        found = (
            Q(number__icontains=f.query)
            | Q(title__icontains=f.query)
            | Q(description__icontains=f.query)
            | Q(address__icontains=f.query)
            | Q(reporter_name__icontains=f.query)
        )
        # A whole phone number finds its reporter's cases through the digest (the column is
        # sealed, so no part of a number can be searched).
        key = phone_digest(f.query)
        if key:
            found |= Q(reporter_phone_digest=key)
        cases = cases.filter(found)
    if f.reported_from:
        cases = cases.filter(reported_at__gte=f.reported_from)
    if f.reported_to:
        cases = cases.filter(reported_at__lt=f.reported_to)
    return _with_relations(cases).order_by("-reported_at", "-id")


def deadline_status(case: Case, moment: datetime | None = None) -> str:
    """ "overdue", "due_soon" or "" for one case, by the same rule the filters use."""
    moment = moment or clock.now()
    if case.handle_due_at is None or not is_running(case):
        return ""
    if case.handle_due_at <= moment:
        return "overdue"
    if case.due_soon_at is not None and case.due_soon_at <= moment:
        return "due_soon"
    return ""


def deadline_label(case: Case, moment: datetime | None = None) -> str:
    """The deadline badge's words: 超期N天 (or N小时 within the first day), 临期, or ""."""
    moment = moment or clock.now()
    status = deadline_status(case, moment)
    if status == "due_soon":
        return "临期"
    if status != "overdue" or case.handle_due_at is None:
        return ""
    late = moment - case.handle_due_at
    if late.days >= 1:
        return f"超期{late.days}天"
    return f"超期{max(late.seconds // 3600, 1)}小时"


def case_timeline(*, case: Case, counted: bool = False) -> QuerySet[CaseAction]:
    """The action log of a case, oldest first, with actors, units and attachments. `counted`:
    only how many attachments each row has (`attachment_count`), in the same query."""
    rows = case.actions.select_related("actor", "from_unit", "to_unit")
    if counted:
        rows = rows.annotate(attachment_count=Count("attachments"))
    else:
        rows = rows.prefetch_related("attachments")
    return rows.order_by("created_at", "id")


def inbox_for(*, user: User) -> QuerySet[Case]:
    """我的待办: the cases waiting for this user's action, most urgent first.

    Which cases wait for whom is what the flows declare (each state's `waits`); a leader also
    has every overdue case of their area, to supervise.
    """
    waiting = Q(pk__in=[])
    for actor, role in (
        ("dispatcher", Role.DISPATCHER),
        ("grid_worker", Role.GRID_WORKER),
        ("leader", Role.LEADER),
    ):
        paths = policy.scope_paths(user, [role])
        if paths:
            waiting |= _under(paths) & waiting_q(actor)
    if user.unit_id is not None and policy.has_role(user, Role.HANDLER):
        waiting |= Q(unit_id=user.unit_id) & waiting_q("unit_handler")
    leader_paths = policy.scope_paths(user, [Role.LEADER])
    if leader_paths:
        waiting |= _under(leader_paths) & overdue_q(clock.now())
    return _with_relations(Case.objects.filter(waiting)).order_by(
        F("handle_due_at").asc(nulls_last=True), "-priority", "reported_at"
    )


def _under(paths: list[str]) -> Q:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(area__path__startswith=path)
    return condition


def notifications_for(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    items = Notification.objects.filter(user=user).select_related("case")
    return items.filter(read_at__isnull=True) if unread_only else items


def _bigrams(text: str) -> set[str]:
    compact = re.sub(r"[\W_]+", "", text.lower())
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


def text_likeness(one: str, other: str, keywords: frozenset[str] = frozenset()) -> float:
    """How alike two reports read, 0 to about 1: the share of the shorter text's character pairs
    found in the longer (a resident's one line against a hotline's paragraph), raised when both
    name the same routing keyword of the catalogue (油烟, 电瓶车…)."""
    mine, theirs = _bigrams(one), _bigrams(other)
    if not mine or not theirs:
        return 0.0
    score = len(mine & theirs) / min(len(mine), len(theirs))
    if any(keyword in one and keyword in other for keyword in keywords):
        score += DUPLICATE_KEYWORD_BONUS
    return min(score, 1.0)


def _near(area: Area) -> Q:
    """The same place, or within the grid: a hotline call placed on a grid and the resident's
    QR report from one of its microgrids (or buildings) are about the same spot."""
    if area.level not in policy.FIELD_LEVELS:
        return Q(area_id=area.pk)
    above = [path for path in area.ancestor_paths]
    return Q(area__path__startswith=area.path) | Q(
        area__path__in=above, area__level__in=policy.FIELD_LEVELS
    )


def duplicates_like(
    *,
    viewer: Any,
    area: Area,
    text: str,
    case_type_id: int | None = None,
    moment: datetime | None = None,
    exclude: Case | None = None,
    limit: int = 5,
) -> list[tuple[Case, float]]:
    """Open cases the viewer may see, at or around `area`, of the same type when both are known,
    reported within the window before `moment` (or since), whose text is like `text`: for a
    case on its page and for a report still being typed at the desk."""
    moment = moment or clock.now()
    candidates = policy.cases_visible_to(viewer).filter(
        _near(area),
        street_id=area.street_id,
        state__in=states_of("open"),
        merged_into__isnull=True,
        reported_at__gte=moment - DUPLICATE_WINDOW,
    )
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    if case_type_id:
        candidates = candidates.filter(Q(case_type_id=case_type_id) | Q(case_type__isnull=True))
    keywords = frozenset(
        keyword
        for row in CaseType.objects.filter(street_id=area.street_id).values_list(
            "keywords", flat=True
        )
        for keyword in row or []
        if len(keyword) >= 2
    )
    scored = []
    for other in _with_relations(candidates).order_by("-reported_at")[:200]:
        ratio = text_likeness(text, other.description, keywords)
        if ratio >= DUPLICATE_SIMILARITY:
            scored.append((other, round(ratio, 2)))
    scored.sort(key=lambda row: -row[1])
    return scored[:limit]


def case_possible_duplicates(
    *, case: Case, viewer: Any, limit: int = 5
) -> list[tuple[Case, float]]:
    """Open cases the viewer may see that look like the same matter as `case`."""
    return duplicates_like(
        viewer=viewer,
        area=case.area,
        text=case.description,
        case_type_id=case.case_type_id,
        moment=case.reported_at,
        exclude=case,
        limit=limit,
    )


def caller_cases(*, user: Any, phone: str) -> QuerySet[Case]:
    """The cases the user may see that were reported from this phone, newest first (found
    through the phone's digest; an unreadable number finds none)."""
    key = phone_digest(phone)
    if not key:
        return Case.objects.none()
    return _with_relations(
        policy.cases_visible_to(user).filter(reporter_phone_digest=key)
    ).order_by("-reported_at", "-id")


# What a case offers and what its log says --------------------------------------------------------


def available_actions(user: Any, case: Case) -> list[TransitionSpec]:
    """The transitions `user` may take on the case now, in the order its flow declares them:
    from its state, their condition met, allowed to the user. Pages and the API both ask here."""
    if user is None:
        return []
    return [
        transition
        for transition in flow_of(case).leaving(case.state)
        if transition.offered
        and (transition.guard is None or transition.guard.test(case))
        and policy.can_perform(user, case, transition.who)
    ]


def _shown(spec: Input, value: Any) -> str:
    if spec.kind == InputKind.CHOICE:
        return spec.choice_label(str(value))
    if spec.kind == InputKind.DATETIME and isinstance(value, str):
        return f"{timezone.localtime(datetime.fromisoformat(value)):%Y-%m-%d %H:%M}"
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    return str(value)


def action_details(row: CaseAction) -> list[str]:
    """What a log row records besides its note: each input the actor gave, by its label, and
    what the engine derived (a new deadline, the level reached)."""
    data = row.data or {}
    flow = FLOWS.get(row.flow)
    transition = flow.transition(row.action) if flow is not None else None
    details = []
    if transition is not None:
        for spec in transition.inputs:
            if spec.name in data and data[spec.name] not in ("", None, []):
                details.append(f"{spec.label}:{_shown(spec, data[spec.name])}")
    declared = {spec.name for spec in transition.inputs} if transition is not None else set()
    for key, words in (("due_at", "办理时限延至"), ("requested_until", "申请延至")):
        if key not in declared and data.get(key):
            due = timezone.localtime(datetime.fromisoformat(data[key]))
            details.append(f"{words} {due:%Y-%m-%d %H:%M}")
    if data.get("to_level") in HandlingLevel.values:
        details.append(f"上报至{HandlingLevel(data['to_level']).label}层级")
    if data.get("repeat_of"):
        details.append(f"与已终结的信访事项 {data['repeat_of']} 事实和理由相同,属重复信访")
    if data.get("flow") in FLOWS:
        details.append(f"按“{FLOWS[data['flow']].label}”流程办理")
    return details


def action_actor_label(row: CaseAction, case: Case) -> str:
    """Who took a step, as the timeline names them: the staff member, else the reporter for their
    own report and their rating through the tracking link, else 系统 (the sweep, a follow-on)."""
    if row.actor is not None:
        return str(row.actor)
    if row.action == "report":
        return case.reporter_name or "群众"
    flow = FLOWS.get(row.flow)
    transition = flow.transition(row.action) if flow is not None else None
    if transition is not None and transition.rates:
        return f"上报人{case.reporter_name}(评价链接)" if case.reporter_name else "上报人(评价链接)"
    return "系统"


def case_facts(case: Case) -> list[tuple[str, str]]:
    """The case's own facts by their labels: the answers to its type's extra fields and what its
    flow's steps kept (grade, petition form, parties, agreement…)."""
    labels: dict[str, tuple[str, Input | None]] = {}
    for field in case.case_type.extra_fields if case.case_type else []:
        labels[str(field["name"])] = (str(field.get("label") or field["name"]), None)
    for transition in flow_of(case).transitions:
        for spec in transition.inputs:
            if spec.keep:
                labels[spec.name] = (spec.label, spec)
    facts = []
    for name, (label, declared) in labels.items():
        value = case.extra.get(name)
        if value in (None, "", []):
            continue
        facts.append((label, _shown(declared, value) if declared is not None else str(value)))
    if case.extra.get("listed"):
        delisted = case.extra.get("delisted_on")
        facts.append(("挂牌督办", f"已于 {delisted} 摘牌" if delisted else "挂牌中"))
    if case.extra.get("repeat_of"):
        facts.append(("重复信访", f"与已终结的 {case.extra['repeat_of']} 事实和理由相同"))
    return facts


@dataclass(frozen=True)
class ClockView:
    label: str
    mirror: str
    due_at: datetime | None
    running: bool
    status: str


def case_clocks(case: Case) -> list[ClockView]:
    """The case's clocks as the case page shows them, in the order its flow declares them."""
    rows = {row.name: row for row in case.clocks.all()}
    views = []
    for spec in flow_of(case).clocks:
        row = rows.get(spec.name)
        if row is None or row.started_at is None:
            continue
        if row.suspended_at is not None:
            status = f"已中止计时(剩余约{(row.remaining_seconds or 0) // 3600}小时)"
        elif row.stopped_at is not None:
            status = "按时" if row.met else ("已撤销" if row.met is None else "超时")
        else:
            status = "计时中"
        views.append(ClockView(spec.label, spec.mirror, row.due_at, row.running, status))
    return views
