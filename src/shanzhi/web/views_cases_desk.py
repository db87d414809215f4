"""The dispatchers' desk (受理台, 代为登记) and the leaders' oversight (超期督办)."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from shanzhi import policy
from shanzhi.areas.models import Area
from shanzhi.cases.inbox import (
    DESK_QUEUES,
    desk_counts,
    desk_queue,
    oversight_overdue,
    oversight_supervised,
)
from shanzhi.cases.selectors import caller_cases, duplicates_like
from shanzhi.cases.services import case_report
from shanzhi.errors import DomainError

from .forms_cases import IntakeForm
from .views_cases import case_rows, paginate, signed_in, staff_page

DEFAULT_QUEUE = "reported"

desk_page = staff_page(policy.can_use_desk)
oversight_page = staff_page(policy.can_use_oversight)


# 受理台 ------------------------------------------------------------------------------------------


def _queue_context(request: HttpRequest, name: str) -> dict[str, Any]:
    pager = paginate(
        request,
        desk_queue(user=signed_in(request), name=name),
        url=reverse("desk"),
        fragment_url=reverse("desk_queue", args=[name]),
        target="#desk-queue",
        fixed={"queue": name},
    )
    return {
        "queue": DESK_QUEUES[name],
        "pager": pager,
        "case_rows": case_rows(pager["page"].object_list),
    }


@desk_page
@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    """/desk/: the dispatcher's queues with their counts, one queue open below them."""
    name = request.GET.get("queue", DEFAULT_QUEUE)
    if name not in DESK_QUEUES:
        name = DEFAULT_QUEUE
    counts = desk_counts(user=signed_in(request))
    context = {
        "queues": [(queue, counts[key]) for key, queue in DESK_QUEUES.items()],
        **_queue_context(request, name),
    }
    return render(request, "web/cases/desk.html", context)


@desk_page
@require_GET
def desk_queue_fragment(request: HttpRequest, name: str) -> HttpResponse:
    if name not in DESK_QUEUES:
        raise Http404("没有这个队列")
    return render(request, "web/cases/_desk_queue.html", _queue_context(request, name))


@desk_page
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    """/desk/intake/: 代为登记, a caller's matter registered by the dispatcher on the phone."""
    user = signed_in(request)
    if request.method != "POST":
        return render(request, "web/cases/intake.html", {"form": IntakeForm(user=user)})
    form = IntakeForm(request.POST, user=user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case, created = case_report(
                area=data["area"],
                source=data["source"],
                actor=user,
                description=data["description"],
                address=data["address"],
                reporter_name=data["reporter_name"],
                reporter_phone=data["reporter_phone"],
                case_type=data["case_type"],
                client_key=data["client_key"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            done = "已登记" if created else "该诉求已登记过"
            messages.success(request, f"{done},事件编号 {case.number}")
            return redirect("case_detail", number=case.number)
    return render(request, "web/cases/intake.html", {"form": form}, status=400)


# What the desk should know before registering: the caller's earlier cases, and the same matter
# already reported by someone else.
CALLER_CASES_SHOWN = 5
DUPLICATE_MIN_TEXT = 4


@desk_page
@require_GET
def intake_checks(request: HttpRequest) -> HttpResponse:
    """The caller's earlier cases (by the phone typed) and the possible duplicates of what is
    typed so far (by place, type and text), as one fragment of the intake page."""
    user = signed_in(request)
    phone = request.GET.get("reporter_phone", "").strip()
    text = request.GET.get("description", "").strip()
    earlier = caller_cases(user=user, phone=phone) if phone else None
    duplicates: list[tuple[Any, float]] = []
    area = _intake_area(request, request.GET.get("area", "").strip())
    if area is not None and len(text) >= DUPLICATE_MIN_TEXT:
        type_id = request.GET.get("case_type", "")
        duplicates = duplicates_like(
            viewer=user,
            area=area,
            text=text,
            case_type_id=int(type_id) if type_id.isdigit() else None,
        )
    context = {
        "phone_typed": bool(phone),
        "earlier": list(earlier[:CALLER_CASES_SHOWN]) if earlier is not None else [],
        "earlier_count": earlier.count() if earlier is not None else 0,
        "earlier_url": f"{reverse('case_list')}?{urlencode({'q': phone})}",
        "duplicates": duplicates,
    }
    return render(request, "web/cases/_intake_checks.html", context)


def _intake_area(request: HttpRequest, code: str) -> Area | None:
    if not code:
        return None
    return policy.intake_areas_for(request.user).filter(code=code).first()


# 超期督办 ----------------------------------------------------------------------------------------


def _overdue_context(request: HttpRequest) -> dict[str, Any]:
    pager = paginate(
        request,
        oversight_overdue(user=signed_in(request)),
        url=reverse("oversight"),
        fragment_url=reverse("oversight_overdue"),
        target="#oversight-overdue",
    )
    return {"overdue_pager": pager, "overdue_rows": case_rows(pager["page"].object_list)}


def _supervised_context(request: HttpRequest) -> dict[str, Any]:
    pager = paginate(
        request,
        oversight_supervised(user=signed_in(request)),
        url=reverse("oversight"),
        fragment_url=reverse("oversight_supervised"),
        target="#oversight-supervised",
        param="spage",
    )
    return {"supervised_pager": pager, "supervised_rows": case_rows(pager["page"].object_list)}


@oversight_page
@require_GET
def oversight(request: HttpRequest) -> HttpResponse:
    """/oversight/: overdue cases where the leader leads, and those already under supervision."""
    context = _overdue_context(request) | _supervised_context(request)
    return render(request, "web/cases/oversight.html", context)


@oversight_page
@require_GET
def oversight_overdue_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "web/cases/_oversight_overdue.html", _overdue_context(request))


@oversight_page
@require_GET
def oversight_supervised_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "web/cases/_oversight_supervised.html", _supervised_context(request))
