"""Phone pages: the resident's QR report page, the tracking link, QR posters, grid workers' pages.

Each view turns a request into policy, service and selector calls and renders; the rules live
in those modules. The resident's pages need no account: the place comes from the QR code, and
the case from the secret tracking token, never from its number.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any, cast

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shanzhi import clock, policy, ratelimit
from shanzhi.accounts.models import User
from shanzhi.areas.models import Area, Level
from shanzhi.areas.selectors import area_ancestors
from shanzhi.cases.errors import TransitionRefused
from shanzhi.cases.flows import FLOWS, GENERAL, REPORT_ACTION, public_photo_actions, states_of
from shanzhi.cases.flows.spec import Kind
from shanzhi.cases.models import (
    Attachment,
    Case,
    CaseAction,
    CaseType,
    Satisfaction,
    Source,
    State,
)
from shanzhi.cases.selectors import (
    CaseFilters,
    case_list,
    case_timeline,
    deadline_label,
    deadline_status,
    due_soon_q,
    overdue_q,
)
from shanzhi.cases.services import (
    case_rate,
    case_report,
    case_report_on_spot,
    case_resolve_on_spot,
    rating_action,
)
from shanzhi.errors import DomainError, NotFound
from shanzhi.uploads import photo_response

from .forms_public import (
    FieldReportForm,
    RatingForm,
    ResidentReportForm,
    ResolveOnSpotForm,
    new_client_key,
)

# A phone on a shared address (a residential Wi-Fi, a carrier gateway) still gets ten reports
# in ten minutes; a script posting in a loop does not.
REPORT_LIMIT = 10
REPORT_WINDOW_SECONDS = 600
PAGE_SIZE = 20

# The levels named under a place so that a resident recognises it (zones mean nothing to them).
PLACE_LEVELS = frozenset({Level.STREET, Level.COMMUNITY, Level.GRID, Level.DEDICATED_GRID})

# What a reporter sees of each step is the transition's `public` name (and its note when
# `public_note`); steps without one carry internal reasons and show only as "流转中".
IN_TRANSIT_LABEL = "流转中"
REPORT_STEP_LABEL = "提交上报"


def _not_found(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/public/not_found.html", {"message": message}, status=404)


def _place_trail(area: Area) -> list[str]:
    """The names above `area` a resident knows it by: street, community, grid."""
    return [a.name for a in area_ancestors(area=area) if a.level in PLACE_LEVELS]


# The resident's report page ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def resident_report(request: HttpRequest, code: str) -> HttpResponse:
    """/r/<code>/: what a QR poster opens. The place is known; the resident says what happened."""
    try:
        area = policy.area_for_public_report(code)
    except NotFound as exc:
        return _not_found(request, exc.message)
    context: dict[str, Any] = {"area": area, "trail": _place_trail(area)}
    if request.method != "POST":
        context["form"] = ResidentReportForm(initial={"client_key": new_client_key()})
        return render(request, "web/public/report.html", context)

    form = ResidentReportForm(request.POST, request.FILES)
    context["form"] = form
    allowed = ratelimit.hit(
        scope="resident_report",
        key=ratelimit.client_address(request),
        limit=REPORT_LIMIT,
        window_seconds=REPORT_WINDOW_SECONDS,
    )
    if not allowed:
        context["limited"] = True
        return render(request, "web/public/report.html", context, status=429)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case, _ = case_report(
                area=area,
                source=Source.RESIDENT,
                actor=request.user if request.user.is_authenticated else None,
                description=data["description"],
                reporter_name=data["reporter_name"],
                reporter_phone=data["reporter_phone"],
                client_key=data["client_key"],
                photos=data["photos"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("public_receipt", token=case.tracking_token)
    return render(request, "web/public/report.html", context, status=400)


@never_cache
@require_GET
def receipt(request: HttpRequest, token: str) -> HttpResponse:
    """回执: the number to quote on the phone and the link to follow the case."""
    try:
        case = policy.case_for_tracking(token)
    except NotFound as exc:
        return _not_found(request, exc.message)
    track_url = request.build_absolute_uri(reverse("public_track", args=[case.tracking_token]))
    return render(request, "web/public/receipt.html", {"case": case, "track_url": track_url})


# Tracking -----------------------------------------------------------------------------------------


@dataclass
class PublicStep:
    label: str
    at: datetime
    detail: str = ""
    photos: list[Attachment] = field(default_factory=list)


def _public_step(action: CaseAction) -> PublicStep:
    if action.action == REPORT_ACTION:
        label: str | None = REPORT_STEP_LABEL
        transition = None
    else:
        flow = FLOWS.get(action.flow)
        transition = flow.transition(action.action) if flow is not None else None
        label = transition.public if transition is not None else None
    if label is None:
        return PublicStep(label=IN_TRANSIT_LABEL, at=action.created_at)
    detail = ""
    if transition is not None and transition.public_note:
        shown = [action.note] if action.note else []
        for spec in transition.inputs:
            if spec.public and action.data.get(spec.name):
                shown.append(f"{spec.label}:{action.data[spec.name]}")
        detail = "\n".join(shown)
    elif transition is not None and transition.rates:
        rated = transition.input(transition.rates)
        value = str(action.data.get(transition.rates, ""))
        detail = rated.choice_label(value) if rated is not None and value else ""
    elif transition is not None and (transition.assigns or "claimed" in transition.marks):
        detail = action.to_unit.name if action.to_unit is not None else ""
    photos = []
    if action.action in public_photo_actions(action.flow):
        photos = list(action.attachments.all())
    return PublicStep(label=label, at=action.created_at, detail=detail, photos=photos)


def _track_context(case: Case, rating_form: RatingForm) -> dict[str, Any]:
    kind = case.flow_spec.state(case.state).kind
    return {
        "case": case,
        "public_state": case.flow_spec.state(case.state).public_label,
        "steps": [_public_step(action) for action in case_timeline(case=case)],
        "shows_result": bool(case.resolution) and kind in (Kind.RESOLVED, Kind.CLOSED),
        "can_rate": rating_action(case) is not None,
        "rating_form": rating_form,
    }


@never_cache
@require_GET
def track(request: HttpRequest, token: str) -> HttpResponse:
    """/t/<token>/: the reporter's view of their case, and the rating once it is resolved."""
    try:
        case = policy.case_for_tracking(token)
    except NotFound as exc:
        return _not_found(request, exc.message)
    return render(request, "web/public/track.html", _track_context(case, RatingForm()))


