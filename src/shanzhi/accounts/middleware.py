"""The sign-in guard: idle sessions end, and a session owing a second factor or a new password
reaches nothing but the page that settles it.

It runs after django-otp's middleware (which tells whether the session passed its second
factor). The API and Open311 authenticate each request by key, not by session, and are left
alone. Views that are steps of signing in are marked with `sign_in_step`.

Whether a session owes a second factor is worked out when it starts and kept in it, so that an
ordinary request costs no query here; the admin site asks again on every request (admin_site).
"""

import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .passwords import password_change_due
from .second_factor import second_factor_enrolled, second_factor_owed, second_factor_pending
from .signin import SEEN_KEY, session_idle_expired

KEY_AUTHENTICATED = ("/api/", "/open311/")
OWED_KEY = "shanzhi_second_factor"


ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])
# The steps a half-signed-in session is at: owing its second factor, or owing a new password.
STEPS = ("second_factor", "password")


def sign_in_step(*, reachable: str) -> Callable[[ViewFunc], ViewFunc]:
    """Mark a view that a session must reach while it still owes `reachable` (a step of STEPS):
    the second-factor pages (and signing out) before the second factor, the password page
    before a new password, but not before the second factor."""
    if reachable not in STEPS:
        raise ValueError(f"unknown sign-in step {reachable!r}")

    def mark(view: ViewFunc) -> ViewFunc:
        view.sign_in_step = reachable  # type: ignore[attr-defined]
        return view

    return mark


def session_begin(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Start the idle clock and note whether this session owes a second factor."""
    request.session[SEEN_KEY] = int(time.time())
    request.session[OWED_KEY] = second_factor_owed(user)


def _redirect(request: HttpRequest, url_name: str) -> HttpResponse:
    target = reverse(url_name)
    if request.method == "GET":
        target += "?" + urlencode({"next": request.get_full_path()}, safe="/")
    if request.headers.get("HX-Request") == "true":
        # htmx would swap the page into a fragment's place; have it load the page instead.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return HttpResponseRedirect(target)


def _owes_second_factor(request: HttpRequest) -> bool:
    owed = request.session.get(OWED_KEY)
    if owed is False:
        return False
    if owed is True and request.user.is_verified():  # type: ignore[union-attr]
        return False
    # Unknown (a session from before this guard) or unpaid: ask the database, and remember.
    owed = second_factor_pending(request.user)
    request.session[OWED_KEY] = owed
    return owed


class SignInGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(KEY_AUTHENTICATED) and session_idle_expired(request):
            messages.info(request, "长时间未操作,已自动退出,请重新登录。")
            return _redirect(request, "login")
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        step = getattr(view, "sign_in_step", None)
        if request.path.startswith(KEY_AUTHENTICATED) or step == "second_factor":
            return None
        user = request.user
        if not user.is_authenticated:
            return None
        if _owes_second_factor(request):
            return _redirect(request, "otp_verify" if second_factor_enrolled(user) else "otp_setup")
        if step != "password" and password_change_due(user):
            return _redirect(request, "password_change")
        return None
