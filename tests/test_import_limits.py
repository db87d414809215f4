"""The web import runs inside the request, so it refuses at once what it could not finish there:
too many rows, a sheet of a million empty rows, a file too big. The command line has no limit."""

import re
import zipfile
from io import BytesIO, StringIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from shanzhi.registry.imports import SPECS
from shanzhi.registry.models import Person

from .test_pages_registry_io import post_import, upload
from .test_registry_import import person_row

pytestmark = pytest.mark.django_db


def _sparse_sheet(last_row: int, *, declared: bool) -> bytes:
    """A persons file with its header and one cell on `last_row`: empty rows in between. Without
    `declared` the sheet does not state its size, so only reading it finds its length."""
    book = openpyxl.Workbook()
    sheet = book.active
    for index, column in enumerate(SPECS["persons"].columns, start=1):
        sheet.cell(row=1, column=index, value=column.header)
    sheet.cell(row=last_row, column=1, value=" ")
    buffer = BytesIO()
    book.save(buffer)
    if declared:
        return buffer.getvalue()
    source, out = zipfile.ZipFile(BytesIO(buffer.getvalue())), BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension [^>]*/>", b"", data)
            target.writestr(item, data)
    return out.getvalue()


def test_a_file_past_the_row_limit_is_refused_at_once_and_changes_nothing(client, world, settings):
    settings.SHANZHI_WEB_IMPORT_MAX_ROWS = 40
    client.force_login(world.admin)
    response = post_import(client, [person_row(n) for n in range(41)], "apply")
    assert response.status_code == 400
    assert "文件超过40行数据" in response.content.decode()
    assert "shanzhi import" in response.content.decode()
    assert not Person.objects.exists()
    within = post_import(client, [person_row(n) for n in range(40)], "apply")
    assert within.status_code == 200 and Person.objects.count() == 40


@pytest.mark.parametrize("declared", [True, False])
def test_a_sheet_of_a_million_empty_rows_is_refused(client, world, declared):
    client.force_login(world.admin)
    content = _sparse_sheet(1_000_001, declared=declared)
    response = client.post(
        "/registry/import/",
        {
            "kind": "persons",
            "street": "330109001",
            "mode": "check",
            "file": SimpleUploadedFile("空行.xlsx", content),
        },
    )
    # Read through, it would have answered "nothing to import" after a million rows.
    assert response.status_code == 400
    assert "请删除表格末尾多余的空行" in response.content.decode()


def test_a_file_too_big_is_refused_before_it_is_opened(client, world):
    client.force_login(world.admin)
    big = SimpleUploadedFile("大文件.xlsx", b"0" * (5 * 1024 * 1024 + 1))
    response = client.post(
        "/registry/import/",
        {"kind": "persons", "street": "330109001", "mode": "apply", "file": big},
    )
    assert response.status_code == 400
    assert "文件不能超过5MB" in response.content.decode()


def test_a_sheet_declaring_a_hundred_thousand_rows_is_refused_unread(client, world):
    client.force_login(world.admin)
    content = _sparse_sheet(100_002, declared=True)
    response = client.post(
        "/registry/import/",
        {
            "kind": "persons",
            "street": "330109001",
            "mode": "check",
            "file": SimpleUploadedFile("十万行.xlsx", content),
        },
    )
    assert response.status_code == 400
    assert "工作表有100001行以上" in response.content.decode()


def test_the_command_line_keeps_no_limit(world, settings, tmp_path):
    settings.SHANZHI_WEB_IMPORT_MAX_ROWS = 3
    path = tmp_path / "居民.xlsx"
    path.write_bytes(upload([person_row(n) for n in range(5)]).read())
    call_command("import", "persons", str(path), "--street", "330109001", stdout=StringIO())
    assert Person.objects.count() == 5


def test_the_row_limit_check_names_both_limits():
    from shanzhi.errors import DomainError
    from shanzhi.registry.imports import row_limit_check

    row_limit_check(max_rows=10, filled=10, scanned=100)
    with pytest.raises(DomainError, match="超过10行数据"):
        row_limit_check(max_rows=10, filled=11)
    with pytest.raises(DomainError, match="可读取的100行"):
        row_limit_check(max_rows=10, scanned=101)
