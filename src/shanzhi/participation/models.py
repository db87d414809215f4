"""Rounds of 民生实事 (proposals, the council's vote, the projects chosen and their progress) and
volunteer service (activities, attendance, the points ledger and the rewards it buys).

Every row that belongs to a street carries the street, the tenant key. The ballots and the
points ledger are append-only (on PostgreSQL a trigger refuses UPDATE and DELETE).
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from shanzhi.areas.models import Area
from shanzhi.registry.models import Person


def new_token() -> str:
    """A secret for a link handed to one person (a proposer, a voter, a volunteer)."""
    return secrets.token_urlsafe(18)


# 民生实事 ------------------------------------------------------------------------------------


class Stage(models.TextChoices):
    COLLECTING = "collecting", "征集"
    SHORTLISTING = "shortlisting", "初定"
    DELIBERATING = "deliberating", "审议"
    VOTING = "voting", "票决"
    PUBLISHED = "published", "公布"


STAGE_ORDER = list(Stage)


class Round(models.Model):
    """A yearly round of 民生实事 for a street or a community, with its voting rule."""

    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        Area, verbose_name="街道或社区", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度")
    title = models.CharField("名称", max_length=100)
    stage = models.CharField("阶段", max_length=20, choices=Stage.choices, default=Stage.COLLECTING)
    stage_open = models.BooleanField("本阶段已开启", default=False)
    seats = models.PositiveSmallIntegerField("票决产生项目数", default=1)
    min_picks = models.PositiveSmallIntegerField("每票至少选", default=1)
    max_picks = models.PositiveSmallIntegerField("每票至多选", default=1)
    threshold_percent = models.DecimalField(
        "当选须超过投票数的百分比", max_digits=5, decimal_places=2, default=Decimal(50)
    )
    published_at = models.DateTimeField("公布时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "民生实事轮次"
        verbose_name_plural = "民生实事轮次"
        ordering = ["-year", "area__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "year", "title"],
                name="round_unique_title",
                violation_error_message="该辖区本年度已有同名轮次",
            ),
            models.CheckConstraint(
                condition=Q(min_picks__gte=1) & Q(max_picks__gte=models.F("min_picks")),
                name="round_picks_range",
            ),
            models.CheckConstraint(
                condition=Q(threshold_percent__gte=0) & Q(threshold_percent__lt=100),
                name="round_threshold_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.title}"


class RoundEvent(models.Model):
    """One step of a round: a stage opened, closed or moved on; the result published."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("动作", max_length=30)
    stage = models.CharField("阶段", max_length=20, choices=Stage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField("说明", max_length=300, blank=True)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "轮次记录"
        verbose_name_plural = "轮次记录"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.round}:{self.action}"


class ProposalSource(models.TextChoices):
    RESIDENT = "resident", "居民扫码提交"
    MEETING = "meeting", "会议征集(工作人员录入)"


class ProposalStatus(models.TextChoices):
    SUBMITTED = "submitted", "已提交"
    CANDIDATE = "candidate", "入围候选"
    DROPPED = "dropped", "未入围"


class Proposal(models.Model):
    """A proposed project: what, where, what it costs and who benefits."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="proposals")
    area = models.ForeignKey(
        Area, verbose_name="所在辖区", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("项目名称", max_length=100)
    description = models.TextField("项目内容", max_length=2000)
    place = models.CharField("实施地点", max_length=200)
    estimated_cost = models.DecimalField("估算金额(万元)", max_digits=10, decimal_places=2)
    beneficiaries = models.CharField("受益群体", max_length=200)
    source = models.CharField("来源", max_length=20, choices=ProposalSource.choices)
    proposer_name = models.CharField("提议人", max_length=50, blank=True)
    proposer_phone_masked = models.CharField("提议人电话", max_length=20, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        "状态", max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.SUBMITTED
    )
    drop_reason = models.CharField("未入围原因", max_length=300, blank=True)
    tracking_token = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    # Set when the result is published, so that the published counts never move.
    votes = models.PositiveIntegerField("得票", null=True, blank=True)
    chosen = models.BooleanField("当选", default=False)
    created_at = models.DateTimeField("提交时间")

    class Meta:
        verbose_name = "民生实事提议"
        verbose_name_plural = "民生实事提议"
        ordering = ["round", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="dropped") | ~Q(drop_reason=""),
                name="proposal_dropped_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(estimated_cost__gte=0), name="proposal_cost_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class VoterKind(models.TextChoices):
    COUNCIL = "council", "居民议事会成员"
    DEPUTY = "deputy", "人大代表"


class Voter(models.Model):
    """A registered voter of a round, linked to the person in the registry."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="voters")
    person = models.ForeignKey(
        Person, verbose_name="居民", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("身份", max_length=20, choices=VoterKind.choices)
    token = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField("登记时间")

    class Meta:
        verbose_name = "票决代表"
        verbose_name_plural = "票决代表"
        ordering = ["round", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "person"],
                name="voter_once_per_round",
                violation_error_message="该居民已登记为本轮代表",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person.name}({self.get_kind_display()})"


