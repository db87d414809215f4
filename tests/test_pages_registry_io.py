"""The registry's import page, template downloads and list exports through the Django test client."""

from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shanzhi.protection import unseal
from shanzhi.registry.imports import SPECS
from shanzhi.registry.models import AccessLog, Person

from .factories import make_superuser
from .registry_factories import make_person
from .test_registry_import import person_row, wrong_checksum

pytestmark = pytest.mark.django_db


def upload(rows: list[dict], name: str = "persons.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("居民")
    columns = SPECS["persons"].columns
    sheet.append([column.header for column in columns])
    for row in rows:
        sheet.append([row.get(column.key, "") for column in columns])
    buffer = BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def post_import(client, rows, mode: str, **extra):
    data = {"kind": "persons", "street": "330109001", "file": upload(rows), "mode": mode}
    return client.post("/registry/import/", data | extra)


def sheet_rows(response) -> list[tuple]:
    content = b"".join(response.streaming_content)
    return list(openpyxl.load_workbook(BytesIO(content)).worksheets[0].iter_rows(values_only=True))


# Import ------------------------------------------------------------------------------------


def test_only_those_who_may_import_see_the_import_page(client, world):
    for user in (world.grid_worker, world.leader, world.dispatcher):
        client.force_login(user)
        response = client.get("/registry/import/")
        assert response.status_code == 403 and "无权访问" in response.content.decode()
        assert client.get("/registry/import/persons/template.xlsx").status_code == 403
    client.force_login(world.admin)
    page = client.get("/registry/import/").content.decode()
    assert "仅校验" in page and "/registry/import/persons/template.xlsx" in page


def test_the_import_page_asks_for_login(client, db):
    response = client.get("/registry/import/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_templates_download_as_xlsx(client, world):
    client.force_login(world.admin)
    response = client.get("/registry/import/enterprises/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    rows = sheet_rows(response)
    assert rows[0][:3] == ("网格编码", "企业名称", "统一社会信用代码")
    assert client.get("/registry/import/nothing/template.xlsx").status_code == 404


def test_an_upload_with_bad_rows_shows_the_error_table_and_changes_nothing(client, world):
    rows = [person_row(n) for n in range(60)]
    rows[55]["id_number"] = wrong_checksum(rows[55]["id_number"])
    rows[58]["tags"] = "不存在"
    client.force_login(world.admin)

    response = post_import(client, rows, "apply")

    page = response.content.decode()
    assert response.status_code == 200
    assert "文件中有 2 处错误,未导入任何数据" in page
    table = page[page.index('data-testid="import-errors"') :]
    assert "<td>第57行</td><td>身份证号</td><td>身份证号校验位不正确</td>" in table
    assert "<td>第60行</td><td>标签</td>" in table
    assert Person.objects.count() == 0


def test_check_then_import_a_good_file(client, world):
    rows = [person_row(n) for n in range(8)]
    client.force_login(world.admin)

    checked = post_import(client, rows, "check").content.decode()
    assert "校验通过" in checked and "新增居民 8 条" in checked
    assert Person.objects.count() == 0

    imported = post_import(client, rows, "apply").content.decode()
    assert "导入完成" in imported and "新增居民 8 条" in imported
    again = post_import(client, rows, "apply").content.decode()
    assert "更新居民 8 条" in again
    assert Person.objects.count() == 8


def test_uploads_are_checked_before_reading(client, world):
    client.force_login(world.admin)
    response = post_import(client, [person_row(1)], "apply", file=SimpleUploadedFile("a.csv", b"x"))
    assert "请上传 .xlsx 格式的 Excel 文件" in response.content.decode()
    response = post_import(client, [], "apply", file=SimpleUploadedFile("a.xlsx", b"not a zip"))
    assert "无法读取该文件" in response.content.decode()
    response = post_import(client, [person_row(1)], "apply", street="330102008")
    assert "您无权向该街道导入" in response.content.decode()
    assert Person.objects.count() == 0


def test_a_platform_superuser_chooses_the_street(client, world):
    client.force_login(make_superuser())
    page = client.get("/registry/import/").content.decode()
    assert "南星街道" in page and "城厢街道" in page
    assert "导入完成" in post_import(client, [person_row(1)], "apply").content.decode()


# Export ------------------------------------------------------------------------------------


def test_a_grid_workers_masked_export_holds_only_their_grids(client, world):
    mine = make_person(world, name="本网格居民")
    make_person(world, area=world.sibling_microgrid, name="隔壁网格居民")
    client.force_login(world.grid_worker)

    response = client.get("/registry/person/export.xlsx")

    assert response.status_code == 200
    rows = sheet_rows(response)
    assert [row[1:3] for row in rows[1:]] == [("本网格居民", mine.id_number_masked)]


def test_the_export_takes_the_list_pages_filters(client, world):
    make_person(world, name="甲", tags=("living_alone",))
    make_person(world, area=world.far_grid, name="乙")
    client.force_login(world.leader)
    rows = sheet_rows(client.get(f"/registry/person/export.xlsx?area={world.community.code}"))
    assert [row[1] for row in rows[1:]] == ["甲"]
    rows = sheet_rows(client.get("/registry/person/export.xlsx?tag=living_alone&q=甲"))
    assert [row[1] for row in rows[1:]] == ["甲"]
    response = client.get("/registry/person/export.xlsx?area=330102008")
    assert response.status_code == 400 and "筛选条件有误" in response.content.decode()


def test_a_grid_worker_is_refused_a_personal_export_in_chinese(client, world):
    make_person(world)
    client.force_login(world.grid_worker)
    response = client.post("/registry/person/export.xlsx", {"personal": "1", "reason": "核对"})
    assert response.status_code == 403
    assert "您的角色无权导出含个人信息的清单" in response.content.decode()
    assert not AccessLog.objects.exists()


def test_a_leader_exports_personal_data_with_a_reason_and_it_is_logged(client, world):
    person = make_person(world)
    client.force_login(world.leader)

    missing = client.post("/registry/person/export.xlsx", {"personal": "1", "reason": ""})
    assert missing.status_code == 400 and "请填写导出原因" in missing.content.decode()
    response = client.post(
        f"/registry/person/export.xlsx?area={world.grid.code}",
        {"personal": "1", "reason": "低保年审"},
    )

    assert response.status_code == 200
    assert (
        "含个人信息" in response["Content-Disposition"]
        or "%E5%90%AB" in response["Content-Disposition"]
    )
    assert sheet_rows(response)[1][2] == unseal(person.id_number_sealed)
    log = AccessLog.objects.get()
    assert (log.user, log.area, log.record_count, log.reason) == (
        world.leader,
        world.grid,
        1,
        "低保年审",
    )


def test_export_is_for_registry_users_and_known_kinds(client, world):
    client.force_login(world.handler)
    assert client.get("/registry/person/export.xlsx").status_code == 403
    client.force_login(world.leader)
    assert client.get("/registry/nothing/export.xlsx").status_code == 404
