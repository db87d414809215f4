"""The registry in the administration screens: tags and privileges to tune, the access log to
read, and the records themselves to look at within the admin's scope.

Records are shown, never written here: they are kept on the registry pages, the API and imports,
which check versions and soft-delete. ID numbers and phones appear masked only; the sealed and
digest columns are never on a screen, nor the full birth date (with the masked ID number it
would give the whole number back).
"""

from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from shanzhi import policy
from shanzhi.admin_site import ScopedAdmin, admin_site

from .models import (
    AccessLog,
    Building,
    Enterprise,
    Facility,
    House,
    Person,
    RolePrivilege,
    Tag,
    TagKind,
)


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["code", "name", "kind", "visit_interval_days", "sort"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("visit_interval_days") and self.instance.kind != TagKind.CARE:
            raise forms.ValidationError("只有关爱对象标签才设走访周期")
        return data


@admin.register(Tag, site=admin_site)
class TagAdmin(ScopedAdmin):
    """Every street shares the tags; the platform's administrators tune names and visit periods.

    Codes and kinds stay as seeded: code is what imports and filters name, and kind decides who
    may see a tag.
    """

    form = TagForm
    list_display = ["name", "code", "kind", "visit_interval_days", "sort"]
    list_filter = ["kind"]
    readonly_fields = ["code", "kind"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.is_platform_admin(request.user)


@admin.register(RolePrivilege, site=admin_site)
class RolePrivilegeAdmin(ScopedAdmin):
    """Which roles may unmask, see sensitive tags or export personal data: the platform's call.

    A row is only a (role, privilege) pair with no history of its own, so withdrawing a
    privilege is deleting its row.
    """

    list_display = ["privilege", "role"]
    list_filter = ["privilege", "role"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policy.is_platform_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return policy.is_platform_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.is_platform_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return policy.is_platform_admin(request.user)


@admin.register(AccessLog, site=admin_site)
class AccessLogAdmin(ScopedAdmin):
    """Who read whose personal data in the clear, and why. Nobody adds, changes or deletes a row,
    not even a superuser: the log is evidence."""

    list_display = [
        "at",
        "user",
        "subject_label",
        "field",
        "via",
        "reason",
        "record_count",
        "area",
    ]
    list_filter = ["field", "via"]
    search_fields = ["subject_label", "reason", "user__username", "user__full_name"]
    date_hierarchy = "at"
    list_select_related = ["user", "area"]
    list_per_page = 50
    fields = readonly_fields = (
        "at",
        "user",
        "street",
        "area",
        "subject_kind",
        "subject_id",
        "subject_label",
        "field",
        "via",
        "reason",
        "record_count",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessLog]:
        return policy.access_logs_visible_to(request.user).select_related("user", "area", "street")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class RecordAdmin(ScopedAdmin):
    """A registry record within the admin's scope, read-only; `shown` names what is on screen.

    The screen lists exactly `shown` (plus what `extra_fields` adds for the viewer), so a column
    added to the model later stays off it until someone decides it belongs there.
    """

    shown: Sequence[str] = ()
    related: Sequence[str] = ("area",)
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return policy.records_visible_to(request.user, self.model).select_related(*self.related)

    def extra_fields(self, request: HttpRequest) -> list[Callable[[Any], Any]]:
        return []

    # Django takes callables among the fields; the stubs know only names, hence `Any`.
    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*self.shown, *self.extra_fields(request)]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


RECORD_TAIL = ("area", "street", "version", "verified_at", "created_at", "updated_at")


@admin.register(Person, site=admin_site)
class PersonAdmin(RecordAdmin):
    list_display = [
        "name",
        "id_number_masked",
        "phone_masked",
        "sex",
        "birth_year",
        "household_type",
        "area",
    ]
    list_filter = ["household_type", "sex"]
    search_fields = ["name"]
    related = ("area", "street", "house")
    shown = (
        "name",
        "id_number_masked",
        "phone_masked",
        "birth_year",
        "sex",
        "household_type",
        "house",
        "note",
        *RECORD_TAIL,
    )

    @admin.display(description="出生年份")
    def birth_year(self, obj: Person) -> int:
        return obj.birth_date.year

    def extra_fields(self, request: HttpRequest) -> list[Callable[[Any], Any]]:
        user = request.user

        @admin.display(description="标签")
        def tags(person: Person) -> str:
            shown = policy.tags_visible_to(user, person.area).filter(taggings__person=person)
            return "、".join(tag.name for tag in shown) or "—"

        return [tags]


@admin.register(House, site=admin_site)
class HouseAdmin(RecordAdmin):
    list_display = ["address", "use", "building", "area"]
    list_filter = ["use"]
    search_fields = ["address"]
    related = ("area", "street", "building")
    shown = ("address", "building", "unit_no", "floor", "room", "use", "floor_area", *RECORD_TAIL)


@admin.register(Building, site=admin_site)
class BuildingAdmin(RecordAdmin):
    list_display = ["address", "compound", "name", "floors", "area"]
    search_fields = ["address", "compound", "name"]
    related = ("area", "street")
    shown = ("compound", "name", "address", "floors", "unit_count", *RECORD_TAIL)


@admin.register(Enterprise, site=admin_site)
class EnterpriseAdmin(RecordAdmin):
    list_display = ["name", "credit_code", "scale", "industry", "contact_phone_masked", "area"]
    list_filter = ["scale"]
    search_fields = ["name", "credit_code"]
    related = ("area", "street", "building")
    shown = (
        "name",
        "credit_code",
        "scale",
        "industry",
        "address",
        "building",
        "contact_name",
        "contact_phone_masked",
        "employees",
        "libraries",
        *RECORD_TAIL,
    )

    @admin.display(description="所在企业库")
    def libraries(self, obj: Enterprise) -> str:
        current = obj.library_entries.filter(left_on__isnull=True)
        return "、".join(f"{e.get_library_display()}({e.entered_on})" for e in current) or "—"


@admin.register(Facility, site=admin_site)
class FacilityAdmin(RecordAdmin):
    list_display = ["code", "name", "kind", "last_inspected_on", "area"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "address"]
    related = ("area", "street", "enterprise")
    shown = (
        "code",
        "kind",
        "name",
        "address",
        "owner",
        "enterprise",
        "inspection_cycle_days",
        "last_inspected_on",
        "next_inspection",
        *RECORD_TAIL,
    )

    @admin.display(description="下次检查")
    def next_inspection(self, obj: Facility) -> Any:
        return obj.next_inspection_on or "—"
