"""Writes for cases: intake, the named transitions, the catalogue and the periodic sweep.

Every state change goes through `workflow.perform`; the functions here give each transition a
typed signature for pages, API, CLI and the demo to call.
"""

import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from shanzhi import clock, policy
from shanzhi.accounts.models import Unit, UnitKind, User
from shanzhi.analytics.rollup import rollup_close
from shanzhi.api.models import ApiToken
from shanzhi.areas.models import Area, Level
from shanzhi.errors import DomainError, PermissionDenied
from shanzhi.uploads import UploadRefused, photos_clean

from .catalogue import CATALOGUE
from .engine import perform
from .errors import CaseConflict, TransitionRefused
from .flows import REPORT_ACTION, clock_runs, flow_for_type, flow_of
from .models import (
    Attachment,
    Case,
    CaseAction,
    CaseCategory,
    CaseClock,
    CaseNumberCounter,
    CaseType,
    HandlingLevel,
    Source,
    phone_digest,
)
from .notifications import audience, notify

MAX_PHOTOS = 6
# Channels where the signed-in user reports what they saw themselves.
SELF_REPORTED = frozenset({Source.RESIDENT, Source.GRID_PATROL, Source.LEADER, Source.API})
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


class IntakeError(DomainError):
    code = "invalid_report"


# Intake ---------------------------------------------------------------------------------------


def _level_for(area: Area) -> str:
    if area.level in {Level.GRID, Level.MICROGRID, Level.DEDICATED_GRID}:
        return HandlingLevel.GRID
    if area.level == Level.COMMUNITY:
        return HandlingLevel.COMMUNITY
    return HandlingLevel.STREET


# Streets by id, kept for a minute: every report needs its street's code for the number, and a
# street's code is all but never edited.
_STREETS: dict[int, tuple[float, Area]] = {}
STREET_CACHE_SECONDS = 60


def _street_of(area: Area) -> Area:
    if area.street_id is None:
        raise IntakeError("事件发生地须在某个街道之内")
    if area.level == Level.STREET and area.pk == area.street_id:
        return area
    now = time.monotonic()
    kept = _STREETS.get(area.street_id)
    if kept is None or now - kept[0] > STREET_CACHE_SECONDS:
        kept = (now, Area.objects.get(pk=area.street_id))
        _STREETS[area.street_id] = kept
    return kept[1]


def _next_number(street: Area, moment: datetime) -> str:
    """The street's next case number: its code, the day, and the day's year's running number.

    On PostgreSQL the running number comes from a sequence of the street and year (migration
    cases 0007), so no two intakes wait on each other; a transaction rolled back leaves its
    number unused (a gap). SQLite serialises every writer anyway, so there a counter row does it.
    """
    day = timezone.localdate(moment)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT shanzhi_case_number_next(%s, %s)", [street.pk, day.year])
            serial = int(cursor.fetchone()[0])
    else:
        counter, _ = CaseNumberCounter.objects.select_for_update().get_or_create(
            street=street, year=day.year
        )
        counter.last += 1
        counter.save(update_fields=["last"])
        serial = counter.last
    return f"{street.code}{day:%Y%m%d}{serial:06d}"


def check_photos(photos: Sequence[UploadedFile]) -> list[UploadedFile]:
    """Refuse anything but a few real images; return them as they are stored (shanzhi.uploads:
    re-encoded, under generated names). Photos already checked pass through unchanged."""
    if len(photos) > MAX_PHOTOS:
        raise IntakeError(f"最多上传{MAX_PHOTOS}张照片")
    try:
        return list(photos_clean(photos))
    except UploadRefused as exc:
        raise IntakeError(exc.message) from exc


