"""Forms of the registry pages (人房企事物): list filters, record forms, unmasking, the access log,
verification tasks and linking a case to a record.

They check what staff typed and answer in Chinese next to the field; the registry services check
the rules again (scope, versions, uniqueness), and their refusals are shown the same way.
"""

from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar, cast

from django import forms
from django.db.models import QuerySet

from shanzhi import policy
from shanzhi.accounts.models import User
from shanzhi.areas.models import Area, Level
from shanzhi.cases.models import Case
from shanzhi.errors import DomainError
from shanzhi.registry import services
from shanzhi.registry.models import (
    AccessField,
    Building,
    Enterprise,
    EnterpriseScale,
    Facility,
    FacilityKind,
    House,
    HouseholdType,
    HouseUse,
    Library,
    Person,
    RecordKind,
    Tag,
)
from shanzhi.registry.selectors import RecordFilters, record_find
from shanzhi.registry.validators import credit_code_check, phone_check, resident_id_check

from .forms_cases import SHANGHAI, AreaChoiceField
from .place_picker import PlaceSearchWidget

KIND_LABELS = {
    "person": "居民",
    "house": "房屋",
    "building": "楼栋",
    "enterprise": "企业",
    "facility": "设施",
}
# Each kind's own filters, besides the area and the search text every list has.
KIND_FILTERS: dict[str, tuple[str, ...]] = {
    "person": ("tag", "household_type"),
    "house": ("use",),
    "building": (),
    "enterprise": ("scale", "library"),
    "facility": ("facility_kind",),
}
SEARCH_HINTS = {
    "person": "姓名,或完整身份证号/手机号",
    "house": "地址",
    "building": "地址、小区或楼栋",
    "enterprise": "名称、地址、信用代码或完整电话",
    "facility": "名称、编号或位置",
}


