from django.urls import path

from . import views_jobs

urlpatterns = [
    path("<int:job_id>/", views_jobs.job_detail, name="job_detail"),
    path("<int:job_id>/download", views_jobs.job_download, name="job_download"),
    path("<int:job_id>/retry", views_jobs.job_start_again, name="job_retry"),
    path("demo-banner", views_jobs.demo_banner, name="demo_banner"),
]
