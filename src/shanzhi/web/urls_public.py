from django.urls import path, re_path

from . import views_public as views

urlpatterns = [
    path("r/<str:code>/", views.resident_report, name="public_report"),
    path("t/<str:token>/", views.track, name="public_track"),
    path("t/<str:token>/receipt/", views.receipt, name="public_receipt"),
    path("t/<str:token>/rate/", views.track_rate, name="public_rate"),
    path("t/<str:token>/photos/<int:pk>/", views.track_photo, name="public_photo"),
    re_path(r"^qr/(?P<code>[0-9A-Z]{4,32})\.(?P<kind>svg|png)$", views.qr_image, name="public_qr"),
    path("qr/<str:code>/", views.qr_poster, name="public_poster"),
    path("field/", views.field_home, name="field_home"),
    path("field/cases/", views.field_cases, name="field_cases"),
    path("field/report/", views.field_report, name="field_report"),
    path(
        "field/cases/<str:number>/resolve-on-spot/",
        views.field_resolve_on_spot,
        name="field_resolve_on_spot",
    ),
]
