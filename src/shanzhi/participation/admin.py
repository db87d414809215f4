"""Admin screens of the participation catalogues: the project status catalogue (each status with
its default progress), the points rules, and the points ledger to read (never to edit)."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from shanzhi import policy
from shanzhi.admin_site import ScopedAdmin, admin_site

from .models import PointEntry, PointRule, ProjectStatus


@admin.register(ProjectStatus, site=admin_site)
class ProjectStatusAdmin(ScopedAdmin):
    """The shared catalogue is the platform's; a street with its own statuses uses only those."""

    list_display = ["name", "default_progress", "completes", "sort", "street"]
    list_filter = ["completes"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.is_platform_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.is_platform_admin(request.user)


@admin.register(PointRule, site=admin_site)
class PointRuleAdmin(ScopedAdmin):
    list_display = ["street", "kind", "per_hour", "per_activity"]
    list_filter = ["kind"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.is_platform_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.is_platform_admin(request.user)


@admin.register(PointEntry, site=admin_site)
class PointEntryAdmin(ScopedAdmin):
    """The ledger is append-only: read here, added to only by the services."""

    list_display = ["at", "volunteer", "delta", "balance", "reason", "actor"]
    list_select_related = ["volunteer__person", "actor"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PointEntry]:
        visible = policy.volunteers_visible_to(request.user)
        return super().get_queryset(request).filter(volunteer__in=visible)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
