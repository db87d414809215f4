"""Grid workers' phone pages for the registry: the visit list, person cards, visits to persons and
enterprises, and the verification worklists (核查).

Each view turns a request into policy, selector and service calls and renders; the rules live in
those modules. Records are reached only within the grids the worker patrols. These pages show
ID numbers and phones masked and offer no unmasking: that is a logged act of the staff pages.
"""

from datetime import datetime
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shanzhi import clock, policy
from shanzhi.accounts.models import User
from shanzhi.errors import DomainError, NotFound
from shanzhi.registry.models import (
    Enterprise,
    ItemStatus,
    Person,
    VerificationItem,
    VerificationTask,
)
from shanzhi.registry.selectors import (
    care_visits_due,
    person_tags_shown,
    record_cases,
    record_visits,
    verification_worklist,
)
from shanzhi.registry.services import verification_item_check, visit_log

from .views_cases import is_htmx
from .views_public import field_worker_required

PAGE_SIZE = 30
CARD_VISITS = 5
CARD_CASES = 10
SUMMARY_MAX = 2000
PROBLEMS_MAX = 2000
NOTE_MAX = 200
# What datetime-local inputs send and show: minutes, no seconds, no zone (the page's is local).
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


class VisitForm(forms.Form):
    """走访: when, what was found, what the visited raised, and whether it becomes a case."""

    visited_at = forms.DateTimeField(
        label="走访时间",
        required=False,
        input_formats=[LOCAL_MINUTE, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(format=LOCAL_MINUTE, attrs={"type": "datetime-local"}),
        error_messages={"invalid": "走访时间格式不正确"},
    )
    summary = forms.CharField(
        label="走访情况",
        max_length=SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "见到本人了吗?身体、生活情况如何"}),
        error_messages={
            "required": "请填写走访情况",
            "max_length": f"走访情况不能超过{SUMMARY_MAX}字",
        },
    )
    problems = forms.CharField(
        label="反映问题(可不填)",
        required=False,
        max_length=PROBLEMS_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"反映问题不能超过{PROBLEMS_MAX}字"},
    )
    raise_case = forms.BooleanField(required=False)

    def __init__(self, *args: Any, raise_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["raise_case"].label = raise_label
        # The phone's picker stops at now; the service refuses a later time whatever is sent.
        local_now = timezone.localtime(clock.now())
        self.fields["visited_at"].widget.attrs["max"] = local_now.strftime(LOCAL_MINUTE)
        if not self.is_bound:
            self.initial.setdefault("visited_at", local_now.replace(second=0, microsecond=0))


class CheckForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(ItemStatus.VERIFIED, "核实无误"), (ItemStatus.CORRECTED, "已更正")],
        error_messages={"required": "请选择核查结果", "invalid_choice": "请选择核查结果"},
    )
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        error_messages={"max_length": f"核查说明不能超过{NOTE_MAX}字"},
    )


def _actor(request: HttpRequest) -> User:
    # field_worker_required has turned away anonymous visitors before any of these views runs.
    return cast(User, request.user)


