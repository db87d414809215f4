"""Forms of the staff case pages: the list filters, the action panel, the dispatcher's intake.

They check what staff typed and answer in Chinese next to the field; the services and the
workflow engine check the rules again, and their refusals are shown the same way.
"""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from shanzhi import policy
from shanzhi.accounts.models import Unit, User
from shanzhi.analytics.breakdowns import DERIVED, figure_known, figure_name
from shanzhi.analytics.measures import KPIS, MEASURES
from shanzhi.analytics.periods import Period, PeriodError, period_parse
from shanzhi.analytics.selectors import Scope
from shanzhi.areas.models import Area, Level
from shanzhi.cases.engine import transition_for
from shanzhi.cases.flows import flow_choices, state_choices, states_of
from shanzhi.cases.flows.spec import Input, InputKind
from shanzhi.cases.inputs import input_options, input_resolve
from shanzhi.cases.models import (
    Case,
    CaseCategory,
    CaseType,
    Source,
)
from shanzhi.cases.selectors import CaseFilters
from shanzhi.cases.services import PHONE
from shanzhi.errors import DomainError

from .forms_public import PhotosField, new_client_key
from .place_picker import PlaceSearchWidget

# Deadlines are typed as the subdistrict's wall-clock time, whatever timezone is active.
SHANGHAI = ZoneInfo("Asia/Shanghai")
TEXT_MAX = 1000

# The list filter's state choice: one state, or every state still waiting for someone.
OPEN_CHOICE = "open"
DEADLINE_CHOICES = [("", "不限"), ("overdue", "超期"), ("due_soon", "临期")]
# Channels a dispatcher registers on a caller's behalf (the others report for themselves).
INTAKE_SOURCES = (Source.HOTLINE, Source.POLICE, Source.LEADER, Source.PETITION, Source.ENTERPRISE)


def _indented(area: Area) -> str:
    # Street nodes sit at depth 3 (city, district, street); indent what lies below.
    return "\u3000" * max(area.depth - 3, 0) + area.name


