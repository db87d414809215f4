"""The case list as an xlsx workbook: the cases a viewer may see, personal data masked.

The cases come scoped and filtered from `selectors.case_list`; this module only writes them.
Reporters' names and phones are masked, and so is any phone, ID number or e-mail address written
into the text, for every reader alike: the file leaves the system, and whoever may read a
number in the clear reads it on the case page, where that reading is logged.
"""

from datetime import datetime
from typing import IO

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook

from shanzhi import clock
from shanzhi.masking import mask_name, mask_personal, mask_phone
from shanzhi.spreadsheets import row_safe

from .flows import flow_of
from .models import Case
from .selectors import deadline_label

# One download: beyond this the list is to be narrowed by its filters first.
EXPORT_LIMIT = 20000
COLUMNS: tuple[tuple[str, int], ...] = (
    ("编号", 18),
    ("流程", 10),
    ("状态", 10),
    ("事项类型", 18),
    ("来源", 12),
    ("发生地", 18),
    ("地址", 24),
    ("标题", 20),
    ("描述", 50),
    ("上报人", 8),
    ("联系电话", 14),
    ("承办单位", 18),
    ("上报时间", 17),
    ("办理时限", 17),
    ("时限", 6),
    ("办结时间", 17),
    ("满意度", 8),
)


def _when(value: datetime | None) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else ""


def _row(case: Case, moment: datetime) -> list[object]:
    flow = flow_of(case)
    return row_safe(
        [
            case.number,
            flow.label,
            flow.state_label(case.state),
            case.case_type.name if case.case_type else "",
            case.get_source_display(),
            case.area.name,
            mask_personal(case.address),
            mask_personal(case.title),
            mask_personal(case.description),
            mask_name(case.reporter_name),
            mask_phone(case.reporter_phone) if case.reporter_phone else "",
            case.unit.name if case.unit else "",
            _when(case.reported_at),
            _when(case.handle_due_at),
            deadline_label(case, moment),
            _when(case.resolved_at),
            case.get_satisfaction_display() if case.satisfaction else "",
        ]
    )


def case_workbook_write(*, cases: QuerySet[Case], target: IO[bytes]) -> int:
    """Write `cases` (at most EXPORT_LIMIT, in their order) as one sheet; returns the count."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("事件")
    for index, (_, width) in enumerate(COLUMNS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.append([title for title, _ in COLUMNS])
    moment = clock.now()
    count = 0
    rows = cases.select_related("area", "case_type", "unit")[:EXPORT_LIMIT]
    for case in rows.iterator(chunk_size=1000):
        sheet.append(_row(case, moment))
        count += 1
    book.save(target)
    return count
