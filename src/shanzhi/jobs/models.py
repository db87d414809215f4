"""A long job's row: what was asked, by whom, how far it is, and its result or why it failed."""

from django.conf import settings
from django.db import models


class JobKind(models.TextChoices):
    REPORT = "report", "工作总结"
    REGISTRY_IMPORT = "registry_import", "登记导入"
    REGISTRY_EXPORT = "registry_export", "登记导出"
    SWEEP = "sweep", "时限巡检"
    DEMO = "demo", "演示数据"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class Job(models.Model):
    kind = models.CharField("类别", max_length=20, choices=JobKind.choices)
    title = models.CharField("名称", max_length=200)
    status = models.CharField(
        "状态", max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    params = models.JSONField("参数", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    upload = models.FileField("上传文件", upload_to="jobs/in/%Y%m/", blank=True)
    result = models.FileField("结果文件", upload_to="jobs/out/%Y%m/", blank=True)
    result_name = models.CharField("结果文件名", max_length=200, blank=True)
    summary = models.JSONField("结果摘要", default=dict, blank=True)
    error = models.TextField("失败原因", blank=True)
    # Progress of a running job, written outside its transaction so that the page sees it move.
    percent = models.PositiveSmallIntegerField("进度", default=0)
    progress = models.CharField("进度说明", max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField("已运行次数", default=0)
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "status"], name="job_kind_status")]

    def __str__(self) -> str:
        return f"{self.title}({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
