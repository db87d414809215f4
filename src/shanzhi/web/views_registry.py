"""Staff pages of the registry 人房企事物: the lists, a record's page with unmasking, the record
forms, the access log and the verification tasks (核查).

Each view turns a request into policy, selector and service calls and renders; a refusal of a
service changes nothing and is shown in Chinese. ID numbers and phones appear masked, except in
the one fragment that answers an unmasking, which the service writes to the access log.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shanzhi import policy
from shanzhi.areas.models import Level
from shanzhi.errors import DomainError, NotFound, PermissionDenied
from shanzhi.registry import selectors, services
from shanzhi.registry.models import (
    AccessField,
    Facility,
    ItemStatus,
    Person,
    VerificationTask,
)

from .forms_registry import (
    KIND_LABELS,
    RECORD_FORMS,
    REVEALABLE,
    AccessLogFilterForm,
    DeleteForm,
    PersonForm,
    RecordFilterForm,
    RecordForm,
    RevealForm,
    VerificationTaskForm,
)
from .views_cases import is_htmx, paginate, signed_in, staff_page
from .views_registry_io import export_context

# What each list shows with its rows, read in the same query.
LIST_RELATED: dict[str, tuple[str, ...]] = {
    "person": ("house",),
    "house": ("building",),
    "building": (),
    "enterprise": (),
    "facility": ("enterprise",),
}
DETAIL_RELATED: dict[str, tuple[str, ...]] = {
    "person": ("house", "house__building"),
    "house": ("building",),
    "building": (),
    "enterprise": ("building",),
    "facility": ("enterprise",),
}


def registry_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    return staff_page(policy.can_use_registry)(view)


def _kind_or_404(kind: str) -> str:
    if kind not in services.RECORD_KINDS:
        raise Http404("没有这类登记对象")
    return kind


def _record_or_404(request: HttpRequest, kind: str, pk: str) -> Any:
    model = services.RECORD_KINDS[_kind_or_404(kind)]
    try:
        record = policy.record_for(request.user, model, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    related = DETAIL_RELATED[kind]
    return model.objects.select_related("area", *related).get(pk=record.pk) if related else record


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "web/cases/forbidden.html", status=403)


def _status_for(error: DomainError) -> int:
    if isinstance(error, services.RecordConflict):
        return 409
    if isinstance(error, PermissionDenied):
        return 403
    return 400


def _somewhere(user: Any, allowed: Callable[[Any, Any], bool]) -> bool:
    """Whether `allowed` holds at some area: at least at one the user is granted a role on."""
    return policy.is_platform_admin(user) or any(
        allowed(user, grant.area) for grant in policy.active_grants(user)
    )


def may_issue_verification(user: Any) -> bool:
    return _somewhere(user, policy.can_issue_verification)


def may_edit_records(user: Any) -> bool:
    return _somewhere(user, policy.can_edit_records_at)


# 人房企事物 home and the lists -------------------------------------------------------------------


@registry_page
@require_GET
def registry_home(request: HttpRequest) -> HttpResponse:
    """/registry/: how many records of each kind the user's part of the grid holds."""
    user = signed_in(request)
    counts = [
        {
            "kind": kind,
            "label": KIND_LABELS[kind],
            "count": policy.records_visible_to(user, model).count(),
        }
        for kind, model in services.RECORD_KINDS.items()
    ]
    context = {
        "counts": counts,
        "can_import": policy.can_import_somewhere(user),
        "reads_access_logs": policy.can_read_access_logs(user),
    }
    return render(request, "web/registry/home.html", context)


@registry_page
@require_GET
def registry_list(request: HttpRequest, kind: str) -> HttpResponse:
    """/registry/<kind>/: the records of the user's scope, filtered; htmx gets the results."""
    user = signed_in(request)
    _kind_or_404(kind)
    form = RecordFilterForm(request.GET, user=user, kind=kind)
    form.is_valid()  # the fields that pass narrow the list; the others show their error
    filters = form.filters()
    records = selectors.record_list(user=user, kind=kind, filters=filters)
    records = records.select_related(*LIST_RELATED[kind])
    url = reverse("registry_list", args=[kind])
    pager = paginate(request, records, url=url, fragment_url=url, target="#registry-results")
    context = {
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "form": form,
        "pager": pager,
        "records": pager["page"].object_list,
        **export_context(request, kind, filters),
        "can_import": policy.can_import_somewhere(user),
        "can_create": may_edit_records(user),
    }
    if is_htmx(request):
        return render(request, "web/registry/_results.html", context)
    return render(request, "web/registry/list.html", context)


# A record's page ----------------------------------------------------------------------------------


