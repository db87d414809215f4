"""The administration screens, open to whom the policy module says and scoped by it."""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from shanzhi import policy
from shanzhi.accounts.models import User
from shanzhi.accounts.second_factor import second_factor_pending
from shanzhi.accounts.signin import sign_out_everywhere


class ShanzhiAdminSite(admin.AdminSite):
    site_header = "善治 · 管理后台"
    site_title = "善治管理后台"
    index_title = "辖区、单位与人员"

    def has_permission(self, request: HttpRequest) -> bool:
        # Asked afresh on every admin request, whatever the session remembers: no second
        # factor owed and unpaid, even for a grant made after this session signed in.
        return policy.can_use_admin(request.user) and not second_factor_pending(request.user)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """One way in for the whole site: the sign-in page, with its lock and second factor."""
        if second_factor_pending(request.user):
            query = urlencode({"next": request.GET.get("next") or reverse("admin:index")}, safe="/")
            return HttpResponseRedirect(f"{reverse('otp_verify')}?{query}")
        if request.user.is_authenticated:
            return render(request, "web/accounts/admin_refused.html", status=403)
        query = urlencode({"next": request.GET.get("next") or reverse("admin:index")}, safe="/")
        return HttpResponseRedirect(f"{reverse('login')}?{query}")

    def logout(  # type: ignore[override]  # a redirect, not the stock "signed out" page
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        sign_out_everywhere(request)
        return HttpResponseRedirect(reverse("login"))


admin_site = ShanzhiAdminSite(name="admin")


class ScopedAdmin(admin.ModelAdmin):
    """Access to every screen comes from the policy module, not from Django's model permissions.

    Nothing is deleted from here: areas, units, users and grants carry history, so they are
    deactivated or revoked instead.
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policy.can_use_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return policy.can_use_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.can_use_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        """Forms with a `narrow()` method get the signed-in user and offer only their scope."""
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if not hasattr(form_class, "narrow"):
            return form_class
        user = request.user

        class ScopedForm(form_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                self.user = user
                self.narrow()

        return ScopedForm


def acting_user(request: HttpRequest) -> User:
    """The signed-in user behind an admin request (the site lets no one else in)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def limit_choices(field: forms.Field, queryset: QuerySet[Any]) -> None:
    """Offer only the rows of the user's scope in a choice field."""
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{field!r} is not a model choice field")
    field.queryset = queryset
