"""Staff case pages: 我的待办, the case list, and a case's detail with its action panel.

Each view turns a request into policy, selector and service calls and renders; each region of a
page is its own template, rendered by the full page and returned alone to htmx.
"""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from shanzhi import clock, policy
from shanzhi.accounts.models import User
from shanzhi.analytics.breakdowns import figure_cases, figure_name
from shanzhi.cases.documents import DOCX, case_document, case_documents, document_docx
from shanzhi.cases.flows.spec import InputKind, TransitionSpec
from shanzhi.cases.inbox import notification_mark_read
from shanzhi.cases.models import Attachment, Case
from shanzhi.cases.selectors import (
    action_actor_label,
    action_details,
    available_actions,
    case_clocks,
    case_facts,
    case_list,
    case_possible_duplicates,
    case_timeline,
    deadline_label,
    deadline_status,
    inbox_for,
    notifications_for,
)
from shanzhi.cases.services import unit_for
from shanzhi.errors import DomainError, NotFound, PermissionDenied
from shanzhi.registry.models import LINKED_KINDS, CaseLink
from shanzhi.registry.services import (
    case_contact_reveal,
    case_link_add,
    may_reveal_contact,
    reporter_phone_shown,
)
from shanzhi.routing.selectors import Suggestion, suggestions_for
from shanzhi.uploads import photo_response

from .forms_cases import ActionForm, CaseFilterForm, FigureForm
from .forms_registry import KIND_LABELS, CaseLinkForm

PAGE_SIZE = 20
# Who points a case at registry records: those who take it in, oversee it or walk its grid.
RECORD_LINKERS = frozenset({"dispatcher", "leader", "grid_worker"})

ViewFunc = Callable[..., HttpResponseBase]


def staff_page(allowed: Callable[[Any], bool] = policy.can_use_case_pages) -> Callable[..., Any]:
    """Signed in, and let in by `allowed` from the policy; others get a Chinese 403 page."""

    def decorate(view: ViewFunc) -> ViewFunc:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not allowed(request.user):
                return render(request, "web/cases/forbidden.html", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def signed_in(request: HttpRequest) -> User:
    # staff_page has turned away anonymous visitors before any of these views runs.
    return cast(User, request.user)


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request, and so wants a region rather than a page."""
    return request.headers.get("HX-Request") == "true"


def case_or_404(request: HttpRequest, number: str) -> Case:
    try:
        return policy.case_for(request.user, number)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def case_rows(cases: Iterable[Case]) -> list[dict[str, Any]]:
    """Cases with their deadline badge, judged at one moment for the whole list."""
    moment = clock.now()
    rows = []
    for case in cases:
        rows.append(
            {
                "case": case,
                "deadline": deadline_status(case, moment),
                "deadline_label": deadline_label(case, moment),
            }
        )
    return rows


def paginate(
    request: HttpRequest,
    items: QuerySet[Any],
    *,
    url: str,
    fragment_url: str,
    target: str,
    param: str = "page",
    fixed: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One page of `items` and the links to its neighbours, keeping the other GET parameters
    and setting the `fixed` ones (what a fragment's own URL says but the page's does not)."""
    page: Page[Any] = Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))

    def query(number: int) -> str:
        params = request.GET.copy()
        params.update(fixed or {})
        params[param] = str(number)
        return params.urlencode()

    return {
        "page": page,
        "url": url,
        "fragment_url": fragment_url,
        "target": target,
        "prev": query(page.previous_page_number()) if page.has_previous() else "",
        "next": query(page.next_page_number()) if page.has_next() else "",
    }


# 我的待办 ----------------------------------------------------------------------------------------


def _inbox_cases_context(request: HttpRequest) -> dict[str, Any]:
    pager = paginate(
        request,
        inbox_for(user=signed_in(request)),
        url=reverse("inbox"),
        fragment_url=reverse("inbox_cases"),
        target="#inbox-cases",
    )
    return {"cases_pager": pager, "case_rows": case_rows(pager["page"].object_list)}


def _inbox_notifications_context(request: HttpRequest) -> dict[str, Any]:
    pager = paginate(
        request,
        notifications_for(user=signed_in(request), unread_only=True),
        url=reverse("inbox"),
        fragment_url=reverse("inbox_notifications"),
        target="#inbox-notifications",
        param="npage",
    )
    return {"notes_pager": pager}


@staff_page()
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """/inbox/: the cases waiting for this user, most urgent first, and unread notifications."""
    context = _inbox_cases_context(request) | _inbox_notifications_context(request)
    return render(request, "web/cases/inbox.html", context)


@staff_page()
@require_GET
def inbox_cases(request: HttpRequest) -> HttpResponse:
    return render(request, "web/cases/_inbox_cases.html", _inbox_cases_context(request))


@staff_page()
@require_GET
def inbox_notifications(request: HttpRequest) -> HttpResponse:
    return render(
        request, "web/cases/_inbox_notifications.html", _inbox_notifications_context(request)
    )


