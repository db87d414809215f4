"""Figures pages: 比拼晾晒 (rankings with red and black lists, and their xlsx) and 历史基数
(baselines entered by page or spreadsheet, corrected or withdrawn with their history kept).

Views read forms and call `analytics.rankings`, `analytics.services` and `analytics.baseline_io`,
which check scope and rules; their refusals come back in Chinese on the page.
"""

from decimal import Decimal
from io import BytesIO
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shanzhi import clock, policy
from shanzhi.accounts.models import User
from shanzhi.analytics import baseline_io
from shanzhi.analytics.breakdowns import baseline_matter_text
from shanzhi.analytics.measures import KPIS
from shanzhi.analytics.models import Baseline, RankingRule, RankLevel
from shanzhi.analytics.periods import HELP, Period, period_parse
from shanzhi.analytics.rankings import (
    DEFAULT_LIST_SIZE,
    SCORING_RULE,
    RankRow,
    black_list,
    criteria_of,
    ranking_compute,
    ranking_workbook_write,
    red_list,
    rules_for,
)
from shanzhi.analytics.selectors import default_year
from shanzhi.analytics.services import baseline_correct, baseline_enter, baseline_withdraw
from shanzhi.areas.models import Level
from shanzhi.cases.models import CaseCategory, CaseType, Source
from shanzhi.errors import DomainError

from .forms_cases import AreaChoiceField
from .views_cases import is_htmx, signed_in, staff_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 5 * 1024 * 1024
# Areas a ranking or a baseline is for: a street and what lies between it and its grids.
RANKING_AREA_LEVELS = (Level.CITY, Level.DISTRICT, Level.STREET, Level.ZONE, Level.COMMUNITY)
BASELINES_SHOWN = 300
HISTORY_SHOWN = 100


class PeriodField(forms.CharField):
    """A period written as `period_parse` reads it (2025, 2025H1, 2025-03…), as a Period."""

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        if not text:
            return None
        try:
            return period_parse(text)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


# Rankings ------------------------------------------------------------------------------------


