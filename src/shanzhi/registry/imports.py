"""Spreadsheet imports of the registry (人房企事物), and of grids with their grid workers.

Each kind is declared once as data: its columns with the Chinese header, whether the cell is
required, how it is read, a note and an example. The same declaration writes the template, names
the columns of the error report and lays out the exports (`exports.py`), so an export re-imports.

A file is all or nothing. Every row is read and checked and every reference is looked up in bulk
(a few queries per thousand rows, none per row); only a file without a single bad row is written,
in one transaction, by bulk inserts and updates. Natural keys make a second import of the same
file update what the first created, and bring back records deleted (注销) since.
"""

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar
from zipfile import BadZipFile

import openpyxl
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone, translation
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from shanzhi import clock, policy
from shanzhi.accounts.models import Role, RoleGrant, Unit, UnitKind, User
from shanzhi.accounts.services import ROLE_LEVELS, role_grant, unit_create, unit_update, user_create
from shanzhi.areas.models import Area, Level
from shanzhi.areas.services import area_check_code, area_check_parent, area_create, area_update
from shanzhi.errors import DomainError
from shanzhi.protection import digest
from shanzhi.registry.models import (
    Building,
    Enterprise,
    EnterpriseScale,
    Facility,
    FacilityKind,
    House,
    HouseholdType,
    HouseUse,
    Library,
    LibraryEntry,
    Person,
    PersonTag,
    Tag,
    TagKind,
)
from shanzhi.registry.services import enterprise_fields, person_protected_fields
from shanzhi.registry.validators import credit_code_check, phone_check, resident_id_check
from shanzhi.spreadsheets import row_safe

# Rows per INSERT/UPDATE batch and values per IN (...) lookup; SQLite allows 999 parameters.
BATCH = 1000
LOOKUP_CHUNK = 900
PROGRESS_EVERY = 5000
# The street of the demo (城厢街道) whose codes the templates' example rows use.
EXAMPLE_STREET = "330109001"
EXAMPLE_MICROGRID = "330109001001001001"

Parser = Callable[[str], Any]
Source = str | Path | IO[bytes]
Notify = Callable[[str], None]
_T = TypeVar("_T")


# Reading a cell ------------------------------------------------------------------------------


def _text(max_length: int) -> Parser:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise DomainError(f"不能超过{max_length}个字")
        return value

    return parse


def _integer(minimum: int, maximum: int) -> Parser:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise DomainError("应为整数") from None
        if not minimum <= number <= maximum:
            raise DomainError(f"应在{minimum}到{maximum}之间")
        return number

    return parse


