"""Signing in and out, the second factor, changing a password, and the security log page."""

from typing import Any, cast
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shanzhi import policy
from shanzhi.accounts import second_factor as otp
from shanzhi.accounts.middleware import OWED_KEY, sign_in_step
from shanzhi.accounts.models import User
from shanzhi.accounts.passwords import password_change, password_change_due
from shanzhi.accounts.selectors import security_events_filtered
from shanzhi.accounts.signin import sign_out_everywhere, signin_succeeded
from shanzhi.client_ip import client_ip
from shanzhi.errors import DomainError

from .forms_accounts import (
    EnrolForm,
    PasswordChangeForm,
    SecondFactorForm,
    SecurityLogFilter,
    SignInForm,
)
from .views_cases import staff_page

LOG_PAGE_SIZE = 50


def _next_url(request: HttpRequest, default: str = "home") -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse(default)


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url}, safe='/')}"


def _user(request: HttpRequest) -> User:
    # login_required has turned away anonymous visitors before any of these views runs.
    return cast(User, request.user)


class SignInView(LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(max_failures=settings.SHANZHI_SIGNIN_MAX_FAILURES, **kwargs)

    def form_valid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_valid(form)
        user = cast(User, form.get_user())
        owed = bool(self.request.session.get(OWED_KEY))
        signin_succeeded(user=user, address=client_ip(self.request), second_factor_pending=owed)
        if owed:
            step = "otp_verify" if otp.second_factor_enrolled(user) else "otp_setup"
            return HttpResponseRedirect(_with_next(step, self.get_success_url()))
        return response


sign_in = sign_in_step(reachable="second_factor")(SignInView.as_view())


@sign_in_step(reachable="second_factor")
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """退出登录: this browser and every other one the account is signed in on."""
    sign_out_everywhere(request)
    messages.info(request, "已退出登录。")
    return redirect("login")


@sign_in_step(reachable="second_factor")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the phone, or a recovery code."""
    user = _user(request)
    if not otp.second_factor_enrolled(user):
        return redirect(_with_next("otp_setup", _next_url(request)))
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(_next_url(request))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = otp.second_factor_verify(
                user=user, code=form.cleaned_data["code"], address=client_ip(request)
            )
        except DomainError as exc:
            form.add_error("code", exc.message)
        else:
            django_otp.login(request, device)
            if isinstance(device, otp.RecoveryCodeDevice):
                left = otp.recovery_codes_left(user)
                messages.warning(
                    request, f"已使用一个恢复码登录,还剩 {left} 个;请尽快在“账号安全”中重新生成。"
                )
            return redirect(_next_url(request))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "web/accounts/otp_verify.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )


@sign_in_step(reachable="second_factor")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol a phone: scan the code, type what the app shows, keep the recovery codes."""
    user = _user(request)
    if otp.second_factor_enrolled(user) and not user.is_verified():  # type: ignore[attr-defined]
        # Whoever knows only the password must not replace the phone that guards the account.
        return redirect(_with_next("otp_verify", _next_url(request)))
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = otp.totp_enrol_confirm(
                user=user, code=form.cleaned_data["code"], address=client_ip(request)
            )
        except DomainError as exc:
            form.add_error("code", exc.message)
        else:
            django_otp.login(request, device)
            request.session[OWED_KEY] = True
            return render(
                request,
                "web/accounts/recovery_codes.html",
                {"codes": codes, "next": _next_url(request), "enrolled_now": True},
            )
    device = otp.totp_enrol_start(user=user)
    context = {
        "form": form,
        "qr": otp.totp_qr_svg(device),
        "secret": otp.totp_secret_text(device),
        "required": otp.second_factor_required(user),
        "next": _next_url(request),
    }
    return render(
        request,
        "web/accounts/otp_setup.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_security(request: HttpRequest) -> HttpResponse:
    """账号安全: the second factor, the recovery codes and the password of one's own account."""
    user = _user(request)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "renew_codes":
                codes = otp.recovery_codes_renew(user=user, address=client_ip(request))
                return render(
                    request,
                    "web/accounts/recovery_codes.html",
                    {"codes": codes, "next": reverse("account_security")},
                )
            if action == "remove":
                if otp.second_factor_required(user):
                    raise otp.SecondFactorError(
                        "您的角色要求使用动态口令,不能解除;换手机请先绑定新手机"
                    )
                otp.second_factor_remove(user=user, actor=user, address=client_ip(request))
                request.session[OWED_KEY] = False
                messages.success(request, "已解除动态口令。")
                return redirect("account_security")
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("account_security")
    return render(
        request,
        "web/accounts/security.html",
        {"otp": otp.enrolment_summary(user), "password_changed_at": user.password_changed_at},
    )


@sign_in_step(reachable="password")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change_page(request: HttpRequest) -> HttpResponse:
    """修改密码; also the page a person is sent to when their password must change."""
    user = _user(request)
    form = PasswordChangeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        password_change(
            user=user, password=form.cleaned_data["new_password1"], address=client_ip(request)
        )
        # The password is in the session's hash: keep this session, end all the others.
        update_session_auth_hash(request, user)
        messages.success(request, "密码已修改,其他设备上的登录已失效。")
        return redirect(_next_url(request))
    return render(
        request,
        "web/accounts/password_change.html",
        {"form": form, "reason": password_change_due(user), "next": _next_url(request)},
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@staff_page(policy.can_read_security_log)
def security_log(request: HttpRequest) -> HttpResponseBase:
    """安全日志: sign-ins, locks, passwords, second factors, grants and API keys, read-only."""
    form = SecurityLogFilter(request.GET or None)
    events = policy.security_events_visible_to(request.user)
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
        events = events.none()
    elif form.is_bound:
        data: dict[str, Any] = form.cleaned_data
        events = security_events_filtered(
            events=events,
            kind=data.get("kind") or "",
            username=data.get("username") or "",
            since=data.get("since"),
            until=data.get("until"),
        )
    else:
        events = security_events_filtered(events=events)
    page = Paginator(events, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/accounts/security_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=status,
    )