def extra_answers_check(
    *, case_type: CaseType | None, answers: dict[str, Any] | None
) -> dict[str, str]:
    """The answers to a case type's extra fields, checked: known names, required ones, choices.

    None means the channel does not ask for them (the desk and field forms): nothing is required,
    and the dispatcher completes them later.
    """
    if answers is None:
        return {}
    fields = {str(field["name"]): field for field in (case_type.extra_fields if case_type else [])}
    unknown = sorted(set(answers) - set(fields))
    if unknown:
        kind = f"事项“{case_type.name}”" if case_type else "未确定事项类型的事件"
        raise IntakeError(f"{kind}没有附加字段 {unknown[0]}")
    checked = {}
    for name, field in fields.items():
        value = str(answers.get(name) or "").strip()
        label = field.get("label") or name
        if not value:
            if field.get("required"):
                raise IntakeError(f"请填写“{label}”({name})")
            continue
        choices = [str(choice) for choice in field.get("choices") or []]
        if choices and value not in choices:
            raise IntakeError(f"“{label}”只能是:{'、'.join(choices)}")
        checked[name] = value
    return checked


def case_report(
    *,
    area: Area,
    source: str,
    description: str,
    actor: User | None = None,
    title: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    address: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    case_type: CaseType | None = None,
    client_key: str = "",
    photos: Sequence[UploadedFile] = (),
    extra: dict[str, Any] | None = None,
    media_url: str = "",
    channel: ApiToken | None = None,
) -> tuple[Case, bool]:
    """Take in a report. The same `client_key` twice returns the first case, created False.

    `channel` is the API token a report came through; a channel without a user may report in
    its own source. `extra` holds the answers to the case type's extra fields; `media_url` is
    a photo kept elsewhere by the sending system (Open311).
    """
    description = description.strip()
    if not description:
        raise IntakeError("请描述发生了什么")
    if len(description) > 2000:
        raise IntakeError("描述不能超过2000字")
    if source not in Source.values:
        raise IntakeError("来源渠道无效")
    if area.street_id is None:
        raise IntakeError("事件发生地须在某个街道之内")
    reporter_phone = reporter_phone.strip().replace(" ", "")
    if reporter_phone and not PHONE.match(reporter_phone):
        raise IntakeError("联系电话格式不正确,请填写11位手机号或带区号的固定电话")
    if not policy.can_report(actor, source, area, channel=channel):
        raise PermissionDenied("无权以该渠道在此辖区上报事件")
    if case_type is not None and case_type.street_id != area.street_id:
        raise IntakeError("该事项类型不属于本街道")
    photos = check_photos(photos)
    extra = extra_answers_check(case_type=case_type, answers=extra)
    if media_url.strip():
        extra["media_url"] = media_url.strip()[:500]
    # A repeated key is found by the unique constraint, not by a query before every report:
    # the rare repeat costs a rolled-back insert (and a number unused), the usual report nothing.
    client_key = client_key.strip()[:64]
    try:
        with transaction.atomic():
            case = _create_case(
                area=area,
                source=source,
                description=description,
                actor=actor,
                title=title,
                reporter_name=reporter_name,
                reporter_phone=reporter_phone,
                address=address,
                latitude=latitude,
                longitude=longitude,
                case_type=case_type,
                client_key=client_key,
                photos=photos,
                extra=extra,
            )
    except IntegrityError:
        existing = Case.objects.filter(street_id=area.street_id, client_key=client_key).first()
        if not client_key or existing is None:
            raise
        return existing, False
    return case, True


