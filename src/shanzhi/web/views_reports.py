"""工作总结: pick an area, a period and a format; read the report here (html) or download it."""

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from shanzhi import clock, policy
from shanzhi.analytics.periods import HELP
from shanzhi.errors import DomainError
from shanzhi.jobs.models import JobKind, JobStatus
from shanzhi.jobs.services import job_start
from shanzhi.reports.compose import REPORT_LEVELS, report_area, report_compose, report_period
from shanzhi.reports.writers import CONTENT_TYPES, FORMATS, HTML

from .forms_cases import AreaChoiceField
from .views_cases import signed_in, staff_page


class ReportForm(forms.Form):
    area = forms.CharField(label="辖区")
    period = forms.CharField(label="期间", max_length=40, help_text=HELP)
    format = forms.ChoiceField(label="格式", choices=list(FORMATS.items()), initial=HTML)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["area"] = AreaChoiceField(
            policy.areas_visible_to(user).filter(level__in=REPORT_LEVELS),
            label="辖区",
            empty_label=None,
            error_messages={
                "invalid_choice": "没有找到该辖区,或您无权查看",
                "required": "请选择辖区",
            },
        )
        self.fields["period"].error_messages["required"] = "请填写期间"

    def clean_period(self) -> Any:
        try:
            return report_period(self.cleaned_data["period"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from None


@require_GET
@staff_page(policy.can_view_figures)
def reports(request: HttpRequest) -> HttpResponse:
    if not request.GET:
        last_year = str(clock.now().year - 1)
        form = ReportForm(user=request.user, initial={"period": last_year, "format": HTML})
        return render(request, "web/reports/page.html", {"form": form})
    form = ReportForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "web/reports/page.html", {"form": form}, status=400)
    try:
        area = report_area(viewer=request.user, code=form.cleaned_data["area"].code)
    except DomainError as error:
        form.add_error("area", error.message)
        return render(request, "web/reports/page.html", {"form": form}, status=400)
    kind = form.cleaned_data["format"]
    if kind == HTML:
        report = report_compose(viewer=request.user, area=area, period=form.cleaned_data["period"])
        return render(request, "web/reports/page.html", {"form": form, "report": report})
    # A file takes long to count and write: a job does it, and its page shows how far it is.
    job = job_start(
        kind=JobKind.REPORT,
        title=f"工作总结:{area.name} {form.data['period']}({FORMATS[kind]})",
        actor=signed_in(request),
        params={"area": area.code, "period": form.data["period"], "format": kind},
    )
    if job.status == JobStatus.DONE:  # no worker: done already, handed over as before
        response = HttpResponse(job.result.read(), content_type=CONTENT_TYPES[kind])
        disposition = content_disposition_header(as_attachment=True, filename=job.result_name)
        response.headers["Content-Disposition"] = disposition or "attachment"
        return response
    return redirect("job_detail", job_id=job.pk)