def _choices(empty: str, choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", empty), *choices]


def _domain_check(check: Any, value: str) -> Any:
    """Run a validator of the registry and turn its refusal into the field's error."""
    try:
        return check(value)
    except DomainError as exc:
        raise forms.ValidationError(exc.message) from exc


def any_scope_area(user: Any) -> Area:
    """Where to judge what a user may see when no area is chosen: their first scope root."""
    roots = policy.scope_roots(user)
    return roots[0] if roots else Area(path="")


# The list filters ---------------------------------------------------------------------------


class RecordFilterForm(forms.Form):
    """The GET form above /registry/<kind>/. Each valid field narrows the list."""

    q = forms.CharField(label="搜索", required=False, max_length=100)

    def __init__(self, *args: Any, user: User, kind: str, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["q"].widget.attrs["placeholder"] = SEARCH_HINTS[kind]
        # Microgrids are too many for a select; their grid's subtree covers them.
        self.fields["area"] = AreaChoiceField(
            policy.areas_visible_to(user).exclude(level=Level.MICROGRID),
            label="辖区(含下级)",
            required=False,
            empty_label="全部辖区",
            error_messages={"invalid_choice": "没有找到该辖区,或您无权查看"},
        )
        wanted = KIND_FILTERS[kind]
        invalid = {"invalid_choice": "请从列表中选择"}
        if "tag" in wanted:
            tags = policy.tags_visible_to(user, any_scope_area(user))
            self.fields["tag"] = forms.ChoiceField(
                label="标签",
                required=False,
                choices=_choices("全部标签", [(t.code, t.name) for t in tags]),
                error_messages=invalid,
            )
        if "household_type" in wanted:
            self.fields["household_type"] = forms.ChoiceField(
                label="户籍类型",
                required=False,
                choices=_choices("全部", HouseholdType.choices),
                error_messages=invalid,
            )
        if "use" in wanted:
            self.fields["use"] = forms.ChoiceField(
                label="用途",
                required=False,
                choices=_choices("全部用途", HouseUse.choices),
                error_messages=invalid,
            )
        if "scale" in wanted:
            self.fields["scale"] = forms.ChoiceField(
                label="规模",
                required=False,
                choices=_choices("全部", EnterpriseScale.choices),
                error_messages=invalid,
            )
        if "library" in wanted:
            self.fields["library"] = forms.ChoiceField(
                label="企业库(在库)",
                required=False,
                choices=_choices("不限", Library.choices),
                error_messages=invalid,
            )
        if "facility_kind" in wanted:
            self.fields["facility_kind"] = forms.ChoiceField(
                label="设施类别",
                required=False,
                choices=_choices("全部类别", FacilityKind.choices),
                error_messages=invalid,
            )

    def filters(self) -> RecordFilters:
        """The filters of the fields that passed; call after `is_valid()`."""
        data = self.cleaned_data
        return RecordFilters(
            area=data.get("area"),
            q=(data.get("q") or "").strip(),
            tag=data.get("tag") or "",
            use=data.get("use") or "",
            household_type=data.get("household_type") or "",
            scale=data.get("scale") or "",
            library=data.get("library") or "",
            facility_kind=data.get("facility_kind") or "",
        )


# Record forms -------------------------------------------------------------------------------


def editable_areas(user: Any) -> QuerySet[Area]:
    """The grids and microgrids where the user may register and edit records."""
    areas = policy.areas_visible_to(user).filter(level__in=policy.FIELD_LEVELS)
    allowed = [area.pk for area in areas if policy.can_edit_records_at(user, area)]
    return Area.objects.filter(pk__in=allowed)


class RecordForm(forms.Form):
    """The shared part of every record form: the grid it sits in and the version it was read at.

    Subclasses name the model fields they edit; `record_fields()` gives the service its input.
    """

    model: ClassVar[type[Any]]
    model_fields: ClassVar[tuple[str, ...]]

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        required=False,
        min_value=1,
        error_messages={"invalid": "页面已过期,请刷新后重试"},
    )

    def __init__(self, *args: Any, user: User, record: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        initial = kwargs.setdefault("initial", {})
        if record is not None:
            initial.setdefault("version", record.version)
            initial.setdefault("area", record.area.code)
            for name in self.model_fields:
                initial.setdefault(name, getattr(record, name))
        super().__init__(*args, **kwargs)
        self.user, self.record = user, record
        self.fields["area"] = AreaChoiceField(
            editable_areas(user),
            label="所在网格",
            widget=PlaceSearchWidget(purpose="registry"),
            error_messages={
                "required": "请选择所在网格",
                "invalid_choice": "只能选择您负责的网格或微网格",
            },
        )
        self.fields.update(forms.fields_for_model(self.model, fields=self.model_fields))
        self.order_fields(["area", *self.model_fields])

    def clean_version(self) -> int | None:
        version: int | None = self.cleaned_data.get("version")
        if self.record is not None and version is None:
            raise forms.ValidationError("页面已过期,请刷新后重试")
        return version

    def record_fields(self) -> dict[str, Any]:
        """The model columns for `record_create` / `record_update`; call after `is_valid()`."""
        return {name: self.cleaned_data[name] for name in self.model_fields}

    def _record_by(self, model: type[Any], label: str, **lookup: Any) -> Any:
        """A record of the user's scope found by an exact natural key, or the field's error."""
        found = policy.records_visible_to(self.user, model).filter(**lookup).first()
        if found is None:
            raise forms.ValidationError(f"在您的辖区内没有找到该{label}")
        return found


class BuildingForm(RecordForm):
    model = Building
    model_fields = ("compound", "name", "address", "floors", "unit_count")


class HouseForm(RecordForm):
    model = House
    model_fields = ("address", "unit_no", "floor", "room", "use", "floor_area")

    building_address = forms.CharField(
        label="所在楼栋地址(可不填)",
        required=False,
        max_length=200,
        help_text="填写楼栋的完整地址",
    )

    def __init__(self, *args: Any, record: Any = None, **kwargs: Any) -> None:
        if record is not None and record.building is not None:
            kwargs.setdefault("initial", {}).setdefault("building_address", record.building.address)
        super().__init__(*args, record=record, **kwargs)

    def clean_building_address(self) -> Building | None:
        address = self.cleaned_data["building_address"].strip()
        return self._record_by(Building, "楼栋", address=address) if address else None

    def record_fields(self) -> dict[str, Any]:
        return super().record_fields() | {"building": self.cleaned_data["building_address"]}


class FacilityForm(RecordForm):
    model = Facility
    model_fields = (
        "code",
        "kind",
        "name",
        "address",
        "owner",
        "inspection_cycle_days",
        "last_inspected_on",
    )

    enterprise_code = forms.CharField(
        label="所属企业信用代码(可不填)", required=False, max_length=18
    )

    def __init__(self, *args: Any, record: Any = None, **kwargs: Any) -> None:
        if record is not None and record.enterprise is not None:
            kwargs.setdefault("initial", {}).setdefault(
                "enterprise_code", record.enterprise.credit_code
            )
        super().__init__(*args, record=record, **kwargs)
        self.fields["last_inspected_on"].widget = forms.DateInput(attrs={"type": "date"})

    def clean_enterprise_code(self) -> Enterprise | None:
        code = self.cleaned_data["enterprise_code"].strip()
        if not code:
            return None
        return self._record_by(
            Enterprise, "企业", credit_code=_domain_check(credit_code_check, code)
        )

    def record_fields(self) -> dict[str, Any]:
        fields = super().record_fields()
        fields["code"] = fields["code"].strip()
        return fields | {"enterprise": self.cleaned_data["enterprise_code"]}


class EnterpriseForm(RecordForm):
    model = Enterprise
    model_fields = ("name", "credit_code", "industry", "scale", "address", "contact_name")

    contact_phone = forms.CharField(label="联系电话", required=False, max_length=20)
    employees = forms.IntegerField(
        label="从业人数(可不填)",
        required=False,
        min_value=0,
        error_messages={"invalid": "请填写整数", "min_value": "从业人数不能为负"},
    )
    building_address = forms.CharField(label="所在楼宇地址(可不填)", required=False, max_length=200)

    def __init__(self, *args: Any, record: Any = None, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        if record is not None:
            initial.setdefault("employees", record.employees)
            if record.building is not None:
                initial.setdefault("building_address", record.building.address)
        super().__init__(*args, record=record, **kwargs)
        if record is not None:
            # The stored phone is sealed; it is never put back into a form in the clear.
            self.fields["contact_phone"].label = "联系电话(留空则不修改)"
            self.fields["contact_phone"].widget.attrs["placeholder"] = record.contact_phone_masked

    def clean_credit_code(self) -> str:
        code: str = _domain_check(credit_code_check, self.cleaned_data["credit_code"])
        return code

    def clean_contact_phone(self) -> str:
        phone = self.cleaned_data["contact_phone"].strip()
        return _domain_check(phone_check, phone) if phone else ""

    def clean_building_address(self) -> Building | None:
        address = self.cleaned_data["building_address"].strip()
        return self._record_by(Building, "楼宇", address=address) if address else None

    def record_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = services.enterprise_fields(
            name=data["name"],
            credit_code=data["credit_code"],
            scale=data["scale"],
            address=data["address"],
            industry=data["industry"],
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
            employees=data["employees"],
            building=data["building_address"],
        )
        if self.record is not None and not data["contact_phone"]:
            fields = {k: v for k, v in fields.items() if not k.startswith("contact_phone_")}
        return fields


# The columns `person_protected_fields` derives from the ID number, and those from the phone.
ID_NUMBER_COLUMNS = (
    "id_number_sealed",
    "id_number_digest",
    "id_number_masked",
    "birth_date",
    "sex",
)
PHONE_COLUMNS = ("phone_sealed", "phone_digest", "phone_masked")


class PersonForm(RecordForm):
    model = Person
    model_fields = ("name", "household_type", "note")

    id_number = forms.CharField(label="身份证号", required=False, max_length=20)
    phone = forms.CharField(label="联系电话", required=False, max_length=20)
    house_address = forms.CharField(
        label="居住房屋地址(可不填)",
        required=False,
        max_length=200,
        help_text="填写房屋的完整地址",
    )

    def __init__(self, *args: Any, user: User, record: Any = None, **kwargs: Any) -> None:
        if record is not None and record.house is not None:
            kwargs.setdefault("initial", {}).setdefault("house_address", record.house.address)
        super().__init__(*args, user=user, record=record, **kwargs)
        area = record.area if record is not None else any_scope_area(user)
        tags = policy.tags_visible_to(user, area)
        self.fields["tags"] = forms.ModelMultipleChoiceField(
            label="标签",
            queryset=tags,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            error_messages={"invalid_choice": "请从列表中选择标签"},
        )
        if record is not None:
            self.fields["tags"].initial = list(tags.filter(taggings__person=record))
            # Both are sealed; they are never put back into a form in the clear.
            self.fields["id_number"].label = "身份证号(留空则不修改)"
            self.fields["id_number"].widget.attrs["placeholder"] = record.id_number_masked
            self.fields["phone"].label = "联系电话(留空则不修改)"
            self.fields["phone"].widget.attrs["placeholder"] = record.phone_masked
        self.order_fields(["area", "name", "id_number", "phone", "household_type"])

    def clean_id_number(self) -> str:
        number = self.cleaned_data["id_number"].strip()
        if not number:
            if self.record is None:
                raise forms.ValidationError("请填写身份证号")
            return ""
        return str(_domain_check(resident_id_check, number).number)

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        return str(_domain_check(phone_check, phone)) if phone else ""

    def clean_house_address(self) -> House | None:
        address = self.cleaned_data["house_address"].strip()
        return self._record_by(House, "房屋", address=address) if address else None

    def record_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = super().record_fields() | {"house": data["house_address"]}
        number, phone = data["id_number"], data["phone"]
        if number:
            protected = services.person_protected_fields(id_number=number, phone=phone)
            keep = ID_NUMBER_COLUMNS + (PHONE_COLUMNS if phone or self.record is None else ())
            fields |= {key: protected[key] for key in keep}
        elif phone:
            # Only the phone changes: its columns are built alike for persons and enterprises.
            contact = services.contact_phone_fields(phone)
            fields |= {key: contact[f"contact_{key}"] for key in PHONE_COLUMNS}
        return fields

    def tags(self) -> list[Tag]:
        return list(self.cleaned_data["tags"])


RECORD_FORMS: dict[str, type[RecordForm]] = {
    "person": PersonForm,
    "house": HouseForm,
    "building": BuildingForm,
    "enterprise": EnterpriseForm,
    "facility": FacilityForm,
}


class DeleteForm(forms.Form):
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": "页面已过期,请刷新后重试",
            "invalid": "页面已过期,请刷新后重试",
        },
    )


# Unmasking ------------------------------------------------------------------------------------

REVEALABLE: dict[str, tuple[str, ...]] = {
    "person": (AccessField.ID_NUMBER, AccessField.PHONE),
    "enterprise": (AccessField.CONTACT_PHONE,),
}


class RevealForm(forms.Form):
    """Which sealed field to read in the clear, and why (the reason goes to the access log)."""

    field = forms.ChoiceField(
        label="查看内容",
        error_messages={
            "required": "请选择要查看的内容",
            "invalid_choice": "请从列表中选择要查看的内容",
        },
    )
    reason = forms.CharField(
        label="查看原因",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "如:核实身份办理低保"}),
        error_messages={
            "required": "请填写查看原因,查看记录将留存备查",
            "max_length": "查看原因不能超过200字",
        },
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["field"]).choices = [
            (name, AccessField(name).label) for name in REVEALABLE.get(kind, ())
        ]

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("请填写查看原因,查看记录将留存备查")
        return reason


