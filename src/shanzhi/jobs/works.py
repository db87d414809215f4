"""What each kind of job does: the same services the pages called inside the request before.

Each work gets its job (the parameters the page checked) and a `progress(percent, text)` to
report how far it is; it returns the file to download and a summary to show.
"""

import re
from io import BytesIO
from typing import Any

from django.http import QueryDict

from shanzhi.accounts.models import User
from shanzhi.areas.models import Area
from shanzhi.errors import DomainError

from .models import Job, JobKind
from .services import Outcome, Progress, job_kind

# The page lists this many of a file's errors; the command's --report gives them all.
SHOWN_ERRORS = 500
# The import's progress lines end in "done/total" (已写入居民 2000/50000 条).
FRACTION = re.compile(r"(\d+)/(\d+)")


def _actor(job: Job) -> User:
    if job.created_by is None or not job.created_by.is_active:
        raise DomainError("发起该任务的账号已停用,任务不能运行")
    return job.created_by


@job_kind(JobKind.REPORT)
def report_job(job: Job, progress: Progress) -> Outcome:
    from shanzhi.reports.compose import report_area, report_compose, report_period
    from shanzhi.reports.writers import report_write

    viewer = _actor(job)
    params = job.params
    progress(5, "正在核对辖区和期间")
    area = report_area(viewer=viewer, code=params["area"])
    period = report_period(params["period"])
    progress(10, "正在汇总各项数字")
    report = report_compose(viewer=viewer, area=area, period=period)
    progress(70, "正在生成文件")
    kind = params["format"]
    return Outcome(content=report_write(report, kind), filename=f"{report.filename_stem}.{kind}")


@job_kind(JobKind.REGISTRY_IMPORT, applies=True)
def import_job(job: Job, progress: Progress) -> Outcome:
    from django.conf import settings

    from shanzhi.registry.imports import registry_import

    actor = _actor(job)
    params = job.params
    street = Area.objects.get(pk=params["street"])

    def heard(text: str) -> None:
        match = FRACTION.search(text)
        share = int(match[1]) / max(int(match[2]), 1) if match else 0
        progress(5 + round(90 * share), text)

    progress(2, "正在读取文件")
    with job.upload.open("rb") as source:
        result = registry_import(
            actor=actor,
            kind=params["kind"],
            source=BytesIO(source.read()),
            street=street,
            dry_run=params["dry_run"],
            notify=heard,
            max_rows=settings.SHANZHI_WEB_IMPORT_MAX_ROWS,
        )
    shown = [
        {"row": e.row, "column": e.column, "reason": e.reason} for e in result.errors[:SHOWN_ERRORS]
    ]
    summary: dict[str, Any] = {
        "rows": result.rows,
        "applied": result.applied,
        "dry_run": params["dry_run"],
        "summary": result.summary(),
        "errors": shown,
        "error_count": len(result.errors),
        "hidden_errors": len(result.errors) - len(shown),
    }
    return Outcome(summary=summary)


@job_kind(JobKind.REGISTRY_EXPORT)
def export_job(job: Job, progress: Progress) -> Outcome:
    from shanzhi.registry.exports import export_filename, registry_export
    from shanzhi.registry.models import AccessVia

    # The list page's own form turns its query into filters, as it did in the request.
    from shanzhi.web.forms_registry import RecordFilterForm

    user = _actor(job)
    params = job.params
    form = RecordFilterForm(QueryDict(params["query"]), user=user, kind=params["kind"])
    if not form.is_valid():
        raise DomainError("筛选条件有误,请回到清单页重新筛选后再导出")
    progress(10, "正在导出")
    buffer = BytesIO()
    rows = registry_export(
        user=user,
        kind=params["kind"],
        target=buffer,
        filters=form.filters(),
        personal=params["personal"],
        reason=params["reason"],
        via=AccessVia.EXPORT,
    )
    return Outcome(
        content=buffer.getvalue(),
        filename=export_filename(params["kind"], personal=params["personal"]),
        summary={"rows": rows},
    )


@job_kind(JobKind.SWEEP)
def sweep_job(job: Job, progress: Progress) -> Outcome:
    from shanzhi.cases.services import sweep_run

    report = sweep_run()
    return Outcome(
        summary={
            "reminded": report.reminded,
            "supervised": report.supervised,
            "expired": report.expired,
            "months_closed": report.months_closed,
        }
    )
