"""The catalogue (事项清单) for administrators to edit, and cases to look at but never change:
a case moves only through its workflow."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from shanzhi import policy
from shanzhi.admin_site import ScopedAdmin, acting_user, admin_site, limit_choices
from shanzhi.errors import DomainError
from shanzhi.masking import mask_phone

from . import catalogue_admin
from .flows import REPORT_ACTION, REPORT_LABEL, actions
from .models import Case, CaseAction, CaseCategory, CaseType

ACTION_LABELS = {REPORT_ACTION: REPORT_LABEL, **{name: t.label for name, t in actions().items()}}


class CaseTypeForm(forms.ModelForm):
    user: Any
    keywords = forms.CharField(
        label="分拨关键词",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="用逗号、顿号或换行分隔,例如:违建、私搭乱建、阳光房",
    )

    class Meta:
        model = CaseType
        fields = [
            "street",
            "code",
            "name",
            "category",
            "default_unit",
            "claim_limit_hours",
            "handle_limit_days",
            "handle_limit_hours",
            "priority",
            "workflow",
            "keywords",
            "extra_fields",
            "is_active",
        ]
        help_texts = {
            "extra_fields": (
                "JSON 列表,每项含 name(英文)、label(中文),可选 choices 与 required,例如 "
                '[{"name": "hazard_grade", "label": "隐患等级", "choices": ["一般", "重大"], '
                '"required": true}]'
            ),
            "handle_limit_days": "与“办理时限(小时)”二者只填一个",
        }

    def narrow(self) -> None:
        streets = policy.catalogue_streets_manageable_by(self.user)
        limit_choices(self.fields["street"], streets.order_by("path"))
        limit_choices(
            self.fields["category"],
            policy.case_categories_manageable_by(self.user)
            .filter(parent__isnull=False)
            .select_related("parent", "street")
            .order_by("street__path", "parent__name", "name"),
        )
        limit_choices(
            self.fields["default_unit"],
            policy.units_manageable_by(self.user)
            .filter(street__in=streets, is_active=True)
            .order_by("area__path", "name"),
        )
        if self.instance.pk:
            self.fields["street"].disabled = True
            self.fields["code"].disabled = True
            self.initial["keywords"] = "、".join(self.instance.keywords)

    def clean_keywords(self) -> list[str]:
        return catalogue_admin.keywords_parse(self.cleaned_data.get("keywords") or "")

    def clean_extra_fields(self) -> Any:
        value = self.cleaned_data.get("extra_fields")
        try:
            return catalogue_admin.extra_fields_check(value if value is not None else [])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        street, category = data.get("street"), data.get("category")
        if street is not None and category is not None:
            try:
                catalogue_admin.case_type_check(
                    actor=self.user,
                    street=street,
                    category=category,
                    default_unit=data.get("default_unit"),
                    case_type=self.instance if self.instance.pk else None,
                    workflow=data.get("workflow") or "",
                )
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from exc
        return data


@admin.register(CaseType, site=admin_site)
class CaseTypeAdmin(ScopedAdmin):
    form = CaseTypeForm
    list_display = [
        "code",
        "name",
        "category",
        "default_unit",
        "claim_limit_hours",
        "handle_limit",
        "priority",
        "is_active",
        "street",
    ]
    list_filter = [
        "is_active",
        "workflow",
        "priority",
        ("category__parent", admin.RelatedOnlyFieldListFilter),
        ("street", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["code", "name"]
    list_select_related = ["category__parent", "default_unit", "street"]
    list_per_page = 50
    actions = ["deactivate", "activate"]

    @admin.display(description="办理时限")
    def handle_limit(self, obj: CaseType) -> str:
        return obj.handle_limit_label

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseType]:
        return policy.case_types_manageable_by(request.user).select_related(
            "category__parent", "default_unit", "street"
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.catalogue_streets_manageable_by(request.user).exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return policy.can_use_admin(request.user)
        return policy.can_manage_catalogue(request.user, obj.street)

    def save_model(self, request: HttpRequest, obj: CaseType, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = catalogue_admin.case_type_save(
            actor=acting_user(request),
            case_type=CaseType.objects.get(pk=obj.pk) if change else None,
            street=data.get("street") or obj.street,
            code=data.get("code") or obj.code,
            name=data["name"],
            category=data["category"],
            default_unit=data["default_unit"],
            claim_limit_hours=data["claim_limit_hours"],
            handle_limit_days=data["handle_limit_days"],
            handle_limit_hours=data["handle_limit_hours"],
            priority=data["priority"],
            workflow=data["workflow"],
            keywords=data["keywords"],
            extra_fields=data["extra_fields"],
            is_active=data["is_active"],
        )
        obj.pk = saved.pk

    def _set_active(self, request: HttpRequest, queryset: QuerySet[CaseType], on: bool) -> None:
        actor, done = acting_user(request), 0
        for case_type in queryset.select_related("street"):
            try:
                catalogue_admin.case_type_set_active(actor=actor, case_type=case_type, is_active=on)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{case_type}:{exc.message}", messages.ERROR)
        if done:
            verb = "启用" if on else "停用"
            self.message_user(request, f"已{verb} {done} 项事项", messages.SUCCESS)

    @admin.action(description="停用所选事项(已有事件不受影响)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[CaseType]) -> None:
        self._set_active(request, queryset, False)

    @admin.action(description="启用所选事项")
    def activate(self, request: HttpRequest, queryset: QuerySet[CaseType]) -> None:
        self._set_active(request, queryset, True)


class CaseCategoryForm(forms.ModelForm):
    user: Any

    class Meta:
        model = CaseCategory
        fields = ["street", "name", "parent"]

    def narrow(self) -> None:
        limit_choices(
            self.fields["street"],
            policy.catalogue_streets_manageable_by(self.user).order_by("path"),
        )
        limit_choices(
            self.fields["parent"],
            policy.case_categories_manageable_by(self.user)
            .filter(parent__isnull=True)
            .select_related("street")
            .order_by("street__path", "name"),
        )
        if self.instance.pk:
            self.fields["street"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        street = data.get("street") or getattr(self.instance, "street", None)
        if street is not None and data.get("name"):
            try:
                catalogue_admin.case_category_check(
                    actor=self.user,
                    category=self.instance if self.instance.pk else None,
                    street=street,
                    name=data["name"],
                    parent=data.get("parent"),
                )
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from exc
        return data


@admin.register(CaseCategory, site=admin_site)
class CaseCategoryAdmin(ScopedAdmin):
    form = CaseCategoryForm
    list_display = ["name", "parent", "street"]
    list_filter = [("street", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name"]
    list_select_related = ["parent", "street"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseCategory]:
        return policy.case_categories_manageable_by(request.user).select_related("parent", "street")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.catalogue_streets_manageable_by(request.user).exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return policy.can_use_admin(request.user)
        return policy.can_manage_catalogue(request.user, obj.street)

    def save_model(self, request: HttpRequest, obj: CaseCategory, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = catalogue_admin.case_category_save(
            actor=acting_user(request),
            category=CaseCategory.objects.get(pk=obj.pk) if change else None,
            street=data.get("street") or obj.street,
            name=data["name"],
            parent=data["parent"],
        )
        obj.pk = saved.pk


class _ReadOnly(ScopedAdmin):
    """Shown, never written here: cases change only through their workflow."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CaseActionInline(admin.TabularInline):
    model = CaseAction
    fields = readonly_fields = (
        "created_at",
        "action_label",
        "actor",
        "from_state_label",
        "to_state_label",
        "to_unit",
        "note",
    )
    extra = 0
    can_delete = False
    ordering = ["created_at", "id"]

    @admin.display(description="动作")
    def action_label(self, obj: CaseAction) -> str:
        return obj.label

    @admin.display(description="原状态")
    def from_state_label(self, obj: CaseAction) -> str:
        return obj.from_state_label

    @admin.display(description="新状态")
    def to_state_label(self, obj: CaseAction) -> str:
        return obj.to_state_label

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseAction]:
        return super().get_queryset(request).select_related("actor", "to_unit")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The case itself was already scoped by the policy; its log goes with it.
        return policy.can_use_admin(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case, site=admin_site)
