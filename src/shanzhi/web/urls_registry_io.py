from django.urls import path

from . import views_registry_io

urlpatterns = [
    path("import/", views_registry_io.registry_import, name="registry_import"),
    path(
        "import/<str:kind>/template.xlsx",
        views_registry_io.registry_import_template,
        name="registry_import_template",
    ),
    path(
        "<str:kind>/export.xlsx",
        views_registry_io.registry_export_view,
        name="registry_export",
    ),
]
