from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from shanzhi import policy
from shanzhi.admin_site import ScopedAdmin, admin_site

from .models import Job


@admin.register(Job, site=admin_site)
class JobAdmin(ScopedAdmin):
    """Jobs are watched here; they are started from the pages, the commands and celery beat."""

    list_display = ["pk", "title", "kind", "status", "percent", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["created_by"]
    readonly_fields = [f.name for f in Job._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Job]:
        return policy.jobs_visible_to(request.user).select_related("created_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
