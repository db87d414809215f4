"""The shapes the REST API takes and returns; the OpenAPI document is generated from them.

Input is checked here, at the boundary, so that what reaches the services and the database is
well formed: no NUL characters (PostgreSQL refuses them), ids and dates within the range the
columns hold, naive datetimes read as Beijing time.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict

from shanzhi.areas.models import Level
from shanzhi.cases.flows import FLOWS, state_choices
from shanzhi.cases.models import HandlingLevel, Priority, Satisfaction, Source

MAX_ID = 2**63 - 1
MAX_PAGE = 100_000
MAX_PAGE_SIZE = 100
# Case numbers and area codes are upper-case letters and digits (street code, year, serial).
CODE_PATTERN = r"^[0-9A-Za-z]{1,32}$"


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("不能包含空字符")
    return value


def _local_moment(value: datetime) -> datetime:
    if not 2000 <= value.year <= 2100:
        raise ValueError("日期须在2000年至2100年之间")
    return value if timezone.is_aware(value) else timezone.make_aware(value)


Text = Annotated[str, AfterValidator(_without_nul)]
Moment = Annotated[datetime, AfterValidator(_local_moment)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Code = Annotated[str, Field(pattern=CODE_PATTERN, max_length=32)]
# The flows' own keys: the document lists them, so a client knows every state and flow.
if TYPE_CHECKING:
    StateKey = str
    FlowKey = str
else:
    StateKey = Literal[tuple(key for key, _ in state_choices())]
    FlowKey = Literal[tuple(FLOWS)]
Version = Annotated[
    int,
    Field(ge=1, le=2**31 - 1, description="调用方所见的事件版本号;与当前版本不符时返回 409"),
]


class Out(Schema):
    """A response shape: a key the document does not name is a bug, refused on the way out."""

    model_config = ConfigDict(extra="forbid")


# Errors --------------------------------------------------------------------------------------


class FieldError(Out):
    field: str = Field(description="出错的参数,如 reason、page_size")
    message: str


class ErrorOut(Out):
    code: str = Field(description="稳定的错误码,如 version_conflict、validation_error")
    message: str = Field(description="给用户看的中文说明")
    errors: list[FieldError] | None = Field(None, description="参数校验错误的明细")


# What each kind of operation may answer besides success.
READ_ERRORS: dict[int, type[ErrorOut]] = {code: ErrorOut for code in (401, 403, 404, 422)}
WRITE_ERRORS = READ_ERRORS | {400: ErrorOut, 409: ErrorOut}


# Shared pieces -------------------------------------------------------------------------------


class Ref(Out):
    id: int
    name: str


class AreaRef(Out):
    code: str
    name: str


class PageIn(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="页码,从 1 开始")
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE, description="每页条数,最多 100")


class PageOut(Out):
    total: int = Field(description="符合条件的总条数")
    page: int
    page_size: int


# Cases ---------------------------------------------------------------------------------------


class CaseListIn(PageIn):
    state: list[StateKey] = Field(default_factory=list, description="状态,可重复")
    flow: FlowKey | None = Field(None, description="流程")
    area: Code | None = Field(None, description="辖区编码,含其下级")
    case_type: Id | None = Field(None, description="事项类型 id")
    category: Id | None = Field(None, description="事项类别 id(大类或小类)")
    source: Source | None = None
    unit: Id | None = Field(None, description="承办单位 id")
    deadline: Literal["overdue", "due_soon"] | None = Field(None, description="超期或临期")
    q: Text = Field("", max_length=100, description="编号、标题、描述或地址中的关键词")
    reported_from: Moment | None = Field(None, description="上报时间不早于")
    reported_to: Moment | None = Field(None, description="上报时间早于")


class CaseItemOut(Out):
    number: str
    title: str
    flow: FlowKey
    flow_label: str
    state: StateKey
    state_label: str
    source: Source
    source_label: str
    case_type: Ref | None
    area: AreaRef
    unit: Ref | None
    priority: Priority
    priority_label: str
    reported_at: datetime
    handle_due_at: datetime | None
    deadline_status: Literal["overdue", "due_soon"] | None
    version: int


class CasePage(PageOut):
    items: list[CaseItemOut]


class ActionOut(Out):
    action: str
    label: str
    actor: str | None = Field(description="操作人;系统或匿名上报时为空")
    from_state: StateKey | None
    from_state_label: str
    to_state: StateKey
    to_state_label: str
    details: list[str] = Field(description="本步骤填写的各项内容,如“隐患等级:重大”")
    from_unit: str | None
    to_unit: str | None
    note: str
    attachment_count: int
    created_at: datetime


class FactOut(Out):
    label: str
    value: str


class DocumentOut(Out):
    key: str
    title: str
    issued_at: datetime


class CaseDetailOut(CaseItemOut):
    description: str
    address: str
    latitude: float | None
    longitude: float | None
    level: HandlingLevel
    level_label: str
    reporter_name: str
    reporter_phone: str = Field(
        description="掩码,如 138****1111(上报人本人看到完整号码);"
        "回访人员经 POST /cases/{number}/contact 查看完整号码,并留痕"
    )
    assignee: str | None
    accepted_at: datetime | None
    dispatched_at: datetime | None
    claimed_at: datetime | None
    resolved_at: datetime | None
    archived_at: datetime | None
    claim_due_at: datetime | None
    extension_requested_until: datetime | None
    extension_reason: str
    resolution: str
    satisfaction: Satisfaction | None
    merged_into: str | None = Field(description="被合并时,保留事件的编号")
    on_spot: bool
    return_count: int
    reopen_count: int
    supervise_count: int
    extension_count: int
    available_actions: list[str] = Field(
        description="当前状态下调用方可执行的动作(POST /cases/{number}/{动作})"
    )
    facts: list[FactOut] = Field(description="事项附加字段与流程记录的事实,如隐患等级、当事人")
    documents: list[DocumentOut] = Field(
        description="流程出具的文书;GET /cases/{number}/documents/{key} 下载 .docx"
    )
    timeline: list[ActionOut]


class CaseCreateIn(Schema):
    area_code: Code = Field(description="发生地辖区编码")
    description: Text = Field(max_length=2000)
    title: Text = Field("", max_length=200)
    source: Source | None = Field(None, description="来源渠道;默认为密钥的渠道")
    case_type_id: Id | None = None
    reporter_name: Text = Field("", max_length=50)
    reporter_phone: Text = Field("", max_length=20)
    address: Text = Field("", max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    client_key: Text = Field(
        "", max_length=64, description="幂等键;也可用 Idempotency-Key 请求头传入"
    )
    extra: dict[str, str] | None = Field(
        None,
        description="事项类型附加字段的取值(键为字段名);提交时按事项清单校验必填与可选值",
    )


# Transition inputs: `version` and what the action needs. -------------------------------------


class VersionIn(Schema):
    version: Version


# Catalogue and areas -------------------------------------------------------------------------


class CaseTypeListIn(PageIn):
    street: Code | None = Field(None, description="只看该街道的事项清单")


class CaseTypeOut(Out):
    id: int
    code: str
    name: str
    street: AreaRef
    category: Ref = Field(description="大类")
    subcategory: Ref | None = Field(description="小类")
    default_unit: Ref | None
    claim_limit_hours: int
    handle_limit_days: int | None
    handle_limit_hours: int | None
    handle_limit_label: str
    priority: Priority
    workflow: FlowKey
    workflow_label: str
    keywords: list[str]


class CaseTypePage(PageOut):
    items: list[CaseTypeOut]


class AreaListIn(PageIn):
    parent: Code | None = Field(None, description="只列出该辖区的直接下级")
    level: Level | None = None


class AreaOut(Out):
    code: str
    name: str
    level: Level
    level_label: str
    parent_code: str | None
    street_code: str | None
    child_count: int


class AreaPage(PageOut):
    items: list[AreaOut]


class AreaDetailOut(AreaOut):
    boundary: dict[str, Any] | None = Field(description="GeoJSON 边界")
