"""Forms of the phone pages: they check what a resident or a grid worker typed, in Chinese.

The services check the same rules again; the forms exist so that a person sees every problem
at once next to the field it concerns, before anything is written.
"""

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from shanzhi.areas.models import Area
from shanzhi.cases.models import CaseType, Satisfaction
from shanzhi.cases.services import MAX_PHOTOS, PHONE, IntakeError, check_photos

from .place_picker import PlaceSearchWidget

DESCRIPTION_MAX = 2000
RESULT_MAX = 1000


def new_client_key() -> str:
    """A fresh key per page load, so a resent form is recognised as the same report."""
    return uuid.uuid4().hex


class MultiplePhotoInput(forms.FileInput):
    allow_multiple_selected = True

    def __init__(self) -> None:
        super().__init__(attrs={"accept": "image/*"})


class PhotosField(forms.FileField):
    """Several photos from one file input; each must be a real image, at most MAX_PHOTOS of them."""

    widget = MultiplePhotoInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", f"照片(最多{MAX_PHOTOS}张)")
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        uploads = data if isinstance(data, list | tuple) else [data] if data else []
        photos = []
        for upload in uploads:
            photos.append(super().clean(upload, initial))
        if self.required and not photos:
            raise forms.ValidationError("请至少上传一张照片", code="required")
        try:
            return check_photos(photos)
        except IntakeError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


def _clean_phone(value: str) -> str:
    phone = value.strip().replace(" ", "")
    if phone and not PHONE.match(phone):
        raise forms.ValidationError(
            "联系电话格式不正确,请填写11位手机号,或带区号的固定电话(如0571-82345678)"
        )
    return phone


def _description_field() -> forms.CharField:
    return forms.CharField(
        label="发生了什么",
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "请描述问题、具体位置和时间"}),
        error_messages={
            "required": "请描述发生了什么",
            "max_length": f"描述不能超过{DESCRIPTION_MAX}字",
        },
    )


def _client_key_field() -> forms.CharField:
    return forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={"required": "页面已过期,请刷新后重新提交"},
    )


class DescriptionMixin:
    cleaned_data: dict[str, Any]

    def clean_description(self) -> str:
        # A description of blanks passes `required` but says nothing.
        description = str(self.cleaned_data["description"]).strip()
        if not description:
            raise forms.ValidationError("请描述发生了什么")
        return description


class ResidentReportForm(DescriptionMixin, forms.Form):
    description = _description_field()
    photos = PhotosField()
    reporter_name = forms.CharField(
        label="您的称呼(可不填)",
        required=False,
        max_length=50,
        error_messages={"max_length": "称呼不能超过50个字"},
    )
    reporter_phone = forms.CharField(
        label="联系电话(可不填,填写后便于回访)",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        error_messages={"max_length": "联系电话格式不正确"},
    )
    client_key = _client_key_field()

    def clean_reporter_phone(self) -> str:
        return _clean_phone(str(self.cleaned_data["reporter_phone"]))


class RatingForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label="您对办理结果是否满意",
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "请选择满意、基本满意或不满意",
            "invalid_choice": "请选择满意、基本满意或不满意",
        },
    )
    note = forms.CharField(
        label="还想说的话(可不填)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "留言不能超过500字"},
    )


def _result_field(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label="处置结果",
        required=required,
        max_length=RESULT_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "现场怎么处理的,结果如何"}),
        error_messages={
            "required": "请填写处置结果",
            "max_length": f"处置结果不能超过{RESULT_MAX}字",
        },
    )


def _case_type_field(queryset: QuerySet[CaseType], *, required: bool) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label="事项类型" if required else "事项类型(可不选)",
        queryset=queryset,
        required=required,
        empty_label="请选择",
        error_messages={
            "required": "就地处置须选择事项类型",
            "invalid_choice": "请从列表中选择事项类型",
        },
    )


class FieldReportForm(DescriptionMixin, forms.Form):
    """A grid worker's report from the patrol, optionally handled on the spot at once."""

    description = _description_field()
    address = forms.CharField(
        label="具体位置(可不填)",
        required=False,
        max_length=200,
        error_messages={"max_length": "位置说明不能超过200字"},
    )
    photos = PhotosField()
    latitude = forms.DecimalField(
        required=False,
        widget=forms.HiddenInput,
        max_digits=9,
        decimal_places=6,
        min_value=Decimal(-90),
        max_value=Decimal(90),
        error_messages={"invalid": "定位数据无效,请重新定位"},
    )
    longitude = forms.DecimalField(
        required=False,
        widget=forms.HiddenInput,
        max_digits=9,
        decimal_places=6,
        min_value=Decimal(-180),
        max_value=Decimal(180),
        error_messages={"invalid": "定位数据无效,请重新定位"},
    )
    on_spot = forms.BooleanField(label="已就地处置(小事不出网格)", required=False)
    result = _result_field(required=False)
    client_key = _client_key_field()

    def __init__(
        self, *args: Any, areas: QuerySet[Area], case_types: QuerySet[CaseType], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # Choices depend on who is reporting, so these fields are made per form.
        self.fields["area"] = forms.ModelChoiceField(
            label="发生地",
            queryset=areas,
            to_field_name="code",
            widget=PlaceSearchWidget(purpose="field"),
            error_messages={
                "required": "请选择发生地",
                "invalid_choice": "只能选择您所在网格内的地点",
            },
        )
        self.fields["case_type"] = _case_type_field(case_types, required=False)

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        area, case_type = data.get("area"), data.get("case_type")
        if area is not None and case_type is not None and case_type.street_id != area.street_id:
            self.add_error("case_type", "该事项类型不属于发生地所在街道")
        if data.get("on_spot"):
            # The engine requires a type, a result and a photo for 就地处置; say all at once.
            if not str(data.get("result") or "").strip():
                self.add_error("result", "就地处置须填写处置结果")
            if "photos" in data and not data["photos"]:
                self.add_error("photos", "就地处置须至少上传一张现场照片")
            if case_type is None and "case_type" not in self.errors:
                self.add_error("case_type", "就地处置须选择事项类型")
        return data


class ResolveOnSpotForm(forms.Form):
    """就地处置 of a case already reported in the grid worker's grid."""

    result = _result_field(required=True)
    photos = PhotosField(required=True, label=f"现场照片(至少1张,最多{MAX_PHOTOS}张)")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, case_types: QuerySet[CaseType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["case_type"] = _case_type_field(case_types, required=True)