@require_POST
def track_rate(request: HttpRequest, token: str) -> HttpResponse:
    try:
        case = policy.case_for_tracking(token)
    except NotFound as exc:
        return _not_found(request, exc.message)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            case_rate(
                case=case,
                token=token,
                satisfaction=form.cleaned_data["satisfaction"],
                note=form.cleaned_data["note"],
            )
        except TransitionRefused:
            form.add_error(None, "该事件已经评价过或当前不在待评价状态,本次评价未保存")
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if form.cleaned_data["satisfaction"] == Satisfaction.UNSATISFIED:  # reopened
                messages.success(request, "感谢您的评价。我们已安排重新办理,请继续关注。")
            else:
                messages.success(request, "感谢您的评价!")
            return redirect("public_track", token=token)
    case.refresh_from_db()
    return render(request, "web/public/track.html", _track_context(case, form), status=400)


@require_GET
def track_photo(request: HttpRequest, token: str, pk: int) -> HttpResponseBase:
    """A photo of a public step, behind the same secret as the tracking page."""
    try:
        photo = policy.tracked_photo_for(policy.case_for_tracking(token), pk)
    except NotFound as exc:
        return _not_found(request, exc.message)
    return photo_response(photo.file, photo.content_type)


# QR codes and posters ---------------------------------------------------------------------------


def _report_url(request: HttpRequest, area: Area) -> str:
    return request.build_absolute_uri(reverse("public_report", args=[area.code]))


@require_GET
def qr_image(request: HttpRequest, code: str, kind: str) -> HttpResponse:
    """The QR code of an area's report page, as SVG for print shops or PNG for chat groups."""
    try:
        area = policy.area_for_public_report(code)
    except NotFound as exc:
        return _not_found(request, exc.message)
    # Level M survives a poster that is a little scuffed or rained on.
    qr = segno.make(_report_url(request, area), error="m", micro=False)
    buffer = io.BytesIO()
    if kind == "svg":
        qr.save(buffer, kind="svg", scale=10, border=2, title=f"{area.name} 问题上报")
        content_type = "image/svg+xml"
    else:
        qr.save(buffer, kind="png", scale=12, border=2)
        content_type = "image/png"
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response


@login_required
@require_GET
def qr_poster(request: HttpRequest, code: str) -> HttpResponse:
    """A printable poster for staff of the place: the QR code and the address in large type."""
    try:
        area = policy.area_for(request.user, code)
        policy.area_for_public_report(area.code)
    except NotFound as exc:
        return _not_found(request, exc.message)
    context = {"area": area, "trail": _place_trail(area), "report_url": _report_url(request, area)}
    return render(request, "web/public/poster.html", context)


# Grid workers' phone pages -----------------------------------------------------------------------


ViewFunc = Callable[..., HttpResponse]