@staff_page()
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark the posted notifications read, or all of them when none is named."""
    ids = [int(value) for value in request.POST.getlist("id") if value.isdigit()]
    count = notification_mark_read(user=signed_in(request), ids=ids or None)
    if is_htmx(request):
        return render(
            request, "web/cases/_inbox_notifications.html", _inbox_notifications_context(request)
        )
    messages.success(request, f"已将 {count} 条通知标为已读")
    return redirect("inbox")


# The case list --------------------------------------------------------------------------------


@staff_page()
@require_GET
def cases(request: HttpRequest) -> HttpResponse:
    """/cases/: every case the user may see, narrowed by the filters; htmx gets the results."""
    form = CaseFilterForm(request.GET, user=signed_in(request))
    form.is_valid()  # the fields that pass narrow the list; the others show their error
    listed = case_list(user=request.user, filters=form.filters())
    figure_form = FigureForm(request.GET)
    figure = None
    if figure_form.wanted:
        figure = _figure_banner(request, form, figure_form)
        if figure["cases"] is not None:
            listed = listed.filter(pk__in=figure["cases"].values("pk"))
    pager = paginate(
        request,
        listed,
        url=reverse("case_list"),
        fragment_url=reverse("case_list"),
        target="#case-results",
    )
    context = {
        "form": form,
        "figure_form": figure_form,
        "figure": figure,
        "pager": pager,
        "case_rows": case_rows(pager["page"].object_list),
    }
    # A figure link that cannot be read (its period, KPI or scope) is bad input: 400, as the API.
    status = 400 if figure is not None and figure["error"] else 200
    if is_htmx(request):
        return render(request, "web/cases/_results.html", context, status=status)
    return render(request, "web/cases/list.html", context, status=status)


def _figure_banner(
    request: HttpRequest, form: CaseFilterForm, figure_form: FigureForm
) -> dict[str, Any]:
    """The figure a link came from: its cases (exactly `kpi_cases`), name and count."""
    if not figure_form.is_valid() or any(
        name in form.errors for name in ("area", "unit", "case_type", "category", "source")
    ):
        return {"cases": None, "error": figure_form.error_text() or "指标链接的辖区或分类有误"}
    data = figure_form.cleaned_data
    scope = figure_form.scope(form)
    key, part = data["kpi"], data.get("part") or "numerator"
    try:
        cases = figure_cases(
            viewer=request.user, key=key, scope=scope, period=data["period"], part=part
        )
    except DomainError as exc:
        return {"cases": None, "error": exc.message}
    return {
        "cases": cases,
        "error": "",
        "label": f"{data['period'].label} {scope.label} {figure_name(key, part)}",
        "count": cases.count(),
    }


# The case detail ------------------------------------------------------------------------------


def _timeline(case: Case) -> list[dict[str, Any]]:
    return [
        {
            "action": action,
            "label": action.label,
            "actor": action_actor_label(action, case),
            "details": action_details(action),
            "photos": list(action.attachments.all()),
        }
        for action in case_timeline(case=case)
    ]


def _suggestions(case: Case, actions: list[TransitionSpec]) -> list[Suggestion]:
    wants = {spec.kind for t in actions for spec in t.inputs}
    if not {InputKind.CASE_TYPE, InputKind.UNIT} & wants:
        return []
    return suggestions_for(
        street=case.street, title=case.title, text=case.description, area=case.area
    )


def detail_context(
    request: HttpRequest,
    case: Case,
    *,
    bound: ActionForm | None = None,
    notice: str = "",
) -> dict[str, Any]:
    """Everything the detail page shows; `bound` is a posted form to show with its errors."""
    user = signed_in(request)
    actions = available_actions(user, case)
    names = [transition.action for transition in actions]
    suggestions = _suggestions(case, actions)
    # The type is chosen beforehand only when the router is as sure as the street asks.
    suggested_type = suggestions[0].case_type if suggestions and suggestions[0].preselect else None
    # A typed case goes where its type says; an untyped one where the routing points.
    suggested_unit = None
    if case.case_type is not None:
        suggested_unit = unit_for(case_type=case.case_type, area=case.area)
    elif suggestions:
        suggested_unit = suggestions[0].unit
    forms = [
        bound
        if bound is not None and bound.action == name
        else ActionForm(
            action=name,
            case=case,
            user=user,
            suggested_type=suggested_type,
            suggested_unit=suggested_unit,
        )
        for name in names
    ]
    panel_errors: list[str] = []
    if bound is not None and bound.action not in names:
        # The action is no longer open to the viewer (or never was): say why it failed.
        panel_errors = [str(error) for errors in bound.errors.values() for error in errors]
    timeline = _timeline(case)
    phone = reporter_phone_shown(viewer=user, case=case)
    # Candidates are read within the viewer's own scope.
    duplicates = case_possible_duplicates(case=case, viewer=user) if case.is_open else []
    status = deadline_status(case)
    return {
        "case": case,
        "deadline": status,
        "deadline_label": deadline_label(case),
        "reporter_phone": phone,
        "may_reveal_contact": may_reveal_contact(user, case),
        "timeline": timeline,
        # The reporter's own photos show with the facts; later ones with their step.
        "photos": [
            p for row in timeline if row["action"].action == "report" for p in row["photos"]
        ],
        "action_forms": forms,
        "panel_errors": panel_errors,
        "can_merge": "merge" in names,
        "documents": case_documents(case),
        "facts": case_facts(case),
        "clocks": case_clocks(case),
        "flow": case.flow_spec,
        "duplicates": duplicates,
        "suggestions": suggestions,
        "notice": notice,
        **record_links_context(request, case),
    }


# Registry records the case points at (关联对象) ------------------------------------------------


def record_links_context(
    request: HttpRequest, case: Case, *, form: CaseLinkForm | None = None, notice: str = ""
) -> dict[str, Any]:
    """The 关联对象 panel: the linked records the viewer may see, and the form to add one."""
    user = signed_in(request)
    related = [f"{kind}__area" for kind in LINKED_KINDS]
    links = CaseLink.objects.filter(case=case).select_related(*related).order_by("created_at")
    rows = []
    for link in links:
        kind = next(k for k in LINKED_KINDS if getattr(link, f"{k}_id") is not None)
        record = getattr(link, kind)
        if policy.can_view_record(user, record):
            rows.append({"kind": kind, "kind_label": KIND_LABELS[kind], "record": record})
    can_link = policy.can_perform(user, case, RECORD_LINKERS)
    if can_link and form is None:
        form = CaseLinkForm(user=user, case=case)
    return {
        "record_links": rows,
        "link_form": form if can_link else None,
        "link_notice": notice,
    }


@staff_page()
@require_POST
def case_record_link(request: HttpRequest, number: str) -> HttpResponse:
    """Point the case at a registry record found by its ID number, credit code, code or address."""
    case = case_or_404(request, number)
    user = signed_in(request)
    if not policy.can_perform(user, case, RECORD_LINKERS):
        return render(request, "web/cases/forbidden.html", status=403)
    form = CaseLinkForm(request.POST, user=user, case=case)
    # After a link is made the panel offers an empty form again.
    shown: CaseLinkForm | None = form
    status, notice = 400, ""
    if form.is_valid():
        record = form.cleaned_data["record"]
        try:
            case_link_add(actor=user, case=case, record=record)
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = 403 if isinstance(exc, PermissionDenied) else 400
        else:
            notice = f"已关联{KIND_LABELS[form.cleaned_data['kind']]}:{record}"
            if not is_htmx(request):
                messages.success(request, notice)
                return redirect("case_detail", number=case.number)
            shown = None
    context = {"case": case, **record_links_context(request, case, form=shown, notice=notice)}
    if is_htmx(request):
        # htmx swaps only successful answers; the error travels inside the swapped region.
        return render(request, "web/cases/_record_links.html", context)
    page = detail_context(request, case) | context
    return render(request, "web/cases/detail.html", page, status=status)


@staff_page()
@require_GET
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    """/cases/<number>/: the facts, the timeline and what the viewer may do now."""
    case = case_or_404(request, number)
    return render(request, "web/cases/detail.html", detail_context(request, case))


@staff_page()
@require_GET
def case_photo(request: HttpRequest, number: str, pk: int) -> HttpResponseBase:
    try:
        attachment: Attachment = policy.case_attachment_for(request.user, number, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return photo_response(attachment.file, attachment.content_type)


@staff_page()
@require_POST
@never_cache
def case_contact(request: HttpRequest, number: str) -> HttpResponse:
    """The reporter's phone in the clear for a callback, with a stated reason (logged)."""
    case = case_or_404(request, number)
    context: dict[str, Any] = {
        "case": case,
        "reporter_phone": reporter_phone_shown(viewer=request.user, case=case),
    }
    status = 200
    try:
        context["reporter_phone"] = case_contact_reveal(
            actor=signed_in(request), case=case, reason=request.POST.get("reason", "")
        )
        context["revealed"] = True
    except DomainError as exc:
        context["contact_error"] = exc.message
        context["may_reveal_contact"] = may_reveal_contact(request.user, case)
        status = 403 if isinstance(exc, PermissionDenied) else 400
    return render(request, "web/cases/_contact.html", context, status=status)


@staff_page()
@require_GET
def case_document_view(request: HttpRequest, number: str, key: str) -> HttpResponse:
    """A paper the case's flow issued (告知书, 意见书, 协议书…), as .docx."""
    case = case_or_404(request, number)
    try:
        document = case_document(case, key)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    response = HttpResponse(document_docx(document), content_type=DOCX)
    response["Content-Disposition"] = content_disposition_header(True, document.filename) or ""
    return response
