from django.urls import path

from . import views_field_registry as views

urlpatterns = [
    path("visits/", views.field_visits, name="field_visits"),
    path("visits/badge/", views.field_visits_badge, name="field_visits_badge"),
    path("people/<int:pk>/", views.field_person, name="field_person"),
    path("people/<int:pk>/visit/", views.field_person_visit, name="field_person_visit"),
    path("enterprises/", views.field_enterprises, name="field_enterprises"),
    path(
        "enterprises/<int:pk>/visit/",
        views.field_enterprise_visit,
        name="field_enterprise_visit",
    ),
    path("verification/", views.field_verification, name="field_verification"),
    path(
        "verification/<int:task_pk>/",
        views.field_verification_task,
        name="field_verification_task",
    ),
    path(
        "verification/<int:task_pk>/items/<int:item_pk>/",
        views.field_verification_check,
        name="field_verification_check",
    ),
]