class BallotChannel(models.TextChoices):
    PHONE = "phone", "手机投票"
    PAPER = "paper", "纸质选票(双人录入)"


class Ballot(models.Model):
    """One voter's ballot; the database holds each voter to one."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="ballots")
    voter = models.OneToOneField(Voter, on_delete=models.PROTECT, related_name="ballot")
    channel = models.CharField("方式", max_length=10, choices=BallotChannel.choices)
    picks: "models.ManyToManyField[Proposal, BallotPick]" = models.ManyToManyField(
        Proposal, through="BallotPick", related_name="+"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="第一次录入",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="第二次录入",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cast_at = models.DateTimeField("投票时间")

    class Meta:
        verbose_name = "选票"
        verbose_name_plural = "选票"
        ordering = ["round", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel="phone")
                | (
                    Q(entered_by__isnull=False)
                    & Q(confirmed_by__isnull=False)
                    & ~Q(entered_by=models.F("confirmed_by"))
                ),
                name="ballot_paper_two_people",
            )
        ]

    def __str__(self) -> str:
        return f"{self.voter}的选票"


class BallotPick(models.Model):
    ballot = models.ForeignKey(Ballot, on_delete=models.PROTECT, related_name="pick_rows")
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="pick_rows")

    class Meta:
        verbose_name = "选票选项"
        verbose_name_plural = "选票选项"
        constraints = [
            models.UniqueConstraint(fields=["ballot", "proposal"], name="ballot_pick_once")
        ]

    def __str__(self) -> str:
        return f"{self.ballot_id}→{self.proposal_id}"


class PaperEntry(models.Model):
    """The first entry of a paper ballot, waiting for a second staff member's matching entry."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="paper_entries")
    voter = models.OneToOneField(Voter, on_delete=models.PROTECT, related_name="paper_entry")
    picks = models.JSONField("所选提议")  # sorted proposal ids
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField("录入时间")

    class Meta:
        verbose_name = "纸质选票首次录入"
        verbose_name_plural = "纸质选票首次录入"

    def __str__(self) -> str:
        return f"{self.voter}的首次录入"