# The access log -------------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


class AccessLogFilterForm(forms.Form):
    field = forms.ChoiceField(
        label="字段",
        required=False,
        choices=_choices("全部", AccessField.choices),
        error_messages={"invalid_choice": "请从列表中选择字段"},
    )
    date_from = forms.DateField(
        label="日期自",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "日期格式不正确"},
    )
    date_to = forms.DateField(
        label="至",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "日期格式不正确"},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["user"] = forms.ModelChoiceField(
            label="查看人",
            queryset=policy.users_visible_to(user).order_by("username"),
            required=False,
            empty_label="全部人员",
            error_messages={"invalid_choice": "请从列表中选择查看人"},
        )
        self.order_fields(["user", "field", "date_from", "date_to"])

    def narrow(self, logs: QuerySet[Any]) -> QuerySet[Any]:
        """`logs` narrowed by the fields that passed; call after `is_valid()`."""
        data = self.cleaned_data
        if data.get("user"):
            logs = logs.filter(user=data["user"])
        if data.get("field"):
            logs = logs.filter(field=data["field"])
        if data.get("date_from"):
            logs = logs.filter(at__gte=_start_of(data["date_from"]))
        if data.get("date_to"):
            # The end date counts whole: up to the start of the day after it.
            logs = logs.filter(at__lt=_start_of(data["date_to"] + timedelta(days=1)))
        return logs


