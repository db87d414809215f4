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
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from shanzhi import policy
from shanzhi.areas.models import Area
from shanzhi.errors import DomainError, PermissionDenied
from shanzhi.registry.exports import (
    EXPORTS,
    export_filename,
    export_kind,
    personal_export_area,
    registry_export,
)
from shanzhi.registry.imports import (
    SPECS,
    import_streets_for,
    template_name,
    template_write,
)
from shanzhi.registry.imports import (
    registry_import as import_file,
)
from shanzhi.registry.models import AccessVia
from shanzhi.registry.selectors import RecordFilters

from .forms_cases import AreaChoiceField
from .forms_registry import RecordFilterForm
from .views_cases import signed_in, staff_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The page lists this many errors; the command's --report gives them all.
SHOWN_ERRORS = 500


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
        # The import runs inside the request: what cannot finish in it is refused at once.
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
        try:
            result = import_file(
                actor=user,
                kind=form.cleaned_data["kind"],
                source=form.cleaned_data["file"],
                street=form.cleaned_data["street"],
                dry_run=dry_run,
                max_rows=settings.SHANZHI_WEB_IMPORT_MAX_ROWS,
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
    context = {
        "form": form,
        "kinds": [(kind, spec.title) for kind, spec in SPECS.items()],
        "result": result,
        "dry_run": dry_run,
        "errors": result.errors[:SHOWN_ERRORS] if result else [],
        "hidden_errors": max(0, len(result.errors) - SHOWN_ERRORS) if result else 0,
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
    buffer = BytesIO()
    try:
        registry_export(
            user=user,
            kind=kind,
            target=buffer,
            filters=filters,
            personal=personal,
            reason=reason,
            via=AccessVia.EXPORT,
        )
    except PermissionDenied as exc:
        context["message"] = exc.message
        return render(request, "web/registry_io/export.html", context, status=403)
    except DomainError as exc:
        context |= {"message": exc.message, "reason": reason}
        return render(request, "web/registry_io/export.html", context, status=400)
    buffer.seek(0)
    return FileResponse(
        buffer,
        as_attachment=True,
        filename=export_filename(kind, personal=personal),
        content_type=XLSX,
    )
