"""The action panel's posts: /cases/<number>/act/<action>/ runs one transition through its service.

A refusal (a broken rule, a missing input, someone else acting first) changes nothing and shows
the detail page again with the Chinese message next to the form that was sent.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from shanzhi import policy
from shanzhi.accounts.models import User
from shanzhi.cases import services
from shanzhi.cases.models import Case, State
from shanzhi.cases.workflow import TRANSITIONS, CaseConflict
from shanzhi.errors import DomainError, PermissionDenied

from .forms_cases import ActionForm
from .views_cases import case_or_404, detail_context, is_htmx, signed_in, staff_page

Runner = Callable[[Case, User, dict[str, Any]], Case]

# Each action's service, fed from its form's cleaned data; `version` guards against a stale page.
RUNNERS: dict[str, Runner] = {
    "accept": lambda case, user, d: services.case_accept(
        case=case,
        actor=user,
        case_type=d["case_type"],
        area=d["area"],
        priority=d["priority"],
        expected_version=d["version"],
    ),
    "reject": lambda case, user, d: services.case_reject(
        case=case, actor=user, reason=d["reason"], expected_version=d["version"]
    ),
    "dispatch": lambda case, user, d: services.case_dispatch(
        case=case, actor=user, unit=d["unit"], note=d["note"], expected_version=d["version"]
    ),
    "claim": lambda case, user, d: services.case_claim(
        case=case, actor=user, expected_version=d["version"]
    ),
    "return": lambda case, user, d: services.case_return(
        case=case, actor=user, reason=d["reason"], expected_version=d["version"]
    ),
    "transfer": lambda case, user, d: services.case_transfer(
        case=case, actor=user, unit=d["unit"], reason=d["reason"], expected_version=d["version"]
    ),
    "escalate": lambda case, user, d: services.case_escalate(
        case=case, actor=user, reason=d["reason"], expected_version=d["version"]
    ),
    "request_extension": lambda case, user, d: services.case_request_extension(
        case=case,
        actor=user,
        due_at=d["due_at"],
        reason=d["reason"],
        expected_version=d["version"],
    ),
    "approve_extension": lambda case, user, d: services.case_approve_extension(
        case=case, actor=user, note=d["note"], expected_version=d["version"]
    ),
    "deny_extension": lambda case, user, d: services.case_deny_extension(
        case=case, actor=user, note=d["note"], expected_version=d["version"]
    ),
    "supervise": lambda case, user, d: services.case_supervise(
        case=case, actor=user, requirement=d["requirement"], expected_version=d["version"]
    ),
    "resolve": lambda case, user, d: services.case_resolve(
        case=case,
        actor=user,
        result=d["result"],
        evidence=d["evidence"],
        photos=d["photos"],
        expected_version=d["version"],
    ),
    "resolve_on_spot": lambda case, user, d: services.case_resolve_on_spot(
        case=case,
        actor=user,
        case_type=d["case_type"],
        result=d["result"],
        photos=d["photos"],
        expected_version=d["version"],
    ),
    "callback": lambda case, user, d: services.case_callback(
        case=case,
        actor=user,
        satisfaction=d["satisfaction"],
        note=d["note"],
        expected_version=d["version"],
    ),
    "reopen": lambda case, user, d: services.case_reopen(
        case=case, actor=user, reason=d["reason"], expected_version=d["version"]
    ),
    "close_without_callback": lambda case, user, d: services.case_close_without_callback(
        case=case, actor=user, reason=d["reason"], expected_version=d["version"]
    ),
    "merge": lambda case, user, d: services.case_merge(
        case=case, actor=user, kept=d["target_case"], expected_version=d["version"]
    ),
}


def _status_for(error: DomainError) -> int:
    if isinstance(error, CaseConflict):
        return 409
    if isinstance(error, PermissionDenied):
        return 403
    return 400


def _done_message(action: str, case: Case) -> str:
    if action == "callback" and case.state != State.ARCHIVED:
        return f"已回访:不满意,事件 {case.number} 已自动重办"
    return f"已{TRANSITIONS[action].label}:事件 {case.number}"


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else ""


@staff_page()
@require_POST
def case_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Run `action` on the case with the posted inputs and the version the page was shown at."""
    if action not in RUNNERS:
        raise Http404("没有这个操作")
    case = case_or_404(request, number)
    user = signed_in(request)
    form = ActionForm(request.POST, request.FILES, action=action, case=case, user=user)
    status = 400
    if form.is_valid():
        try:
            case = RUNNERS[action](case, user, form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = _status_for(exc)
        else:
            return _after_success(request, action, case)
    # Show the case as it is now: after a conflict that is what the other person left.
    case = case_or_404(request, number)
    context = detail_context(request, case, bound=form)
    if is_htmx(request):
        # htmx swaps only successful answers; the error travels inside the swapped region.
        return render(request, "web/cases/_body.html", context)
    return render(request, "web/cases/detail.html", context, status=status)


def _after_success(request: HttpRequest, action: str, case: Case) -> HttpResponse:
    done = _done_message(action, case)
    next_url = _safe_next(request)
    # A handler who returned a case out of their scope can no longer open it.
    visible = policy.can_view_case(request.user, case)
    if is_htmx(request) and visible and not next_url:
        fresh = case_or_404(request, case.number)
        return render(request, "web/cases/_body.html", detail_context(request, fresh, notice=done))
    messages.success(request, done)
    target = next_url or (
        reverse("case_detail", args=[case.number]) if visible else reverse("inbox")
    )
    if is_htmx(request):
        return HttpResponseClientRedirect(target)
    return redirect(target)
