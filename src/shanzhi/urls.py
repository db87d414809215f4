from django.contrib.auth import views as auth_views
from django.urls import include, path

from shanzhi.admin_site import admin_site

urlpatterns = [
    path("admin/", admin_site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("shanzhi.web.urls")),
]