def _create_case(
    *,
    area: Area,
    source: str,
    description: str,
    actor: User | None,
    title: str,
    reporter_name: str,
    reporter_phone: str,
    address: str,
    latitude: Decimal | None,
    longitude: Decimal | None,
    case_type: CaseType | None,
    client_key: str,
    photos: Sequence[UploadedFile],
    extra: dict[str, Any],
) -> Case:
    moment = clock.now()
    street = _street_of(area)
    signed_in = actor if actor is not None and actor.is_authenticated else None
    # A caller's report taken down by staff is the caller's: the staff member only logs it.
    reporter = signed_in if source in SELF_REPORTED else None
    flow = flow_for_type(case_type)
    case = Case.objects.create(
        street=street,
        flow=flow.key,
        state=flow.initial,
        number=_next_number(street, moment),
        client_key=client_key,
        source=source,
        case_type=case_type,
        title=(title.strip() or description[:30])[:200],
        description=description,
        area=area,
        address=address.strip()[:200],
        latitude=latitude,
        longitude=longitude,
        reporter=reporter,
        reporter_name=(reporter_name.strip() or (reporter.full_name if reporter else ""))[:50],
        reporter_phone=reporter_phone,
        reporter_phone_digest=phone_digest(reporter_phone),
        priority=case_type.priority if case_type else "normal",
        level=_level_for(area),
        extra=extra,
        reported_at=moment,
    )
    log = CaseAction.objects.create(
        case=case,
        street=street,
        flow=flow.key,
        action=REPORT_ACTION,
        actor=signed_in,
        from_state="",
        to_state=case.state,
        note=description[:200],
        data={"source": source},
        created_at=moment,
    )
    for photo in photos:
        Attachment.objects.create(
            case=case,
            action=log,
            street=street,
            file=photo,
            content_type=getattr(photo, "content_type", "") or "",
            uploaded_by=signed_in,
            created_at=moment,
        )
    return case


def case_report_on_spot(
    *,
    area: Area,
    actor: User,
    description: str,
    case_type: CaseType,
    result: str,
    photos: Sequence[UploadedFile],
    address: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    client_key: str = "",
) -> Case:
    """A grid worker's patrol report resolved at once: both or neither (小事不出网格).

    The photos are the evidence of the result and are kept once, with that step.
    """
    with transaction.atomic():
        case, created = case_report(
            area=area,
            source=Source.GRID_PATROL,
            actor=actor,
            description=description,
            address=address,
            latitude=latitude,
            longitude=longitude,
            case_type=case_type,
            client_key=client_key,
        )
        if created:
            case = case_resolve_on_spot(
                case=case, actor=actor, case_type=case_type, result=result, photos=photos
            )
    return case


# The transitions ---------------------------------------------------------------------------------


def case_act(
    *,
    case: Case,
    actor: User | None,
    action: str,
    expected_version: int | None = None,
    photos: Sequence[UploadedFile] = (),
    **inputs: Any,
) -> Case:
    """Take `action` of the case's flow with the inputs it declares; pages, the API and the CLI
    all come through here. Photos are checked and cleaned before anything is written."""
    return perform(
        case=case,
        actor=actor,
        action=action,
        expected_version=expected_version,
        attachments=check_photos(photos),
        **inputs,
    )


# The general flow's steps as typed calls, for the demo, imports and tests.


def case_accept(
    *,
    case: Case,
    actor: User | None,
    case_type: CaseType,
    area: Area | None = None,
    priority: str = "",
    expected_version: int | None = None,
) -> Case:
    return case_act(
        case=case,
        actor=actor,
        action="accept",
        expected_version=expected_version,
        case_type=case_type,
        area=area or case.area,
        priority=priority,
    )


def case_reject(
    *, case: Case, actor: User | None, reason: str, expected_version: int | None = None
) -> Case:
    return case_act(
        case=case, actor=actor, action="reject", expected_version=expected_version, reason=reason
    )