def _area_size(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise DomainError("应为数字,如 89.5") from None
    if not Decimal(0) < number < Decimal(1_000_000):
        raise DomainError("应为大于0、小于1000000的数字")
    return number.quantize(Decimal("0.01"))


_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def _date_of(value: str) -> date:
    match = _DATE.fullmatch(value)
    if match is None:
        raise DomainError("日期格式应为 2024-03-01")
    try:
        day = date(*(int(part) for part in match.groups()))
    except ValueError:
        raise DomainError("日期无效") from None
    if day > timezone.localdate(clock.now()):
        raise DomainError("日期不能晚于今天")
    return day


def _choice(pairs: Iterable[tuple[str, Any]]) -> Parser:
    """Read a label of `pairs` (value, label), such as a TextChoices' `choices`, as its value."""
    by_label = {str(label): value for value, label in pairs}

    def parse(value: str) -> str:
        if value not in by_label:
            raise DomainError(f"只能填写:{'、'.join(by_label)}")
        return by_label[value]

    return parse


def _choosing(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """A column's reader of the labels of `pairs` and the drop-down offering them."""
    return {"parse": _choice(pairs), "options": tuple(str(label) for _, label in pairs)}


def _resident_id(value: str) -> str:
    return resident_id_check(value).number


def _area_code(value: str) -> str:
    code = value.upper()
    if not re.fullmatch(r"[0-9A-Z]{4,32}", code):
        raise DomainError("编码只能由数字和大写字母组成")
    return code


_LIST_SEPARATORS = re.compile(r"[、,,;;\s]+")


def _names(value: str) -> tuple[str, ...]:
    return tuple(name for name in _LIST_SEPARATORS.split(value) if name)


_LIBRARIES = {str(label): value for value, label in Library.choices}


def _libraries(value: str) -> tuple[tuple[str, date], ...]:
    """Libraries an enterprise is in, and since when: 服务库:2024-03-01、培育库:2023-05-10."""
    entries: dict[str, date] = {}
    for part in _names(value):
        name, colon, day = part.replace(":", ":").partition(":")
        if name not in _LIBRARIES or not colon:
            raise DomainError(f"“{part}”应写作“服务库:2024-03-01”,企业库为{'、'.join(_LIBRARIES)}")
        library = _LIBRARIES[name]
        if library in entries:
            raise DomainError(f"{name}只能填写一次")
        try:
            entries[library] = _date_of(day)
        except DomainError as exc:
            raise DomainError(f"{name}的入库{exc.message}") from None
    return tuple(entries.items())


def _username(value: str) -> str:
    if len(value) > 150:
        raise DomainError("用户名不能超过150个字符")
    try:
        UnicodeUsernameValidator()(value)
    except ValidationError:
        raise DomainError("用户名只能由字母、数字和 @ . + - _ 组成") from None
    return value


def _cell_text(value: Any) -> str:
    """A cell as the text it shows: dates as 2024-03-01, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# The kinds as data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    note: str
    example: Any = ""
    required: bool = False
    parse: Parser = field(default=_text(100))
    # What an empty optional cell means.
    empty: Any = ""
    # The choices offered as a drop-down in the template.
    options: tuple[str, ...] = ()
    # Long digit strings that Excel rounds when the cell is a number (身份证号).
    text_only: bool = False
    width: int = 16


@dataclass(frozen=True)
class Spec:
    kind: str
    title: str
    columns: tuple[Column, ...]
    intro: str

    def header(self, key: str) -> str:
        return next((c.header for c in self.columns if c.key == key), "")


AREA_COLUMN = Column(
    "area",
    "网格编码",
    "所在网格或微网格的编码(在“我的辖区”中查看),须在您有权导入的范围内",
    EXAMPLE_MICROGRID,
    required=True,
    parse=_area_code,
    text_only=True,
    width=22,
)

GRID_LEVEL_CHOICES = [
    (level.value, level.label) for level in (Level.GRID, Level.DEDICATED_GRID, Level.MICROGRID)
]

GRIDS = Spec(
    "grids",
    "网格和网格员",
    (
        Column(
            "community",
            "社区编码",
            "网格所属社区的编码",
            "330109001001",
            required=True,
            parse=_area_code,
            text_only=True,
            width=16,
        ),
        Column(
            "parent",
            "上级网格编码",
            "仅微网格填写:所属网格的编码(可以是本文件前面几行新建的网格)",
            "",
            parse=_area_code,
            text_only=True,
            width=20,
        ),
        Column(
            "code",
            "网格编码",
            "网格:社区编码后加3位序号;微网格:上级网格编码后加3位序号;专属网格:社区编码后加Z和2位序号。"
            "已有的编码只更新名称",
            "330109001001090",
            required=True,
            parse=_area_code,
            text_only=True,
            width=22,
        ),
        Column("name", "网格名称", "如“湘湖第九十网格”", "湘湖第九十网格", required=True),
        Column(
            "level",
            "层级",
            "网格、专属网格或微网格,不填为网格",
            "网格",
            **_choosing(GRID_LEVEL_CHOICES),
            empty=Level.GRID,
            width=10,
        ),
        Column(
            "username",
            "网格员用户名",
            "登录用的用户名;账号不存在时新建,已存在时只补授本网格的网格员角色",
            "chengxiang.gw901",
            parse=_username,
            width=20,
        ),
        Column("full_name", "网格员姓名", "新建账号时必填", "张晓梅", parse=_text(50), width=12),
        Column("phone", "网格员手机号", "可不填", "13900009901", parse=phone_check, width=16),
        Column(
            "password",
            "初始密码",
            "新建账号的初始密码(至少8位,不能全是数字);不填则须由管理员另行设置后才能登录。"
            "已有账号不会被改密码",
            "Xianghu@2026",
            parse=_text(128),
            width=16,
        ),
    ),
    "每行一个网格或微网格;填了网格员用户名的,同时建网格员账号并授予该网格的网格员角色。",
)

BUILDINGS = Spec(
    "buildings",
    "楼栋房屋",
    (
        AREA_COLUMN,
        Column("compound", "小区", "所在小区,可不填", "景港府", parse=_text(100)),
        Column("building_name", "楼栋名称", "填写楼栋地址时必填,如“1幢”", "1幢", parse=_text(50)),
        Column(
            "building_address",
            "楼栋地址",
            "楼栋的完整地址,同一街道内唯一;同一楼栋的各行须一致",
            "城厢街道景港府1幢",
            parse=_text(200),
            width=28,
        ),
        Column("floors", "层数", "可不填", 18, parse=_integer(1, 200), empty=None, width=8),
        Column("unit_count", "单元数", "可不填", 2, parse=_integer(1, 100), empty=None, width=8),
        Column(
            "address",
            "房屋地址",
            "房屋的完整地址,同一街道内唯一;只登记楼栋时不填",
            "城厢街道景港府1幢1单元101室",
            parse=_text(200),
            width=32,
        ),
        Column("unit_no", "单元", "可不填", "1单元", parse=_text(20), width=8),
        Column("floor", "楼层", "地下层填负数", 1, parse=_integer(-10, 200), empty=None, width=8),
        Column("room", "室号", "可不填", "101", parse=_text(20), width=8),
        Column(
            "use",
            "房屋用途",
            "填写房屋地址时必填",
            "自住",
            **_choosing(HouseUse.choices),
            width=10,
        ),
        Column(
            "floor_area", "面积(平方米)", "可不填", 89.5, parse=_area_size, empty=None, width=12
        ),
    ),
    "每行一套房屋,连同它所在楼栋的信息;只登记楼栋时房屋各列留空。",
)

PERSONS = Spec(
    "persons",
    "居民",
    (
        AREA_COLUMN,
        Column("name", "姓名", "", "王秀英", required=True, parse=_text(50), width=10),
        Column(
            "id_number",
            "身份证号",
            "18位(15位旧号自动升位);出生日期和性别由号码得出。请把该列设为文本格式",
            "330109194805120024",
            required=True,
            parse=_resident_id,
            text_only=True,
            width=22,
        ),
        Column(
            "phone", "联系电话", "手机号或带区号的固定电话,可不填", "13900002222", parse=phone_check
        ),
        Column(
            "household_type",
            "户籍类型",
            "户籍、流动或境外,不填为户籍",
            "户籍",
            **_choosing(HouseholdType.choices),
            empty=HouseholdType.REGISTERED,
            width=10,
        ),
        Column(
            "house",
            "居住房屋地址",
            "须是本街道已登记的房屋地址(先导入楼栋房屋),可不填",
            "",
            parse=_text(200),
            width=32,
        ),
        Column(
            "tags",
            "标签",
            "标签名称,多个用顿号或逗号隔开,如“独居老人、低保”;重点管理标签须有相应权限",
            "独居老人、低保",
            parse=_names,
            empty=(),
            width=20,
        ),
        Column("note", "备注", "可不填", "", parse=_text(200), width=20),
    ),
    "每行一名居民,以身份证号区分;再次导入同一身份证号即更新该居民。",
)

ENTERPRISES = Spec(
    "enterprises",
    "企业",
    (
        AREA_COLUMN,
        Column(
            "name",
            "企业名称",
            "",
            "杭州景港机械有限公司",
            required=True,
            parse=_text(120),
            width=26,
        ),
        Column(
            "credit_code",
            "统一社会信用代码",
            "18位,不含字母I、O、Z、S、V",
            "91330109MA2H7K3P25",
            required=True,
            parse=credit_code_check,
            text_only=True,
            width=22,
        ),
        Column(
            "scale",
            "规模",
            "规上或规下",
            "规上",
            required=True,
            **_choosing(EnterpriseScale.choices),
            width=8,
        ),
        Column("industry", "行业", "可不填", "通用设备制造业", parse=_text(50)),
        Column(
            "address", "地址", "", "城厢街道景港路1号", required=True, parse=_text(200), width=28
        ),
        Column(
            "building",
            "所在楼宇地址",
            "须是本街道已登记的楼栋地址,可不填",
            "",
            parse=_text(200),
            width=28,
        ),
        Column("contact_name", "联系人", "可不填", "李经理", parse=_text(50), width=10),
        Column("contact_phone", "联系电话", "可不填", "13700003333", parse=phone_check),
        Column(
            "employees",
            "从业人数",
            "可不填",
            120,
            parse=_integer(0, 1_000_000),
            empty=None,
            width=10,
        ),
        Column(
            "libraries",
            "企业库",
            "目前所在的企业库及入库日期,如“服务库:2024-03-01”,多个用顿号隔开;"
            "未列出的在库记录将以今天出库",
            "服务库:2024-03-01",
            parse=_libraries,
            empty=(),
            width=26,
        ),
    ),
    "每行一家企业,以统一社会信用代码区分;再次导入同一代码即更新该企业。",
)

FACILITIES = Spec(
    "facilities",
    "设施",
    (
        AREA_COLUMN,
        Column(
            "code",
            "设施编号",
            "同一街道内唯一",
            "XF-330109-0001",
            required=True,
            parse=_text(40),
            width=18,
        ),
        Column(
            "kind",
            "设施类别",
            "",
            "消防栓",
            required=True,
            **_choosing(FacilityKind.choices),
            width=10,
        ),
        Column("name", "名称", "", "室外消火栓", required=True, parse=_text(120), width=18),
        Column("address", "位置", "", "景港府东门", required=True, parse=_text(200), width=24),
        Column("owner", "管理责任人", "可不填", "景港府物业", parse=_text(100)),
        Column(
            "enterprise",
            "所属企业信用代码",
            "须是本街道已登记的企业,可不填",
            "",
            parse=credit_code_check,
            text_only=True,
            width=22,
        ),
        Column(
            "inspection_cycle_days",
            "检查周期(天)",
            "不填为30天",
            30,
            parse=_integer(1, 3650),
            empty=30,
            width=12,
        ),
        Column(
            "last_inspected_on", "最近检查日期", "可不填", "2024-03-01", parse=_date_of, empty=None
        ),
    ),
    "每行一处设施,以设施编号区分;再次导入同一编号即更新该设施。",
)

UNIT_KIND_CHOICES = list(UnitKind.choices)
STAFF_ROLE_CHOICES = [(role.value, role.label) for role in Role if role != Role.RESIDENT]

UNITS = Spec(
    "units",
    "单位",
    (
        Column(
            "area",
            "所在辖区编码",
            "单位设在哪个辖区:街道、片区或社区的编码(社区居委会填社区编码)",
            EXAMPLE_STREET,
            required=True,
            parse=_area_code,
            text_only=True,
            width=16,
        ),
        Column(
            "name",
            "单位名称",
            "同一辖区内不重名;已有的单位只更新类别和电话",
            "城厢退役军人服务站",
            required=True,
            width=24,
        ),
        Column(
            "kind",
            "类别",
            "不填为街道科室",
            "站所",
            **_choosing(UNIT_KIND_CHOICES),
            empty=UnitKind.STREET_OFFICE,
            width=12,
        ),
        Column("phone", "联系电话", "可不填", "0571-82345678", parse=_text(30), width=16),
    ),
    "每行一个单位(街道科室、社区居委会、站所、物业公司……),事件交办给单位,由单位的办理人签收。",
)

STAFF = Spec(
    "users",
    "人员与角色",
    (
        Column(
            "username",
            "用户名",
            "登录用的用户名;账号不存在时新建,已存在时只补授这一行的角色",
            "chengxiang.dispatcher9",
            required=True,
            parse=_username,
            width=22,
        ),
        Column("full_name", "姓名", "新建账号时必填", "周晓雯", parse=_text(50), width=12),
        Column("phone", "手机号", "可不填", "13900009902", parse=phone_check, width=16),
        Column(
            "unit_area",
            "单位所在辖区编码",
            "所在单位设在哪个辖区(见单位模板)",
            EXAMPLE_STREET,
            required=True,
            parse=_area_code,
            text_only=True,
            width=16,
        ),
        Column(
            "unit", "所在单位", "单位名称,须已建立", "社会治理综合中心", required=True, width=20
        ),
        Column(
            "role",
            "角色",
            "网格员请用“网格和网格员”模板",
            "指挥中心坐席",
            required=True,
            **_choosing(STAFF_ROLE_CHOICES),
            width=14,
        ),
        Column(
            "role_area",
            "授权辖区编码",
            "角色管到哪里:坐席、系统管理员填街道编码,领导、办理人填街道或社区编码",
            EXAMPLE_STREET,
            required=True,
            parse=_area_code,
            text_only=True,
            width=16,
        ),
        Column(
            "password",
            "初始密码",
            "新建账号的初始密码,本人首次登录须修改;不填则须由管理员另行设置后才能登录。"
            "已有账号不会被改密码",
            "Zhou#Desk2026",
            parse=_text(128),
            width=16,
        ),
    ),
    "每行授予一个人一个角色;同一人有多个角色时写多行。",
)

SPECS: dict[str, Spec] = {
    spec.kind: spec for spec in (UNITS, GRIDS, STAFF, BUILDINGS, PERSONS, ENTERPRISES, FACILITIES)
}


# Results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One reason a file was refused: row as the spreadsheet numbers it (header = 1)."""

    row: int
    column: str
    reason: str


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def created_total(self) -> int:
        return self.created.total()

    @property
    def updated_total(self) -> int:
        return self.updated.total()

    def summary(self) -> str:
        """What was (on a check: would be) done, in words: 新增居民 3 条;更新居民 2 条."""
        parts = [f"新增{label} {n} 条" for label, n in self.created.items() if n]
        parts += [f"更新{label} {n} 条" for label, n in self.updated.items() if n]
        return ";".join(parts) or "没有需要导入的数据"


class _ApplyFailed(Exception):
    """A service refused a row while the file was written; the whole file is rolled back."""

    def __init__(self, error: RowError) -> None:
        super().__init__(error.reason)
        self.error = error


@dataclass
class Row:
    number: int
    values: dict[str, Any]


@dataclass
class _Context:
    actor: User | None
    street: Area
    spec: Spec
    # Whether the file is being written (not only checked): then the records it updates are locked.
    writing: bool
    notify: Notify
    every: int
    # Filled rows a file may have (None: no limit); see `row_limit_check`.
    max_rows: int | None = None
    errors: list[RowError] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)
    now: datetime = field(default_factory=clock.now)
    _may_import: dict[int, bool] = field(default_factory=dict)

    def fail(self, row: Row | int, key: str, reason: str) -> None:
        number = row.number if isinstance(row, Row) else row
        self.errors.append(RowError(number, self.spec.header(key), reason))
        self.bad_rows.add(number)

    def may_import(self, area: Area) -> bool:
        if self.actor is None:
            return True
        if area.pk not in self._may_import:
            self._may_import[area.pk] = policy.can_import_at(self.actor, area)
        return self._may_import[area.pk]

    def lookup(
        self,
        queryset: models.QuerySet[Any],
        field_name: str,
        keys: Iterable[Any],
        *,
        lock: bool = False,
    ) -> Iterator[Any]:
        """The rows of `queryset` whose `field_name` is among `keys`, a chunk of keys a query.
        The records a file updates are locked (`lock`) while it is written, so that an edit made
        meanwhile is not overwritten unseen."""
        if lock and self.writing:
            queryset = queryset.select_for_update()
        for chunk in _chunks(sorted(set(keys)), LOOKUP_CHUNK):
            yield from queryset.filter(**{f"{field_name}__in": chunk})


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Reading a file ------------------------------------------------------------------------------


def _open(source: Source) -> Any:
    try:
        return openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DomainError(
            "无法读取该文件,请上传用模板填写的 Excel 文件(.xlsx)", code="import_file"
        ) from exc


def _header_positions(
    spec: Spec, header: Sequence[Any], errors: list[RowError]
) -> list[tuple[Column, int]]:
    names = [_cell_text(cell) for cell in header]
    known = {column.header for column in spec.columns}
    for index, name in enumerate(names):
        if name and name not in known:
            errors.append(
                RowError(1, name, f"第{get_column_letter(index + 1)}列的列名无法识别,请与模板一致")
            )
        elif name and names.index(name) != index:
            errors.append(RowError(1, name, "列名重复"))
    positions = []
    for column in spec.columns:
        if column.header in names:
            positions.append((column, names.index(column.header)))
        else:
            errors.append(RowError(1, column.header, "表头缺少该列,请使用最新的导入模板"))
    return positions


def _read_cell(column: Column, raw: Any) -> Any:
    if column.text_only and isinstance(raw, float):
        raise DomainError("该列须设为文本格式:数字格式会把超过15位的号码末几位变成0,请改后重填")
    text = _cell_text(raw)
    if not text:
        if column.required:
            raise DomainError("必填,不能为空")
        return column.empty
    return column.parse(text)


# A limited import reads at most this many times its row limit in sheet rows, empty ones included.
_SCAN_FACTOR = 10


def row_limit_check(*, max_rows: int, filled: int = 0, scanned: int = 0) -> None:
    """Refuse a file past a row limit: `filled` rows of data, or `scanned` sheet rows in all
    (a sheet of a million empty rows takes as long to read as one of a million records)."""
    if filled > max_rows:
        raise DomainError(
            f"文件超过{max_rows}行数据:网页导入一次最多{max_rows}行,请拆分成几个文件分批导入,"
            "或请系统管理员用命令行 shanzhi import 导入",
            code="import_too_many_rows",
        )
    if scanned > max_rows * _SCAN_FACTOR:
        raise DomainError(
            f"工作表有{scanned}行以上,超过网页导入可读取的{max_rows * _SCAN_FACTOR}行"
            f"(一次最多{max_rows}行数据):若多为空行,请删除表格末尾多余的空行后再上传;"
            "否则请拆分文件,或请系统管理员用命令行 shanzhi import 导入",
            code="import_too_many_rows",
        )


def _read_rows(spec: Spec, source: Source, ctx: _Context) -> list[Row]:
    """The filled rows of the first sheet, each cell read by its column; bad cells are noted in
    `ctx` and their rows left out of what follows. Past `ctx.max_rows` the file is refused."""
    book = _open(source)
    try:
        sheet = book.worksheets[0]
        if ctx.max_rows is not None and sheet.max_row:
            # The size the file declares: a file too long is refused before it is read.
            row_limit_check(max_rows=ctx.max_rows, scanned=sheet.max_row - 1)
        cells = sheet.iter_rows(values_only=True)
        header = next(cells, None)
        if header is None:
            ctx.errors.append(RowError(1, "", "文件是空的:第1行应为表头"))
            return []
        positions = _header_positions(spec, header, ctx.errors)
        if ctx.errors:
            return []
        rows = []
        filled = 0
        for number, values in enumerate(cells, start=2):
            if ctx.max_rows is not None:
                row_limit_check(max_rows=ctx.max_rows, scanned=number - 1)
            if all(value is None or str(value).strip() == "" for value in values):
                continue
            filled += 1
            if ctx.max_rows is not None:
                row_limit_check(max_rows=ctx.max_rows, filled=filled)
            parsed: dict[str, Any] = {}
            for column, index in positions:
                raw = values[index] if index < len(values) else None
                try:
                    parsed[column.key] = _read_cell(column, raw)
                except DomainError as exc:
                    ctx.fail(number, column.key, exc.message)
            if number not in ctx.bad_rows:
                rows.append(Row(number, parsed))
            if (number - 1) % ctx.every == 0:
                ctx.notify(f"已读取 {number - 1} 行")
        return rows
    finally:
        book.close()


def _first_of_each(ctx: _Context, rows: Iterable[Row], key: str, what: str) -> list[Row]:
    """Rows whose natural key no earlier row of the file has; the later ones are errors."""
    seen: dict[Any, int] = {}
    kept = []
    for row in rows:
        value = row.values[key]
        if value in ("", None):
            kept.append(row)
        elif value in seen:
            ctx.fail(row, key, f"与第{seen[value]}行的{what}重复")
        else:
            seen[value] = row.number
            kept.append(row)
    return kept


def _placed(ctx: _Context, rows: list[Row]) -> list[tuple[Row, Area]]:
    """Each row with the grid or microgrid its 网格编码 names, when the importer may import
    there."""
    areas = {
        area.code: area
        for area in ctx.lookup(
            Area.objects.all(),
            "code",
            (row.values["area"] for row in rows),
        )
    }
    placed = []
    for row in rows:
        area = areas.get(row.values["area"])
        if area is None or area.street_id != ctx.street.pk:
            ctx.fail(row, "area", f"{ctx.street.name}没有该编码的网格")
        elif area.level not in policy.FIELD_LEVELS:
            ctx.fail(row, "area", f"“{area.name}”不是网格或微网格,记录须落在网格或微网格上")
        elif not ctx.may_import(area):
            ctx.fail(row, "area", f"您无权向“{area.name}”导入数据")
        else:
            placed.append((row, area))
    return placed


def _old_areas(records: Iterable[Any]) -> dict[int, Area]:
    ids = sorted({record.area_id for record in records})
    areas: dict[int, Area] = {}
    for chunk in _chunks(ids, LOOKUP_CHUNK):
        areas.update(Area.objects.in_bulk(chunk))
    return areas


def _may_move(ctx: _Context, row: Row, current: Any, area: Area, old: dict[int, Area]) -> bool:
    """A record moving between grids must also leave one the importer may import into."""
    if current is None or current.area_id == area.pk:
        return True
    here = old[current.area_id]
    if ctx.may_import(here):
        return True
    ctx.fail(row, "area", f"该记录现登记在“{here.name}”,不在您的导入范围内")
    return False


# Writing records in bulk ---------------------------------------------------------------------


def _update_many(model: type[Any], records: Sequence[Any], names: list[str]) -> None:
    """Write `names` of each record by its primary key: one statement run with many parameter
    sets. Django's `bulk_update` builds a CASE per column over the batch instead, which made
    re-importing 50,000 persons on SQLite about thirty times slower than importing them."""
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    statement = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608 - model names
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    params = [
        [f.get_db_prep_save(_column_value(record, f), connection) for f in fields] + [record.pk]
        for record in records
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, params)


def _column_value(record: Any, field: Any) -> Any:
    """The value of a column, taking a foreign key from the related record when that was saved
    after being assigned (a house of a building created by the same file)."""
    value = getattr(record, field.attname)
    if value is None and field.is_relation and field.is_cached(record):
        related = field.get_cached_value(record)
        value = related.pk if related is not None else None
    return value


@dataclass
class _Writes:
    """The records of one model a file creates and updates, written in batches."""

    model: type[Any]
    label: str
    fields: list[str]
    creates: list[Any] = field(default_factory=list)
    updates: list[Any] = field(default_factory=list)

    def stage(self, ctx: _Context, current: Any, area: Area, values: dict[str, Any]) -> Any:
        """A new record, or `current` (perhaps deleted) brought to `values` at its next version."""
        if current is None:
            record = self.model(street=ctx.street, area=area, **values)
            self.creates.append(record)
        else:
            record = self.model(
                pk=current.pk,
                street=ctx.street,
                area=area,
                version=current.version + 1,
                deleted_at=None,
                updated_at=ctx.now,
                **values,
            )
            self.updates.append(record)
        return record

    def count(self, result: ImportResult) -> None:
        if self.creates:
            result.created[self.label] += len(self.creates)
        if self.updates:
            result.updated[self.label] += len(self.updates)

    def apply(self, ctx: _Context) -> None:
        total = len(self.creates) + len(self.updates)
        done = 0
        bookkeeping = ["area", "version", "deleted_at", "updated_at"]
        for chunk in _chunks(self.creates, BATCH):
            self.model.objects.bulk_create(chunk, batch_size=BATCH)
            done += len(chunk)
            self._progress(ctx, done, total)
        for chunk in _chunks(self.updates, BATCH):
            _update_many(self.model, chunk, [*self.fields, *bookkeeping])
            done += len(chunk)
            self._progress(ctx, done, total)

    def _progress(self, ctx: _Context, done: int, total: int) -> None:
        if total >= ctx.every and (done % ctx.every < BATCH or done == total):
            ctx.notify(f"已写入{self.label} {done}/{total} 条")


class _Plan(Protocol):
    """What a checked file would do: counted for the result, applied when it is written."""

    def count(self, result: ImportResult) -> None: ...

    def apply(self, ctx: _Context) -> None: ...


@dataclass
class _RecordPlan:
    writes: list[_Writes]
    after: list[Callable[[], None]] = field(default_factory=list)

    def count(self, result: ImportResult) -> None:
        for writes in self.writes:
            writes.count(result)

    def apply(self, ctx: _Context) -> None:
        for writes in self.writes:
            writes.apply(ctx)
        for step in self.after:
            step()


# Persons -------------------------------------------------------------------------------------

PERSON_FIELDS = [
    "name",
    "id_number_sealed",
    "id_number_digest",
    "id_number_masked",
    "birth_date",
    "sex",
    "phone_sealed",
    "phone_digest",
    "phone_masked",
    "household_type",
    "house",
    "note",
]


def _plan_persons(ctx: _Context, rows: list[Row]) -> _Plan:
    placed = _placed(ctx, _first_of_each(ctx, rows, "id_number", "身份证号"))
    digests = {row.number: digest(row.values["id_number"]) for row, _ in placed}
    existing = {
        person.id_number_digest: person
        for person in ctx.lookup(
            Person.objects.filter(street=ctx.street).only(
                "pk", "area", "version", "id_number_digest"
            ),
            "id_number_digest",
            digests.values(),
            lock=True,
        )
    }
    old = _old_areas(existing.values())
    houses = dict(
        ctx.lookup(
            House.objects.filter(street=ctx.street, deleted_at__isnull=True).values_list(
                "address", "pk"
            ),
            "address",
            (row.values["house"] for row, _ in placed if row.values["house"]),
        )
    )
    tags = {tag.name: tag for tag in Tag.objects.all()}
    may_sensitive: dict[int, bool] = {}
    writes = _Writes(Person, "居民", PERSON_FIELDS)
    tagged: list[tuple[Person, list[Tag], bool]] = []
    for row, area in placed:
        values = row.values
        current = existing.get(digests[row.number])
        house_id = houses.get(values["house"]) if values["house"] else None
        if values["house"] and house_id is None:
            ctx.fail(row, "house", "本街道没有登记该地址的房屋,请先导入楼栋房屋")
        unknown = [name for name in values["tags"] if name not in tags]
        if unknown:
            ctx.fail(row, "tags", f"没有“{'、'.join(unknown)}”这个标签,可用:{'、'.join(tags)}")
        wanted = [tags[name] for name in values["tags"] if name in tags]
        if area.pk not in may_sensitive:
            may_sensitive[area.pk] = ctx.actor is None or policy.can_see_sensitive_tags(
                ctx.actor, area
            )
        if not may_sensitive[area.pk] and any(t.kind == TagKind.SENSITIVE for t in wanted):
            ctx.fail(row, "tags", "您无权设置重点管理标签")
        if not _may_move(ctx, row, current, area, old) or row.number in ctx.bad_rows:
            continue
        person = writes.stage(
            ctx,
            current,
            area,
            {
                "name": values["name"],
                "household_type": values["household_type"],
                "house_id": house_id,
                "note": values["note"],
                **person_protected_fields(id_number=values["id_number"], phone=values["phone"]),
            },
        )
        tagged.append((person, wanted, may_sensitive[area.pk]))
        if len(tagged) % ctx.every == 0:
            ctx.notify(f"已校验 {len(tagged)} 行")
    return _RecordPlan([writes], after=[lambda: _person_tags_apply(tagged)])


def _person_tags_apply(tagged: list[tuple[Person, list[Tag], bool]]) -> None:
    """Give each person the file's tags. Sensitive tags the importer may not see stay as they
    were, as `person_tags_set` leaves them."""
    wanted = {person.pk: {tag.pk for tag in tags} for person, tags, _ in tagged}
    may_sensitive = {person.pk: may for person, _, may in tagged}
    sensitive = set(Tag.objects.filter(kind=TagKind.SENSITIVE).values_list("pk", flat=True))
    stale = []
    for chunk in _chunks(sorted(wanted), LOOKUP_CHUNK):
        current = PersonTag.objects.filter(person_id__in=chunk).values_list(
            "pk", "person_id", "tag_id"
        )
        for pk, person_id, tag_id in current:
            if tag_id in wanted[person_id]:
                wanted[person_id].discard(tag_id)
            elif may_sensitive[person_id] or tag_id not in sensitive:
                stale.append(pk)
    for chunk in _chunks(stale, LOOKUP_CHUNK):
        PersonTag.objects.filter(pk__in=chunk).delete()
    PersonTag.objects.bulk_create(
        (
            PersonTag(person_id=person_id, tag_id=tag_id)
            for person_id, tag_ids in wanted.items()
            for tag_id in tag_ids
        ),
        batch_size=BATCH,
    )


# Buildings and houses ------------------------------------------------------------------------

BUILDING_KEYS = ("compound", "building_name", "floors", "unit_count")
HOUSE_KEYS = ("unit_no", "floor", "room", "use", "floor_area")


def _plan_buildings(ctx: _Context, rows: list[Row]) -> _Plan:
    for row in rows:
        values = row.values
        if not values["address"] and not values["building_address"]:
            ctx.fail(row, "address", "请填写房屋地址,或只登记楼栋时填写楼栋地址")
        if values["building_address"] and not values["building_name"]:
            ctx.fail(row, "building_name", "填写楼栋地址时须填写楼栋名称")
        if values["address"] and not values["use"]:
            ctx.fail(row, "use", "填写房屋地址时须填写房屋用途")
        if not values["address"] and any(values[key] not in ("", None) for key in HOUSE_KEYS):
            ctx.fail(row, "address", "填写了房屋信息却没有填写房屋地址")
    rows = [row for row in rows if row.number not in ctx.bad_rows]
    placed = _placed(ctx, _first_of_each(ctx, rows, "address", "房屋地址"))
    # A building spans many rows: the first one says what it is, the others must agree.
    first: dict[str, Row] = {}
    for row, _ in placed:
        address = row.values["building_address"]
        if not address:
            continue
        if address not in first:
            first[address] = row
            continue
        seen = first[address]
        for key in BUILDING_KEYS:
            if row.values[key] != seen.values[key]:
                ctx.fail(row, key, f"与第{seen.number}行同一楼栋的{ctx.spec.header(key)}不一致")
        if not row.values["address"]:
            ctx.fail(row, "building_address", f"该楼栋已在第{seen.number}行登记")
    buildings_now = {
        b.address: b
        for b in ctx.lookup(
            Building.objects.filter(street=ctx.street).only("pk", "area", "version", "address"),
            "address",
            first,
            lock=True,
        )
    }
    houses_now = {
        h.address: h
        for h in ctx.lookup(
            House.objects.filter(street=ctx.street).only("pk", "area", "version", "address"),
            "address",
            (row.values["address"] for row, _ in placed if row.values["address"]),
            lock=True,
        )
    }
    old = _old_areas([*buildings_now.values(), *houses_now.values()])
    buildings = _Writes(Building, "楼栋", ["compound", "name", "address", "floors", "unit_count"])
    houses = _Writes(
        House, "房屋", ["building", "address", "unit_no", "floor", "room", "use", "floor_area"]
    )
    staged: dict[str, Building] = {}
    for row, area in placed:
        values = row.values
        address = values["building_address"]
        building_now = buildings_now.get(address)
        house_now = houses_now.get(values["address"])
        if first.get(address) is row and not _may_move(ctx, row, building_now, area, old):
            continue
        if values["address"] and not _may_move(ctx, row, house_now, area, old):
            continue
        if row.number in ctx.bad_rows:
            continue
        if first.get(address) is row:
            staged[address] = buildings.stage(
                ctx,
                building_now,
                area,
                {
                    "compound": values["compound"],
                    "name": values["building_name"],
                    "address": address,
                    "floors": values["floors"],
                    "unit_count": values["unit_count"],
                },
            )
        if values["address"]:
            houses.stage(
                ctx,
                house_now,
                area,
                {
                    "building": staged.get(address),
                    "address": values["address"],
                    **{key: values[key] for key in HOUSE_KEYS},
                },
            )
    return _RecordPlan([buildings, houses])


# Enterprises ---------------------------------------------------------------------------------


def _plan_enterprises(ctx: _Context, rows: list[Row]) -> _Plan:
    placed = _placed(ctx, _first_of_each(ctx, rows, "credit_code", "统一社会信用代码"))
    existing = {
        e.credit_code: e
        for e in ctx.lookup(
            Enterprise.objects.filter(street=ctx.street).only(
                "pk", "area", "version", "credit_code"
            ),
            "credit_code",
            (row.values["credit_code"] for row, _ in placed),
            lock=True,
        )
    }
    old = _old_areas(existing.values())
    buildings = {
        b.address: b
        for b in ctx.lookup(
            Building.objects.filter(street=ctx.street, deleted_at__isnull=True).only(
                "pk", "address"
            ),
            "address",
            (row.values["building"] for row, _ in placed if row.values["building"]),
        )
    }
    writes = _Writes(
        Enterprise,
        "企业",
        [
            "name",
            "credit_code",
            "scale",
            "address",
            "industry",
            "contact_name",
            "employees",
            "building",
            "contact_phone_sealed",
            "contact_phone_digest",
            "contact_phone_masked",
        ],
    )
    listed: list[tuple[Enterprise, tuple[tuple[str, date], ...]]] = []
    for row, area in placed:
        values = row.values
        building = buildings.get(values["building"])
        if values["building"] and building is None:
            ctx.fail(row, "building", "本街道没有登记该地址的楼栋,请先导入楼栋房屋")
        current = existing.get(values["credit_code"])
        if not _may_move(ctx, row, current, area, old) or row.number in ctx.bad_rows:
            continue
        fields = enterprise_fields(
            name=values["name"],
            credit_code=values["credit_code"],
            scale=values["scale"],
            address=values["address"],
            industry=values["industry"],
            contact_name=values["contact_name"],
            contact_phone=values["contact_phone"],
            employees=values["employees"],
            building=building,
        )
        listed.append((writes.stage(ctx, current, area, fields), values["libraries"]))
    return _RecordPlan([writes], after=[lambda: _libraries_apply(ctx, listed)])


def _libraries_apply(
    ctx: _Context, listed: list[tuple[Enterprise, tuple[tuple[str, date], ...]]]
) -> None:
    """Put each enterprise in the libraries its row names, since the dates given; take it out
    (as of today) of the others it was in."""
    today = timezone.localdate(ctx.now)
    wanted = {enterprise.pk: dict(libraries) for enterprise, libraries in listed}
    reopen, close = [], []
    for chunk in _chunks(sorted(wanted), LOOKUP_CHUNK):
        for entry in LibraryEntry.objects.filter(enterprise_id__in=chunk):
            stated = wanted[entry.enterprise_id]
            if stated.get(entry.library) == entry.entered_on:
                del stated[entry.library]
                if entry.left_on is not None:
                    entry.left_on = None
                    reopen.append(entry)
            elif entry.left_on is None:
                entry.left_on = max(today, entry.entered_on)
                close.append(entry)
    LibraryEntry.objects.bulk_update([*reopen, *close], ["left_on"], batch_size=BATCH)
    LibraryEntry.objects.bulk_create(
        (
            LibraryEntry(enterprise_id=pk, library=library, entered_on=entered_on)
            for pk, stated in wanted.items()
            for library, entered_on in stated.items()
        ),
        batch_size=BATCH,
    )


# Facilities ----------------------------------------------------------------------------------


def _plan_facilities(ctx: _Context, rows: list[Row]) -> _Plan:
    placed = _placed(ctx, _first_of_each(ctx, rows, "code", "设施编号"))
    existing = {
        f.code: f
        for f in ctx.lookup(
            Facility.objects.filter(street=ctx.street).only("pk", "area", "version", "code"),
            "code",
            (row.values["code"] for row, _ in placed),
            lock=True,
        )
    }
    old = _old_areas(existing.values())
    enterprises = dict(
        ctx.lookup(
            Enterprise.objects.filter(street=ctx.street, deleted_at__isnull=True).values_list(
                "credit_code", "pk"
            ),
            "credit_code",
            (row.values["enterprise"] for row, _ in placed if row.values["enterprise"]),
        )
    )
    keys = [
        "code",
        "kind",
        "name",
        "address",
        "owner",
        "inspection_cycle_days",
        "last_inspected_on",
    ]
    writes = _Writes(Facility, "设施", [*keys, "enterprise"])
    for row, area in placed:
        values = row.values
        enterprise_id = enterprises.get(values["enterprise"])
        if values["enterprise"] and enterprise_id is None:
            ctx.fail(row, "enterprise", "本街道没有登记该信用代码的企业,请先导入企业")
        current = existing.get(values["code"])
        if not _may_move(ctx, row, current, area, old) or row.number in ctx.bad_rows:
            continue
        writes.stage(
            ctx,
            current,
            area,
            {"enterprise_id": enterprise_id, **{key: values[key] for key in keys}},
        )
    return _RecordPlan([writes])


# Grids and grid workers ----------------------------------------------------------------------

GRID_LEVELS = (Level.GRID, Level.DEDICATED_GRID)


def _password_problems(password: str, username: str, full_name: str) -> str:
    try:
        with translation.override("zh-hans"):
            password_validation.validate_password(
                password, User(username=username, full_name=full_name)
            )
    except ValidationError as exc:
        return "".join(exc.messages)
    return ""


def _worker_unit(street: Area, community: Area, units: dict[int, Unit | None]) -> Unit | None:
    """A new grid worker joins the community's committee (居委会), else a unit of the street."""
    if community.pk not in units:
        units[community.pk] = (
            Unit.objects.filter(
                area=community, kind=UnitKind.COMMUNITY_COMMITTEE, is_active=True
            ).first()
            or Unit.objects.filter(area=street, is_active=True).order_by("pk").first()
        )
    return units[community.pk]


def _plan_grids(ctx: _Context, rows: list[Row]) -> _Plan:
    rows = _first_of_each(ctx, _first_of_each(ctx, rows, "code", "网格编码"), "username", "用户名")
    codes = {row.values[key] for row in rows for key in ("community", "parent", "code")}
    known = {area.code: area for area in ctx.lookup(Area.objects.all(), "code", codes - {""})}
    users = {
        user.username: user
        for user in ctx.lookup(
            User.objects.all(), "username", (row.values["username"] for row in rows)
        )
    }
    granted = set(
        RoleGrant.objects.filter(
            user__in=list(users.values()), role=Role.GRID_WORKER, revoked_at__isnull=True
        ).values_list("user_id", "area__code")
    )
    units: dict[int, Unit | None] = {}
    # Grids the file creates, unsaved, so that the microgrid rows below them can be checked.
    planned: dict[str, Area] = {}
    plan = _GridPlan()
    for row in rows:
        values = row.values
        community = known.get(values["community"])
        if community is None or community.level != Level.COMMUNITY:
            ctx.fail(row, "community", "没有该编码的社区")
            continue
        if community.street_id != ctx.street.pk:
            ctx.fail(row, "community", f"该社区不属于{ctx.street.name}")
            continue
        if not ctx.may_import(community):
            ctx.fail(row, "community", f"您无权向“{community.name}”导入网格")
            continue
        parent = _grid_parent(ctx, row, community, known, planned)
        if parent is None:
            continue
        area = _grid_area(ctx, row, parent, known, planned)
        if area is None:
            continue
        worker = _grid_worker(ctx, row, community, users, granted, units)
        if row.number in ctx.bad_rows:
            continue
        (plan.created if area.pk is None else plan.updated)["网格"] += 1
        if worker is not None:
            plan.created.update(worker[0])
        plan.steps.append(_grid_step(ctx, row, area, parent, worker))
    return plan


def _grid_parent(
    ctx: _Context, row: Row, community: Area, known: dict[str, Area], planned: dict[str, Area]
) -> Area | None:
    values = row.values
    if values["level"] != Level.MICROGRID:
        if values["parent"]:
            ctx.fail(row, "parent", "只有微网格填写上级网格编码")
            return None
        return community
    if not values["parent"]:
        ctx.fail(row, "parent", "微网格须填写上级网格编码")
        return None
    parent = known.get(values["parent"]) or planned.get(values["parent"])
    if parent is None or parent.level not in GRID_LEVELS or parent.parent_id != community.pk:
        ctx.fail(row, "parent", f"{community.name}没有该编码的网格(可在本文件前面几行新建)")
        return None
    return parent


def _grid_area(
    ctx: _Context,
    row: Row,
    parent: Area,
    known: dict[str, Area],
    planned: dict[str, Area],
) -> Area | None:
    """The existing area the row renames, or an unsaved one it creates."""
    values = row.values
    existing = known.get(values["code"])
    if existing is not None:
        if existing.level != values["level"] or existing.parent_id != parent.pk:
            ctx.fail(row, "code", f"该编码已被“{existing}”使用")
            return None
        return existing
    area = Area(code=values["code"], name=values["name"], level=values["level"], parent=parent)
    try:
        area_check_parent(level=values["level"], parent=parent)
        area_check_code(code=values["code"], level=values["level"], parent=parent)
    except DomainError as exc:
        ctx.fail(row, "code", exc.message)
        return None
    planned[values["code"]] = area
    return area


_Worker = tuple[Counter[str], User | None, Unit | None]


def _grid_worker(
    ctx: _Context,
    row: Row,
    community: Area,
    users: dict[str, User],
    granted: set[tuple[int, str]],
    units: dict[int, Unit | None],
) -> _Worker | None:
    """What the row's grid worker needs: an account made, a grant given, or nothing."""
    values = row.values
    username = values["username"]
    if not username:
        for key in ("full_name", "phone", "password"):
            if values[key]:
                ctx.fail(row, "username", "填写了网格员信息却没有填写用户名")
                break
        return None
    user = users.get(username)
    counts: Counter[str] = Counter()
    if user is not None:
        if user.street_id != ctx.street.pk or user.is_superuser:
            ctx.fail(row, "username", "该用户名已被其他街道或平台的账号使用")
            return None
        if (user.pk, values["code"]) not in granted:
            counts["网格员授权"] += 1
        return counts, user, None
    if not values["full_name"]:
        ctx.fail(row, "full_name", "新建网格员账号须填写姓名")
    if values["password"]:
        problems = _password_problems(values["password"], username, values["full_name"])
        if problems:
            ctx.fail(row, "password", problems)
    unit = _worker_unit(ctx.street, community, units)
    if unit is None:
        ctx.fail(row, "username", "该社区和街道都还没有单位,无法新建网格员账号")
    elif ctx.actor is not None and not policy.can_manage_unit(ctx.actor, unit):
        ctx.fail(row, "username", f"您无权在“{unit.name}”新增人员")
    counts["网格员账号"] += 1
    counts["网格员授权"] += 1
    return counts, None, unit


def _grid_step(
    ctx: _Context, row: Row, area: Area, parent: Area, worker: _Worker | None
) -> Callable[[dict[str, Area]], None]:
    values = dict(row.values)

    def step(made: dict[str, Area]) -> None:
        try:
            if area.pk is None:
                saved = area_create(
                    code=values["code"],
                    name=values["name"],
                    level=values["level"],
                    parent=made.get(parent.code, parent),
                )
            else:
                saved = (
                    area
                    if area.name == values["name"]
                    else area_update(area=area, name=values["name"])
                )
            made[saved.code] = saved
            if worker is None:
                return
            _, user, unit = worker
            if user is None:
                user = user_create(
                    actor=ctx.actor,
                    username=values["username"],
                    full_name=values["full_name"],
                    unit=unit,
                    password=values["password"] or None,
                    phone=values["phone"],
                )
            if not RoleGrant.objects.filter(
                user=user, role=Role.GRID_WORKER, area=saved, revoked_at__isnull=True
            ).exists():
                role_grant(granter=ctx.actor, user=user, role=Role.GRID_WORKER, area=saved)
        except DomainError as exc:
            raise _ApplyFailed(RowError(row.number, ctx.spec.header("code"), exc.message)) from exc

    return step


@dataclass
class _GridPlan:
    steps: list[Callable[[dict[str, Area]], None]] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)

    def count(self, result: ImportResult) -> None:
        result.created.update(self.created)
        result.updated.update(self.updated)

    def apply(self, ctx: _Context) -> None:
        made: dict[str, Area] = {}
        for number, step in enumerate(self.steps, start=1):
            step(made)
            if number % ctx.every == 0:
                ctx.notify(f"已写入 {number} 行")


