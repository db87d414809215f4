from django.urls import path

from . import views_routing

urlpatterns = [
    path("suggest/", views_routing.intake_suggestions, name="routing_suggest"),
    path(
        "cases/<str:number>/suggestions/",
        views_routing.case_suggestions,
        name="routing_case_suggestions",
    ),
    path("hotspots/", views_routing.hotspots, name="routing_hotspots"),
    path("hotspots/adopt/", views_routing.hotspot_adopt_view, name="routing_hotspot_adopt"),
]