def _not_found(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/public/not_found.html", {"message": message}, status=404)


def _field_record(request: HttpRequest, model: type[Any], pk: int) -> Any:
    """A record the worker may see that lies in a grid they patrol; otherwise NotFound."""
    record = policy.record_for(request.user, model, pk)
    if not policy.field_areas_for(request.user).filter(pk=record.area_id).exists():
        raise NotFound("没有找到该记录,或它不在您的网格内")
    return record


def _form_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal next to the field it concerns when its code names one."""
    form.add_error(exc.code if exc.code in form.fields else None, exc.message)


# Visits ------------------------------------------------------------------------------------------


@field_worker_required
@require_GET
def field_visits(request: HttpRequest) -> HttpResponse:
    """/field/visits/: care persons whose visit is due, never visited and longest waiting first."""
    moment = clock.now()
    due = care_visits_due(user=request.user, moment=moment)
    page = Paginator(due, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"due": d, "overdue_days": (moment - d.due_since).days} for d in page.object_list]
    return render(request, "web/field/registry/visits.html", {"page": page, "rows": rows})


@field_worker_required
@require_GET
def field_visits_badge(request: HttpRequest) -> HttpResponse:
    """The number of visits due, loaded into the field nav after the page it sits on."""
    count = len(care_visits_due(user=request.user, moment=clock.now()))
    return render(request, "web/field/registry/_visits_badge.html", {"count": count})


@field_worker_required
@require_GET
def field_person(request: HttpRequest, pk: int) -> HttpResponse:
    """/field/people/<pk>/: who the resident is, their visits and cases, masked."""
    try:
        person = _field_record(request, Person, pk)
    except NotFound as exc:
        return _not_found(request, exc.message)
    context = {
        "person": person,
        "age": person.age_on(timezone.localdate(clock.now())),
        "tags": person_tags_shown(user=request.user, person=person),
        "visits": record_visits(user=request.user, record=person)[:CARD_VISITS],
        "cases": record_cases(user=request.user, record=person)[:CARD_CASES],
    }
    return render(request, "web/field/registry/person.html", context)


def _visit_page(
    request: HttpRequest, subject: Person | Enterprise, form: VisitForm, status: int = 200
) -> HttpResponse:
    context = {"subject": subject, "is_person": isinstance(subject, Person), "form": form}
    return render(request, "web/field/registry/visit_form.html", context, status=status)


def _log_visit(
    request: HttpRequest, subject: Person | Enterprise, form: VisitForm
) -> HttpResponse | None:
    """Log the posted visit; None when it was refused (the form then carries why)."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        visit = visit_log(
            actor=_actor(request),
            person=subject if isinstance(subject, Person) else None,
            enterprise=subject if isinstance(subject, Enterprise) else None,
            summary=data["summary"],
            visited_at=data["visited_at"],
            problems=data["problems"],
            raise_case=data["raise_case"],
        )
    except DomainError as exc:
        _form_error(form, exc)
        return None
    done = f"已登记对{subject}的走访"
    if visit.case is not None:
        kind = "居民反映问题已上报" if isinstance(subject, Person) else "企业诉求已上报"
        done += f",{kind},事件编号 {visit.case.number}"
    messages.success(request, done)
    return redirect("field_visits" if isinstance(subject, Person) else "field_enterprises")


@field_worker_required
@require_http_methods(["GET", "POST"])
def field_person_visit(request: HttpRequest, pk: int) -> HttpResponse:
    """/field/people/<pk>/visit/: 登记走访 of a resident."""
    try:
        person = _field_record(request, Person, pk)
    except NotFound as exc:
        return _not_found(request, exc.message)
    if request.method != "POST":
        return _visit_page(request, person, VisitForm(raise_label="转为事件上报"))
    form = VisitForm(request.POST, raise_label="转为事件上报")
    return _log_visit(request, person, form) or _visit_page(request, person, form, status=400)


# Enterprises -------------------------------------------------------------------------------------


def _field_enterprises(request: HttpRequest, moment: datetime) -> QuerySet[Enterprise]:
    """The enterprises of the worker's grids with their last visit and this year's visit count."""
    year_start = timezone.localtime(moment).replace(
        month=1, day=1, hour=0, minute=0, second=0, microsecond=0
    )
    return (
        policy.records_visible_to(request.user, Enterprise)
        .filter(area__in=policy.field_areas_for(request.user))
        .select_related("area")
        .annotate(
            last_visited_at=Max("visits__visited_at"),
            visits_this_year=Count("visits", filter=Q(visits__visited_at__gte=year_start)),
        )
        .order_by("name", "pk")
    )


