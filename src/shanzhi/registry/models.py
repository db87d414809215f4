"""The registry 人房企事物: buildings, houses, persons, enterprises and facilities on the grid.

Every record sits in a microgrid (`area`) of a street (`street`, the tenant). Records are edited
under a version number and deleted softly (`deleted_at`): cases and visits keep pointing at them.
ID numbers and phones are kept sealed, as a keyed digest for exact search, and masked for display
(see shanzhi.protection).
"""

import operator
from datetime import date, timedelta
from functools import reduce

from django.db import models
from django.db.models import Q

from shanzhi.accounts.models import Role, User
from shanzhi.areas.models import Area
from shanzhi.cases.models import Case


class Record(models.Model):
    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        Area, verbose_name="所在网格", on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField("版本", default=1)
    verified_at = models.DateTimeField("最近核查", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    deleted_at = models.DateTimeField("注销时间", null=True, blank=True)

    class Meta:
        abstract = True


class Building(Record):
    """A building (楼栋) of a residential compound (小区) or a street address."""

    compound = models.CharField("小区", max_length=100, blank=True)
    name = models.CharField("楼栋", max_length=50)
    address = models.CharField("地址", max_length=200)
    floors = models.PositiveSmallIntegerField("层数", null=True, blank=True)
    unit_count = models.PositiveSmallIntegerField("单元数", null=True, blank=True)

    class Meta:
        verbose_name = "楼栋"
        verbose_name_plural = "楼栋"
        ordering = ["address"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "address"],
                name="building_address_unique_in_street",
                violation_error_message="本街道已有该地址的楼栋",
            )
        ]
        indexes = [models.Index(fields=["area", "compound"])]

    def __str__(self) -> str:
        return self.address


class HouseUse(models.TextChoices):
    OWNER_OCCUPIED = "owner_occupied", "自住"
    RENTED = "rented", "出租"
    VACANT = "vacant", "空置"
    COMMERCIAL = "commercial", "商用"


class House(Record):
    """A dwelling or shop (房屋), identified within its street by its full address."""

    building = models.ForeignKey(
        Building,
        verbose_name="楼栋",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="houses",
    )
    address = models.CharField("地址", max_length=200)
    unit_no = models.CharField("单元", max_length=20, blank=True)
    floor = models.SmallIntegerField("楼层", null=True, blank=True)
    room = models.CharField("室号", max_length=20, blank=True)
    use = models.CharField("用途", max_length=20, choices=HouseUse.choices)
    floor_area = models.DecimalField(
        "面积(平方米)", max_digits=8, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = "房屋"
        verbose_name_plural = "房屋"
        ordering = ["address"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "address"],
                name="house_address_unique_in_street",
                violation_error_message="本街道已有该地址的房屋",
            )
        ]

    def __str__(self) -> str:
        return self.address


class TagKind(models.TextChoices):
    CARE = "care", "关爱对象"
    SENSITIVE = "sensitive", "重点管理"
    GENERAL = "general", "一般"