# Verification tasks (核查) --------------------------------------------------------------------

VERIFICATION_LEVELS = (Level.COMMUNITY, Level.GRID, Level.DEDICATED_GRID)


class AreaMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}({obj.get_level_display()})"


class VerificationTaskForm(forms.Form):
    title = forms.CharField(
        label="任务名称",
        max_length=100,
        error_messages={"required": "请填写任务名称", "max_length": "任务名称不能超过100字"},
    )
    record_kind = forms.ChoiceField(
        label="核查对象",
        choices=RecordKind.choices,
        error_messages={"required": "请选择核查对象", "invalid_choice": "核查对象须为居民或房屋"},
    )
    due_on = forms.DateField(
        label="完成期限",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请填写完成期限", "invalid": "日期格式不正确"},
    )
    note = forms.CharField(
        label="要求(可不填)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        candidates = policy.areas_visible_to(user).filter(level__in=VERIFICATION_LEVELS)
        allowed = [a.pk for a in candidates if policy.can_issue_verification(user, a)]
        self.fields["areas"] = AreaMultipleChoiceField(
            label="核查范围(社区或网格,可多选)",
            queryset=Area.objects.filter(pk__in=allowed).order_by("path"),
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "required": "请选择要核查的社区或网格",
                "invalid_choice": "只能选择您负责的社区或网格",
                "invalid_pk_value": "只能选择您负责的社区或网格",
            },
        )
        self.order_fields(["title", "record_kind", "areas", "due_on", "note"])


# Linking a case to a record --------------------------------------------------------------------

LINK_KEYS = {
    "person": "身份证号",
    "house": "房屋地址",
    "building": "楼栋地址",
    "enterprise": "统一社会信用代码",
    "facility": "设施编号",
}


class CaseLinkForm(forms.Form):
    """A record of the case's street found by its natural key, to point the case at."""

    kind = forms.ChoiceField(
        label="对象类别",
        choices=list(KIND_LABELS.items()),
        error_messages={"required": "请选择对象类别", "invalid_choice": "请从列表中选择对象类别"},
    )
    key = forms.CharField(
        label="身份证号 / 信用代码 / 设施编号 / 地址",
        max_length=200,
        error_messages={"required": "请填写要关联对象的身份证号、信用代码、编号或地址"},
    )

    def __init__(self, *args: Any, user: User, case: Case, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.user, self.case = user, case

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        kind, key = data.get("kind"), (data.get("key") or "").strip()
        if not kind or not key:
            return data
        try:
            data["record"] = record_find(
                user=self.user, street_id=self.case.street_id, kind=kind, key=key
            )
        except DomainError as exc:
            self.add_error("key", exc.message)
            data["record"] = None
        return data