# Units and staff -----------------------------------------------------------------------------


def _areas_of(ctx: _Context, rows: list[Row], *keys: str) -> dict[str, Area]:
    codes = {row.values[key] for row in rows for key in keys}
    return {area.code: area for area in ctx.lookup(Area.objects.all(), "code", codes - {""})}


def _area_in_street(ctx: _Context, row: Row, key: str, areas: dict[str, Area]) -> Area | None:
    area = areas.get(row.values[key])
    if area is None:
        ctx.fail(row, key, "没有该编码的辖区")
    elif area.street_id != ctx.street.pk:
        ctx.fail(row, key, f"该辖区不属于{ctx.street.name}")
    elif not ctx.may_import(area):
        ctx.fail(row, key, f"您无权向“{area.name}”导入")
    else:
        return area
    return None


def _plan_units(ctx: _Context, rows: list[Row]) -> _Plan:
    areas = _areas_of(ctx, rows, "area")
    existing = {
        (unit.area_id, unit.name): unit
        for unit in Unit.objects.filter(
            street=ctx.street, name__in={r.values["name"] for r in rows}
        )
    }
    seen: dict[tuple[int, str], int] = {}
    plan = _GridPlan()
    for row in rows:
        area = _area_in_street(ctx, row, "area", areas)
        if area is None:
            continue
        key = (area.pk, row.values["name"])
        if key in seen:
            ctx.fail(row, "name", f"与第{seen[key]}行的单位重复")
            continue
        seen[key] = row.number
        unit = existing.get(key)
        (plan.created if unit is None else plan.updated)["单位"] += 1
        plan.steps.append(_unit_step(ctx, row, area, unit))
    return plan


