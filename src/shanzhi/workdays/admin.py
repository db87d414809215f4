from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from shanzhi import policy
from shanzhi.admin_site import ScopedAdmin, acting_user, admin_site

from . import services
from .models import CalendarDay


@admin.register(CalendarDay, site=admin_site)
class CalendarDayAdmin(ScopedAdmin):
    fields = ["date", "is_workday", "note"]
    list_display = ["date", "is_workday", "note", "created_by", "created_at"]
    list_filter = ["is_workday"]
    search_fields = ["note"]
    date_hierarchy = "date"
    list_select_related = ["created_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Moving an override to another date is clearing one and setting another.
        return ["date"] if obj is not None else []

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.can_edit_calendar(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_edit_calendar(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An override carries no history of its own: deadlines already set keep their dates, and
        # clearing it hands the date back to the statutory calendar.
        return policy.can_edit_calendar(request.user)

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        saved = services.calendar_day_set(
            actor=acting_user(request),
            day=obj.date,
            is_workday=form.cleaned_data["is_workday"],
            note=form.cleaned_data["note"],
        )
        obj.pk, obj.created_at = saved.pk, saved.created_at

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        services.calendar_day_clear(actor=acting_user(request), day=obj.date)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        for day in queryset.values_list("date", flat=True):
            services.calendar_day_clear(actor=acting_user(request), day=day)
