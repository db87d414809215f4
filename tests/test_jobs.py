"""Long jobs: their rows, their page (progress bar, result, error, start again), running once,
the sweep as a task, notification delivery as a task, and a real worker on the real Redis."""

import io
import socket
import threading

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from shanzhi.cases import services as case_services
from shanzhi.cases.models import Notification, Source
from shanzhi.cases.tasks import notify_action
from shanzhi.jobs import services, works
from shanzhi.jobs.models import Job, JobKind, JobStatus
from shanzhi.jobs.services import Outcome, job_kind
from shanzhi.registry.models import Person

from .test_pages_registry_io import upload
from .test_registry_import import person_row

pytestmark = pytest.mark.django_db
REDIS = "redis://127.0.0.1:6379/11"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_DIR = tmp_path


def import_job(world, rows, *, dry_run=False) -> Job:
    return Job.objects.create(
        kind=JobKind.REGISTRY_IMPORT,
        title="导入居民",
        created_by=world.admin,
        params={"kind": "persons", "street": world.street.pk, "dry_run": dry_run},
        upload=upload(rows),
    )


def test_an_import_job_applies_once_however_often_it_is_delivered(world):
    job = import_job(world, [person_row(n) for n in range(3)])

    services.job_execute(job.pk)
    services.job_execute(job.pk)  # the queue delivered its message again

    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 1
    assert job.summary["applied"] and job.summary["rows"] == 3
    assert not job.upload  # the file with its ID numbers is gone once read
    assert Person.objects.count() == 3


def test_a_job_that_fails_half_way_leaves_nothing_and_can_be_started_again(world, monkeypatch):
    job = import_job(world, [person_row(n) for n in range(3)])
    work, applies = services.WORKS[JobKind.REGISTRY_IMPORT]

    def breaks_after_writing(job, progress):
        work(job, progress)
        raise RuntimeError("the worker's disk filled up")

    monkeypatch.setitem(services.WORKS, JobKind.REGISTRY_IMPORT, (breaks_after_writing, applies))
    services.job_execute(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "任务运行出错" in job.error
    assert Person.objects.count() == 0

    monkeypatch.setitem(services.WORKS, JobKind.REGISTRY_IMPORT, (work, applies))
    services.job_retry(job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 2
    assert Person.objects.count() == 3
    services.job_retry(job=job)  # a done job is not run again
    assert Person.objects.count() == 3


def test_the_job_page_shows_progress_then_the_result_and_only_to_its_owner(client, world):
    job = Job.objects.create(
        kind=JobKind.REPORT,
        title="工作总结:城厢街道 2025",
        created_by=world.leader,
        status=JobStatus.RUNNING,
        percent=40,
        progress="正在汇总各项数字",
    )
    client.force_login(world.leader)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert '<progress max="100" value="40"' in page and "正在汇总各项数字" in page
    assert 'hx-trigger="every 1s"' in page
    region = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in region and 'data-status="running"' in region

    services.job_finish(job.pk, {})
    job.refresh_from_db()
    job.result.save("r.md", ContentFile(b"# ok"))
    job.result_name = "r.md"
    job.save()
    done = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and f"/jobs/{job.pk}/download" in done
    download = client.get(f"/jobs/{job.pk}/download")
    assert b"".join(download.streaming_content) == b"# ok"

    client.force_login(world.dispatcher)
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/jobs/{job.pk}/download").status_code == 404


def test_a_failed_job_says_why_in_chinese_and_is_started_again_from_its_page(client, world):
    job = Job.objects.create(
        kind=JobKind.REPORT,
        title="工作总结",
        created_by=world.leader,
        params={"area": world.street.code, "period": "后年", "format": "md"},
    )
    services.job_execute(job.pk)
    client.force_login(world.leader)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "失败" in page and "无法识别期间“后年”" in page and "重新运行" in page

    Job.objects.filter(pk=job.pk).update(params={**job.params, "period": "2025"})
    response = client.post(f"/jobs/{job.pk}/retry")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.result_name.endswith(".md")


def test_the_web_import_runs_as_a_job_and_shows_its_result(client, world):
    client.force_login(world.admin)
    response = client.post(
        "/registry/import/",
        {
            "kind": "persons",
            "street": "330109001",
            "file": upload([person_row(1)]),
            "mode": "apply",
        },
    )
    assert response.status_code == 200 and "导入完成" in response.content.decode()
    job = Job.objects.get(kind=JobKind.REGISTRY_IMPORT)
    assert job.created_by == world.admin and job.status == JobStatus.DONE
    assert Person.objects.count() == 1


def test_the_sweep_runs_as_a_job_that_celery_beat_starts(settings, world):
    from shanzhi.jobs.tasks import sweep

    assert settings.CELERY_BEAT_SCHEDULE["sweep"]["task"] == sweep.name
    sweep()
    job = Job.objects.get(kind=JobKind.SWEEP)
    assert job.status == JobStatus.DONE and set(job.summary) >= {"reminded", "supervised"}


def test_notifications_are_delivered_once_by_their_task(world):
    case, _ = case_services.case_report(
        area=world.microgrid, source=Source.HOTLINE, actor=world.dispatcher, description="路灯不亮"
    )
    case = case_services.case_accept(case=case, actor=world.dispatcher, case_type=_type(world))
    case = case_services.case_dispatch(case=case, actor=world.dispatcher, unit=world.handler.unit)
    log = case.actions.order_by("-pk").first()
    before = Notification.objects.filter(user=world.handler).count()
    notify_action(log.pk, case.version)
    notify_action(log.pk, case.version)
    assert Notification.objects.filter(user=world.handler).count() == max(before, 1)


def _type(world):
    from .case_factories import case_type

    return case_type(world, "CG-SZ-01")


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not _redis_up(), reason="Redis 不可用(127.0.0.1:6379)")
def test_a_real_worker_runs_a_job_from_the_real_redis(settings, world):
    import redis
    from celery.contrib.testing.worker import start_worker

    from shanzhi.celery import app

    redis.Redis.from_url(REDIS).flushdb()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=REDIS, task_always_eager=False)
    seen = threading.Event()
    ran_in: list[threading.Thread] = []

    @job_kind("probe")
    def probe(job, progress):
        progress(50, "半程")
        ran_in.append(threading.current_thread())
        seen.set()
        return Outcome(content=connection.vendor.encode(), filename="probe.txt")

    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            job = services.job_start(kind="probe", title="探针", actor=world.admin)
            assert seen.wait(timeout=30)
            for _ in range(100):
                job.refresh_from_db()
                if job.finished:
                    break
                threading.Event().wait(0.1)
    finally:
        app.conf.update(saved)
        services.WORKS.pop("probe", None)
    assert ran_in[0] is not threading.current_thread()  # the worker took it off the queue
    assert job.status == JobStatus.DONE and job.result.read() == connection.vendor.encode()