def _unit_step(
    ctx: _Context, row: Row, area: Area, unit: Unit | None
) -> Callable[[dict[str, Area]], None]:
    values = row.values

    def step(made: dict[str, Area]) -> None:
        try:
            if unit is None:
                unit_create(
                    actor=ctx.actor,
                    name=values["name"],
                    kind=values["kind"],
                    area=area,
                    phone=values["phone"],
                )
            else:
                unit_update(
                    actor=ctx.actor,
                    unit=unit,
                    name=unit.name,
                    kind=values["kind"],
                    phone=values["phone"],
                    is_active=True,
                )
        except DomainError as exc:
            raise _ApplyFailed(RowError(row.number, ctx.spec.header("name"), exc.message)) from exc

    return step


def _plan_staff(ctx: _Context, rows: list[Row]) -> _Plan:
    areas = _areas_of(ctx, rows, "unit_area", "role_area")
    units = {
        (unit.area_id, unit.name): unit
        for unit in Unit.objects.filter(street=ctx.street, is_active=True)
    }
    users = {
        user.username: user
        for user in ctx.lookup(User.objects.all(), "username", (r.values["username"] for r in rows))
    }
    granted = set(
        RoleGrant.objects.filter(
            user__in=list(users.values()), revoked_at__isnull=True
        ).values_list("user_id", "role", "area_id")
    )
    new_users: dict[str, int] = {}
    plan = _GridPlan()
    for row in rows:
        values = row.values
        unit_area = _area_in_street(ctx, row, "unit_area", areas)
        role_area = _area_in_street(ctx, row, "role_area", areas)
        if unit_area is None or role_area is None:
            continue
        unit = units.get((unit_area.pk, values["unit"]))
        if unit is None:
            ctx.fail(row, "unit", f"“{unit_area.name}”下没有名为“{values['unit']}”的单位")
            continue
        if role_area.level not in ROLE_LEVELS[values["role"]]:
            levels = "、".join(Level(level).label for level in sorted(ROLE_LEVELS[values["role"]]))
            ctx.fail(row, "role_area", f"“{Role(values['role']).label}”只能授予在{levels}上")
            continue
        user = users.get(values["username"])
        if user is not None:
            if user.street_id != ctx.street.pk or user.is_superuser:
                ctx.fail(row, "username", "该用户名已被其他街道或平台的账号使用")
                continue
            if (user.pk, values["role"], role_area.pk) in granted:
                continue
        elif values["username"] not in new_users:
            if not values["full_name"]:
                ctx.fail(row, "full_name", "新建账号须填写姓名")
            if values["password"]:
                problems = _password_problems(
                    values["password"], values["username"], values["full_name"]
                )
                if problems:
                    ctx.fail(row, "password", problems)
            if ctx.actor is not None and not policy.can_manage_unit(ctx.actor, unit):
                ctx.fail(row, "unit", f"您无权在“{unit.name}”新增人员")
            if row.number in ctx.bad_rows:
                continue
            new_users[values["username"]] = row.number
            plan.created["人员"] += 1
        plan.created["角色授权"] += 1
        plan.steps.append(_staff_step(ctx, row, unit, role_area))
    return plan