def _related_context(user: Any, kind: str, record: Any) -> dict[str, Any]:
    """What hangs off the record: residents, houses, library entries, facilities, visits."""
    context: dict[str, Any] = {}
    if kind == "person":
        context["tags"] = selectors.person_tags_shown(user=user, person=record)
    if kind == "house":
        context["residents"] = policy.records_visible_to(user, Person).filter(house=record)
    if kind == "building":
        context["houses"] = selectors.houses_of_building(user=user, building_id=record.pk)
    if kind == "enterprise":
        context["library_entries"] = record.library_entries.all()
        context["facilities"] = policy.records_visible_to(user, Facility).filter(enterprise=record)
    if kind in ("person", "enterprise"):
        context["visits"] = selectors.record_visits(user=user, record=record)[:50]
    return context


def detail_context(request: HttpRequest, kind: str, record: Any) -> dict[str, Any]:
    user = signed_in(request)
    can_unmask = kind in REVEALABLE and policy.can_unmask(user, record)
    return {
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "record": record,
        "cases": selectors.record_cases(user=user, record=record)[:50],
        "can_unmask": can_unmask,
        "reveal_form": RevealForm(kind=kind) if can_unmask else None,
        "can_edit": policy.can_edit_records_at(user, record.area),
        **_related_context(user, kind, record),
    }


@registry_page
@require_GET
def registry_detail(request: HttpRequest, kind: str, pk: str) -> HttpResponse:
    """/registry/<kind>/<pk>/: the record, masked, with what hangs off it and its cases."""
    record = _record_or_404(request, kind, pk)
    return render(request, "web/registry/detail.html", detail_context(request, kind, record))


@registry_page
@require_POST
@never_cache
def registry_reveal(request: HttpRequest, kind: str, pk: str) -> HttpResponse:
    """Read one sealed field in the clear, for those allowed; the service logs the read."""
    user = signed_in(request)
    record = _record_or_404(request, kind, pk)
    context: dict[str, Any] = {"kind": kind, "record": record}
    if kind not in REVEALABLE or not policy.can_unmask(user, record):
        context["error"] = "您的角色无权查看完整个人信息"
        return render(request, "web/registry/_reveal.html", context, status=403)
    form = RevealForm(request.POST, kind=kind)
    context["reveal_form"] = form
    status = 200
    if form.is_valid():
        try:
            context["revealed"] = services.personal_reveal(
                actor=user,
                record=record,
                field=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
                via="page",
            )
            context["revealed_label"] = AccessField(form.cleaned_data["field"]).label
        except DomainError as exc:
            context["error"] = exc.message
            status = _status_for(exc)
    else:
        status = 400
    if is_htmx(request):
        # htmx swaps only successful answers; the error travels inside the swapped region.
        return render(request, "web/registry/_reveal.html", context)
    page = detail_context(request, kind, record) | context
    return render(request, "web/registry/detail.html", page, status=status)


# Record forms -----------------------------------------------------------------------------------


def _save(user: Any, kind: str, form: RecordForm, record: Any) -> Any:
    """Create or update through the services; a person's tags change in the same transaction."""
    tags = form.tags() if isinstance(form, PersonForm) else None
    if record is None:
        return services.record_create(
            actor=user,
            model=services.RECORD_KINDS[kind],
            area=form.cleaned_data["area"],
            fields=form.record_fields(),
            tags=tags,
        )
    return services.record_update(
        actor=user,
        record=record,
        expected_version=form.cleaned_data["version"],
        fields=form.record_fields(),
        area=form.cleaned_data["area"],
        tags=tags,
    )


def _record_form(request: HttpRequest, kind: str, record: Any) -> HttpResponse:
    user = signed_in(request)
    form_class = RECORD_FORMS[kind]
    if request.method == "POST":
        form = form_class(request.POST, user=user, record=record)
        if form.is_valid():
            try:
                saved = _save(user, kind, form, record)
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = _status_for(exc)
            else:
                verb = "已登记" if record is None else "已保存"
                messages.success(request, f"{verb}{KIND_LABELS[kind]}:{saved}")
                return redirect("registry_detail", kind=kind, pk=saved.pk)
        else:
            status = 400
    else:
        form = form_class(user=user, record=record)
        status = 200
    context = {"kind": kind, "kind_label": KIND_LABELS[kind], "form": form, "record": record}
    return render(request, "web/registry/form.html", context, status=status)


@registry_page
@require_http_methods(["GET", "POST"])
def registry_create(request: HttpRequest, kind: str) -> HttpResponse:
    """/registry/<kind>/new/: register a record in one of the user's grids."""
    _kind_or_404(kind)
    if not may_edit_records(signed_in(request)):
        return _forbidden(request)
    return _record_form(request, kind, None)


