from django.urls import include, path

from shanzhi.admin_site import admin_site

urlpatterns = [
    path("admin/", admin_site.urls),
    path("", include("shanzhi.web.urls_accounts")),
    path("api/v1/", include("shanzhi.api.urls")),
    path("open311/v2/", include("shanzhi.open311.urls")),
    path("", include("shanzhi.web.urls_public")),
    path("", include("shanzhi.web.urls_cases")),
    path("routing/", include("shanzhi.web.urls_routing")),
    path("registry/", include("shanzhi.web.urls_registry")),
    path("registry/", include("shanzhi.web.urls_registry_io")),
    path("field/", include("shanzhi.web.urls_field_registry")),
    path("reports/", include("shanzhi.web.urls_reports")),
    path("dashboard/", include("shanzhi.web.urls_dashboard")),
    path("figures/", include("shanzhi.web.urls_figures")),
    path("jobs/", include("shanzhi.web.urls_jobs")),
    path("", include("shanzhi.participation.urls")),
    path("", include("shanzhi.web.urls")),
]