def _staff_step(
    ctx: _Context, row: Row, unit: Unit, role_area: Area
) -> Callable[[dict[str, Area]], None]:
    values = row.values

    def step(made: dict[str, Area]) -> None:
        try:
            user = User.objects.filter(username=values["username"]).first()
            if user is None:
                user = user_create(
                    actor=ctx.actor,
                    username=values["username"],
                    full_name=values["full_name"],
                    unit=unit,
                    password=values["password"] or None,
                    phone=values["phone"],
                    one_time=True,  # set by someone else: changed at first sign-in
                )
            role_grant(granter=ctx.actor, user=user, role=values["role"], area=role_area)
        except DomainError as exc:
            raise _ApplyFailed(RowError(row.number, ctx.spec.header("role"), exc.message)) from exc

    return step


PLANNERS: dict[str, Callable[[_Context, list[Row]], _Plan]] = {
    "units": _plan_units,
    "users": _plan_staff,
    "grids": _plan_grids,
    "buildings": _plan_buildings,
    "persons": _plan_persons,
    "enterprises": _plan_enterprises,
    "facilities": _plan_facilities,
}


# The import ----------------------------------------------------------------------------------


def import_street(code: str) -> Area:
    """The street a file is imported into, by its 9-digit code."""
    street = Area.objects.filter(code=code.strip(), level=Level.STREET).first()
    if street is None:
        raise DomainError(f"没有编码为“{code}”的街道", code="street")
    return street


