"""A long job's page: its progress bar (htmx polls the region), then its result or why it failed."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from shanzhi import policy
from shanzhi.errors import NotFound
from shanzhi.jobs.models import Job
from shanzhi.jobs.selectors import demo_job_unfinished
from shanzhi.jobs.services import job_retry

from .views_cases import is_htmx


def _job_or_404(request: HttpRequest, job_id: int) -> Job:
    try:
        return policy.job_for(request.user, job_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    template = "web/jobs/_job.html" if is_htmx(request) else "web/jobs/detail.html"
    return render(request, template, {"job": job})


@login_required
@require_GET
def job_download(request: HttpRequest, job_id: int) -> HttpResponseBase:
    job = _job_or_404(request, job_id)
    if not job.result:
        raise Http404("该任务没有可下载的文件")
    return FileResponse(job.result.open("rb"), as_attachment=True, filename=job.result_name)


@login_required
@require_POST
def job_start_again(request: HttpRequest, job_id: int) -> HttpResponse:
    job_retry(job=_job_or_404(request, job_id))
    return redirect("job_detail", job_id=job_id)


@require_GET
def demo_banner(request: HttpRequest) -> HttpResponse:
    """The demo year's progress, polled by the banner at the top of every page."""
    return render(request, "web/jobs/_demo_banner.html", {"demo_job": demo_job_unfinished()})
