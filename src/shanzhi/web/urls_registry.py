from django.urls import URLPattern, path, re_path

from . import views_cases, views_registry

# Only the record kinds: other paths under /registry/ (import, export, verification…) are
# left for the patterns that own them, here and in urls_registry_io.
KIND = r"(?P<kind>person|house|building|enterprise|facility)"

urlpatterns: list[URLPattern] = [
    path("", views_registry.registry_home, name="registry_home"),
    path("access-log/", views_registry.access_log, name="registry_access_log"),
    path("verification/", views_registry.verification_list, name="verification_list"),
    path("verification/new/", views_registry.verification_create, name="verification_create"),
    path(
        "verification/<int:pk>/",
        views_registry.verification_detail,
        name="verification_detail",
    ),
    path(
        "case-links/<str:number>/",
        views_cases.case_record_link,
        name="case_record_link",
    ),
    re_path(rf"^{KIND}/$", views_registry.registry_list, name="registry_list"),
    re_path(rf"^{KIND}/new/$", views_registry.registry_create, name="registry_create"),
    re_path(rf"^{KIND}/(?P<pk>[0-9]+)/$", views_registry.registry_detail, name="registry_detail"),
    re_path(rf"^{KIND}/(?P<pk>[0-9]+)/edit/$", views_registry.registry_edit, name="registry_edit"),
    re_path(
        rf"^{KIND}/(?P<pk>[0-9]+)/delete/$",
        views_registry.registry_delete,
        name="registry_delete",
    ),
    re_path(
        rf"^{KIND}/(?P<pk>[0-9]+)/reveal/$",
        views_registry.registry_reveal,
        name="registry_reveal",
    ),
]