class CaseAdmin(_ReadOnly):
    list_display = [
        "number",
        "title",
        "source",
        "state_label",
        "case_type",
        "area",
        "unit",
        "reported_at",
    ]
    list_filter = ["flow", "state", "source", ("street", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["number", "title"]
    list_select_related = ["case_type", "area", "unit"]
    list_per_page = 50
    # The tracking token opens the case to anyone holding it, and the reporter's phone is personal
    # data shown masked: neither belongs on an administration screen.
    fields = readonly_fields = (
        "number",
        "title",
        "description",
        "source",
        "case_type",
        "flow_label",
        "state_label",
        "level",
        "priority",
        "area",
        "address",
        "reporter_name",
        "masked_phone",
        "unit",
        "assignee",
        "reported_at",
        "accepted_at",
        "dispatched_at",
        "claimed_at",
        "resolved_at",
        "archived_at",
        "handle_due_at",
        "resolution",
        "satisfaction",
        "on_spot",
        "merged_into",
    )
    inlines = [CaseActionInline]

    @admin.display(description="联系电话")
    def masked_phone(self, obj: Case) -> str:
        return mask_phone(obj.reporter_phone)

    @admin.display(description="流程")
    def flow_label(self, obj: Case) -> str:
        return obj.flow_spec.label

    @admin.display(description="状态", ordering="state")
    def state_label(self, obj: Case) -> str:
        return obj.state_label

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return policy.cases_visible_to(request.user).select_related(
            "case_type", "area", "unit", "assignee", "merged_into"
        )


class ActionFilter(admin.SimpleListFilter):
    title = "动作"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(ACTION_LABELS.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(CaseAction, site=admin_site)
class CaseActionAdmin(_ReadOnly):
    list_display = [
        "created_at",
        "case",
        "action_label",
        "actor",
        "from_state_label",
        "to_state_label",
    ]
    list_filter = [ActionFilter, "flow"]
    search_fields = ["case__number"]
    list_select_related = ["case", "actor"]
    list_per_page = 50
    fields = readonly_fields = (
        "case",
        "action_label",
        "actor",
        "from_state_label",
        "to_state_label",
        "from_unit",
        "to_unit",
        "note",
        "data",
        "created_at",
    )

    @admin.display(description="动作", ordering="action")
    def action_label(self, obj: CaseAction) -> str:
        return obj.label

    @admin.display(description="原状态")
    def from_state_label(self, obj: CaseAction) -> str:
        return obj.from_state_label

    @admin.display(description="新状态")
    def to_state_label(self, obj: CaseAction) -> str:
        return obj.to_state_label

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseAction]:
        return policy.case_actions_visible_to(request.user).select_related(
            "case", "actor", "from_unit", "to_unit"
        )
