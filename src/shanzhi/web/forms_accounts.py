"""Forms of signing in: the password step with its lock, the second factor, a new password, and
the filters of the security log."""

from typing import Any

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import AuthenticationForm

from shanzhi.accounts.models import SecurityEventKind, User
from shanzhi.accounts.signin import SignInLocked, signin_failed, signin_lock_check
from shanzhi.client_ip import client_ip


class SignInForm(AuthenticationForm):
    """Django's sign-in form, refusing while the name or the address is locked."""

    error_messages = {
        "invalid_login": "用户名或密码不正确,请重新输入。",
        "inactive": "该账号已停用,请联系系统管理员。",
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        address = client_ip(self.request) if self.request is not None else ""
        try:
            signin_lock_check(username=username, address=address)
        except SignInLocked as exc:
            raise forms.ValidationError(exc.message, code="locked") from exc
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            locked = signin_failed(username=username, address=address)
            if locked is not None:
                raise forms.ValidationError(locked.message, code="locked")
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label="动态口令",
        max_length=20,
        help_text="手机上动态口令应用显示的 6 位数字;手机丢失时可输入一个恢复码。",
        error_messages={"required": "请输入动态口令"},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label="动态口令",
        max_length=8,
        help_text="扫码后应用中显示的 6 位数字",
        error_messages={"required": "请输入应用中显示的 6 位数字"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label="当前密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        error_messages={"required": "请输入当前密码"},
    )
    new_password1 = forms.CharField(
        label="新密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "请输入新密码"},
    )
    new_password2 = forms.CharField(
        label="再次输入新密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "请再次输入新密码"},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["new_password1"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )

    def clean_old_password(self) -> str:
        old: str = self.cleaned_data["old_password"]
        if not self.user.check_password(old):
            raise forms.ValidationError("当前密码不正确")
        return old

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        new, again = data.get("new_password1"), data.get("new_password2")
        if new and again and new != again:
            self.add_error("new_password2", "两次输入的新密码不一致")
        elif new:
            if new == data.get("old_password"):
                self.add_error("new_password1", "新密码不能与当前密码相同")
            else:
                try:
                    password_validation.validate_password(new, self.user)
                except forms.ValidationError as exc:
                    self.add_error("new_password1", exc)
        return data


class SecurityLogFilter(forms.Form):
    kind = forms.ChoiceField(
        label="事件", required=False, choices=[("", "全部"), *SecurityEventKind.choices]
    )
    username = forms.CharField(label="用户名", required=False, max_length=150)
    since = forms.DateField(
        label="起", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="止", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError("起始日期不能晚于截止日期")
        return data
