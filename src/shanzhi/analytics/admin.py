"""Figures in the administration screens: the 比拼晾晒 scoring rules, and the entered baselines
with their history to read.

Rules: the platform's (no street, one default per level) are edited by platform administrators;
a street administrator sees them, copies one to their street with the action below, and edits
their street's copy. Baselines are entered, corrected and withdrawn on the baselines page, which
keeps their history; here they are only read.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from shanzhi import policy
from shanzhi.admin_site import ScopedAdmin, acting_user, admin_site, limit_choices
from shanzhi.errors import DomainError

from .measures import KPIS
from .models import Baseline, BaselineHistory, RankingRule, RankingWeight
from .rankings import rule_check
from .services import ranking_rules_copy

RANKABLE = [
    (k.key, f"{k.name}({'越高越好' if k.higher_is_better else '越低越好'})")
    for k in KPIS.values()
    if k.higher_is_better is not None
]


class RankingWeightForm(forms.ModelForm):
    kpi = forms.ChoiceField(label="指标", choices=RANKABLE)

    class Meta:
        model = RankingWeight
        fields = ["kpi", "weight", "target", "floor"]


class RankingWeightFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        rows = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            rule_check(
                (row["kpi"], row["weight"], row.get("target"), row.get("floor")) for row in rows
            )
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


class RankingWeightInline(admin.TabularInline):
    model = RankingWeight
    form = RankingWeightForm
    formset = RankingWeightFormSet
    extra = 1

    def _may_edit(self, request: HttpRequest, obj: Any) -> bool:
        street = obj.street if obj is not None else None
        if obj is None:
            return policy.can_use_admin(request.user)
        return policy.can_manage_ranking_rules(request.user, street)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_use_admin(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request, obj)


class RankingRuleForm(forms.ModelForm):
    user: Any

    class Meta:
        model = RankingRule
        fields = ["name", "level", "street", "description", "is_active"]

    def narrow(self) -> None:
        limit_choices(self.fields["street"], policy.ranking_rule_streets_for(self.user))
        if not policy.is_platform_admin(self.user):
            self.fields["street"].required = True
            self.fields["street"].empty_label = None  # type: ignore[attr-defined]


@admin.register(RankingRule, site=admin_site)
class RankingRuleAdmin(ScopedAdmin):
    form = RankingRuleForm
    inlines = [RankingWeightInline]
    list_display = ["name", "level", "street", "is_active", "weights_text", "updated_at"]
    list_filter = ["level", "is_active"]
    actions = ["copy_to_street"]

    @admin.display(description="指标与权重")
    def weights_text(self, obj: RankingRule) -> str:
        return "、".join(
            f"{KPIS[w.kpi].name if w.kpi in KPIS else w.kpi}{w.weight}" for w in obj.weights.all()
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[RankingRule]:
        rules = super().get_queryset(request).select_related("street").prefetch_related("weights")
        if policy.is_platform_admin(request.user):
            return rules
        streets = policy.streets_visible_to(request.user)
        return rules.filter(Q(street__isnull=True) | Q(street__in=streets))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return policy.can_use_admin(request.user)
        return policy.can_manage_ranking_rules(request.user, obj.street)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # A rule carries no history of its own; a street may drop its copy. Stopping a rule is
        # what the 启用 flag is for.
        if obj is None or not isinstance(obj, RankingRule):
            return False
        return obj.street is not None and policy.can_manage_ranking_rules(request.user, obj.street)

    @admin.action(description="复制为本街道的规则")
    def copy_to_street(self, request: HttpRequest, queryset: QuerySet[RankingRule]) -> None:
        streets = list(policy.ranking_rule_streets_for(acting_user(request))[:2])
        if len(streets) != 1:
            self.message_user(
                request,
                "只有管理一个街道的管理员可以复制规则;平台管理员请直接新增并选择街道",
                messages.WARNING,
            )
            return
        street = streets[0]
        ranking_rules_copy(street=street, rules=queryset.prefetch_related("weights"))
        self.message_user(request, f"已复制到{street.name},可在复制出的规则中调整权重")


class _ReadOnly(ScopedAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Baseline, site=admin_site)
class BaselineAdmin(_ReadOnly):
    """录入数: figures entered for periods before the system; kept on the baselines page."""

    list_display = [
        "area",
        "key",
        "source",
        "category",
        "case_type",
        "period_start",
        "period_end",
        "value",
        "note",
        "entered_by",
    ]
    list_filter = ["key", "period_kind"]
    list_select_related = ["area", "entered_by", "category__parent", "case_type"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Baseline]:
        return super().get_queryset(request).filter(area__in=policy.areas_visible_to(request.user))


@admin.register(BaselineHistory, site=admin_site)
class BaselineHistoryAdmin(_ReadOnly):
    list_display = ["acted_at", "area", "key", "period_start", "action", "value", "new_value"]
    list_filter = ["action", "key"]
    list_select_related = ["area", "acted_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BaselineHistory]:
        return super().get_queryset(request).filter(area__in=policy.areas_visible_to(request.user))