class Tag(models.Model):
    """A label on persons. Care tags set how often someone must be visited; sensitive tags are
    shown only to roles given that privilege."""

    code = models.CharField("编码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=30, unique=True)
    kind = models.CharField("类别", max_length=20, choices=TagKind.choices)
    visit_interval_days = models.PositiveSmallIntegerField(
        "走访周期(天)",
        null=True,
        blank=True,
        help_text="关爱对象超过该天数未走访,将列入网格员的走访清单",
    )
    sort = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "人员标签"
        verbose_name_plural = "人员标签"
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class HouseholdType(models.TextChoices):
    REGISTERED = "registered", "户籍"
    MIGRANT = "migrant", "流动"
    OVERSEAS = "overseas", "境外"


class Sex(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"


class Person(Record):
    """A resident (居民). The ID number is the natural key within a street."""

    name = models.CharField("姓名", max_length=50)
    id_number_sealed = models.TextField("身份证号(密文)")
    id_number_digest = models.CharField("身份证号摘要", max_length=64)
    id_number_masked = models.CharField("身份证号", max_length=18)
    birth_date = models.DateField("出生日期")
    sex = models.CharField("性别", max_length=10, choices=Sex.choices)
    phone_sealed = models.TextField("联系电话(密文)", blank=True)
    phone_digest = models.CharField("联系电话摘要", max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField("联系电话", max_length=20, blank=True)
    household_type = models.CharField(
        "户籍类型", max_length=20, choices=HouseholdType.choices, default=HouseholdType.REGISTERED
    )
    house = models.ForeignKey(
        House,
        verbose_name="居住房屋",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
    )
    tags: "models.ManyToManyField[Tag, PersonTag]" = models.ManyToManyField(
        Tag, verbose_name="标签", through="PersonTag", blank=True
    )
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "居民"
        verbose_name_plural = "居民"
        ordering = ["area__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "id_number_digest"],
                name="person_id_number_unique_in_street",
                violation_error_message="本街道已登记该身份证号",
            )
        ]
        indexes = [models.Index(fields=["area", "name"])]

    def __str__(self) -> str:
        return self.name

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


class PersonTag(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="taggings")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="taggings")
    created_at = models.DateTimeField("标记时间", auto_now_add=True)

    class Meta:
        verbose_name = "人员标签"
        verbose_name_plural = "人员标签"
        constraints = [
            models.UniqueConstraint(fields=["person", "tag"], name="person_tag_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}:{self.tag_id}"


class EnterpriseScale(models.TextChoices):
    ABOVE = "above", "规上"
    BELOW = "below", "规下"


class Enterprise(Record):
    """An enterprise (企业) on the grid, keyed by its unified social credit code."""

    name = models.CharField("企业名称", max_length=120)
    credit_code = models.CharField("统一社会信用代码", max_length=18)
    industry = models.CharField("行业", max_length=50, blank=True)
    scale = models.CharField("规模", max_length=10, choices=EnterpriseScale.choices)
    address = models.CharField("地址", max_length=200)
    building = models.ForeignKey(
        Building,
        verbose_name="所在楼宇",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enterprises",
    )
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone_sealed = models.TextField("联系电话(密文)", blank=True)
    contact_phone_digest = models.CharField("联系电话摘要", max_length=64, blank=True)
    contact_phone_masked = models.CharField("联系电话", max_length=20, blank=True)
    employees = models.PositiveIntegerField("从业人数", null=True, blank=True)

    class Meta:
        verbose_name = "企业"
        verbose_name_plural = "企业"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "credit_code"],
                name="enterprise_credit_code_unique_in_street",
                violation_error_message="本街道已登记该统一社会信用代码",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Library(models.TextChoices):
    CULTIVATION = "cultivation", "培育库"
    SERVICE = "service", "服务库"
    RETENTION = "retention", "稳商库"


class LibraryEntry(models.Model):
    """An enterprise's time in one of the street's service libraries."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="library_entries"
    )
    library = models.CharField("企业库", max_length=20, choices=Library.choices)
    entered_on = models.DateField("入库日期")
    left_on = models.DateField("出库日期", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "企业库记录"
        verbose_name_plural = "企业库记录"
        ordering = ["-entered_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "library", "entered_on"], name="library_entry_unique"
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("entered_on")),
                name="library_entry_left_after_entered",
                violation_error_message="出库日期不能早于入库日期",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_library_display()} {self.entered_on}"


class FacilityKind(models.TextChoices):
    HYDRANT = "hydrant", "消防栓"
    ELEVATOR = "elevator", "电梯"
    CAMERA = "camera", "监控"
    CHARGER = "charger", "充电桩"
    GAS = "gas", "燃气设施"
    SMALL_VENUE = "small_venue", "九小场所"
    EXTINGUISHER = "extinguisher", "灭火器"
    OTHER = "other", "其他"


class Facility(Record):
    """A thing (物) on the grid that someone must inspect on a cycle."""

    code = models.CharField("设施编号", max_length=40)
    kind = models.CharField("类别", max_length=20, choices=FacilityKind.choices)
    name = models.CharField("名称", max_length=120)
    address = models.CharField("位置", max_length=200)
    owner = models.CharField("管理责任人", max_length=100, blank=True)
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="所属企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="facilities",
    )
    inspection_cycle_days = models.PositiveSmallIntegerField("检查周期(天)", default=30)
    last_inspected_on = models.DateField("最近检查", null=True, blank=True)

    class Meta:
        verbose_name = "设施"
        verbose_name_plural = "设施"
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "code"],
                name="facility_code_unique_in_street",
                violation_error_message="本街道已有该编号的设施",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.code})"

    @property
    def next_inspection_on(self) -> date | None:
        if self.last_inspected_on is None:
            return None
        return self.last_inspected_on + timedelta(days=self.inspection_cycle_days)


class Visit(models.Model):
    """A visit (走访) by a grid worker or official to a person or an enterprise. Kept for good."""

    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(Area, verbose_name="网格", on_delete=models.PROTECT, related_name="+")
    visitor = models.ForeignKey(
        User, verbose_name="走访人", on_delete=models.PROTECT, related_name="visits"
    )
    visited_at = models.DateTimeField("走访时间", db_index=True)
    person = models.ForeignKey(
        Person,
        verbose_name="居民",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    summary = models.TextField("走访情况")
    problems = models.TextField("反映问题", blank=True)
    case = models.ForeignKey(
        Case,
        verbose_name="诉求事件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "走访记录"
        verbose_name_plural = "走访记录"
        ordering = ["-visited_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(person__isnull=False) & Q(enterprise__isnull=True))
                | (Q(person__isnull=True) & Q(enterprise__isnull=False)),
                name="visit_has_one_subject",
                violation_error_message="一次走访须对应一名居民或一家企业",
            )
        ]
        indexes = [
            models.Index(fields=["person", "visited_at"]),
            models.Index(fields=["enterprise", "visited_at"]),
        ]

    def __str__(self) -> str:
        return f"走访 {self.visited_at:%Y-%m-%d}"


class RecordKind(models.TextChoices):
    PERSON = "person", "居民"
    HOUSE = "house", "房屋"


class VerificationTask(models.Model):
    """A leader's order to verify every person or house in some grids (核查)."""

    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("任务名称", max_length=100)
    record_kind = models.CharField("核查对象", max_length=20, choices=RecordKind.choices)
    areas = models.ManyToManyField(Area, verbose_name="核查范围", related_name="+")
    due_on = models.DateField("完成期限")
    created_by = models.ForeignKey(
        User, verbose_name="发布人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("发布时间")
    note = models.TextField("要求", blank=True)

    class Meta:
        verbose_name = "核查任务"
        verbose_name_plural = "核查任务"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class ItemStatus(models.TextChoices):
    PENDING = "pending", "待核查"
    VERIFIED = "verified", "已核实"
    CORRECTED = "corrected", "已更正"


class VerificationItem(models.Model):
    """One record of a verification task, checked by the grid worker of its grid."""

    task = models.ForeignKey(
        VerificationTask, verbose_name="任务", on_delete=models.CASCADE, related_name="items"
    )
    area = models.ForeignKey(Area, verbose_name="网格", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    house = models.ForeignKey(
        House, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        "状态", max_length=20, choices=ItemStatus.choices, default=ItemStatus.PENDING
    )
    checked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField("核查时间", null=True, blank=True)
    note = models.CharField("核查说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "核查条目"
        verbose_name_plural = "核查条目"
        constraints = [
            models.UniqueConstraint(fields=["task", "person"], name="verification_person_once"),
            models.UniqueConstraint(fields=["task", "house"], name="verification_house_once"),
            models.CheckConstraint(
                condition=(Q(person__isnull=False) & Q(house__isnull=True))
                | (Q(person__isnull=True) & Q(house__isnull=False)),
                name="verification_item_one_record",
            ),
        ]
        indexes = [models.Index(fields=["task", "area", "status"])]

    def __str__(self) -> str:
        return f"{self.task_id}:{self.get_status_display()}"


LINKED_KINDS = ("person", "house", "building", "enterprise", "facility")


def _exactly_one(fields: tuple[str, ...]) -> Q:
    """Exactly one of the nullable foreign keys `fields` is set."""
    return reduce(
        operator.or_,
        (Q(**{f"{field}__isnull": field != chosen for field in fields}) for chosen in fields),
    )


class CaseLink(models.Model):
    """A case pointing at a registry record: a hazard's enterprise, a dispute's parties."""

    case = models.ForeignKey(
        Case, verbose_name="事件", on_delete=models.CASCADE, related_name="registry_links"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="case_links"
    )
    house = models.ForeignKey(
        House, null=True, blank=True, on_delete=models.PROTECT, related_name="case_links"
    )
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.PROTECT, related_name="case_links"
    )
    enterprise = models.ForeignKey(
        Enterprise, null=True, blank=True, on_delete=models.PROTECT, related_name="case_links"
    )
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="case_links"
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("关联时间", auto_now_add=True)

    class Meta:
        verbose_name = "事件关联"
        verbose_name_plural = "事件关联"
        constraints = [
            models.CheckConstraint(
                condition=_exactly_one(LINKED_KINDS),
                name="case_link_one_record",
            ),
            models.UniqueConstraint(fields=["case", "person"], name="case_link_person_once"),
            models.UniqueConstraint(fields=["case", "house"], name="case_link_house_once"),
            models.UniqueConstraint(fields=["case", "building"], name="case_link_building_once"),
            models.UniqueConstraint(
                fields=["case", "enterprise"], name="case_link_enterprise_once"
            ),
            models.UniqueConstraint(fields=["case", "facility"], name="case_link_facility_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}→{self.created_at:%Y-%m-%d}"


class Privilege(models.TextChoices):
    UNMASK = "unmask", "查看完整身份证号和电话"
    SENSITIVE_TAGS = "sensitive_tags", "查看重点管理标签"
    EXPORT_PERSONAL = "export_personal", "导出含个人信息的清单"


class RolePrivilege(models.Model):
    """Which roles hold a personal-data privilege, over the areas of their grants."""

    role = models.CharField("角色", max_length=20, choices=Role.choices)
    privilege = models.CharField("权限", max_length=20, choices=Privilege.choices)

    class Meta:
        verbose_name = "个人信息权限"
        verbose_name_plural = "个人信息权限"
        ordering = ["privilege", "role"]
        constraints = [
            models.UniqueConstraint(fields=["role", "privilege"], name="role_privilege_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}:{self.get_privilege_display()}"


class AccessField(models.TextChoices):
    ID_NUMBER = "id_number", "身份证号"
    PHONE = "phone", "联系电话"
    CONTACT_PHONE = "contact_phone", "企业联系电话"
    SENSITIVE_TAGS = "sensitive_tags", "重点管理标签"
    EXPORT = "export", "导出清单"


class AccessVia(models.TextChoices):
    PAGE = "page", "页面"
    API = "api", "接口"
    EXPORT = "export", "导出"
    COMMAND = "command", "命令行"


class AccessLog(models.Model):
    """Each read of personal data in the clear: who, whose, which field, when, why. Append-only."""

    at = models.DateTimeField("时间", db_index=True)
    user = models.ForeignKey(
        User, verbose_name="查看人", on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        Area, verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(Area, verbose_name="网格", on_delete=models.PROTECT, related_name="+")
    subject_kind = models.CharField("对象类别", max_length=20)
    subject_id = models.BigIntegerField("对象编号")
    subject_label = models.CharField("对象", max_length=120)
    field = models.CharField("字段", max_length=20, choices=AccessField.choices)
    via = models.CharField("途径", max_length=10, choices=AccessVia.choices)
    reason = models.CharField("查看原因", max_length=200)
    record_count = models.PositiveIntegerField("条数", default=1)

    class Meta:
        verbose_name = "个人信息查看记录"
        verbose_name_plural = "个人信息查看记录"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["street", "at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.get_field_display()} {self.at:%Y-%m-%d %H:%M}"
