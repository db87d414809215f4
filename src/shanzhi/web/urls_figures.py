from django.urls import path

from . import views_figures

urlpatterns = [
    path("rankings/", views_figures.rankings, name="rankings"),
    path("rankings/export.xlsx", views_figures.rankings_export, name="rankings_export"),
    path("baselines/", views_figures.baselines, name="baselines"),
    path(
        "baselines/<int:pk>/correct/",
        views_figures.baseline_correct_view,
        name="baseline_correct",
    ),
    path(
        "baselines/<int:pk>/withdraw/",
        views_figures.baseline_withdraw_view,
        name="baseline_withdraw",
    ),
    path("baselines/template.xlsx", views_figures.baseline_template, name="baseline_template"),
    path("baselines/import/", views_figures.baseline_import, name="baseline_import"),
]
