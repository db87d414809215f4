from django.urls import path

from . import views_cases, views_cases_actions, views_cases_desk

urlpatterns = [
    path("inbox/", views_cases.inbox, name="inbox"),
    path("inbox/cases/", views_cases.inbox_cases, name="inbox_cases"),
    path("inbox/notifications/", views_cases.inbox_notifications, name="inbox_notifications"),
    path("inbox/notifications/read/", views_cases.notifications_read, name="notifications_read"),
    path("cases/", views_cases.cases, name="case_list"),
    path("cases/<str:number>/", views_cases.case_detail, name="case_detail"),
    path("cases/<str:number>/photos/<int:pk>/", views_cases.case_photo, name="case_photo"),
    path("cases/<str:number>/contact/", views_cases.case_contact, name="case_contact"),
    path("cases/<str:number>/act/<str:action>/", views_cases_actions.case_act, name="case_act"),
    path(
        "cases/<str:number>/documents/<str:key>.docx",
        views_cases.case_document_view,
        name="case_document",
    ),
    path("desk/", views_cases_desk.desk, name="desk"),
    path("desk/queues/<str:name>/", views_cases_desk.desk_queue_fragment, name="desk_queue"),
    path("desk/intake/", views_cases_desk.intake, name="desk_intake"),
    path("desk/intake/checks/", views_cases_desk.intake_checks, name="desk_intake_checks"),
    path("oversight/", views_cases_desk.oversight, name="oversight"),
    path(
        "oversight/overdue/",
        views_cases_desk.oversight_overdue_fragment,
        name="oversight_overdue",
    ),
    path(
        "oversight/supervised/",
        views_cases_desk.oversight_supervised_fragment,
        name="oversight_supervised",
    ),
]
