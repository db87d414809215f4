"""The Celery tasks: a job of any kind, and the periodic sweep that celery beat starts."""

from celery import shared_task  # type: ignore[import-untyped]

from .models import JobKind


@shared_task(name="shanzhi.jobs.tasks.job_run")
def job_run(job_id: int) -> None:
    from . import works  # noqa: F401 - declares the kinds' work
    from .services import job_execute

    job_execute(job_id)


@shared_task(name="shanzhi.jobs.tasks.sweep")
def sweep() -> None:
    """The deadline sweep as a job (celery beat, every SHANZHI_SWEEP_SECONDS)."""
    from .services import job_start

    job_start(kind=JobKind.SWEEP, title="时限巡检", actor=None)
