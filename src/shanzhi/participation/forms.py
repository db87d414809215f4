"""Forms of the participation pages: they check what was typed and answer in Chinese; the
services check the rules again."""

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet

from shanzhi.areas.models import Area
from shanzhi.errors import DomainError
from shanzhi.registry.validators import phone_check, resident_id_check
from shanzhi.web.forms_public import PhotosField

from .models import (
    ActivityKind,
    PartnerUnit,
    ProjectStatus,
    Proposal,
    Reward,
    SubItem,
    Voter,
    VoterKind,
)


class ProposalForm(forms.Form):
    title = forms.CharField(label="项目名称", max_length=100)
    description = forms.CharField(label="想办的实事", max_length=2000, widget=forms.Textarea)
    place = forms.CharField(label="实施地点", max_length=200)
    estimated_cost = forms.DecimalField(
        label="估算金额(万元)", min_value=Decimal(0), max_digits=10, decimal_places=2
    )
    beneficiaries = forms.CharField(label="哪些人受益", max_length=200)
    proposer_name = forms.CharField(label="您的称呼", max_length=50, required=False)
    proposer_phone = forms.CharField(label="联系电话", max_length=20, required=False)

    def clean_proposer_phone(self) -> str:
        value = self.cleaned_data["proposer_phone"].strip()
        if not value:
            return ""
        try:
            return phone_check(value)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


class RoundForm(forms.Form):
    area = forms.ModelChoiceField(
        label="街道或社区", queryset=Area.objects.none(), empty_label=None
    )
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    title = forms.CharField(label="名称", max_length=100)
    seats = forms.IntegerField(label="票决产生项目数", min_value=1, max_value=50)
    min_picks = forms.IntegerField(label="每票至少选", min_value=1, max_value=50)
    max_picks = forms.IntegerField(label="每票至多选", min_value=1, max_value=50)
    threshold_percent = forms.DecimalField(
        label="当选须超过投票数的(%)", min_value=Decimal(0), max_value=Decimal("99.99"), initial=50
    )

    def __init__(self, *args: Any, areas: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]


class IdNumberField(forms.CharField):
    """A 身份证号, checked by its checksum; the person is then found by it in the registry."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(label="身份证号", max_length=18, **kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        try:
            return resident_id_check(text).number
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


class VoterForm(forms.Form):
    id_number = IdNumberField()
    kind = forms.ChoiceField(label="身份", choices=VoterKind.choices)


class DecideForm(forms.Form):
    keep = forms.TypedChoiceField(
        label="初定",
        choices=[("1", "入围"), ("0", "不入围")],
        coerce=lambda v: v == "1",
    )
    reason = forms.CharField(label="未入围原因", max_length=300, required=False)


class PicksForm(forms.Form):
    """A ballot: the candidates picked."""

    picks = forms.ModelMultipleChoiceField(
        label="选择项目",
        queryset=Proposal.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一个项目"},
    )

    def __init__(self, *args: Any, candidates: QuerySet[Proposal], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["picks"].queryset = candidates  # type: ignore[attr-defined]


class PaperBallotForm(PicksForm):
    voter = forms.ModelChoiceField(label="代表", queryset=Voter.objects.none())

    def __init__(self, *args: Any, voters: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["voter"].queryset = voters  # type: ignore[attr-defined]


class UpdateForm(forms.Form):
    status = forms.ModelChoiceField(
        label="状态", queryset=ProjectStatus.objects.none(), empty_label=None
    )
    sub_item = forms.ModelChoiceField(
        label="分项(不选为整个项目)", queryset=SubItem.objects.none(), required=False
    )
    progress = forms.IntegerField(
        label="进度(%),不填按状态默认", min_value=0, max_value=100, required=False
    )
    note = forms.CharField(label="进展说明", max_length=500, widget=forms.Textarea)
    photos = PhotosField()
    planned_end = forms.DateField(
        label="计划完成日期(调整时填写)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, statuses: Any, sub_items: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].queryset = statuses  # type: ignore[attr-defined]
        self.fields["sub_item"].queryset = sub_items  # type: ignore[attr-defined]


class SubItemForm(forms.Form):
    title = forms.CharField(label="分项名称", max_length=100)
    weight = forms.DecimalField(
        label="权重(可不填)",
        min_value=Decimal("0.01"),
        max_digits=6,
        decimal_places=2,
        required=False,
    )


class MilestoneForm(forms.Form):
    title = forms.CharField(label="节点", max_length=100)
    due = forms.DateField(label="计划日期", widget=forms.DateInput(attrs={"type": "date"}))


class ActivityForm(forms.Form):
    area = forms.ModelChoiceField(label="辖区", queryset=Area.objects.none(), empty_label=None)
    title = forms.CharField(label="活动名称", max_length=100)
    kind = forms.ChoiceField(label="类别", choices=ActivityKind.choices)
    organiser = forms.CharField(label="组织方", max_length=100)
    place = forms.CharField(label="地点", max_length=200)
    starts_at = forms.DateTimeField(
        label="开始时间", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label="结束时间", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    places = forms.IntegerField(label="名额", min_value=1, max_value=10000)
    hours = forms.DecimalField(
        label="每人计时(小时,不填按活动时长)",
        min_value=Decimal("0.1"),
        max_value=Decimal(24),
        decimal_places=1,
        required=False,
    )

    def __init__(self, *args: Any, areas: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]


class VolunteerForm(forms.Form):
    id_number = IdNumberField()


class PartnerForm(forms.Form):
    name = forms.CharField(label="共建单位名称", max_length=100)


class RewardForm(forms.Form):
    partner = forms.ModelChoiceField(
        label="提供单位", queryset=PartnerUnit.objects.none(), empty_label=None
    )
    name = forms.CharField(label="礼品名称", max_length=100)
    points = forms.IntegerField(label="所需积分", min_value=1, max_value=1_000_000)
    value = forms.DecimalField(
        label="等价金额(元)", min_value=Decimal(0), max_digits=8, decimal_places=2
    )
    stock = forms.IntegerField(label="库存", min_value=0, max_value=1_000_000)

    def __init__(self, *args: Any, partners: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners  # type: ignore[attr-defined]


class CounterExchangeForm(forms.Form):
    id_number = IdNumberField()
    reward = forms.ModelChoiceField(label="礼品", queryset=Reward.objects.none(), empty_label=None)

    def __init__(self, *args: Any, rewards: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reward"].queryset = rewards  # type: ignore[attr-defined]


class PhoneExchangeForm(forms.Form):
    reward = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class SignUpForm(forms.Form):
    id_number = IdNumberField()
