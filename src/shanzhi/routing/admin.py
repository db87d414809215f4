from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from shanzhi import policy
from shanzhi.admin_site import ScopedAdmin, acting_user, admin_site

from .models import RouterModel, StreetSettings
from .services import street_settings_save


@admin.register(StreetSettings, site=admin_site)
class StreetSettingsAdmin(ScopedAdmin):
    """Each street's thresholds, set by whoever manages its catalogue (事项清单)."""

    list_display = ["street", "preselect_confidence", "hotspot_window_days", "hotspot_min_cases"]
    list_select_related = ["street"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StreetSettings]:
        streets = policy.catalogue_streets_manageable_by(request.user)
        return StreetSettings.objects.filter(street__in=streets).select_related("street")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "street":
            kwargs["queryset"] = policy.catalogue_streets_manageable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.catalogue_streets_manageable_by(request.user).exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return policy.can_use_admin(request.user)
        return policy.can_manage_catalogue(request.user, obj.street)

    def save_model(
        self, request: HttpRequest, obj: StreetSettings, form: Any, change: bool
    ) -> None:
        street_settings_save(actor=acting_user(request), settings=obj)


@admin.register(RouterModel, site=admin_site)
class RouterModelAdmin(ScopedAdmin):
    """The training runs, to read; `shanzhi routing train` makes them."""

    list_display = ["street", "trained_at", "cases", "types", "held_out", "accuracy", "macro_f1"]
    exclude = ["payload", "units"]
    list_select_related = ["street"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RouterModel]:
        streets = policy.catalogue_streets_manageable_by(request.user)
        return RouterModel.objects.filter(street__in=streets).defer("payload")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
