import secrets
from typing import TYPE_CHECKING

from django.db import models

from shanzhi.accounts.models import Unit, User
from shanzhi.areas.models import Area
from shanzhi.errors import DomainError
from shanzhi.protection import SealedTextField, digest
from shanzhi.registry.validators import phone_check

if TYPE_CHECKING:
    from shanzhi.cases.flows.spec import Flow


class Source(models.TextChoices):
    GRID_PATROL = "grid_patrol", "网格巡查"
    RESIDENT = "resident", "居民上报"
    HOTLINE = "hotline", "12345热线"
    POLICE = "police", "110警情移交"
    LEADER = "leader", "领导交办"
    ENTERPRISE = "enterprise", "企业反映"
    PETITION = "petition", "来信来访"
    API = "api", "接口接入"


class State(models.TextChoices):
    REPORTED = "reported", "待受理"
    REJECTED = "rejected", "不予受理"
    ACCEPTED = "accepted", "已受理"
    DISPATCHED = "dispatched", "已交办"
    IN_PROGRESS = "in_progress", "处置中"
    RESOLVED = "resolved", "已办结"
    ARCHIVED = "archived", "已归档"
    MERGED = "merged", "已合并"


class HandlingLevel(models.TextChoices):
    GRID = "grid", "网格"
    COMMUNITY = "community", "社区"
    STREET = "street", "街道"
    DISTRICT = "district", "区县"


# 小事不出网格、大事不出社区: a case escalates one step along this list at a time.
LEVEL_ORDER = (
    HandlingLevel.GRID,
    HandlingLevel.COMMUNITY,
    HandlingLevel.STREET,
    HandlingLevel.DISTRICT,
)


class Priority(models.TextChoices):
    LOW = "low", "低"
    NORMAL = "normal", "普通"
    HIGH = "high", "高"
    URGENT = "urgent", "紧急"


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASICALLY = "basically", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


def phone_digest(phone: str) -> str:
    """The digest a phone is searched by, written the one way however it was typed (the same
    digest the registry keeps of a person's phone); "" when it is no phone."""
    try:
        return digest(phone_check(phone))
    except DomainError:
        return ""


def flow_choices() -> list[tuple[str, str]]:
    """The flows a case type may name (declared in shanzhi.cases.flows)."""
    from shanzhi.cases.flows import FLOWS

    return [(flow.key, flow.label) for flow in FLOWS.values()]


class CaseCategory(models.Model):
    """A node of a street's category tree (大类 → 小类)."""

    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField("名称", max_length=50)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级类别",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = "事项类别"
        verbose_name_plural = "事项类别"
        ordering = ["street", "parent_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "parent", "name"],
                name="category_unique",
                violation_error_message="同一上级下已有同名类别",
            )
        ]

    def __str__(self) -> str:
        return f"{self.parent.name}/{self.name}" if self.parent_id and self.parent else self.name


