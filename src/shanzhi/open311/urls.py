"""Open311 GeoReport v2 under /open311/v2/. Each path ends in .json or .xml (none means JSON);
request/{id} (the swagger's spelling) and requests/{id} (the wiki's) are both served."""

from django.urls import re_path

from . import views

FMT = r"(?:\.(?P<fmt>[a-z]+))?$"

urlpatterns = [
    re_path(r"^$", views.discovery, name="open311-root"),
    re_path(r"^discovery" + FMT, views.discovery, name="open311-discovery"),
    re_path(r"^services" + FMT, views.services, name="open311-services"),
    re_path(
        r"^services/(?P<service_code>[^/.]+)" + FMT,
        views.service_definition,
        name="open311-service",
    ),
    re_path(r"^requests" + FMT, views.requests, name="open311-requests"),
    re_path(r"^requests/(?P<number>[^/.]+)/media/(?P<pk>\d+)$", views.media, name="open311-media"),
    re_path(r"^requests?/(?P<number>[^/.]+)" + FMT, views.request_detail, name="open311-request"),
    re_path(r"^tokens/(?P<token>[^/.]+)" + FMT, views.token, name="open311-token"),
]