class RankingForm(forms.Form):
    level = forms.ChoiceField(label="排名对象", choices=RankLevel.choices)
    period = PeriodField(label="期间", max_length=40, help_text=HELP)
    size = forms.IntegerField(
        label="红黑榜各列",
        min_value=1,
        max_value=50,
        error_messages={
            "min_value": "至少列1名",
            "max_value": "最多列50名",
            "invalid": "请填写整数",
        },
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["area"] = AreaChoiceField(
            policy.areas_visible_to(user).filter(level__in=RANKING_AREA_LEVELS),
            label="辖区",
            empty_label=None,
            error_messages={"invalid_choice": "没有找到该辖区,或您无权查看"},
        )
        self.fields["rule"] = forms.ModelChoiceField(
            rules_for(user).select_related("street"),
            label="排名规则",
            required=False,
            empty_label="默认规则",
            error_messages={"invalid_choice": "请从列表中选择排名规则"},
        )
        self.order_fields(["level", "area", "period", "rule", "size"])

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        level, rule = data.get("level"), data.get("rule")
        if level and rule is not None and rule.level != level:
            self.add_error("rule", f"该规则用于给{RankLevel(rule.level).label}排名,与排名对象不符")
        elif level and rule is None:
            data["rule"] = rules_for(self.user, level).first()
            if data["rule"] is None:
                self.add_error("rule", "该排名对象还没有启用的排名规则,请管理员在管理后台设置")
        return data


def _ranking_form(request: HttpRequest) -> RankingForm:
    user = signed_in(request)
    roots = policy.scope_roots(user)
    initial = {
        "level": RankLevel.GRID,
        "period": default_year(viewer=user).code,
        "size": DEFAULT_LIST_SIZE,
        "area": roots[0].code if roots else "",
    }
    return RankingForm({**initial, **request.GET.dict()}, user=user)


def _ranking(request: HttpRequest, form: RankingForm) -> tuple[list[RankRow], str]:
    if not form.is_valid():
        return [], ""
    data = form.cleaned_data
    try:
        rows = ranking_compute(
            viewer=signed_in(request), rule=data["rule"], area=data["area"], period=data["period"]
        )
    except DomainError as exc:
        return [], exc.message
    return rows, ""


@staff_page(allowed=policy.can_view_figures)
@require_GET
def rankings(request: HttpRequest) -> HttpResponse:
    """Pick level, area, period and rule; the ranked table with each KPI, red and black lists."""
    form = _ranking_form(request)
    rows, problem = _ranking(request, form)
    data = form.cleaned_data if form.is_valid() else {}
    rule: RankingRule | None = data.get("rule")
    size = data.get("size") or DEFAULT_LIST_SIZE
    context = {
        "form": form,
        "rows": rows,
        "problem": problem,
        "rule": rule,
        "columns": [{"weight": w, "kpi": KPIS[w.kpi]} for w in rule.weights.all()]
        if rule is not None
        else [],
        "period": data.get("period"),
        "area": data.get("area"),
        "criteria": criteria_of(rows),
        "scoring_rule": SCORING_RULE,
        "red": red_list(rows, size),
        "black": black_list(rows, size),
        "size": size,
        "query": request.GET.urlencode(),
    }
    template = "web/figures/_ranking.html" if is_htmx(request) else "web/figures/rankings.html"
    typed = ("level", "area", "period", "size")
    status = 400 if problem or any(name in form.errors for name in typed) else 200
    return render(request, template, context, status=status)


@staff_page(allowed=policy.can_view_figures)
@require_GET
def rankings_export(request: HttpRequest) -> HttpResponseBase:
    """The ranking the page shows, as xlsx."""
    form = _ranking_form(request)
    rows, problem = _ranking(request, form)
    if not form.is_valid() or problem:
        context = {"form": form, "problem": problem or "筛选条件有误,请回到排名页重新选择后再导出"}
        return render(request, "web/figures/rankings.html", context, status=400)
    data = form.cleaned_data
    buffer = BytesIO()
    ranking_workbook_write(
        rows,
        rule=data["rule"],
        area=data["area"],
        period=data["period"],
        size=data["size"],
        target=buffer,
    )
    buffer.seek(0)
    period: Period = data["period"]
    name = f"比拼晾晒_{data['area'].name}_{period.label}_{RankLevel(data['rule'].level).label}.xlsx"
    return FileResponse(buffer, as_attachment=True, filename=name, content_type=XLSX)


# Baselines -----------------------------------------------------------------------------------


def _entry_areas(user: User) -> Any:
    return policy.areas_visible_to(user).exclude(level=Level.MICROGRID)


class BaselineForm(forms.Form):
    kpi = forms.ChoiceField(
        label="指标", choices=[(k.key, f"{k.name}({k.unit})") for k in KPIS.values()]
    )
    period = PeriodField(label="期间", max_length=40, help_text=HELP)
    value = forms.CharField(label="数值", max_length=30, help_text="百分比指标填百分数本身,如 99.2")
    source = forms.ChoiceField(
        label="来源渠道", choices=[("", "全部渠道"), *Source.choices], required=False
    )
    note = forms.CharField(label="来源说明", max_length=200, help_text="如“2024年工作总结”")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["area"] = AreaChoiceField(
            _entry_areas(user),
            label="辖区",
            empty_label=None,
            error_messages={"invalid_choice": "没有找到该辖区,或您无权录入"},
        )
        streets = policy.streets_visible_to(user)
        self.fields["category"] = forms.ModelChoiceField(
            CaseCategory.objects.filter(street__in=streets, parent__isnull=True).order_by(
                "street__code", "name"
            ),
            label="事项类别",
            required=False,
            empty_label="全部类别",
            error_messages={"invalid_choice": "没有找到该类别"},
        )
        self.fields["case_type"] = forms.ModelChoiceField(
            CaseType.objects.filter(street__in=streets).order_by("street__code", "code"),
            label="事项",
            required=False,
            empty_label="全部事项",
            error_messages={"invalid_choice": "没有找到该事项"},
        )
        self.order_fields(
            ["area", "kpi", "period", "value", "source", "category", "case_type", "note"]
        )
        for field in self.fields.values():
            field.error_messages["required"] = f"请填写{field.label}"


class CorrectForm(forms.Form):
    value = forms.CharField(label="更正后数值", max_length=30)
    note = forms.CharField(label="来源说明", max_length=200)
    reason = forms.CharField(label="更正理由", max_length=200)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Excel 文件(.xlsx)",
        error_messages={"required": "请选择要上传的文件", "empty": "上传的文件是空的"},
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError("请上传 .xlsx 格式的 Excel 文件(可先下载模板)")
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError("文件不能超过5MB")
        return upload


def plain(value: Decimal) -> str:
    """An entered value as typed: 2322, 99.2 (not 2322.0000 or 2.322E+3)."""
    return f"{value.normalize():f}"


def _baselines_page(
    request: HttpRequest,
    *,
    form: BaselineForm | None = None,
    upload: UploadForm | None = None,
    result: Any = None,
    status: int = 200,
) -> HttpResponse:
    user = signed_in(request)
    roots = policy.scope_roots(user)
    entered = list(baseline_io.baseline_list(user)[:BASELINES_SHOWN])
    context = {
        "form": form
        or BaselineForm(
            user=user,
            initial={"area": roots[0].code if roots else "", "period": str(clock.now().year - 1)},
        ),
        "upload": upload or UploadForm(),
        "result": result,
        "rows": [
            {
                "baseline": b,
                "kpi": KPIS.get(b.key),
                "period": Period(b.period_start, b.period_end, b.period_kind),
                "may_edit": policy.can_enter_baseline(user, b.area),
                "value_text": plain(b.value),
                "matter": baseline_matter_text(b),
            }
            for b in entered
        ],
        "history": [
            {
                "change": h,
                "kpi": KPIS.get(h.key),
                "value_text": plain(h.value),
                "new_value_text": plain(h.new_value) if h.new_value is not None else "—",
            }
            for h in baseline_io.baseline_history(user)[:HISTORY_SHOWN]
        ],
    }
    return render(request, "web/figures/baselines.html", context, status=status)


@staff_page(allowed=policy.can_view_figures)
@require_http_methods(["GET", "POST"])
def baselines(request: HttpRequest) -> HttpResponse:
    """The entered figures in scope (录入数), a form to enter one, and the spreadsheet import."""
    if request.method != "POST":
        return _baselines_page(request)
    user = signed_in(request)
    form = BaselineForm(request.POST, user=user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            baseline = baseline_enter(
                actor=user,
                area=data["area"],
                kpi=data["kpi"],
                period=data["period"],
                value=data["value"],
                note=data["note"],
                source=data["source"],
                category=data["category"],
                case_type=data["case_type"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"已录入{baseline.area.name}{data['period'].label}"
                f"{baseline_matter_text(baseline)}的"
                f"“{KPIS[baseline.key].name}”:{plain(baseline.value)}(录入数)",
            )
            return redirect("baselines")
    return _baselines_page(request, form=form, status=400)


def _baseline_or_404(request: HttpRequest, pk: int) -> Baseline:
    found = baseline_io.baseline_list(signed_in(request)).filter(pk=pk).first()
    if found is None:
        raise Http404("没有找到该历史基数,或它已被撤回")
    return found


@staff_page(allowed=policy.can_view_figures)
@require_POST
def baseline_correct_view(request: HttpRequest, pk: int) -> HttpResponse:
    baseline = _baseline_or_404(request, pk)
    form = CorrectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "更正时请填写数值、来源说明和理由")
        return redirect("baselines")
    try:
        baseline_correct(actor=signed_in(request), baseline=baseline, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已更正;原数值保留在变更记录中")
    return redirect("baselines")


@staff_page(allowed=policy.can_view_figures)
@require_POST
def baseline_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    baseline = _baseline_or_404(request, pk)
    try:
        baseline_withdraw(
            actor=signed_in(request), baseline=baseline, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已撤回;该数值保留在变更记录中,同比不再使用它")
    return redirect("baselines")


@staff_page(allowed=policy.can_view_figures)
@require_GET
def baseline_template(request: HttpRequest) -> HttpResponseBase:
    buffer = BytesIO()
    baseline_io.template_write(buffer)
    buffer.seek(0)
    return FileResponse(
        buffer, as_attachment=True, filename=baseline_io.TEMPLATE_NAME, content_type=XLSX
    )


@staff_page(allowed=policy.can_view_figures)
@require_POST
def baseline_import(request: HttpRequest) -> HttpResponse:
    """Upload a filled template: every row entered, or none and the list of bad rows."""
    upload = UploadForm(request.POST, request.FILES)
    if not upload.is_valid():
        return _baselines_page(request, upload=upload, status=400)
    try:
        result = baseline_io.baseline_import(
            actor=signed_in(request), source=upload.cleaned_data["file"]
        )
    except DomainError as exc:
        upload.add_error("file", exc.message)
        return _baselines_page(request, upload=upload, status=400)
    return _baselines_page(request, result=result, status=200 if result.ok else 400)
