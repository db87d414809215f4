from django.urls import path

from . import views, views_cases_export, views_desk_bulk, views_landing, views_posters

urlpatterns = [
    path("", views_landing.home, name="home"),
    path("areas/", views.area_tree, name="area_tree"),
    path("setup/", views_landing.setup_checklist, name="setup_checklist"),
    path("setup/streets/", views_landing.street_setup, name="street_setup"),
    path("me/", views_landing.my_reports, name="my_reports"),
    path("cases/export.xlsx", views_cases_export.case_list_export, name="case_list_export"),
    path("cases/<str:number>/print/", views_cases_export.case_print, name="case_print"),
    path("desk/bulk/", views_desk_bulk.desk_bulk, name="desk_bulk"),
    path("qr/building/<int:pk>/", views_posters.building_poster, name="building_poster"),
    path("qr/<str:code>/buildings/", views_posters.area_posters, name="area_posters"),
    path("places/search/", views.place_search, name="place_search"),
    path("areas/<str:code>/", views.area_detail, name="area_detail"),
    path("areas/<str:code>/children/", views.area_children_fragment, name="area_children"),
    path("healthz", views.healthz, name="healthz"),
]
