"""The vocabulary a flow is declared in: states, transitions, their inputs, clocks and documents.

A flow is one `Flow` value. The engine (`shanzhi.cases.engine`) runs any flow; the case page's
action panel, the REST API's request schemas, notifications, the resident's timeline, the Open311
status, the desk and inbox queues, the sweep and the generated docs all read these declarations,
so adding a kind of matter is adding one declaration. Nothing in this module touches the database.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Q

    from shanzhi.accounts.models import User
    from shanzhi.cases.models import Case, CaseAction


class Kind(StrEnum):
    """What a state means for queues, figures and the public."""

    OPEN = "open"  # somebody still has to act
    RESOLVED = "resolved"  # handled; waits for the reporter's verdict or a follow-up
    CLOSED = "closed"  # done for good
    REJECTED = "rejected"  # not taken up
    MERGED = "merged"  # folded into another case


KIND_LABELS = {
    Kind.OPEN: "办理中",
    Kind.RESOLVED: "已办结待评价",
    Kind.CLOSED: "已终结",
    Kind.REJECTED: "不予受理",
    Kind.MERGED: "已合并",
}

# Who may take a transition: kinds of actor that `shanzhi.policy.can_perform` resolves against
# the actor's roles, scope and unit. "system" is the engine itself (the sweep, a follow-up).
ACTOR_LABELS = {
    "dispatcher": "指挥中心坐席",
    "leader": "领导",
    "unit_handler": "承办单位办理人",
    "grid_worker": "本网格网格员",
    "escalator": "网格员、社区或承办单位",
    "system": "系统",
}

# Who hears of a transition (see shanzhi.cases.notifications).
AUDIENCE_LABELS = {
    "unit": "承办单位",
    "dispatchers": "指挥中心坐席",
    "leaders": "领导",
    "reporter": "上报人账号",
}

# The moments of a case that figures and lists read from its own columns.
MARKS = {
    "accepted": "受理时间",
    "dispatched": "交办时间",
    "claimed": "签收时间",
    "resolved": "办结时间",
    "archived": "归档时间",
}


@dataclass(frozen=True)
class Queue:
    """A work list some actor works through, such as the desk's 待受理."""

    key: str
    label: str
    order: tuple[str, ...] = ("reported_at", "id")  # how it is worked through


@dataclass(frozen=True)
class Guard:
    """A condition on the case beyond its state, once in Python (one case) and once as a query
    condition (a whole queue); tests hold the two to agree."""

    label: str
    refusal: str
    test: "Callable[[Case], bool]"
    q: "Callable[[], Q]"


@dataclass(frozen=True)
class Wait:
    """In this state, `actor` is expected to act, and finds the case in `queue`."""

    actor: str
    queue: Queue
    guard: Guard | None = None


@dataclass(frozen=True)
class StateSpec:
    key: str
    label: str
    kind: Kind = Kind.OPEN
    public: str = ""  # what the reporter's tracking page calls it; the label when empty
    clocks: tuple[str, ...] = ()  # the clocks that run while a case is in this state
    waits: tuple[Wait, ...] = ()

    @property
    def public_label(self) -> str:
        return self.public or self.label


class InputKind(StrEnum):
    TEXT = "text"
    LONGTEXT = "longtext"
    CHOICE = "choice"
    DATE = "date"
    DATETIME = "datetime"
    NUMBER = "number"
    LINES = "lines"
    UNIT = "unit"
    CASE_TYPE = "case_type"
    AREA = "area"
    CASE = "case"
    RECORD = "record"
    PHOTOS = "photos"


INPUT_KIND_LABELS = {
    InputKind.TEXT: "文字",
    InputKind.LONGTEXT: "多行文字",
    InputKind.CHOICE: "选项",
    InputKind.DATE: "日期",
    InputKind.DATETIME: "日期时间",
    InputKind.NUMBER: "数字",
    InputKind.LINES: "每行一项",
    InputKind.UNIT: "单位",
    InputKind.CASE_TYPE: "事项类型",
    InputKind.AREA: "辖区",
    InputKind.CASE: "事件编号",
    InputKind.RECORD: "登记库对象(信用代码、设施编号或身份证号)",
    InputKind.PHOTOS: "照片",
}

# How an input is named in the REST API: references travel as ids, codes or numbers.
API_SUFFIXES = {
    InputKind.UNIT: "_id",
    InputKind.CASE_TYPE: "_id",
    InputKind.AREA: "_code",
    InputKind.CASE: "_number",
    InputKind.RECORD: "_code",
}