class ProjectStatus(models.Model):
    """A status of the catalogue with the progress a project in it has by default."""

    street = models.ForeignKey(
        Area,
        verbose_name="所属街道",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField("状态", max_length=30)
    default_progress = models.PositiveSmallIntegerField("默认进度(%)")
    completes = models.BooleanField("表示完成", default=False)
    sort = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "项目状态"
        verbose_name_plural = "项目状态目录"
        ordering = ["sort", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_progress__lte=100), name="status_progress_range"
            ),
            models.UniqueConstraint(fields=["street", "name"], name="status_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.default_progress}%)"


class Project(models.Model):
    """A chosen project, tracked to the end: its progress is rolled up from its sub-items."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="projects")
    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="project")
    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        Area, verbose_name="所在辖区", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("项目名称", max_length=100)
    status = models.ForeignKey(ProjectStatus, verbose_name="状态", on_delete=models.PROTECT)
    progress = models.PositiveSmallIntegerField("进度(%)", default=0)
    planned_end = models.DateField("计划完成日期")
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    evaluation_open = models.BooleanField("验单投票进行中", default=False)
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "民生实事项目"
        verbose_name_plural = "民生实事项目"
        ordering = ["round", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="project_progress_range")
        ]

    def __str__(self) -> str:
        return self.title


class SubItem(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="sub_items")
    title = models.CharField("分项", max_length=100)
    weight = models.DecimalField("权重", max_digits=6, decimal_places=2, null=True, blank=True)
    status = models.ForeignKey(ProjectStatus, verbose_name="状态", on_delete=models.PROTECT)
    progress = models.PositiveSmallIntegerField("进度(%)", default=0)

    class Meta:
        verbose_name = "分项"
        verbose_name_plural = "分项"
        ordering = ["project", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="subitem_progress_range"),
            models.CheckConstraint(
                condition=Q(weight__isnull=True) | Q(weight__gt=0), name="subitem_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="milestones")
    title = models.CharField("节点", max_length=100)
    due = models.DateField("计划日期")
    done_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "节点"
        verbose_name_plural = "节点"
        ordering = ["project", "due", "pk"]

    def __str__(self) -> str:
        return self.title


class ProjectUpdate(models.Model):
    """A progress update, with a note and photos, of a project or one of its sub-items."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="updates")
    sub_item = models.ForeignKey(
        SubItem, null=True, blank=True, on_delete=models.PROTECT, related_name="updates"
    )
    status = models.ForeignKey(ProjectStatus, verbose_name="状态", on_delete=models.PROTECT)
    progress = models.PositiveSmallIntegerField("进度(%)")
    note = models.CharField("进展说明", max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="更新人", on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "项目进展"
        verbose_name_plural = "项目进展"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.project}:{self.note[:20]}"


class UpdatePhoto(models.Model):
    update = models.ForeignKey(ProjectUpdate, on_delete=models.PROTECT, related_name="photos")
    file = models.FileField("照片", upload_to="participation/%Y/%m/")
    content_type = models.CharField(max_length=50)

    class Meta:
        verbose_name = "进展照片"
        verbose_name_plural = "进展照片"

    def __str__(self) -> str:
        return self.file.name


class Verdict(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASICALLY = "basically", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class Evaluation(models.Model):
    """A council member's verdict on a finished project (人大验单 / 满意度测评), one each."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="evaluations")
    voter = models.ForeignKey(Voter, on_delete=models.PROTECT, related_name="evaluations")
    verdict = models.CharField("评价", max_length=20, choices=Verdict.choices)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "验单评价"
        verbose_name_plural = "验单评价"
        constraints = [
            models.UniqueConstraint(fields=["project", "voter"], name="evaluation_once_per_voter")
        ]

    # 志愿服务 ------------------------------------------------------------------------------------

    def __str__(self) -> str:
        return f"{self.voter}:{self.get_verdict_display()}"


class Volunteer(models.Model):
    """A registered volunteer, linked to the person in the registry."""

    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        Area, verbose_name="所在辖区", on_delete=models.PROTECT, related_name="+"
    )
    person = models.OneToOneField(
        Person, verbose_name="居民", on_delete=models.PROTECT, related_name="+"
    )
    token = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    joined_at = models.DateTimeField("注册时间")
    is_active = models.BooleanField("在册", default=True)

    class Meta:
        verbose_name = "志愿者"
        verbose_name_plural = "志愿者"
        ordering = ["area__path", "pk"]

    def __str__(self) -> str:
        return self.person.name


class ActivityKind(models.TextChoices):
    ELDERLY = "elderly", "助老服务"
    YOUTH = "youth", "青年服务"
    ENVIRONMENT = "environment", "环境整治"
    CIVILITY = "civility", "文明实践"
    SAFETY = "safety", "平安巡防"
    OTHER = "other", "其他"


class PointRule(models.Model):
    """How many points an attendance earns for an activity kind: per hour and per activity."""

    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("活动类别", max_length=20, choices=ActivityKind.choices)
    per_hour = models.PositiveIntegerField("每小时积分", default=10)
    per_activity = models.PositiveIntegerField("每次活动积分", default=0)

    class Meta:
        verbose_name = "积分规则"
        verbose_name_plural = "积分规则"
        constraints = [
            models.UniqueConstraint(fields=["street", "kind"], name="point_rule_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}:每小时{self.per_hour}分,每次{self.per_activity}分"


class Activity(models.Model):
    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        Area, verbose_name="所在辖区", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("活动名称", max_length=100)
    kind = models.CharField("类别", max_length=20, choices=ActivityKind.choices)
    organiser = models.CharField("组织方", max_length=100)
    place = models.CharField("地点", max_length=200)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    places = models.PositiveIntegerField("名额")
    hours = models.DecimalField("每人计时(小时)", max_digits=4, decimal_places=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "志愿活动"
        verbose_name_plural = "志愿活动"
        ordering = ["-starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="activity_time_order"
            ),
            models.CheckConstraint(condition=Q(hours__gt=0), name="activity_hours_positive"),
            models.CheckConstraint(condition=Q(places__gte=1), name="activity_places_positive"),
        ]

    def __str__(self) -> str:
        return self.title


class SignUp(models.Model):
    """A volunteer's sign-up for an activity; signed in on site, their hours are credited."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="signups")
    signed_up_at = models.DateTimeField("报名时间")
    signed_in_at = models.DateTimeField("签到时间", null=True, blank=True)
    signed_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签到确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    hours = models.DecimalField(
        "计入时长(小时)", max_digits=4, decimal_places=1, default=Decimal(0)
    )

    class Meta:
        verbose_name = "报名签到"
        verbose_name_plural = "报名签到"
        ordering = ["activity", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "volunteer"],
                name="signup_once",
                violation_error_message="已报名该活动",
            )
        ]

    def __str__(self) -> str:
        return f"{self.volunteer}→{self.activity}"


