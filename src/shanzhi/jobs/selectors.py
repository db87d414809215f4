"""Reads for long jobs shared by the pages."""

from pathlib import Path

from django.conf import settings

from .models import Job, JobKind, JobStatus


def demo_building_flag() -> Path:
    """While a background process builds the demo, this file tells the pages to look for its
    job (so that no page pays a query for it otherwise)."""
    return Path(settings.DATA_DIR) / "demo.building"


def demo_job_unfinished() -> Job | None:
    """The demo year while it is still being built (or stopped half-way), for the banner."""
    return (
        Job.objects.filter(kind=JobKind.DEMO)
        .exclude(status=JobStatus.DONE)
        .order_by("-pk")
        .only("pk", "status", "percent", "progress", "error", "title")
        .first()
    )