def case_dispatch(
    *,
    case: Case,
    actor: User | None,
    unit: Unit,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    return case_act(
        case=case,
        actor=actor,
        action="dispatch",
        expected_version=expected_version,
        unit=unit,
        note=note,
    )


def case_claim(*, case: Case, actor: User | None, expected_version: int | None = None) -> Case:
    return case_act(case=case, actor=actor, action="claim", expected_version=expected_version)


def case_return(
    *, case: Case, actor: User | None, reason: str, expected_version: int | None = None
) -> Case:
    return case_act(
        case=case, actor=actor, action="return", expected_version=expected_version, reason=reason
    )


def case_transfer(
    *, case: Case, actor: User | None, unit: Unit, reason: str, expected_version: int | None = None
) -> Case:
    return case_act(
        case=case,
        actor=actor,
        action="transfer",
        expected_version=expected_version,
        unit=unit,
        reason=reason,
    )


def case_escalate(
    *, case: Case, actor: User | None, reason: str, expected_version: int | None = None
) -> Case:
    return case_act(
        case=case, actor=actor, action="escalate", expected_version=expected_version, reason=reason
    )


def case_request_extension(
    *,
    case: Case,
    actor: User | None,
    due_at: datetime,
    reason: str,
    expected_version: int | None = None,
) -> Case:
    return case_act(
        case=case,
        actor=actor,
        action="request_extension",
        expected_version=expected_version,
        due_at=due_at,
        reason=reason,
    )


def case_approve_extension(
    *, case: Case, actor: User | None, note: str = "", expected_version: int | None = None
) -> Case:
    return case_act(
        case=case,
        actor=actor,
        action="approve_extension",
        expected_version=expected_version,
        note=note,
    )


def case_deny_extension(
    *, case: Case, actor: User | None, note: str, expected_version: int | None = None
) -> Case:
    return case_act(
        case=case,
        actor=actor,
        action="deny_extension",
        expected_version=expected_version,
        note=note,
    )


def case_supervise(
    *, case: Case, actor: User | None, requirement: str, expected_version: int | None = None
) -> Case:
    return case_act(
        case=case,
        actor=actor,
        action="supervise",
        expected_version=expected_version,
        requirement=requirement,
    )


def case_resolve(
    *,
    case: Case,
    actor: User | None,
    result: str,
    evidence: str = "",
    photos: Sequence[UploadedFile] = (),
    expected_version: int | None = None,
) -> Case:
    return case_act(
        case=case,
        actor=actor,
        action="resolve",
        expected_version=expected_version,
        photos=photos,
        result=result,
        evidence=evidence,
    )


def case_resolve_on_spot(
    *,
    case: Case,
    actor: User | None,
    case_type: CaseType,
    result: str,
    photos: Sequence[UploadedFile],
    expected_version: int | None = None,
) -> Case:
    return case_act(
        case=case,
        actor=actor,
        action="resolve_on_spot",
        expected_version=expected_version,
        photos=photos,
        case_type=case_type,
        result=result,
    )


def case_callback(
    *,
    case: Case,
    actor: User | None,
    satisfaction: str,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """Record the reporter's verdict; 不满意 reopens the case with the same unit at once."""
    return case_act(
        case=case,
        actor=actor,
        action="callback",
        expected_version=expected_version,
        satisfaction=satisfaction,
        note=note,
    )


def rating_action(case: Case) -> str | None:
    """The step of the case's flow by which its reporter rates it now, if any."""
    flow = flow_of(case)
    for transition in flow.leaving(case.state):
        if transition.rates and "system" in transition.who:
            return transition.action
    return None


def case_rate(*, case: Case, token: str, satisfaction: str, note: str = "") -> Case:
    """The reporter's own rating through the link they were given (no account needed)."""
    if not secrets.compare_digest(token, case.tracking_token):
        raise PermissionDenied("评价链接无效")
    action = rating_action(case)
    if action is None:
        raise TransitionRefused("该事件当前不能评价")
    return case_act(case=case, actor=None, action=action, satisfaction=satisfaction, note=note)


def case_reopen(
    *, case: Case, actor: User | None, reason: str, expected_version: int | None = None
) -> Case:
    return case_act(
        case=case, actor=actor, action="reopen", expected_version=expected_version, reason=reason
    )


def case_close_without_callback(
    *, case: Case, actor: User | None, reason: str, expected_version: int | None = None
) -> Case:
    return case_act(
        case=case,
        actor=actor,
        action="close_without_callback",
        expected_version=expected_version,
        reason=reason,
    )


def case_merge(
    *, case: Case, actor: User | None, kept: Case, expected_version: int | None = None
) -> Case:
    return case_act(
        case=case, actor=actor, action="merge", expected_version=expected_version, target=kept
    )


# Routing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutingSuggestion:
    case_type: CaseType
    unit: Unit | None
    score: int
    matched: tuple[str, ...]


def unit_for(*, case_type: CaseType, area: Area) -> Unit | None:
    """The unit a type goes to: its default unit, else the committee of the case's community."""
    if case_type.default_unit_id is not None:
        return case_type.default_unit
    paths = [*area.ancestor_paths, area.path]
    return (
        Unit.objects.filter(
            kind=UnitKind.COMMUNITY_COMMITTEE,
            is_active=True,
            area__path__in=paths,
            area__level=Level.COMMUNITY,
        )
        .order_by("id")
        .first()
    )


def routing_suggest(
    *, street: Area, text: str, area: Area | None = None, limit: int = 3
) -> list[RoutingSuggestion]:
    """Case types whose keywords the text contains, best match first, with the unit to send to."""
    scored = []
    types = CaseType.objects.filter(street=street, is_active=True).select_related("default_unit")
    for case_type in types:
        matched = tuple(kw for kw in case_type.keywords if kw and kw in text)
        if matched:
            scored.append((sum(len(kw) for kw in matched), case_type, matched))
    scored.sort(key=lambda row: (-row[0], row[1].code))
    return [
        RoutingSuggestion(
            case_type=case_type,
            unit=unit_for(case_type=case_type, area=area)
            if area is not None
            else case_type.default_unit,
            score=score,
            matched=matched,
        )
        for score, case_type, matched in scored[:limit]
    ]


# Many cases at once (the desk's bulk accept and dispatch) ------------------------------------


@dataclass(frozen=True)
class BulkOutcome:
    """What became of one case of a bulk step: done, or refused with the reason in Chinese."""

    number: str
    done: bool
    message: str


def _each(
    cases: Sequence[tuple[Case, int]], step: Callable[[Case, int], tuple[Case, str]]
) -> list[BulkOutcome]:
    # One transaction per case (the engine's own): a refusal leaves the others done.
    outcomes = []
    for case, version in cases:
        try:
            case, message = step(case, version)
        except DomainError as exc:
            outcomes.append(BulkOutcome(case.number, False, exc.message))
        else:
            outcomes.append(BulkOutcome(case.number, True, message))
    return outcomes


def cases_accept_many(
    *, cases: Sequence[tuple[Case, int]], actor: User, case_type: CaseType | None = None
) -> list[BulkOutcome]:
    """Accept each (case, version the actor saw) as `case_type`, or as the type it was reported
    with; a case with neither is refused, to be accepted on its own page."""

    def accept(case: Case, version: int) -> tuple[Case, str]:
        chosen = case_type or case.case_type
        if chosen is None:
            raise IntakeError("上报时未选事项类型,请逐件受理并选定类型")
        case = case_accept(case=case, actor=actor, case_type=chosen, expected_version=version)
        return case, f"已受理为“{chosen.name}”"

    return _each(cases, accept)


def cases_dispatch_many(
    *, cases: Sequence[tuple[Case, int]], actor: User, unit: Unit | None = None, note: str = ""
) -> list[BulkOutcome]:
    """Dispatch each (case, version the actor saw) to `unit`, or to its type's default unit for
    its place; a case with neither is refused, to be dispatched on its own page."""

    def dispatch(case: Case, version: int) -> tuple[Case, str]:
        target = unit or (
            unit_for(case_type=case.case_type, area=case.area) if case.case_type else None
        )
        if target is None:
            raise IntakeError("该事项没有默认承办单位,请逐件交办并选定单位")
        case = case_dispatch(
            case=case, actor=actor, unit=target, note=note, expected_version=version
        )
        return case, f"已交办“{target.name}”"

    return _each(cases, dispatch)


# Catalogue --------------------------------------------------------------------------------------


def catalogue_seed(*, street: Area) -> int:
    """Give a street the built-in catalogue; types it already has are left as they are."""
    units = list(Unit.objects.filter(street=street, is_active=True))
    have = set(CaseType.objects.filter(street=street).values_list("code", flat=True))
    created = 0
    with transaction.atomic():
        for spec in CATALOGUE:
            if spec.code in have:
                continue
            top, _ = CaseCategory.objects.get_or_create(
                street=street, parent=None, name=spec.category
            )
            sub, _ = CaseCategory.objects.get_or_create(
                street=street, parent=top, name=spec.subcategory
            )
            unit = None
            if spec.unit != "社区居委会":
                unit = next(
                    (u for u in units if u.name == spec.unit or u.name.endswith(spec.unit)), None
                )
            CaseType.objects.create(
                street=street,
                code=spec.code,
                name=spec.name,
                category=sub,
                default_unit=unit,
                claim_limit_hours=spec.claim_hours,
                handle_limit_days=spec.handle_days,
                handle_limit_hours=spec.handle_hours,
                priority=spec.priority,
                workflow=spec.workflow,
                keywords=list(spec.keywords),
                extra_fields=[
                    {
                        "name": f.name,
                        "label": f.label,
                        "choices": list(f.choices),
                        "required": f.required,
                    }
                    for f in spec.fields
                ],
            )
            created += 1
    return created


# Sweep ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepReport:
    reminded: int
    supervised: int
    expired: int
    months_closed: int  # streets whose ended months were added up for the figures


def _reminder_due(row: CaseClock, moment: datetime) -> str:
    return clock.moment_label(row.due_at or moment)


def sweep_run() -> SweepReport:
    """Remind of clocks running out and take each expired clock's declared step (督办, 终结…),
    once per deadline each, and add up the months that have ended for the figures; safe to run
    every minute, and from several machines at once."""
    moment = clock.now()
    reminded = supervised = expired = 0
    soon = CaseClock.objects.filter(
        started_at__isnull=False,
        stopped_at__isnull=True,
        suspended_at__isnull=True,
        due_soon_at__lte=moment,
        due_at__gt=moment,
    ).select_related("case", "case__unit", "case__assignee", "case__area")
    for row in soon:
        case = row.case
        spec = flow_of(case).clock_by_name.get(row.name)
        if spec is None or not spec.remind or not clock_runs(case, row.name):
            continue
        reminded += notify(
            users=audience(case, spec.remind),
            case=case,
            kind="due_soon",
            key=f"due_soon:{case.pk}:{row.name}:{row.due_at.isoformat() if row.due_at else ''}",
            message=(
                f"临期提醒:{case.number} {case.title},{spec.label} {_reminder_due(row, moment)}"
            ),
        )
    lapsed = (
        CaseClock.objects.filter(
            started_at__isnull=False,
            stopped_at__isnull=True,
            suspended_at__isnull=True,
            due_at__lte=moment,
        )
        .filter(Q(fired_for__isnull=True) | ~Q(fired_for=F("due_at")))
        .select_related("case")
    )
    for row in lapsed:
        case = row.case
        spec = flow_of(case).clock_by_name.get(row.name)
        if spec is None or spec.expiry is None or not clock_runs(case, row.name):
            continue
        due = row.due_at
        inputs: dict[str, Any] = {
            **spec.expiry.inputs,
            "auto_deadline": due.isoformat() if due else "",
        }
        try:
            perform(
                case=case,
                actor=None,
                action=spec.expiry.action,
                expected_version=case.version,
                **inputs,
            )
        except CaseConflict:
            continue  # someone acted on it meanwhile; the next sweep looks again
        CaseClock.objects.filter(pk=row.pk).update(fired_for=due)
        if spec.expiry.action == "supervise":
            supervised += 1
        else:
            expired += 1
    return SweepReport(
        reminded=reminded,
        supervised=supervised,
        expired=expired,
        months_closed=rollup_close(moment=moment),
    )