class PartnerUnit(models.Model):
    """A 共建单位 that offers rewards for points."""

    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField("单位名称", max_length=100)
    joined_at = models.DateTimeField("加入时间")

    class Meta:
        verbose_name = "共建单位"
        verbose_name_plural = "共建单位"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["street", "name"], name="partner_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Reward(models.Model):
    partner = models.ForeignKey(
        PartnerUnit, verbose_name="提供单位", on_delete=models.PROTECT, related_name="rewards"
    )
    name = models.CharField("名称", max_length=100)
    points = models.PositiveIntegerField("所需积分")
    value = models.DecimalField("等价金额(元)", max_digits=8, decimal_places=2)
    stock = models.PositiveIntegerField("库存")
    is_active = models.BooleanField("上架", default=True)

    class Meta:
        verbose_name = "兑换礼品"
        verbose_name_plural = "兑换礼品"
        ordering = ["points", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=1), name="reward_points_positive")
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.points}分)"


class ExchangeChannel(models.TextChoices):
    COUNTER = "counter", "服务窗口"
    PHONE = "phone", "手机兑换"


class Exchange(models.Model):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="exchanges")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="exchanges")
    points = models.PositiveIntegerField("积分")
    value = models.DecimalField("等价金额(元)", max_digits=8, decimal_places=2)
    channel = models.CharField("方式", max_length=10, choices=ExchangeChannel.choices)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "积分兑换"
        verbose_name_plural = "积分兑换"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.volunteer}:{self.reward}"


class PointEntry(models.Model):
    """One change of a volunteer's points: append-only; its balance after never below zero."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="points")
    delta = models.IntegerField("积分变动")
    balance = models.PositiveIntegerField("变动后余额")
    reason = models.CharField("事由", max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="手机兑换由志愿者本人操作时为空",
    )
    signup = models.OneToOneField(
        SignUp, null=True, blank=True, on_delete=models.PROTECT, related_name="points_entry"
    )
    exchange = models.OneToOneField(
        Exchange, null=True, blank=True, on_delete=models.PROTECT, related_name="points_entry"
    )
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "积分流水"
        verbose_name_plural = "积分流水"
        ordering = ["volunteer", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="point_entry_nonzero"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="point_entry_never_negative"),
            models.CheckConstraint(condition=~Q(reason=""), name="point_entry_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer}:{self.delta:+d}({self.reason})"
