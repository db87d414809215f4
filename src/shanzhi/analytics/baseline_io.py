"""Baselines (历史基数) by spreadsheet: a template to fill and an all-or-nothing import.

Each row goes through `services.baseline_enter`, the same service the page calls, so a file is
checked by exactly the rules a single entry is. Rows are entered in one transaction; if any row
is refused, the whole file is rolled back and every refusal is listed by row and column, as the
registry import reports them (`registry.imports.RowError`, `ImportResult`).
"""

from datetime import date, datetime
from typing import IO, Any
from zipfile import BadZipFile

import openpyxl
from django.db import transaction
from django.db.models import QuerySet
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from shanzhi import policy
from shanzhi.accounts.models import User
from shanzhi.cases.models import CaseCategory, CaseType, Source
from shanzhi.errors import DomainError
from shanzhi.registry.imports import ImportResult, RowError

from .measures import KPIS
from .models import Baseline, BaselineHistory
from .periods import HELP, period_parse
from .services import baseline_amount, baseline_enter

TITLE = "历史基数"
TEMPLATE_NAME = "历史基数导入模板.xlsx"
MAX_ROWS = 5000
# (key, header, required, note, example)
COLUMNS: tuple[tuple[str, str, bool, str, str | int], ...] = (
    ("area", "辖区编码", True, "街道、社区或网格的编码,须在您的辖区范围内", "330109001"),
    ("kpi", "指标", True, "指标名称,如 受理量、办结率、满意率(见“指标”工作表)", "受理量"),
    ("period", "期间", True, HELP, "2024"),
    ("value", "数值", True, "百分比指标填百分数本身,如 99.2 表示 99.20%", 2322),
    ("note", "来源说明", True, "数据出自哪里,如“2024年工作总结”", "2024年工作总结"),
    ("source", "来源渠道", False, "为空表示全部渠道;也可填写某一渠道,如 12345热线", ""),
    ("category", "事项类别", False, "为空表示全部类别;也可填写一个大类(含其小类),如 信访", ""),
    ("case_type", "事项", False, "为空表示全部事项;也可填写事项清单中的编码或名称", ""),
)
HEADERS = {key: header for key, header, *_ in COLUMNS}
_KPI_BY_NAME = {kpi.name: kpi.key for kpi in KPIS.values()} | {key: key for key in KPIS}
_SOURCE_BY_LABEL = {str(label): value for value, label in Source.choices} | {
    value: value for value in Source.values
}


def baseline_list(viewer: Any) -> QuerySet[Baseline]:
    """The entered figures of the viewer's part of the grid, newest periods first."""
    return (
        Baseline.objects.filter(area__in=policy.areas_visible_to(viewer))
        .select_related("area", "entered_by", "category__parent", "case_type")
        .order_by("-period_start", "area__path", "key", "source", "category", "case_type")
    )


def _matter_lookup(
    street_ids: set[int],
) -> tuple[dict[tuple[int, str], CaseCategory], dict[tuple[int, str], CaseType]]:
    """Categories and case types of the streets a file is about, by how a row may spell them."""
    categories: dict[tuple[int, str], CaseCategory] = {}
    for category in CaseCategory.objects.filter(street_id__in=street_ids).select_related("parent"):
        categories.setdefault((category.street_id, str(category)), category)
        if category.parent_id is None:
            categories.setdefault((category.street_id, category.name), category)
    types: dict[tuple[int, str], CaseType] = {}
    for case_type in CaseType.objects.filter(street_id__in=street_ids):
        types[(case_type.street_id, case_type.code)] = case_type
        types.setdefault((case_type.street_id, case_type.name), case_type)
    return categories, types