@field_worker_required
@require_GET
def field_enterprises(request: HttpRequest) -> HttpResponse:
    """/field/enterprises/: the enterprises to visit, with when each was last seen."""
    enterprises = _field_enterprises(request, clock.now())
    q = request.GET.get("q", "").strip()
    if q:
        enterprises = enterprises.filter(name__icontains=q)
    page = Paginator(enterprises, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/field/registry/enterprises.html", {"page": page, "q": q})


@field_worker_required
@require_http_methods(["GET", "POST"])
def field_enterprise_visit(request: HttpRequest, pk: int) -> HttpResponse:
    """/field/enterprises/<pk>/visit/: 走访 of an enterprise; its problems may become 企业诉求."""
    try:
        enterprise = _field_record(request, Enterprise, pk)
    except NotFound as exc:
        return _not_found(request, exc.message)
    if request.method != "POST":
        return _visit_page(request, enterprise, VisitForm(raise_label="转为企业诉求"))
    form = VisitForm(request.POST, raise_label="转为企业诉求")
    return _log_visit(request, enterprise, form) or _visit_page(
        request, enterprise, form, status=400
    )


# Verification (核查) -----------------------------------------------------------------------------


def _field_tasks(request: HttpRequest) -> list[dict[str, Any]]:
    """Tasks with records in the worker's grids and their pending and total counts there; the
    finished ones stay listed until their due date."""
    counts = {
        row["task_id"]: row
        for row in VerificationItem.objects.filter(
            area__in=policy.field_areas_for(request.user),
            task__in=policy.verification_tasks_visible_to(request.user),
        )
        .values("task_id")
        .annotate(total=Count("pk"), pending=Count("pk", filter=Q(status=ItemStatus.PENDING)))
    }
    today = timezone.localdate(clock.now())
    tasks = VerificationTask.objects.filter(pk__in=counts).order_by("due_on", "pk")
    return [
        {"task": task, "total": counts[task.pk]["total"], "pending": counts[task.pk]["pending"]}
        for task in tasks
        if counts[task.pk]["pending"] or task.due_on >= today
    ]


@field_worker_required
@require_GET
def field_verification(request: HttpRequest) -> HttpResponse:
    """/field/verification/: the verification tasks the worker has records to check in."""
    return render(request, "web/field/registry/verification.html", {"rows": _field_tasks(request)})


def _field_task(request: HttpRequest, task_pk: int) -> VerificationTask:
    task = policy.verification_tasks_visible_to(request.user).filter(pk=task_pk).first()
    if task is None or not _items(request, task).exists():
        raise NotFound("没有找到该核查任务,或您的网格内没有要核查的记录")
    return task


def _items(
    request: HttpRequest, task: VerificationTask, *, pending_only: bool = False
) -> QuerySet[VerificationItem]:
    return verification_worklist(user=request.user, task=task, pending_only=pending_only)


def _progress(request: HttpRequest, task: VerificationTask) -> dict[str, int]:
    return _items(request, task).aggregate(
        total=Count("pk"), done=Count("pk", filter=~Q(status=ItemStatus.PENDING))
    )


def _worklist_page(
    request: HttpRequest,
    task: VerificationTask,
    errors: dict[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    show_all = request.GET.get("show") == "all"
    items = _items(request, task, pending_only=not show_all).select_related("person__house")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    errors = errors or {}
    context = {
        "task": task,
        "page": page,
        "rows": [{"item": item, "error": errors.get(item.pk, "")} for item in page.object_list],
        "progress": _progress(request, task),
        "show_all": show_all,
    }
    return render(request, "web/field/registry/worklist.html", context, status=status)


@field_worker_required
@require_GET
def field_verification_task(request: HttpRequest, task_pk: int) -> HttpResponse:
    """/field/verification/<task_pk>/: the worker's records of one task, pending first shown."""
    try:
        task = _field_task(request, task_pk)
    except NotFound as exc:
        return _not_found(request, exc.message)
    return _worklist_page(request, task)


@field_worker_required
@require_POST
def field_verification_check(request: HttpRequest, task_pk: int, item_pk: int) -> HttpResponse:
    """Mark one record 核实无误 or 已更正. htmx gets the row and the progress back; a plain form
    goes back to the list."""
    try:
        task = _field_task(request, task_pk)
        item = _items(request, task).select_related("person__house").filter(pk=item_pk).first()
        if item is None:
            raise NotFound("没有找到该核查记录,或它不在您的网格内")
    except NotFound as exc:
        return _not_found(request, exc.message)
    form = CheckForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            verification_item_check(
                actor=_actor(request),
                item=item,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            error = exc.message
    else:
        error = " ".join(str(m) for field_errors in form.errors.values() for m in field_errors)
    if is_htmx(request):
        # htmx swaps only successful answers; the refusal travels inside the swapped row.
        context = {"task": task, "row": {"item": item, "error": error}, "oob": True}
        context["progress"] = _progress(request, task)
        return render(request, "web/field/registry/_worklist_item.html", context)
    if error:
        return _worklist_page(request, task, errors={item.pk: error}, status=400)
    messages.success(request, f"已记录核查结果:{item.get_status_display()}")
    return redirect("field_verification_task", task_pk=task.pk)
