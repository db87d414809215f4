from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("places/search/", views.place_search, name="place_search"),
    path("areas/<str:code>/", views.area_detail, name="area_detail"),
    path("areas/<str:code>/children/", views.area_children_fragment, name="area_children"),
    path("healthz", views.healthz, name="healthz"),
]