class AreaChoiceField(forms.ModelChoiceField):
    """Areas by code, shown as an indented tree."""

    def __init__(self, queryset: QuerySet[Area], **kwargs: Any) -> None:
        super().__init__(queryset=queryset.order_by("path"), to_field_name="code", **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return _indented(obj)


class ShanghaiDateTimeField(forms.DateTimeField):
    """A datetime-local input read as Asia/Shanghai time."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(SHANGHAI):
            return super().to_python(value)


def _clean_phone(value: str) -> str:
    phone = value.strip().replace(" ", "")
    if phone and not PHONE.match(phone):
        raise forms.ValidationError("联系电话格式不正确,请填写11位手机号或带区号的固定电话")
    return phone


def _start_of(day: Any) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


# The case list's filters -------------------------------------------------------------------------


class CaseFilterForm(forms.Form):
    """The GET form above /cases/. Each valid field narrows the list; a bad one is named."""

    q = forms.CharField(label="关键词", required=False, max_length=100)
    state = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("", "全部状态"), (OPEN_CHOICE, "未办结"), *state_choices()],
        error_messages={"invalid_choice": "请从列表中选择状态"},
    )
    flow = forms.ChoiceField(
        label="流程",
        required=False,
        choices=[("", "全部流程"), *flow_choices()],
        error_messages={"invalid_choice": "请从列表中选择流程"},
    )
    deadline = forms.ChoiceField(
        label="时限",
        required=False,
        choices=DEADLINE_CHOICES,
        error_messages={"invalid_choice": "请从列表中选择时限状态"},
    )
    source = forms.ChoiceField(
        label="来源",
        required=False,
        choices=[("", "全部来源"), *Source.choices],
        error_messages={"invalid_choice": "请从列表中选择来源"},
    )
    reported_from = forms.DateField(
        label="上报日期自",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "日期格式不正确"},
    )
    reported_to = forms.DateField(
        label="至",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "日期格式不正确"},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        streets = policy.streets_visible_to(user)
        # Microgrids are too many for a select; their grid's subtree covers them. One named in
        # the query (a figure's click-through below a grid) is offered too.
        areas = policy.areas_visible_to(user)
        chosen = str(self.data.get("area") or "") if self.is_bound else ""
        self.fields["area"] = AreaChoiceField(
            areas.filter(~Q(level=Level.MICROGRID) | Q(code=chosen)),
            label="辖区(含下级)",
            required=False,
            empty_label="全部辖区",
            error_messages={"invalid_choice": "没有找到该辖区,或您无权查看"},
        )
        self.fields["category"] = forms.ModelChoiceField(
            label="类别",
            queryset=CaseCategory.objects.filter(street__in=streets).select_related("parent"),
            required=False,
            empty_label="全部类别",
            error_messages={"invalid_choice": "请从列表中选择类别"},
        )
        self.fields["case_type"] = forms.ModelChoiceField(
            label="事项类型",
            queryset=CaseType.objects.filter(street__in=streets).order_by("code"),
            required=False,
            empty_label="全部事项",
            error_messages={"invalid_choice": "请从列表中选择事项类型"},
        )
        self.fields["unit"] = forms.ModelChoiceField(
            label="承办单位",
            queryset=policy.units_visible_to(user).filter(is_active=True),
            required=False,
            empty_label="全部单位",
            error_messages={"invalid_choice": "请从列表中选择承办单位"},
        )

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        start, end = data.get("reported_from"), data.get("reported_to")
        if start and end and start > end:
            self.add_error("reported_to", "结束日期不能早于开始日期")
            data.pop("reported_to", None)
        return data

    def filters(self) -> CaseFilters:
        """The filters of the fields that passed; call after `is_valid()`."""
        data = self.cleaned_data
        state = data.get("state") or ""
        states: tuple[str, ...] = ()
        if state == OPEN_CHOICE:
            states = tuple(sorted(states_of("open")))
        elif state:
            states = (state,)
        start, end = data.get("reported_from"), data.get("reported_to")
        return CaseFilters(
            states=states,
            flow=data.get("flow") or "",
            area=data.get("area"),
            case_type_id=data["case_type"].pk if data.get("case_type") else None,
            category_id=data["category"].pk if data.get("category") else None,
            source=data.get("source") or "",
            unit_id=data["unit"].pk if data.get("unit") else None,
            deadline=data.get("deadline") or "",
            query=(data.get("q") or "").strip(),
            reported_from=_start_of(start) if start else None,
            # The end date counts whole: up to the start of the day after it.
            reported_to=_start_of(end + timedelta(days=1)) if end else None,
        )


# A figure's click-through -------------------------------------------------------------------------


class FigureForm(forms.Form):
    """kpi / part / period of a link from a figure (dashboard, report) to the cases it counts.
    The place, category, unit, type and channel come from the case filters, as the figure's
    scope."""

    kpi = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    part = forms.ChoiceField(
        required=False,
        choices=[("", ""), ("numerator", "分子"), ("denominator", "分母")],
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "指标链接的 part 只能是 numerator 或 denominator"},
    )
    period = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    @property
    def wanted(self) -> bool:
        return bool(self.data.get("kpi"))

    def clean_kpi(self) -> str:
        key = self.cleaned_data.get("kpi") or ""
        if key and key not in KPIS and key not in MEASURES and key not in DERIVED:
            raise forms.ValidationError(f"没有名为“{key}”的指标")
        if key and not figure_known(key):
            raise forms.ValidationError(f"“{figure_name(key)}”统计的不是事件,没有对应的事件列表")
        return key

    def clean_period(self) -> Period | None:
        text = self.cleaned_data.get("period") or ""
        if not self.data.get("kpi"):
            return None
        if not text:
            raise forms.ValidationError("指标链接缺少期间")
        try:
            return period_parse(text)
        except PeriodError as exc:
            raise forms.ValidationError(exc.message) from exc

    def scope(self, filters: "CaseFilterForm") -> Scope:
        data = filters.cleaned_data
        return Scope(
            area=data.get("area"),
            unit=data.get("unit"),
            case_type=data.get("case_type"),
            category=data.get("category"),
            source=data.get("source") or "",
        )

    def error_text(self) -> str:
        return ";".join(str(e) for errors in self.errors.values() for e in errors)


# The action panel ------------------------------------------------------------------------------


def _messages(label: str, max_length: int = TEXT_MAX) -> dict[str, str]:
    return {
        "required": f"请填写{label}",
        "max_length": f"{label}不能超过{max_length}字",
        "invalid_choice": f"请从列表中选择{label}",
        "invalid": f"{label}格式不正确",
        "min_value": f"{label}不能小于%(limit_value)s",
        "max_value": f"{label}不能大于%(limit_value)s",
    }


class ReferenceField(forms.Field):
    """A unit, type, place, case or registry record, picked or typed, and resolved through the
    same lookup the API uses (shanzhi.cases.inputs)."""

    def __init__(self, *, spec: Input, user: User, case: Case, **kwargs: Any) -> None:
        self.spec, self.user, self.case = spec, user, case
        options = input_options(spec, user=user, case=case)
        if options is not None:
            kwargs["widget"] = (
                # A street has thousands of places: they are searched, not listed.
                PlaceSearchWidget(purpose="case", case_number=case.number)
                if spec.kind == InputKind.AREA
                else forms.Select(choices=[("", "请选择")] + [(r.pk, str(r)) for r in options])
            )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            return input_resolve(self.spec, value, user=self.user, case=self.case)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


def _input_field(spec: Input, *, user: User, case: Case) -> forms.Field:
    """The form field of one declared input."""
    label = spec.label if spec.required else f"{spec.label}(可不填)"
    common: dict[str, Any] = {
        "label": label,
        "required": spec.required,
        "help_text": spec.help,
        "error_messages": _messages(spec.label, spec.max_length),
    }
    kind = spec.kind
    if kind == InputKind.TEXT:
        return forms.CharField(max_length=spec.max_length, **common)
    if kind in (InputKind.LONGTEXT, InputKind.LINES):
        if kind == InputKind.LINES:
            common["help_text"] = "每行一项" + (f";{spec.help}" if spec.help else "")
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), **common)
    if kind == InputKind.CHOICE:
        choices = list(spec.choices)
        if len(choices) <= 3:
            return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
        return forms.ChoiceField(choices=[("", "请选择"), *choices], **common)
    if kind == InputKind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == InputKind.DATETIME:
        return ShanghaiDateTimeField(**common)
    if kind == InputKind.NUMBER:
        return forms.DecimalField(
            min_value=spec.minimum, max_value=spec.maximum, decimal_places=2, **common
        )
    if kind == InputKind.PHOTOS:
        return PhotosField(required=spec.required, label=label)
    if kind in (InputKind.CASE, InputKind.RECORD):
        return ReferenceField(spec=spec, user=user, case=case, **common)
    return ReferenceField(spec=spec, user=user, case=case, **common)


class ActionForm(forms.Form):
    """The inputs one transition declares, on one case, with the case version it was shown at."""

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": "页面已过期,请刷新后重试",
            "invalid": "页面已过期,请刷新后重试",
        },
    )

    def __init__(
        self,
        *args: Any,
        action: str,
        case: Case,
        user: User,
        suggested_type: CaseType | None = None,
        suggested_unit: Unit | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", action)
        kwargs.setdefault("label_suffix", "")
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("version", case.version)
        super().__init__(*args, **kwargs)
        self.action, self.case, self.user = action, case, user
        _, self.transition = transition_for(case, action)
        for spec in self.transition.inputs:
            self.fields[spec.name] = _input_field(spec, user=user, case=case)
            self.fields[spec.name].initial = self._initial(
                spec, suggested_type=suggested_type, suggested_unit=suggested_unit
            )

    def _initial(
        self, spec: Input, *, suggested_type: CaseType | None, suggested_unit: Unit | None
    ) -> Any:
        if spec.kind == InputKind.CASE_TYPE and suggested_type is not None:
            return self.case.case_type_id or suggested_type.pk
        if spec.kind == InputKind.UNIT and suggested_unit is not None and not self.case.unit_id:
            return suggested_unit.pk
        value = spec.initial(self.case) if spec.initial is not None else None
        if value is None and spec.keep:
            value = self.case.extra.get(spec.name)
        if spec.kind == InputKind.LINES and isinstance(value, list):
            value = "\n".join(str(line) for line in value)
        return value

    def inputs(self) -> dict[str, Any]:
        """The cleaned inputs without the version and photos; call after `is_valid()`."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "version"
            and name in self.fields
            and not isinstance(self.fields[name], PhotosField)
        }

    def photos(self) -> list[Any]:
        spec = self.transition.photo_input
        return list(self.cleaned_data.get(spec.name) or []) if spec is not None else []


