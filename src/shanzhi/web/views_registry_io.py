"""Registry import and export pages: upload a spreadsheet to check (仅校验) or import, download a
kind's template, and export a list as its list page filters it.

Views turn requests into calls of `registry.imports` and `registry.exports`, which check scope
and rules themselves; their refusals come back in Chinese on the page.
"""

from io import BytesIO
from typing import Any

from django import forms
from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from shanzhi import policy
from shanzhi.areas.models import Area
from shanzhi.errors import DomainError, PermissionDenied
from shanzhi.jobs.models import JobKind, JobStatus
from shanzhi.jobs.services import job_start
from shanzhi.registry.exports import (
    EXPORTS,
    export_kind,
    personal_export_area,
)
from shanzhi.registry.imports import SPECS, import_streets_for, template_name, template_write
from shanzhi.registry.selectors import RecordFilters

from .forms_cases import AreaChoiceField
from .forms_registry import RecordFilterForm
from .views_cases import signed_in, staff_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label="导入内容", choices=[(kind, spec.title) for kind, spec in SPECS.items()]
    )
    file = forms.FileField(
        label="Excel 文件(.xlsx)",
        error_messages={"required": "请选择要上传的文件", "empty": "上传的文件是空的"},
    )

    def __init__(self, *args: Any, streets: list[Area], **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["street"] = AreaChoiceField(
            Area.objects.filter(pk__in=[street.pk for street in streets]),
            label="导入到街道",
            empty_label=None,
            error_messages={"invalid_choice": "您无权向该街道导入"},
        )
        self.order_fields(["kind", "street", "file"])

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError("请上传 .xlsx 格式的 Excel 文件(可先下载模板)")
        # A file this big would hold a worker (and, on SQLite, every writer) too long.
        limit = settings.SHANZHI_WEB_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"文件不能超过{limit / (1024 * 1024):g}MB:请拆分成几个文件分批导入,"
                "或请系统管理员用命令行 shanzhi import 导入"
            )
        return upload


@staff_page(allowed=policy.can_import_somewhere)
@require_http_methods(["GET", "POST"])
def registry_import(request: HttpRequest) -> HttpResponse:
    """Pick a kind, upload, and either only check (仅校验) or import; the result below."""
    user = signed_in(request)
    streets = import_streets_for(user)
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        streets=streets,
        initial={"kind": request.GET.get("kind", ""), "street": streets[0].code},
    )
    result = None
    dry_run = request.POST.get("mode") != "apply"
    if request.method == "POST" and form.is_valid():
        # A job reads, checks and writes the file; its page shows how far it is.
        upload = form.cleaned_data["file"]
        kind = form.cleaned_data["kind"]
        job = job_start(
            kind=JobKind.REGISTRY_IMPORT,
            title=f"{'校验' if dry_run else '导入'}{SPECS[kind].title}:{upload.name}",
            actor=user,
            params={"kind": kind, "street": form.cleaned_data["street"].pk, "dry_run": dry_run},
            upload=(upload.name, upload.read()),
        )
        if job.status == JobStatus.FAILED:
            form.add_error("file", job.error)
        elif job.status == JobStatus.DONE:  # no worker: done already, shown here as before
            result = job.summary
        else:
            return redirect("job_detail", job_id=job.pk)
    context = {
        "form": form,
        "kinds": [(kind, spec.title) for kind, spec in SPECS.items()],
        "result": result,
        "one_street": len(streets) == 1,
    }
    # A file refused whole (too big, unreadable, too long) is bad input; a report of bad rows is
    # the answer asked for.
    status = 400 if form.errors else 200
    return render(request, "web/registry_io/import.html", context, status=status)


@staff_page(allowed=policy.can_import_somewhere)
@require_GET
def registry_import_template(request: HttpRequest, kind: str) -> HttpResponseBase:
    if kind not in SPECS:
        raise Http404("没有这类导入模板")
    buffer = BytesIO()
    template_write(kind, buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=template_name(kind), content_type=XLSX)


def export_context(request: HttpRequest, kind: str, filters: RecordFilters) -> dict[str, Any]:
    """What a list page needs for its export links (web/registry_io/_export_links.html)."""
    user = signed_in(request)
    try:
        allowed = policy.can_export_personal(user, personal_export_area(user, filters))
    except DomainError:
        allowed = False
    return {
        "export_kind": kind,
        "export_query": request.GET.urlencode(),
        "can_export_personal": allowed,
    }


@staff_page(allowed=policy.can_use_registry)
@require_http_methods(["GET", "POST"])
def registry_export_view(request: HttpRequest, kind: str) -> HttpResponseBase:
    """The list of `kind` as the list page's GET parameters filter it, as xlsx: masked by GET,
    in the clear by POST with personal=1 and a reason, for those granted it (logged)."""
    user = signed_in(request)
    try:
        kind = export_kind(kind)
    except DomainError as exc:
        raise Http404(exc.message) from exc
    form = RecordFilterForm(request.GET, user=user, kind=kind)
    context: dict[str, Any] = {"title": EXPORTS[kind].title, "reason": ""}
    if not form.is_valid():
        context["message"] = "筛选条件有误,请回到清单页重新筛选后再导出"
        return render(request, "web/registry_io/export.html", context, status=400)
    filters = form.filters()
    context |= export_context(request, kind, filters)
    personal = request.method == "POST" and request.POST.get("personal") == "1"
    reason = request.POST.get("reason", "").strip()
    # A long list takes long to write: a job does it, and its page shows how far it is.
    job = job_start(
        kind=JobKind.REGISTRY_EXPORT,
        title=f"导出{EXPORTS[kind].title}清单{'(含个人信息)' if personal else ''}",
        actor=user,
        params={
            "kind": kind,
            "query": request.GET.urlencode(),
            "personal": personal,
            "reason": reason,
        },
    )
    if job.status == JobStatus.FAILED:
        refused = job.summary.get("code") == PermissionDenied.code
        context |= {"message": job.error, "reason": "" if refused else reason}
        status = 403 if refused else 400
        return render(request, "web/registry_io/export.html", context, status=status)
    if job.status != JobStatus.DONE:
        return redirect("job_detail", job_id=job.pk)
    # No worker: done already, handed over as before.
    return FileResponse(
        job.result.open("rb"), as_attachment=True, filename=job.result_name, content_type=XLSX
    )
