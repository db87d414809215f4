"""Writes for long jobs: start one, run it once, report its progress, start a failed one again.

A job runs as the Celery task `shanzhi.jobs.tasks.job_run` (at once in the asking process when
no broker is configured). Its work and its 已完成 are written in one transaction: a worker that
dies half-way leaves nothing applied, and a job already done is never run again, however many
times its message is delivered. Progress is written beside that transaction (on PostgreSQL
through a connection of its own) so that the page sees it move.
"""

import logging
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, connections, transaction
from django.db.models import F

from shanzhi import clock
from shanzhi.accounts.models import User
from shanzhi.errors import DomainError

from .models import Job, JobStatus

log = logging.getLogger(__name__)

Progress = Callable[[int, str], None]


@dataclass
class Outcome:
    """What a job's work hands back: a file to download and/or a summary to show."""

    content: bytes | None = None
    filename: str = ""
    summary: dict[str, Any] | None = None


Work = Callable[[Job, Progress], Outcome]
# kind -> its work, and whether that work and the job's 已完成 must commit together.
WORKS: dict[str, tuple[Work, bool]] = {}


def job_kind(kind: str, *, applies: bool = False) -> Callable[[Work], Work]:
    """Declare the work of a kind of job (shanzhi.jobs.works). `applies`: it changes data, so
    it runs in one transaction with the job's 已完成 — all of it once, or nothing. Work that
    only reads, or is safe to repeat (the sweep), runs without one and holds no lock."""

    def register(work: Work) -> Work:
        WORKS[kind] = (work, applies)
        return work

    return register


def job_start(
    *,
    kind: str,
    title: str,
    actor: User | None,
    params: dict[str, Any] | None = None,
    upload: tuple[str, bytes] | None = None,
) -> Job:
    """Queue a job; it runs on a worker, or at once here when there is no broker."""
    job = Job(kind=kind, title=title[:200], created_by=actor, params=params or {})
    if upload is not None:
        job.upload.save(upload[0], ContentFile(upload[1]), save=False)
    job.save()
    _enqueue(job)
    job.refresh_from_db()
    return job


def job_retry(*, job: Job) -> Job:
    """Start a failed job again; one that is queued, running or done is left as it is."""
    if Job.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
        status=JobStatus.QUEUED, error="", percent=0, progress=""
    ):
        _enqueue(job)
    job.refresh_from_db()
    return job


def _enqueue(job: Job) -> None:
    from .tasks import job_run

    if settings.CELERY_TASK_ALWAYS_EAGER:
        job_run.apply(args=[job.pk])
    else:
        transaction.on_commit(lambda: job_run.delay(job.pk))


def job_execute(job_id: int) -> None:
    """Run a job once: skipped when it is done, failed, or being run by another worker."""
    moment = clock.now()
    taken = Job.objects.filter(pk=job_id, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).update(
        status=JobStatus.RUNNING, started_at=moment, attempts=F("attempts") + 1
    )
    if not taken:
        return
    try:
        kind = Job.objects.values_list("kind", flat=True).get(pk=job_id)
        work, applies = WORKS[kind]
        with transaction.atomic() if applies else nullcontext():
            if applies and not _held(job_id):
                return  # another worker is running it
            job = Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).first()
            if job is None:
                return
            outcome = work(job, lambda percent, text: _progress(job_id, percent, text))
            if outcome.content is not None:
                job.result.save(outcome.filename, ContentFile(outcome.content), save=False)
                job.result_name = outcome.filename
            job.summary = outcome.summary or {}
            job.status, job.percent, job.progress = JobStatus.DONE, 100, "已完成"
            job.finished_at = clock.now()
            job.save()
        if job.upload:
            # An imported file holds ID numbers in the clear: kept only until it has been read.
            job.upload.delete(save=False)
            Job.objects.filter(pk=job_id).update(upload="")
    except DomainError as exc:
        _failed(job_id, exc.message, code=exc.code)
    except Exception as exc:
        log.exception("后台任务 %s 出错", job_id)
        _failed(job_id, f"任务运行出错({type(exc).__name__}),请稍后重试或联系系统管理员")
    finally:
        side = getattr(_progress_connections, "conn", None)
        if side is not None:
            side.close()
            del _progress_connections.conn


# The lock a worker holds on a job that applies, for the length of its transaction; a lock on
# the job's row would keep its progress (written from another connection) waiting.
JOB_LOCK_SPACE = 7311


def _held(job_id: int) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite has one writer at a time
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [JOB_LOCK_SPACE, job_id])
        return bool(cursor.fetchone()[0])


def _failed(job_id: int, message: str, code: str = "") -> None:
    """The job failed: why, in Chinese, and the rule's code (PermissionDenied's, say)."""
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.FAILED,
        error=message[:2000],
        summary={"code": code} if code else {},
        finished_at=clock.now(),
    )


_progress_connections = threading.local()


def _progress(job_id: int, percent: int, text: str) -> None:
    """Write how far a job is where the page can read it while the job's transaction is open."""
    percent = max(0, min(99, int(percent)))
    if not connection.in_atomic_block:
        Job.objects.filter(pk=job_id).update(percent=percent, progress=text[:200])
    elif connection.vendor == "postgresql":
        side = getattr(_progress_connections, "conn", None)
        if side is None:
            side = _progress_connections.conn = connections.create_connection("default")
        with side.cursor() as cursor:
            cursor.execute(
                "UPDATE jobs_job SET percent = %s, progress = %s WHERE id = %s",
                [percent, text[:200], job_id],
            )
    # SQLite has one writer at a time: the job's transaction holds it, so the page waits for
    # the result instead.


# Jobs run by a process of their own (the demo year) report through these.


def job_progress(job_id: int, percent: int, text: str) -> None:
    _progress(job_id, percent, text)


def job_finish(job_id: int, summary: dict[str, Any] | None = None) -> None:
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.DONE,
        percent=100,
        progress="已完成",
        summary=summary or {},
        finished_at=clock.now(),
    )


def job_fail(job_id: int, message: str) -> None:
    _failed(job_id, message)