# The dispatcher's intake (代为登记) --------------------------------------------------------------


class IntakeForm(forms.Form):
    """A caller's matter registered by a dispatcher: hotline, 110 referral, leader, petition..."""

    source = forms.ChoiceField(
        label="来源渠道",
        choices=[(s.value, s.label) for s in INTAKE_SOURCES],
        error_messages={"required": "请选择来源渠道", "invalid_choice": "请从列表中选择来源渠道"},
    )
    description = forms.CharField(
        label="诉求内容",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "请填写诉求内容", "max_length": "诉求内容不能超过2000字"},
    )
    address = forms.CharField(
        label="具体地址(可不填)",
        required=False,
        max_length=200,
        error_messages={"max_length": "地址不能超过200字"},
    )
    reporter_name = forms.CharField(
        label="来电人姓名(可不填)",
        required=False,
        max_length=50,
        error_messages={"max_length": "姓名不能超过50个字"},
    )
    reporter_phone = forms.CharField(
        label="来电人电话(可不填)",
        required=False,
        max_length=20,
        error_messages={"max_length": "联系电话格式不正确"},
    )
    client_key = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={"required": "页面已过期,请刷新后重新提交"},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("client_key", new_client_key())
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        areas = policy.intake_areas_for(user)
        self.fields["area"] = AreaChoiceField(
            areas,
            label="发生地",
            widget=PlaceSearchWidget(purpose="intake"),
            error_messages={
                "required": "请选择发生地",
                "invalid_choice": "只能选择您受理范围内的地点",
            },
        )
        self.fields["case_type"] = forms.ModelChoiceField(
            label="事项类型(可不选,受理时确定)",
            queryset=CaseType.objects.filter(
                street_id__in=areas.values("street_id"), is_active=True
            ).order_by("code"),
            required=False,
            empty_label="暂不确定",
            error_messages={"invalid_choice": "请从列表中选择事项类型"},
        )
        self.order_fields(["source", "area", "description", "case_type", "address"])

    def clean_reporter_phone(self) -> str:
        return _clean_phone(str(self.cleaned_data["reporter_phone"]))

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        area, case_type = data.get("area"), data.get("case_type")
        if area is not None and case_type is not None and case_type.street_id != area.street_id:
            self.add_error("case_type", "该事项类型不属于发生地所在街道")
        return data