@dataclass(frozen=True)
class Input:
    """One thing a transition asks for, with its own checks. `keep` makes the answer a fact of
    the case (kept in `Case.extra` under the same name, and offered again as the next default)."""

    name: str
    kind: InputKind
    label: str
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int = 1000
    max_items: int = 0  # LINES: at most this many lines; 0 means no limit
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    keep: bool = False
    help: str = ""
    initial: "Callable[[Case], Any] | None" = None
    public: bool = False  # the reporter reads this answer on their tracking page

    @property
    def api_name(self) -> str:
        return self.name + API_SUFFIXES.get(self.kind, "")

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.choices)

    def choice_label(self, value: str) -> str:
        return dict(self.choices).get(value, value)


def options(*values: str) -> tuple[tuple[str, str], ...]:
    """Choices whose stored value is their Chinese label."""
    return tuple((value, value) for value in values)


class Per(StrEnum):
    WORKDAYS = "workdays"
    WORK_HOURS = "work_hours"
    DAYS = "days"
    HOURS = "hours"


PER_LABELS = {
    Per.WORKDAYS: "个工作日",
    Per.WORK_HOURS: "个工作小时",
    Per.DAYS: "日",
    Per.HOURS: "小时",
}


@dataclass(frozen=True)
class Span:
    """A length of time: so many working days, working hours, calendar days or hours."""

    amount: int
    per: Per

    @property
    def label(self) -> str:
        return f"{self.amount}{PER_LABELS[self.per]}"

    @property
    def counts_work_time(self) -> bool:
        return self.per in (Per.WORKDAYS, Per.WORK_HOURS)


@dataclass(frozen=True)
class TypeLimit:
    """A length the case type sets (事项清单): its claim limit or its handling limit."""

    which: str  # "claim" | "handle"

    @property
    def label(self) -> str:
        return "事项类型的签收时限" if self.which == "claim" else "事项类型的办理时限"

    def span(self, case: "Case") -> Span:
        case_type = case.case_type
        if case_type is None:
            from shanzhi.cases.errors import TransitionRefused

            raise TransitionRefused("事件尚未确定事项类型,不能计算时限")
        if self.which == "claim":
            return Span(case_type.claim_limit_hours, Per.WORK_HOURS)
        if case_type.handle_limit_hours is not None:
            # Urgent matters do not wait for Monday: their limit runs in natural hours.
            return Span(case_type.handle_limit_hours, Per.HOURS)
        return Span(case_type.handle_limit_days or 0, Per.WORKDAYS)


@dataclass(frozen=True)
class Expiry:
    """What the sweep does when a clock runs out: take `action` as the system, with `inputs`."""

    action: str
    inputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClockSpec:
    """A time limit. Its length is a Span, the case type's limit, or (None) the deadline the
    starting transition names; `mirror` shows it on the case's own deadline columns (办理时限 or
    签收时限) for lists and figures."""

    name: str
    label: str
    length: Span | TypeLimit | None = None
    mirror: str = ""  # "handle" | "claim" | ""
    remind: tuple[str, ...] = ()
    expiry: Expiry | None = None
    basis: str = ""  # the rule it comes from, for the docs

    @property
    def length_label(self) -> str:
        return self.length.label if self.length is not None else "每件单独确定"


class Op(StrEnum):
    START = "start"
    STOP = "stop"  # met or missed; the deadline stays on record
    CANCEL = "cancel"  # abandoned (the case left the unit); the deadline is cleared
    SUSPEND = "suspend"
    RESUME = "resume"
    EXTEND = "extend"


OP_LABELS = {
    Op.START: "开始计时",
    Op.STOP: "停止计时",
    Op.CANCEL: "撤销计时",
    Op.SUSPEND: "中止计时",
    Op.RESUME: "恢复计时",
    Op.EXTEND: "延长时限",
}


@dataclass(frozen=True)
class ClockOp:
    op: Op
    clock: str
    due: str = ""  # START/EXTEND: the input (date or datetime) that is the new deadline
    since: str = ""  # START: the input (a date) the clock counts from instead of now
    by: str = ""  # EXTEND: the input (a number) of the clock's units to add
    record: str = ""  # STOP: the log data key saying whether it was met

    @property
    def label(self) -> str:
        return OP_LABELS[self.op]


def start(clock: str, *, due: str = "", since: str = "") -> ClockOp:
    return ClockOp(Op.START, clock, due=due, since=since)


def stop(clock: str, *, record: str = "") -> ClockOp:
    return ClockOp(Op.STOP, clock, record=record)


def cancel(clock: str) -> ClockOp:
    return ClockOp(Op.CANCEL, clock)


def suspend(clock: str) -> ClockOp:
    return ClockOp(Op.SUSPEND, clock)


