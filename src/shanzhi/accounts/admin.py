from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import password_validation
from django.db.models import QuerySet
from django.http import HttpRequest

from shanzhi import policy
from shanzhi.admin_site import ScopedAdmin, acting_user, admin_site, limit_choices
from shanzhi.errors import DomainError

from . import services
from .models import RoleGrant, SecurityEvent, Unit, User
from .second_factor import second_factor_remove
from .signin import signin_unlock


class UnitForm(forms.ModelForm):
    user: Any

    class Meta:
        model = Unit
        fields = ["name", "kind", "area", "phone", "is_active"]

    def narrow(self) -> None:
        limit_choices(self.fields["area"], policy.areas_manageable_by(self.user).order_by("path"))
        if self.instance.pk:
            self.fields["area"].disabled = True


@admin.register(Unit, site=admin_site)
class UnitAdmin(ScopedAdmin):
    form = UnitForm
    list_display = ["name", "kind", "area", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "area__name"]
    list_select_related = ["area"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Unit]:
        return policy.units_visible_to(request.user).select_related("area")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return policy.can_use_admin(request.user)
        return policy.can_manage_unit(request.user, obj)

    def save_model(self, request: HttpRequest, obj: Unit, form: Any, change: bool) -> None:
        data = form.cleaned_data
        actor = acting_user(request)
        if change:
            services.unit_update(
                actor=actor,
                unit=obj,
                name=data["name"],
                kind=data["kind"],
                phone=data["phone"],
                is_active=data["is_active"],
            )
        else:
            saved = services.unit_create(
                actor=actor,
                name=data["name"],
                kind=data["kind"],
                area=data["area"],
                phone=data["phone"],
            )
            obj.pk = saved.pk


class UserForm(forms.ModelForm):
    user: Any
    new_password = forms.CharField(
        label="新密码",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="新增人员时必填;修改时留空则不变。",
    )

    class Meta:
        model = User
        fields = ["username", "full_name", "unit", "phone", "is_active"]

    def narrow(self) -> None:
        limit_choices(self.fields["unit"], policy.units_manageable_by(self.user).order_by("name"))
        self.fields["unit"].required = True
        if self.instance.pk:
            self.fields["username"].disabled = True

    def clean_new_password(self) -> str:
        password = self.cleaned_data.get("new_password", "")
        if not password and self.instance.pk is None:
            raise forms.ValidationError("新增人员时必须设置初始密码")
        if password:
            password_validation.validate_password(password, self.instance)
        return password


@admin.register(User, site=admin_site)
class UserAdmin(ScopedAdmin):
    form = UserForm
    list_display = ["username", "full_name", "unit", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["username", "full_name"]
    list_select_related = ["unit"]
    actions = ["unlock", "remove_second_factor"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return policy.users_visible_to(request.user).select_related("unit")

    def _managed(self, request: HttpRequest, queryset: QuerySet[User]) -> list[User]:
        actor = acting_user(request)
        managed = [user for user in queryset if policy.can_manage_user(actor, user)]
        if len(managed) < len(queryset):
            self.message_user(request, "所选人员中有不在您管理范围内的,已跳过", messages.WARNING)
        return managed

    @admin.action(description="解除所选人员的登录锁定")
    def unlock(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = acting_user(request)
        done = sum(
            signin_unlock(actor=actor, user=user) for user in self._managed(request, queryset)
        )
        self.message_user(request, f"已解除 {done} 个账号的登录锁定", messages.SUCCESS)

    @admin.action(description="解除所选人员的动态口令(手机丢失时;下次登录须重新绑定)")
    def remove_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = acting_user(request)
        done = sum(
            second_factor_remove(user=user, actor=actor)
            for user in self._managed(request, queryset)
        )
        self.message_user(request, f"已解除 {done} 个账号的动态口令", messages.SUCCESS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return policy.can_use_admin(request.user)
        return policy.can_manage_user(request.user, obj)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        data = form.cleaned_data
        actor = acting_user(request)
        if change:
            services.user_update(
                actor=actor,
                target=obj,
                full_name=data["full_name"],
                unit=data["unit"],
                phone=data["phone"],
                is_active=data["is_active"],
            )
            if data["new_password"]:
                services.user_set_password(actor=actor, target=obj, password=data["new_password"])
        else:
            saved = services.user_create(
                actor=actor,
                username=data["username"],
                full_name=data["full_name"],
                unit=data["unit"],
                password=data["new_password"],
                phone=data["phone"],
            )
            obj.pk = saved.pk


class RoleGrantForm(forms.ModelForm):
    user: Any

    class Meta:
        model = RoleGrant
        fields = ["user", "role", "area"]

    def narrow(self) -> None:
        limit_choices(
            self.fields["user"], policy.users_manageable_by(self.user).order_by("username")
        )
        limit_choices(self.fields["area"], policy.areas_manageable_by(self.user).order_by("path"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if all(data.get(key) for key in ("user", "role", "area")):
            try:
                services.role_grant_check(
                    granter=self.user, user=data["user"], role=data["role"], area=data["area"]
                )
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from exc
        return data


@admin.register(RoleGrant, site=admin_site)
class RoleGrantAdmin(ScopedAdmin):
    form = RoleGrantForm
    list_display = ["user", "role", "area", "granted_by", "granted_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__full_name", "area__name", "area__code"]
    list_select_related = ["user", "area", "granted_by"]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RoleGrant]:
        return policy.grants_visible_to(request.user).select_related("user", "area", "granted_by")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A grant is never edited: it is revoked and, if need be, granted anew.
        return False

    def save_model(self, request: HttpRequest, obj: RoleGrant, form: Any, change: bool) -> None:
        data = form.cleaned_data
        actor = acting_user(request)
        saved = services.role_grant(
            granter=actor, user=data["user"], role=data["role"], area=data["area"]
        )
        obj.pk = saved.pk

    @admin.action(description="撤销所选授权")
    def revoke(self, request: HttpRequest, queryset: QuerySet[RoleGrant]) -> None:
        actor = acting_user(request)
        done, refused = 0, []
        for grant in queryset.filter(revoked_at__isnull=True):
            try:
                services.role_revoke(actor=actor, grant=grant)
                done += 1
            except DomainError as exc:
                refused.append(f"{grant}:{exc.message}")
        if done:
            self.message_user(request, f"已撤销 {done} 项授权", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)


@admin.register(SecurityEvent, site=admin_site)
class SecurityEventAdmin(ScopedAdmin):
    """The security log, read-only: nobody adds, changes or deletes a row (PostgreSQL refuses
    UPDATE and DELETE even to SQL)."""

    list_display = ["at", "kind", "username", "actor", "address", "note", "area"]
    list_filter = ["kind"]
    search_fields = ["username", "note", "address"]
    date_hierarchy = "at"
    list_select_related = ["actor", "area"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SecurityEvent]:
        return policy.security_events_visible_to(request.user).select_related("actor", "area")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