def import_streets_for(user: Any) -> list[Area]:
    """The streets where the user may import something (administrators of a street or above)."""
    return [
        street
        for street in policy.streets_visible_to(user).order_by("code")
        if policy.can_import_at(user, street)
    ]


def registry_import(
    *,
    actor: User | None,
    kind: str,
    source: Source,
    street: Area,
    dry_run: bool = False,
    notify: Notify | None = None,
    every: int = PROGRESS_EVERY,
    max_rows: int | None = None,
) -> ImportResult:
    """Check every row of an xlsx file of `kind` and, unless `dry_run` or any row is bad, write
    it all in one transaction. `actor` None is the command's operator, who may import anywhere.

    The result lists every bad row (and changes nothing), or counts what was (on a dry run,
    would be) created and updated. `notify` hears of progress every `every` rows. With
    `max_rows` (the web page's limit) a longer file is refused at once with a DomainError."""
    if kind not in SPECS:
        raise DomainError(f"导入类别只能是:{'、'.join(SPECS)}", code="import_kind")
    spec = SPECS[kind]
    ctx = _Context(
        actor=actor,
        street=street,
        spec=spec,
        writing=not dry_run,
        notify=notify or (lambda message: None),
        every=max(1, every),
        max_rows=max_rows,
    )
    result = ImportResult(kind=kind)
    rows = _read_rows(spec, source, ctx)
    result.rows = len(rows) + len(ctx.bad_rows)
    try:
        with transaction.atomic():
            plan = PLANNERS[kind](ctx, rows)
            if not ctx.errors:
                plan.count(result)
                if not dry_run:
                    plan.apply(ctx)
                    result.applied = True
    except _ApplyFailed as exc:
        ctx.errors.append(exc.error)
        result.applied = False
    except IntegrityError:
        ctx.errors.append(
            RowError(0, "", "导入时有人同时登记了相同的记录,本次未导入任何数据,请重新导入")
        )
        result.applied = False
    result.errors = sorted(ctx.errors, key=lambda e: (e.row, _column_order(spec, e.column)))
    if result.errors:
        result.created.clear()
        result.updated.clear()
    return result


