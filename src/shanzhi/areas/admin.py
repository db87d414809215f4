from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from shanzhi import policy
from shanzhi.admin_site import ScopedAdmin, admin_site, limit_choices
from shanzhi.errors import DomainError

from . import services
from .models import Area


class AreaForm(forms.ModelForm):
    user: Any

    class Meta:
        model = Area
        fields = ["code", "name", "level", "parent", "boundary"]

    def narrow(self) -> None:
        parents = policy.areas_manageable_by(self.user).order_by("path")
        limit_choices(self.fields["parent"], parents)
        if self.instance.pk:
            self.fields["code"].disabled = True
            self.fields["level"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        code, level, parent = data.get("code"), data.get("level"), data.get("parent")
        if not code or not level:
            return data
        try:
            if self.instance.pk is None:
                if not policy.can_add_area_under(self.user, parent):
                    raise DomainError("无权在该上级之下新增辖区")
                services.area_check_parent(level=level, parent=parent)
                services.area_check_code(code=code.strip().upper(), level=level, parent=parent)
            elif parent != self.instance.parent:
                if parent is None:
                    raise DomainError("已有辖区不能改为顶级")
                services.area_check_parent(level=level, parent=parent)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        return data


@admin.register(Area, site=admin_site)
class AreaAdmin(ScopedAdmin):
    form = AreaForm
    list_display = ["code", "name", "level", "parent", "street"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent", "street"]
    ordering = ["path"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return policy.areas_visible_to(request.user).select_related("parent", "street")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return policy.can_use_admin(request.user)
        return policy.can_manage_area(request.user, obj)

    def save_model(self, request: HttpRequest, obj: Area, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            saved = services.area_create(
                code=data["code"],
                name=data["name"],
                level=data["level"],
                parent=data["parent"],
                boundary=data["boundary"],
            )
        else:
            saved = services.area_update(area=obj, name=data["name"], boundary=data["boundary"])
            if data["parent"] != Area.objects.get(pk=obj.pk).parent:
                saved = services.area_move(area=saved, new_parent=data["parent"])
        obj.pk, obj.path, obj.depth = saved.pk, saved.path, saved.depth