def baseline_history(viewer: Any) -> QuerySet[BaselineHistory]:
    """Earlier versions of entered figures (corrected or withdrawn), latest first."""
    return BaselineHistory.objects.filter(area__in=policy.areas_visible_to(viewer)).select_related(
        "area", "entered_by", "acted_by"
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _open(source: str | IO[bytes]) -> Any:
    try:
        return openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DomainError(
            "无法读取该文件,请上传用模板填写的 Excel 文件(.xlsx)", code="import_file"
        ) from exc


def _read(source: str | IO[bytes], errors: list[RowError]) -> list[tuple[int, dict[str, str]]]:
    book = _open(source)
    try:
        cells = book.worksheets[0].iter_rows(values_only=True)
        header = [_cell(c) for c in next(cells, None) or ()]
        positions = {}
        for key, name, required, *_ in COLUMNS:
            if name in header:
                positions[key] = header.index(name)
            elif required:
                errors.append(RowError(1, name, "表头缺少该列,请使用最新的导入模板"))
        if errors:
            return []
        rows = []
        for number, values in enumerate(cells, start=2):
            if number > MAX_ROWS + 1:
                errors.append(RowError(number, "", f"一次最多导入{MAX_ROWS}行,请分批导入"))
                break
            # An optional column missing from an older template reads as empty.
            texts = {key: "" for key, *_ in COLUMNS} | {
                key: _cell(values[index]) if index < len(values) else ""
                for key, index in positions.items()
            }
            if any(texts.values()):
                rows.append((number, texts))
        return rows
    finally:
        book.close()


def _row_error(number: int, message: str) -> RowError:
    """Name the column a service's refusal is about, by what the message speaks of."""
    for key, words in (
        ("note", ("来源说明", "数据来源")),
        ("source", ("来源渠道",)),
        ("category", ("类别或事项之一", "类别", "不按事项统计")),
        ("case_type", ("事项",)),
        ("period", ("期间", "日期", "月份")),
        ("area", ("辖区",)),
        ("kpi", ("没有名为",)),
        ("value", ("数值", "百分比")),
    ):
        if any(word in message for word in words):
            return RowError(number, HEADERS[key], message)
    return RowError(number, "", message)


def baseline_import(*, actor: User, source: str | IO[bytes]) -> ImportResult:
    """Enter every row of a filled template, or none: the result lists each bad row."""
    result = ImportResult(kind="baseline")
    errors: list[RowError] = []
    rows = _read(source, errors)
    result.rows = len(rows)
    if not errors and not rows:
        errors.append(RowError(2, "", "文件中没有数据行"))
    areas = {
        a.code: a
        for a in policy.areas_visible_to(actor).filter(code__in={r["area"] for _, r in rows})
    }
    street_ids = {a.street_id for a in areas.values() if a.street_id is not None}
    categories, types = _matter_lookup(street_ids)
    with transaction.atomic():
        for number, row in rows:
            problems = []
            for key, name, required, *_ in COLUMNS:
                if required and not row[key]:
                    problems.append(RowError(number, name, "必填,不能为空"))
            area = areas.get(row["area"])
            if row["area"] and area is None:
                problems.append(RowError(number, HEADERS["area"], "没有找到该辖区,或您无权录入"))
            kpi = _KPI_BY_NAME.get(row["kpi"])
            if row["kpi"] and kpi is None:
                problems.append(RowError(number, HEADERS["kpi"], f"没有名为“{row['kpi']}”的指标"))
            if kpi is not None and row["value"]:
                try:
                    baseline_amount(KPIS[kpi], row["value"])
                except DomainError as exc:
                    problems.append(RowError(number, HEADERS["value"], exc.message))
            channel = _SOURCE_BY_LABEL.get(row["source"], None) if row["source"] else ""
            if channel is None:
                problems.append(RowError(number, HEADERS["source"], "来源渠道无效"))
            try:
                period = period_parse(row["period"]) if row["period"] else None
            except DomainError as exc:
                problems.append(RowError(number, HEADERS["period"], exc.message))
                period = None
            category = case_type = None
            if area is not None and area.street_id is not None:
                if row["category"]:
                    category = categories.get((area.street_id, row["category"]))
                    if category is None:
                        problems.append(
                            RowError(number, HEADERS["category"], "该街道的事项清单中没有这个类别")
                        )
                if row["case_type"]:
                    case_type = types.get((area.street_id, row["case_type"]))
                    if case_type is None:
                        problems.append(
                            RowError(number, HEADERS["case_type"], "该街道的事项清单中没有这个事项")
                        )
            if problems or area is None or kpi is None or period is None or channel is None:
                errors.extend(problems)
                continue
            try:
                with transaction.atomic():
                    baseline_enter(
                        actor=actor,
                        area=area,
                        kpi=kpi,
                        period=period,
                        value=row["value"],
                        note=row["note"],
                        source=channel,
                        category=category,
                        case_type=case_type,
                    )
            except DomainError as exc:
                errors.append(_row_error(number, exc.message))
        if errors:
            transaction.set_rollback(True)
    order = [header for _, header, *_ in COLUMNS]
    result.errors = sorted(
        errors, key=lambda e: (e.row, order.index(e.column) if e.column in order else len(order))
    )
    if not errors:
        result.created[TITLE] = len(rows)
        result.applied = True
    return result


def template_write(target: str | IO[bytes]) -> None:
    """The template: headers (required ones in red, each with a note), an example row, and a
    sheet listing the figures by name."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has its sheet
    sheet.title = TITLE
    fill = PatternFill("solid", fgColor="F2F2F2")
    for index, (_, header, required, note, example) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=header)
        cell.font = Font(bold=True, color="C0392B" if required else None)
        cell.fill = fill
        cell.comment = Comment(("必填。" if required else "") + note, "善治", width=260, height=110)
        sheet.cell(row=2, column=index, value=example if example != "" else None)
        sheet.column_dimensions[cell.column_letter].width = 18
    sheet.freeze_panes = "A2"
    kpis = book.create_sheet("指标")
    kpis.append(["指标", "单位", "口径"])
    for kpi in KPIS.values():
        kpis.append([kpi.name, kpi.unit, kpi.definition])
    kpis.column_dimensions["A"].width = 22
    kpis.column_dimensions["C"].width = 60
    book.save(target)