def field_worker_required(view: ViewFunc) -> ViewFunc:
    """Signed in, and a grid worker by the policy; others get a Chinese 403 page."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not policy.can_use_field_pages(request.user):
            return render(request, "web/field/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _signed_in(request: HttpRequest) -> User:
    # field_worker_required has turned away anonymous visitors before any field view runs.
    return cast(User, request.user)


def _field_open_cases(request: HttpRequest) -> QuerySet[Case]:
    """Open cases the user may see, narrowed to the grids they patrol."""
    visible = case_list(user=request.user, filters=CaseFilters(states=tuple(states_of("open"))))
    return visible & policy.field_cases_for(request.user)


def _field_list_context(request: HttpRequest) -> dict[str, Any]:
    moment = clock.now()
    page = Paginator(_field_open_cases(request), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for case in page.object_list:
        rows.append(
            {
                "case": case,
                "deadline": deadline_status(case, moment),
                "deadline_label": deadline_label(case, moment),
            }
        )
    return {"page": page, "rows": rows}


@field_worker_required
@require_GET
def field_home(request: HttpRequest) -> HttpResponse:
    """/field/: the grid worker's open cases, with the counts that matter on patrol."""
    moment = clock.now()
    counts = _field_open_cases(request).aggregate(
        open=Count("pk"),
        reported=Count("pk", filter=Q(state=State.REPORTED)),  # every flow's intake state
        due_soon=Count("pk", filter=due_soon_q(moment)),
        overdue=Count("pk", filter=overdue_q(moment)),
    )
    context = {"counts": counts, **_field_list_context(request)}
    return render(request, "web/field/home.html", context)


@field_worker_required
@require_GET
def field_cases(request: HttpRequest) -> HttpResponse:
    """The case list region of /field/ alone, for htmx paging."""
    return render(request, "web/field/_case_list.html", _field_list_context(request))


def _report_from_patrol(request: HttpRequest, data: dict[str, Any]) -> tuple[Case, bool]:
    actor = _signed_in(request)
    place = {
        "area": data["area"],
        "description": data["description"],
        "address": data["address"],
        "latitude": data["latitude"],
        "longitude": data["longitude"],
        "client_key": data["client_key"],
    }
    if data["on_spot"]:
        case = case_report_on_spot(
            actor=actor,
            case_type=data["case_type"],
            result=data["result"],
            photos=data["photos"],
            **place,
        )
        return case, True
    case, _ = case_report(
        source=Source.GRID_PATROL,
        actor=actor,
        case_type=data["case_type"],
        photos=data["photos"],
        **place,
    )
    return case, False


def _field_case_types(street_ids: Any) -> QuerySet[CaseType]:
    return CaseType.objects.filter(street_id__in=street_ids, is_active=True).order_by("code")


def _on_spot_types(street_ids: Any) -> QuerySet[CaseType]:
    """Only matters of the general flow are handled on the spot; hazards, petitions, disputes
    and enterprise appeals run their own flows."""
    return _field_case_types(street_ids).filter(workflow=GENERAL)


@field_worker_required
@require_http_methods(["GET", "POST"])
def field_report(request: HttpRequest) -> HttpResponse:
    """/field/report/: report what the patrol finds, or handle it on the spot with a photo."""
    areas = policy.field_areas_for(request.user).order_by("path")
    case_types = _field_case_types(areas.values("street_id"))
    if request.method != "POST":
        form = FieldReportForm(
            initial={"client_key": new_client_key()}, areas=areas, case_types=case_types
        )
        return render(request, "web/field/report.html", {"form": form})
    form = FieldReportForm(request.POST, request.FILES, areas=areas, case_types=case_types)
    if form.is_valid():
        try:
            case, on_spot = _report_from_patrol(request, form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            done = "已就地处置" if on_spot else "已上报"
            messages.success(request, f"{done},事件编号 {case.number}")
            return redirect("field_home")
    return render(request, "web/field/report.html", {"form": form}, status=400)


@field_worker_required
@require_http_methods(["GET", "POST"])
def field_resolve_on_spot(request: HttpRequest, number: str) -> HttpResponse:
    """/field/cases/<number>/resolve-on-spot/: 就地处置 of a case reported in the own grid."""
    try:
        case = policy.field_case_for(request.user, number)
    except NotFound as exc:
        return _not_found(request, exc.message)
    case_types = _on_spot_types([case.street_id])
    if request.method != "POST":
        form = ResolveOnSpotForm(
            initial={"version": case.version, "case_type": case.case_type_id},
            case_types=case_types,
        )
        return render(request, "web/field/resolve.html", _resolve_context(case, form))
    form = ResolveOnSpotForm(request.POST, request.FILES, case_types=case_types)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case_resolve_on_spot(
                case=case,
                actor=_signed_in(request),
                case_type=data["case_type"],
                result=data["result"],
                photos=data["photos"],
                expected_version=data["version"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"事件 {case.number} 已就地处置")
            return redirect("field_home")
    return render(request, "web/field/resolve.html", _resolve_context(case, form), status=400)


def _resolve_context(case: Case, form: ResolveOnSpotForm) -> dict[str, Any]:
    open_here = case.flow == GENERAL and case.state == State.REPORTED
    return {"case": case, "form": form, "on_spot_open": open_here}
