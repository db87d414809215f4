from django.urls import path

from . import views_dashboard

urlpatterns = [
    path("", views_dashboard.dashboard, name="dashboard"),
    path("charts/<str:name>/", views_dashboard.dashboard_chart, name="dashboard_chart"),
    path("lists/<str:name>/", views_dashboard.dashboard_list, name="dashboard_list"),
]
