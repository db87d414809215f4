from django.urls import path

from . import views_accounts as views

urlpatterns = [
    path("accounts/login/", views.sign_in, name="login"),
    path("accounts/logout/", views.sign_out, name="logout"),
    path("accounts/otp/", views.otp_verify, name="otp_verify"),
    path("accounts/otp/setup/", views.otp_setup, name="otp_setup"),
    path("accounts/password/", views.password_change_page, name="password_change"),
    path("accounts/security/", views.account_security, name="account_security"),
    path("security-log/", views.security_log, name="security_log"),
]
