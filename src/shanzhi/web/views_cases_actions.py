"""The action panel's posts: /cases/<number>/act/<action>/ takes one transition of the case's flow
through `services.case_act`, with the inputs its declaration names.

A refusal (a broken rule, a missing input, someone else acting first) changes nothing and shows
the detail page again with the Chinese message next to the form that was sent.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from shanzhi import policy
from shanzhi.cases import services
from shanzhi.cases.engine import CaseConflict, transition_for
from shanzhi.cases.flows.spec import TransitionSpec
from shanzhi.cases.models import Case
from shanzhi.errors import DomainError, PermissionDenied

from .forms_cases import ActionForm
from .views_cases import case_or_404, detail_context, is_htmx, signed_in, staff_page


def _status_for(error: DomainError) -> int:
    if isinstance(error, CaseConflict):
        return 409
    if isinstance(error, PermissionDenied):
        return 403
    return 400


def _done_message(transition: TransitionSpec, case: Case, followed: bool) -> str:
    done = f"已{transition.label}:事件 {case.number}"
    if followed and transition.then is not None:
        done += f"({transition.then.label})"
    return done


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
    case = case_or_404(request, number)
    try:
        _, transition = transition_for(case, action)
    except DomainError as exc:
        raise Http404("没有这个操作") from exc
    user = signed_in(request)
    form = ActionForm(request.POST, request.FILES, action=action, case=case, user=user)
    status = 400
    if form.is_valid():
        try:
            case = services.case_act(
                case=case,
                actor=user,
                action=action,
                expected_version=form.cleaned_data["version"],
                photos=form.photos(),
                **form.inputs(),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = _status_for(exc)
        else:
            # More than one step: the transition's declared follow-up was taken too.
            followed = case.version > form.cleaned_data["version"] + 1
            return _after_success(request, _done_message(transition, case, followed), case)
    # Show the case as it is now: after a conflict that is what the other person left.
    case = case_or_404(request, number)
    context = detail_context(request, case, bound=form)
    if is_htmx(request):
        # htmx swaps only successful answers; the error travels inside the swapped region.
        return render(request, "web/cases/_body.html", context)
    return render(request, "web/cases/detail.html", context, status=status)


def _after_success(request: HttpRequest, done: str, case: Case) -> HttpResponse:
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
