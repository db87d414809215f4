"""/desk/bulk/: accept or dispatch many cases of a desk queue at once.

Each ticked case goes through the engine on its own (`cases_accept_many`, `cases_dispatch_many`),
checked against the version the dispatcher saw, and the page tells which were done and which
were refused and why.
"""

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from shanzhi import policy
from shanzhi.accounts.models import Unit, User
from shanzhi.cases.inbox import desk_queue
from shanzhi.cases.models import Case, CaseType
from shanzhi.cases.services import BulkOutcome, cases_accept_many, cases_dispatch_many

from .views_cases import case_rows, signed_in, staff_page

# The queues whose step can be taken for many cases with one choice, and the step's name.
BULK_QUEUES = {"reported": "批量受理", "accepted": "批量交办"}
MAX_BULK = 100


class BulkForm(forms.Form):
    queue = forms.ChoiceField(choices=list(BULK_QUEUES.items()), widget=forms.HiddenInput)
    picked = forms.MultipleChoiceField(
        label="选中的事件", error_messages={"required": "请至少勾选一件"}
    )
    case_type = forms.ModelChoiceField(
        label="事项类型",
        queryset=CaseType.objects.none(),
        required=False,
        empty_label="按各件上报时所选类型",
    )
    unit = forms.ModelChoiceField(
        label="承办单位",
        queryset=Unit.objects.none(),
        required=False,
        empty_label="按事项类型的默认单位",
    )
    note = forms.CharField(label="交办意见", required=False, max_length=500)

    def __init__(self, *args: Any, user: User, picks: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        streets = policy.streets_visible_to(user)
        self.fields["picked"].choices = [(p, p) for p in picks]  # type: ignore[attr-defined]
        types = CaseType.objects.filter(street__in=streets, is_active=True).order_by("code")
        self.fields["case_type"].queryset = types  # type: ignore[attr-defined]
        units = Unit.objects.filter(street__in=streets, is_active=True).order_by("name")
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


def _pick(case: Case) -> str:
    """A case as ticked on the page: its number and the version the dispatcher saw."""
    return f"{case.number}:{case.version}"


def _queue_cases(user: User, name: str) -> QuerySet[Case]:
    return desk_queue(user=user, name=name).select_related("area", "case_type", "unit")


def _ticked(user: User, picks: list[str]) -> list[tuple[Case, int]]:
    seen = dict(pick.rsplit(":", 1) for pick in picks)
    cases = policy.desk_cases_for(user).select_related("area", "case_type", "street")
    found = {case.number: case for case in cases.filter(number__in=list(seen))}
    return [(found[n], int(v)) for n, v in seen.items() if n in found and v.isdigit()]


@staff_page(policy.can_use_desk)
@require_http_methods(["GET", "POST"])
def desk_bulk(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    name = request.POST.get("queue") or request.GET.get("queue") or "reported"
    if name not in BULK_QUEUES:
        name = "reported"
    listed = list(_queue_cases(user, name)[:MAX_BULK])
    outcomes: list[BulkOutcome] = []
    form = BulkForm(
        request.POST or None,
        user=user,
        picks=[_pick(c) for c in listed] + request.POST.getlist("picked"),
        initial={"queue": name},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            ticked = _ticked(user, form.cleaned_data["picked"])
            if name == "reported":
                outcomes = cases_accept_many(
                    cases=ticked, actor=user, case_type=form.cleaned_data["case_type"]
                )
            else:
                outcomes = cases_dispatch_many(
                    cases=ticked,
                    actor=user,
                    unit=form.cleaned_data["unit"],
                    note=form.cleaned_data["note"],
                )
            listed = list(_queue_cases(user, name)[:MAX_BULK])
            form = BulkForm(user=user, picks=[_pick(c) for c in listed], initial={"queue": name})
        else:
            status = 400
    context = {
        "queue": name,
        "queues": BULK_QUEUES,
        "label": BULK_QUEUES[name],
        "rows": [{"pick": _pick(row["case"]), **row} for row in case_rows(listed)],
        "form": form,
        "outcomes": outcomes,
        "done": sum(1 for o in outcomes if o.done),
        "failed": [o for o in outcomes if not o.done],
        "max_bulk": MAX_BULK,
    }
    return render(request, "web/desk_bulk/bulk.html", context, status=status)