@registry_page
@require_http_methods(["GET", "POST"])
def registry_edit(request: HttpRequest, kind: str, pk: str) -> HttpResponse:
    """/registry/<kind>/<pk>/edit/: change a record read at a version nobody changed since."""
    record = _record_or_404(request, kind, pk)
    if not policy.can_edit_records_at(signed_in(request), record.area):
        return _forbidden(request)
    return _record_form(request, kind, record)


@registry_page
@require_http_methods(["GET", "POST"])
def registry_delete(request: HttpRequest, kind: str, pk: str) -> HttpResponse:
    """/registry/<kind>/<pk>/delete/: 注销 after a confirmation; cases keep pointing at it."""
    user = signed_in(request)
    record = _record_or_404(request, kind, pk)
    if not policy.can_edit_records_at(user, record.area):
        return _forbidden(request)
    form = DeleteForm(request.POST or None, initial={"version": record.version})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.record_delete(
                    actor=user, record=record, expected_version=form.cleaned_data["version"]
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = _status_for(exc)
            else:
                messages.success(request, f"已注销{KIND_LABELS[kind]}:{record}")
                return redirect("registry_list", kind=kind)
    context = {"kind": kind, "kind_label": KIND_LABELS[kind], "record": record, "form": form}
    return render(request, "web/registry/delete.html", context, status=status)


# 查看记录 (the access log) ------------------------------------------------------------------------


@staff_page(policy.can_read_access_logs)
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    """/registry/access-log/: who read whose personal data, when and why. Read-only."""
    user = signed_in(request)
    form = AccessLogFilterForm(request.GET, user=user)
    form.is_valid()
    logs = form.narrow(policy.access_logs_visible_to(user).select_related("user", "area"))
    url = reverse("registry_access_log")
    pager = paginate(request, logs, url=url, fragment_url=url, target="#access-log-results")
    context = {"form": form, "pager": pager}
    if is_htmx(request):
        return render(request, "web/registry/_access_log_results.html", context)
    return render(request, "web/registry/access_log.html", context)


# 核查 (verification tasks) ------------------------------------------------------------------------


def _overall(user: Any, task: VerificationTask) -> dict[str, Any]:
    totals = policy.verification_items_for(user, task).aggregate(
        total=Count("pk"), done=Count("pk", filter=~Q(status=ItemStatus.PENDING))
    )
    return _progress_row(task.title, totals["total"], totals["done"])


def _progress_row(label: str, total: int, done: int) -> dict[str, Any]:
    return {
        "label": label,
        "total": total,
        "done": done,
        "percent": round(done * 100 / total) if total else 0,
    }


@registry_page
@require_GET
def verification_list(request: HttpRequest) -> HttpResponse:
    """/registry/verification/: the tasks touching the user's scope, with their progress."""
    user = signed_in(request)
    tasks = policy.verification_tasks_visible_to(user).select_related("created_by")
    url = reverse("verification_list")
    pager = paginate(request, tasks, url=url, fragment_url=url, target="#verification-results")
    rows = [{"task": task, **_overall(user, task)} for task in pager["page"].object_list]
    context = {"pager": pager, "rows": rows, "can_issue": may_issue_verification(user)}
    return render(request, "web/registry/verification_list.html", context)


@staff_page(may_issue_verification)
@require_http_methods(["GET", "POST"])
def verification_create(request: HttpRequest) -> HttpResponse:
    """/registry/verification/new/: a leader orders the persons or houses of some grids checked."""
    user = signed_in(request)
    form = VerificationTaskForm(request.POST or None, user=user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = services.verification_task_create(
                    actor=user,
                    title=data["title"],
                    record_kind=data["record_kind"],
                    areas=list(data["areas"]),
                    due_on=data["due_on"],
                    note=data["note"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = _status_for(exc)
            else:
                messages.success(request, f"已发布核查任务:{task.title}")
                return redirect("verification_detail", pk=task.pk)
    return render(request, "web/registry/verification_form.html", {"form": form}, status=status)


@registry_page
@require_GET
def verification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """/registry/verification/<pk>/: done, total and percent per community and per grid."""
    user = signed_in(request)
    task = policy.verification_tasks_visible_to(user).filter(pk=pk).first()
    if task is None:
        raise Http404("没有找到该核查任务,或您无权查看")

    def rows(level: str) -> list[dict[str, Any]]:
        return [
            _progress_row(p.area.name, p.total, p.done)
            for p in selectors.verification_progress(user=user, task=task, level=level)
        ]

    context = {
        "task": task,
        "overall": _overall(user, task),
        "communities": rows(Level.COMMUNITY),
        "grids": rows(Level.GRID),
        "areas": task.areas.order_by("path"),
    }
    return render(request, "web/registry/verification_detail.html", context)