def resume(clock: str) -> ClockOp:
    return ClockOp(Op.RESUME, clock)


def extend(clock: str, *, due: str = "", by: str = "") -> ClockOp:
    return ClockOp(Op.EXTEND, clock, due=due, by=by)


@dataclass(frozen=True)
class Tell:
    """Who hears of a transition, and the words their message begins with."""

    who: tuple[str, ...]
    verb: str


@dataclass
class Step:
    """One transition being taken: what effects, branches and checks see and may change.

    `values` are the checked inputs (effects may add derived ones that clock operations read),
    `data` becomes the log row's data, `target` the new state; `handover` names another flow
    the case passes to (it then starts over at that flow's first state).
    """

    case: "Case"
    actor: "User | None"
    moment: datetime
    values: dict[str, Any]
    data: dict[str, Any]
    flow: "Flow"
    transition: "TransitionSpec"
    target: str | None
    handover: str = ""


@dataclass(frozen=True)
class Branch:
    """The transition ends in `to` instead of its target when `test` holds."""

    to: str
    label: str
    test: Callable[[Step], bool]


@dataclass(frozen=True)
class Then:
    """A transition the system takes right after, in the same transaction, when `test` holds."""

    action: str
    label: str
    test: Callable[[Step], bool]
    inputs: Callable[[Step], dict[str, Any]]


@dataclass(frozen=True)
class TransitionSpec:
    action: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: the case stays where it is
    who: frozenset[str]
    inputs: tuple[Input, ...] = ()
    clocks: tuple[ClockOp, ...] = ()
    marks: tuple[str, ...] = ()
    assigns: str = ""  # the unit input that becomes the case's unit (its assignee is cleared)
    resolution: str = ""  # the input that becomes the case's result (办理结果)
    rates: str = ""  # the input that becomes the case's satisfaction
    tell: Tell | None = None
    public: str | None = None  # the reporter's name for this step; None shows it as 流转中
    public_note: bool = False  # whether the reporter reads the note
    guard: Guard | None = None
    check: Callable[[Step], None] | None = None
    effect: Callable[[Step], None] | None = None
    branches: tuple[Branch, ...] = ()
    then: Then | None = None
    derives: tuple[str, ...] = ()  # values the effect adds for the clock operations to read
    summary: str = ""  # a sentence for the docs beyond what the fields say

    @property
    def offered(self) -> bool:
        """Whether people take it (some transitions are the system's alone)."""
        return self.who != frozenset({"system"})

    def input(self, name: str) -> Input | None:
        return next((spec for spec in self.inputs if spec.name == name), None)

    @property
    def photo_input(self) -> Input | None:
        return next((spec for spec in self.inputs if spec.kind == InputKind.PHOTOS), None)


@dataclass(frozen=True)
class Paragraph:
    heading: str
    text: str


@dataclass(frozen=True)
class DocumentSpec:
    """A paper the flow issues (告知书, 意见书, 协议书…), composed from the case and the log row of
    the action that issued it; rendered as .docx."""

    key: str
    title: str
    after: str
    compose: "Callable[[Case, CaseAction], list[Paragraph]]"


@dataclass(frozen=True)
class Flow:
    key: str
    label: str
    summary: str
    states: tuple[StateSpec, ...]
    transitions: tuple[TransitionSpec, ...]
    clocks: tuple[ClockSpec, ...] = ()
    documents: tuple[DocumentSpec, ...] = ()
    initial: str = "reported"
    basis: str = ""

    @cached_property
    def state_by_key(self) -> dict[str, StateSpec]:
        return {state.key: state for state in self.states}

    @cached_property
    def transition_by_action(self) -> dict[str, TransitionSpec]:
        return {transition.action: transition for transition in self.transitions}

    @cached_property
    def clock_by_name(self) -> dict[str, ClockSpec]:
        return {clock.name: clock for clock in self.clocks}

    def state(self, key: str) -> StateSpec:
        return self.state_by_key[key]

    def state_label(self, key: str) -> str:
        state = self.state_by_key.get(key)
        return state.label if state is not None else key

    def transition(self, action: str) -> TransitionSpec | None:
        return self.transition_by_action.get(action)

    def leaving(self, state: str) -> list[TransitionSpec]:
        return [t for t in self.transitions if state in t.sources]

    def mirror(self, which: str) -> ClockSpec | None:
        return next((clock for clock in self.clocks if clock.mirror == which), None)

    def states_of(self, *kinds: Kind) -> list[str]:
        return [state.key for state in self.states if state.kind in kinds]

    def running(self, clock: str) -> list[str]:
        """The states in which `clock` runs."""
        return [state.key for state in self.states if clock in state.clocks]
