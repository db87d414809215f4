"""Where each role lands, the administrator's set-up checklist, opening a street, a resident's own.

`/` sends each person to the page their role works from; the area tree that used to be there
lives at /areas/. Nothing is decided here: the policy says which role lands where.
"""

from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from shanzhi import policy
from shanzhi.accounts.models import Role, User
from shanzhi.areas.models import Area
from shanzhi.errors import DomainError
from shanzhi.registry.imports import SPECS
from shanzhi.streets.divisions import source_note
from shanzhi.streets.selectors import checklist_missing, street_checklist
from shanzhi.streets.services import street_set_up

from .views import area_tree_context

LANDING_PAGES: dict[str, str] = {
    Role.ADMINISTRATOR: "setup_checklist",
    Role.DISPATCHER: "desk",
    Role.LEADER: "dashboard",
    Role.HANDLER: "inbox",
    Role.GRID_WORKER: "field_home",
    Role.RESIDENT: "my_reports",
}
OWN_REPORTS_SHOWN = 20


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponseBase:
    """/: each role's own page; a platform administrator with no street role opens streets."""
    role = policy.landing_role(request.user)
    if role is not None:
        return redirect(LANDING_PAGES[role])
    if policy.can_set_up_streets(request.user):
        return redirect("street_setup")
    return render(request, "web/home.html", area_tree_context(request))


@login_required
@require_GET
def setup_checklist(request: HttpRequest) -> HttpResponse:
    """/setup/: for each street the administrator keeps, what it still lacks and where to add it."""
    streets = list(policy.setup_streets_for(request.user).order_by("code")[:20])
    if not streets:
        return render(request, "web/cases/forbidden.html", status=403)
    sheets = []
    for street in streets:
        items = street_checklist(street=street)
        sheets.append({"street": street, "items": items, "missing": checklist_missing(items)})
    context = {"sheets": sheets, "templates": [(kind, spec.title) for kind, spec in SPECS.items()]}
    return render(request, "web/setup/checklist.html", context)


class StreetSetUpForm(forms.Form):
    code = forms.CharField(label="乡级行政区划代码(9位)", max_length=20)
    admin_username = forms.CharField(
        label="首位系统管理员用户名", max_length=150, required=False, help_text="不填为“代码.admin”"
    )


@never_cache  # the one-time password is on the answer page
@login_required
@require_http_methods(["GET", "POST"])
def street_setup(request: HttpRequest) -> HttpResponse:
    """/setup/streets/: the platform administrator opens a street, as `shanzhi street add` does."""
    if not policy.can_set_up_streets(request.user):
        return render(request, "web/cases/forbidden.html", status=403)
    form = StreetSetUpForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "source": source_note()}
    if request.method == "POST" and form.is_valid():
        try:
            result = street_set_up(
                code=form.cleaned_data["code"],
                admin_username=form.cleaned_data["admin_username"],
            )
        except DomainError as exc:
            form.add_error("code", exc.message)
            return render(request, "web/setup/street.html", context, status=400)
        context["result"] = result
        context["items"] = street_checklist(street=result.street)
    return render(request, "web/setup/street.html", context)


@login_required
@require_GET
def my_reports(request: HttpRequest) -> HttpResponse:
    """/me/: a signed-in resident reports a matter from their place and follows their reports."""
    user = cast(User, request.user)
    places: list[Area] = list(policy.resident_report_areas_for(user).order_by("path"))
    reports = policy.own_reports_for(user).select_related("area").order_by("-reported_at")
    context = {"places": places, "reports": list(reports[:OWN_REPORTS_SHOWN])}
    return render(request, "web/setup/my_reports.html", context)