class CaseType(models.Model):
    """An entry of a street's catalogue (事项清单): who handles it, how fast, how it is routed."""

    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField("编码", max_length=20)
    name = models.CharField("名称", max_length=60)
    category = models.ForeignKey(
        CaseCategory, verbose_name="类别", on_delete=models.PROTECT, related_name="case_types"
    )
    default_unit = models.ForeignKey(
        Unit,
        verbose_name="默认承办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="为空时交办到事发社区的居委会",
    )
    claim_limit_hours = models.PositiveSmallIntegerField("签收时限(工作小时)", default=2)
    handle_limit_days = models.PositiveSmallIntegerField("办理时限(工作日)", null=True, blank=True)
    handle_limit_hours = models.PositiveSmallIntegerField(
        "办理时限(小时)", null=True, blank=True, help_text="紧急事项按自然小时计"
    )
    priority = models.CharField(
        "优先级", max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    workflow = models.CharField(
        "流程",
        max_length=20,
        choices=flow_choices,
        default="general",
        help_text="已有事件的事项类型不能改换流程;事件始终按其建立时的流程办理",
    )
    keywords = models.JSONField("分拨关键词", default=list, blank=True)
    extra_fields = models.JSONField("附加字段", default=list, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "事项类型"
        verbose_name_plural = "事项清单"
        ordering = ["street", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "code"],
                name="casetype_code_unique",
                violation_error_message="该街道已有同编码的事项",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(handle_limit_days__isnull=False, handle_limit_hours__isnull=True)
                    | models.Q(handle_limit_days__isnull=True, handle_limit_hours__isnull=False)
                ),
                name="casetype_one_handle_limit",
                violation_error_message="办理时限须且只能按工作日或按小时设置一种",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def handle_limit_label(self) -> str:
        if self.handle_limit_hours is not None:
            return f"{self.handle_limit_hours}小时"
        return f"{self.handle_limit_days}个工作日"


def _tracking_token() -> str:
    return secrets.token_urlsafe(16)


class Case(models.Model):
    """A matter in the closed loop. Its state changes only through the workflow engine."""

    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField("编号", max_length=32, unique=True)
    tracking_token = models.CharField("查询码", max_length=32, unique=True, default=_tracking_token)
    client_key = models.CharField("客户端幂等键", max_length=64, blank=True)
    source = models.CharField("来源", max_length=20, choices=Source.choices)
    case_type = models.ForeignKey(
        CaseType,
        verbose_name="事项类型",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    title = models.CharField("标题", max_length=200)
    description = models.TextField("描述")
    area = models.ForeignKey(
        Area, verbose_name="发生地", on_delete=models.PROTECT, related_name="cases"
    )
    address = models.CharField("地址", max_length=200, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    reporter = models.ForeignKey(
        User,
        verbose_name="上报人账号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reported_cases",
    )
    reporter_name = models.CharField("上报人", max_length=50, blank=True)
    # Sealed at rest (shanzhi.protection); who sees it unmasked is the policy module's call.
    reporter_phone = SealedTextField("联系电话", blank=True)
    # The phone's keyed digest (shanzhi.protection), written with it: how a caller's cases are
    # found again without the sealed column being readable to a query.
    reporter_phone_digest = models.CharField(
        "联系电话摘要", max_length=64, blank=True, db_index=True
    )
    priority = models.CharField(
        "优先级", max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    flow = models.CharField("流程", max_length=20, default="general")
    # The states are the flow's (shanzhi.cases.flows); only the engine sets this.
    state = models.CharField("状态", max_length=20, default=State.REPORTED)
    level = models.CharField("处置层级", max_length=20, choices=HandlingLevel.choices)
    unit = models.ForeignKey(
        Unit,
        verbose_name="承办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    assignee = models.ForeignKey(
        User,
        verbose_name="办理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    extra = models.JSONField("附加信息", default=dict, blank=True)
    reported_at = models.DateTimeField("上报时间")
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    dispatched_at = models.DateTimeField("交办时间", null=True, blank=True)
    claimed_at = models.DateTimeField("签收时间", null=True, blank=True)
    resolved_at = models.DateTimeField("办结时间", null=True, blank=True)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True)
    claim_due_at = models.DateTimeField("签收时限", null=True, blank=True)
    handle_due_at = models.DateTimeField("办理时限", null=True, blank=True)
    due_soon_at = models.DateTimeField(
        "临期提醒时刻", null=True, blank=True, help_text="由办理时限推出;临期与超期在查询时判断"
    )
    extension_requested_until = models.DateTimeField("申请延期至", null=True, blank=True)
    extension_reason = models.TextField("延期理由", blank=True)
    resolution = models.TextField("办理结果", blank=True)
    satisfaction = models.CharField(
        "满意度", max_length=20, choices=Satisfaction.choices, blank=True
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name="合并到",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    on_spot = models.BooleanField("就地处置", default=False)
    return_count = models.PositiveSmallIntegerField("退回次数", default=0)
    reopen_count = models.PositiveSmallIntegerField("重办次数", default=0)
    supervise_count = models.PositiveSmallIntegerField("督办次数", default=0)
    extension_count = models.PositiveSmallIntegerField("延期次数", default=0)
    handling_minutes = models.PositiveIntegerField(
        "处置用时(工作分钟)",
        null=True,
        blank=True,
        help_text="首次交办至最后一次办结的工作时间;未经交办的就地处置为空",
    )
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "事件"
        verbose_name_plural = "事件"
        ordering = ["-reported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "client_key"],
                condition=~models.Q(client_key=""),
                name="case_client_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["street", "state"], name="case_street_state"),
            models.Index(fields=["flow", "state"], name="case_flow_state"),
            models.Index(fields=["unit", "state"], name="case_unit_state"),
            models.Index(fields=["state", "handle_due_at"], name="case_state_due"),
            models.Index(fields=["street", "accepted_at"], name="case_street_accepted"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def flow_spec(self) -> "Flow":
        from shanzhi.cases.flows import flow_of

        return flow_of(self)

    @property
    def state_label(self) -> str:
        return self.flow_spec.state_label(self.state)

    @property
    def is_open(self) -> bool:
        from shanzhi.cases.flows.spec import Kind

        return self.flow_spec.state(self.state).kind == Kind.OPEN

    @property
    def reporter_reachable(self) -> bool:
        """Whether a callback can reach the reporter at all."""
        return bool(self.reporter_phone or self.reporter_id)


class CaseAction(models.Model):
    """One row of a case's action log (流转记录). Append-only: the database refuses edits."""

    case = models.ForeignKey(
        Case, verbose_name="事件", on_delete=models.PROTECT, related_name="actions"
    )
    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    flow = models.CharField("流程", max_length=20, default="general")
    action = models.CharField("动作", max_length=30)
    actor = models.ForeignKey(
        User,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    from_state = models.CharField("原状态", max_length=20, blank=True)
    to_state = models.CharField("新状态", max_length=20)
    from_unit = models.ForeignKey(
        Unit,
        verbose_name="原单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_unit = models.ForeignKey(
        Unit,
        verbose_name="新单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField("说明", blank=True)
    data = models.JSONField("数据", default=dict, blank=True)
    created_at = models.DateTimeField("时间", db_index=True)

    class Meta:
        verbose_name = "流转记录"
        verbose_name_plural = "流转记录"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["street", "action", "created_at"], name="action_street_kind")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.action}"

    @property
    def label(self) -> str:
        from shanzhi.cases.flows import action_label

        return action_label(self.flow, self.action, self.data)

    @property
    def from_state_label(self) -> str:
        from shanzhi.cases.flows import state_label

        return state_label(self.flow, self.from_state) if self.from_state else ""

    @property
    def to_state_label(self) -> str:
        from shanzhi.cases.flows import state_label

        # A hand-over ends at the first state of the flow the case passed to.
        return state_label(self.data.get("flow") or self.flow, self.to_state)


class CaseClock(models.Model):
    """One clock of a case (a time limit of its flow): when it started, when it runs out, whether
    it is suspended or stopped and whether it was met. Restarting a clock reuses its row; the
    action log keeps each run's outcome."""

    case = models.ForeignKey(
        Case, verbose_name="事件", on_delete=models.CASCADE, related_name="clocks"
    )
    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField("时限", max_length=30)
    per = models.CharField("计时单位", max_length=20, blank=True)
    started_at = models.DateTimeField("开始", null=True, blank=True)
    due_at = models.DateTimeField("届满", null=True, blank=True)
    due_soon_at = models.DateTimeField("临期提醒时刻", null=True, blank=True)
    suspended_at = models.DateTimeField("中止于", null=True, blank=True)
    remaining_seconds = models.PositiveIntegerField("中止时剩余(秒)", null=True, blank=True)
    stopped_at = models.DateTimeField("停止于", null=True, blank=True)
    met = models.BooleanField("按时", null=True, blank=True)
    fired_for = models.DateTimeField(
        "已到期处理的届满时刻", null=True, blank=True, help_text="巡检对同一届满时刻只处理一次"
    )

    class Meta:
        verbose_name = "时限"
        verbose_name_plural = "时限"
        constraints = [models.UniqueConstraint(fields=["case", "name"], name="case_clock_once")]
        indexes = [
            models.Index(fields=["stopped_at", "due_at"], name="clock_running_due"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.name}"

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.stopped_at is None and self.suspended_at is None


class Attachment(models.Model):
    """A photo or file of a case, usually the evidence of an action."""

    case = models.ForeignKey(
        Case, verbose_name="事件", on_delete=models.PROTECT, related_name="attachments"
    )
    action = models.ForeignKey(
        CaseAction,
        verbose_name="所属动作",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField("文件", upload_to="cases/%Y/%m/")
    content_type = models.CharField("类型", max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        User,
        verbose_name="上传人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.file.name


class Notification(models.Model):
    """A message in a user's inbox. `key` makes repeated sweeps send each reminder once."""

    user = models.ForeignKey(
        User, verbose_name="接收人", on_delete=models.CASCADE, related_name="notifications"
    )
    case = models.ForeignKey(
        Case, verbose_name="事件", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField("类别", max_length=30)
    message = models.CharField("内容", max_length=300)
    key = models.CharField("去重键", max_length=120)
    created_at = models.DateTimeField("时间")
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once")]

    def __str__(self) -> str:
        return self.message


class CaseNumberCounter(models.Model):
    """On SQLite, the running number of a street's cases in a year, locked while it counts.

    PostgreSQL takes the number from a sequence of the street and year instead (no row that
    every intake of a street must lock); see `services._next_number`.
    """

    street = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["street", "year"], name="case_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.street_id}/{self.year}:{self.last}"