def _column_order(spec: Spec, header: str) -> int:
    return next((i for i, c in enumerate(spec.columns) if c.header == header), len(spec.columns))


# Templates and reports -----------------------------------------------------------------------

_HEADER_FONT = Font(bold=True)
_REQUIRED_FONT = Font(bold=True, color="C0392B")
_HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")


def template_write(kind: str, target: Source) -> None:
    """An xlsx template of `kind`: the headers (required ones in red, each with a note), one
    example row that imports as is into the demo street, and a sheet of instructions."""
    spec = SPECS[kind]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has its sheet
    sheet.title = spec.title
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = _REQUIRED_FONT if column.required else _HEADER_FONT
        cell.fill = _HEADER_FILL
        note = ("必填。" if column.required else "") + column.note
        if note:
            cell.comment = Comment(note, "善治", width=260, height=110)
        example = sheet.cell(
            row=2, column=index, value=column.example if column.example != "" else None
        )
        sheet.column_dimensions[letter].width = column.width
        if column.text_only:
            example.number_format = "@"
            sheet.column_dimensions[letter].number_format = "@"
        if column.options:
            choices = DataValidation(
                type="list", formula1=f'"{",".join(column.options)}"', allow_blank=True
            )
            sheet.add_data_validation(choices)
            choices.add(f"{letter}2:{letter}1048576")
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("填写说明")
    notes.append([f"{spec.title}导入模板", spec.intro])
    notes.append(
        [
            "说明",
            "第1行为表头,请勿修改;第2行是示例(可直接导入演示街道),请改成实际数据或删除。"
            "只要有一行有误,整个文件都不会导入,并列出每个错误的行号、列名和原因。",
        ]
    )
    notes.append([])
    notes.append(["列名", "是否必填", "说明", "示例"])
    for column in spec.columns:
        notes.append(
            [column.header, "必填" if column.required else "", column.note, column.example]
        )
    for letter, width in zip("ABCD", (18, 10, 80, 24), strict=True):
        notes.column_dimensions[letter].width = width
    book.save(target)


def template_name(kind: str) -> str:
    return f"{SPECS[kind].title}导入模板.xlsx"


def report_write(errors: Sequence[RowError], target: str | Path) -> None:
    """The error report as .csv (UTF-8 with BOM, so Excel opens it) or .xlsx."""
    header = ["行号", "列", "原因"]
    if str(target).lower().endswith(".csv"):
        with open(target, "w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(row_safe([e.row, e.column, e.reason]) for e in errors)
        return
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("错误报告")
    sheet.append(header)
    for error in errors:
        sheet.append(row_safe([error.row, error.column, error.reason]))
    book.save(target)