assert works  # the kinds' work is declared on import


# The first minute ---------------------------------------------------------------------------


def test_every_page_shows_the_demo_years_progress_while_it_builds(client, settings, db):
    from shanzhi.jobs.selectors import demo_building_flag

    job = Job.objects.create(
        kind=JobKind.DEMO,
        title="生成演示数据",
        status=JobStatus.RUNNING,
        percent=42,
        progress="正在生成 2025年5月的事件",
        summary={"accounts": [["领导", "chengxiang.leader"]], "password": "shanzhi2026"},
    )
    assert "demo-banner" not in client.get("/accounts/login/").content.decode()  # no flag yet

    demo_building_flag().touch()
    page = client.get("/accounts/login/").content.decode()
    assert 'data-testid="demo-banner"' in page and "正在生成 2025年5月的事件(42%)" in page
    assert "chengxiang.leader" in page and 'hx-trigger="every 3s"' in page

    services.job_finish(job.pk)
    assert "demo-banner" not in client.get("/jobs/demo-banner").content.decode()


def test_a_demo_build_stopped_half_way_says_so_at_the_next_start(settings, world):
    from django.core.management import call_command

    job = Job.objects.create(
        kind=JobKind.DEMO, title="生成演示数据", status=JobStatus.RUNNING, params={"pid": 2**22 + 7}
    )
    call_command("demo", "--if-empty", "--background", stdout=io.StringIO())
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "中断" in job.error


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="进度另用一个连接写入,只在 PostgreSQL 上"
)
@pytest.mark.django_db(transaction=True)
def test_an_applying_jobs_progress_is_seen_while_its_transaction_is_open(world):
    from django.db import connections

    seen: list[int] = []

    def look() -> None:
        try:
            seen.append(Job.objects.get(kind="probe_apply").percent)
        finally:
            connections.close_all()

    @job_kind("probe_apply", applies=True)
    def probe(job, progress):
        progress(50, "半程")
        other = threading.Thread(target=look)
        other.start()
        other.join(timeout=10)
        return Outcome(summary={"ok": True})

    job = Job.objects.create(kind="probe_apply", title="探针", created_by=world.admin)
    runner = threading.Thread(
        target=lambda: (services.job_execute(job.pk), connections.close_all())
    )
    try:
        runner.start()
        runner.join(timeout=30)
        assert not runner.is_alive(), "the job waited on its own progress"
    finally:
        services.WORKS.pop("probe_apply", None)
    job.refresh_from_db()
    assert seen == [50] and job.status == JobStatus.DONE
