"""`shanzhi import`: templates, all-or-nothing files with a report of every bad row, re-imports
that update, the importer's scope, and a 50,000-row file of persons."""

import csv
import time
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from shanzhi.accounts.models import Role, RoleGrant, User
from shanzhi.areas.models import Area, Level
from shanzhi.demo.generator import demo_build
from shanzhi.demo.places import KNOWN_STREETS
from shanzhi.protection import digest, unseal
from shanzhi.registry import services
from shanzhi.registry.imports import SPECS, registry_import
from shanzhi.registry.models import (
    Building,
    Enterprise,
    Facility,
    House,
    Library,
    LibraryEntry,
    Person,
    PersonTag,
)
from shanzhi.registry.validators import resident_id_complete

from .factories import make_superuser
from .registry_factories import credit_code, make_enterprise, make_house, make_person

pytestmark = pytest.mark.django_db

MICROGRID = "330109001001001001"


def write_sheet(path: Path, kind: str, rows: list[dict], headers: list[str] | None = None) -> Path:
    """An xlsx of `kind` with the spec's headers (or `headers`) and `rows` keyed by column key."""
    columns = SPECS[kind].columns
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("数据")
    sheet.append(headers or [column.header for column in columns])
    for row in rows:
        sheet.append([row.get(column.key, "") for column in columns])
    book.save(path)
    return path


def person_row(n: int, **values) -> dict:
    born = date(1940, 1, 1) + timedelta(days=n // 400)
    number = resident_id_complete(f"330109{born:%Y%m%d}{n % 400 * 2 + 1:03d}")
    return {
        "area": MICROGRID,
        "name": f"居民{n}",
        "id_number": number,
        "phone": f"139{n:08d}",
        "household_type": "户籍",
        "tags": "独居老人" if n % 10 == 0 else "",
    } | values


def run_import(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failing_import(*args: str) -> str:
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import", *args, stdout=StringIO(), stderr=err)
    assert raised.value.returncode == 1
    return err.getvalue()


def wrong_checksum(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


# Templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(SPECS))
def test_template_has_headers_notes_and_one_example_row(tmp_path, kind):
    path = tmp_path / f"{kind}.xlsx"
    run_import(kind, "--template", str(path))
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [column.header for column in SPECS[kind].columns]
    assert len(rows) == 2 and any(rows[1])
    assert sheet.cell(row=1, column=1).comment is not None
    explained = [row[0] for row in book["填写说明"].iter_rows(min_row=5, values_only=True)]
    assert explained == [column.header for column in SPECS[kind].columns]


def test_every_template_example_row_imports_into_the_demo_street(tmp_path):
    demo_build(spec=KNOWN_STREETS["330109001"], seed=1, scale="small")
    for kind in SPECS:
        path = tmp_path / f"{kind}.xlsx"
        run_import(kind, "--template", str(path))
        out, _ = run_import(kind, str(path), "--street", "330109001", "--user", "chengxiang.admin")
        assert "导入完成" in out and "新增" in out, (kind, out)
    assert Area.objects.filter(code="330109001001090", level=Level.GRID).exists()
    assert Person.objects.get(name="王秀英").taggings.count() == 2
    assert Building.objects.filter(address="城厢街道景港府1幢").exists()
    assert House.objects.filter(address="城厢街道景港府1幢1单元101室").exists()
    assert LibraryEntry.objects.get(enterprise__credit_code="91330109MA2H7K3P25").library == (
        Library.SERVICE
    )
    assert Facility.objects.filter(code="XF-330109-0001").exists()


def test_template_example_rows_import_into_the_test_world(world, tmp_path):
    """The world's codes are formed as the demo's, so the examples fit it too."""
    for kind in SPECS:
        path = tmp_path / f"{kind}.xlsx"
        run_import(kind, "--template", str(path))
        result = registry_import(actor=world.admin, kind=kind, source=path, street=world.street)
        assert result.ok and result.created_total >= 1, (kind, result.errors)


# All or nothing ----------------------------------------------------------------------------


def test_one_bad_row_among_many_changes_nothing_and_reports_row_57(world, tmp_path):
    rows = [person_row(n) for n in range(120)]
    # Data rows start at spreadsheet row 2, so the 56th data row is row 57.
    rows[55]["id_number"] = wrong_checksum(rows[55]["id_number"])
    path = write_sheet(tmp_path / "persons.xlsx", "persons", rows)
    report = tmp_path / "report.csv"

    err = failing_import(
        "persons", str(path), "--street", "330109001", "--user", "admin", "--report", str(report)
    )

    assert Person.objects.count() == 0
    assert "第57行 身份证号:身份证号校验位不正确" in err
    with open(report, encoding="utf-8-sig") as handle:
        assert list(csv.reader(handle)) == [
            ["行号", "列", "原因"],
            ["57", "身份证号", "身份证号校验位不正确"],
        ]


def test_every_bad_row_is_reported_with_its_column_and_reason(world, tmp_path):
    rows = [person_row(n) for n in range(12)]
    rows[1]["phone"] = "12345"  # row 3
    rows[3]["tags"] = "独居老人、火星人"  # row 5
    rows[6]["id_number"] = rows[0]["id_number"]  # row 8 repeats row 2
    rows[8]["area"] = "330109001009009009"  # row 10
    rows[10]["name"] = ""  # row 12
    rows[11]["household_type"] = "常住"  # row 13
    path = write_sheet(tmp_path / "persons.xlsx", "persons", rows)

    result = registry_import(actor=world.admin, kind="persons", source=path, street=world.street)

    assert not result.applied and Person.objects.count() == 0
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "联系电话"),
        (5, "标签"),
        (8, "身份证号"),
        (10, "网格编码"),
        (12, "姓名"),
        (13, "户籍类型"),
    ]
    reasons = {e.row: e.reason for e in result.errors}
    assert reasons[8] == "与第2行的身份证号重复"
    assert "火星人" in reasons[5]
    assert reasons[12] == "必填,不能为空"
    assert reasons[13] == "只能填写:户籍、流动、境外"


def test_a_missing_or_unknown_header_is_reported_on_row_1(world, tmp_path):
    headers = [column.header for column in SPECS["persons"].columns]
    headers[3] = "手机"
    path = write_sheet(tmp_path / "p.xlsx", "persons", [person_row(1)], headers=headers)
    result = registry_import(actor=None, kind="persons", source=path, street=world.street)
    assert {(e.row, e.column) for e in result.errors} == {(1, "手机"), (1, "联系电话")}


def test_an_id_number_typed_as_a_number_is_refused_as_excel_rounds_it(world, tmp_path):
    path = write_sheet(tmp_path / "p.xlsx", "persons", [person_row(1, id_number=3.30109194e17)])
    result = registry_import(actor=None, kind="persons", source=path, street=world.street)
    assert [(e.row, e.column) for e in result.errors] == [(2, "身份证号")]
    assert "文本格式" in result.errors[0].reason


def test_a_file_that_is_not_xlsx_is_refused_in_chinese(world, tmp_path):
    path = tmp_path / "p.xlsx"
    path.write_text("姓名,身份证号\n")
    with pytest.raises(CommandError, match="无法读取该文件"):
        call_command("import", "persons", str(path), "--street", "330109001", stdout=StringIO())


def test_dry_run_checks_and_counts_but_writes_nothing(world, tmp_path):
    path = write_sheet(tmp_path / "p.xlsx", "persons", [person_row(n) for n in range(5)])
    out, _ = run_import("persons", str(path), "--street", "330109001", "--dry-run")
    assert "校验通过,将新增居民 5 条" in out
    assert Person.objects.count() == 0


# Re-imports --------------------------------------------------------------------------------


def test_the_same_file_twice_updates_and_never_duplicates(world, tmp_path):
    path = write_sheet(tmp_path / "p.xlsx", "persons", [person_row(n) for n in range(30)])

    first = registry_import(actor=world.admin, kind="persons", source=path, street=world.street)
    second = registry_import(actor=world.admin, kind="persons", source=path, street=world.street)

    assert (first.created_total, first.updated_total) == (30, 0)
    assert (second.created_total, second.updated_total) == (0, 30)
    assert second.summary() == "更新居民 30 条"
    assert Person.objects.count() == 30
    assert set(Person.objects.values_list("version", flat=True)) == {2}
    assert PersonTag.objects.count() == 3


def test_a_reimport_changes_fields_and_tags_and_revives_a_deleted_person(world, tmp_path):
    person = make_person(world, name="旧名", tags=("living_alone",))
    services.record_delete(actor=None, record=person, expected_version=person.version)
    number = unseal(person.id_number_sealed)
    row = person_row(1, id_number=number, name="新名", phone="", tags="低保", area=world.grid.code)
    path = write_sheet(tmp_path / "p.xlsx", "persons", [row])

    result = registry_import(actor=world.admin, kind="persons", source=path, street=world.street)

    assert result.updated_total == 1 and result.created_total == 0
    person.refresh_from_db()
    assert (person.name, person.deleted_at, person.area, person.phone_masked) == (
        "新名",
        None,
        world.grid,
        "",
    )
    assert [t.tag.code for t in person.taggings.select_related("tag")] == ["subsistence"]
    assert Person.objects.filter(id_number_digest=digest(number)).count() == 1


def test_sensitive_tags_need_the_privilege_and_survive_a_reimport_without_it(world, tmp_path):
    person = make_person(world, tags=("community_correction",))
    number = unseal(person.id_number_sealed)
    tagged = write_sheet(
        tmp_path / "a.xlsx", "persons", [person_row(1, id_number=number, tags="社区矫正")]
    )
    refused = registry_import(actor=world.admin, kind="persons", source=tagged, street=world.street)
    assert [(e.column, e.reason) for e in refused.errors] == [("标签", "您无权设置重点管理标签")]

    plain = write_sheet(tmp_path / "b.xlsx", "persons", [person_row(1, id_number=number, tags="")])
    result = registry_import(actor=world.admin, kind="persons", source=plain, street=world.street)
    assert result.ok
    assert [t.tag.code for t in person.taggings.select_related("tag")] == ["community_correction"]


# Scope -------------------------------------------------------------------------------------


def test_only_administrators_of_the_rows_area_may_import_there(world, tmp_path):
    path = write_sheet(tmp_path / "p.xlsx", "persons", [person_row(1), person_row(2)])
    for user in (world.grid_worker, world.leader, world.other_admin):
        result = registry_import(actor=user, kind="persons", source=path, street=world.street)
        assert [(e.row, e.column) for e in result.errors] == [(2, "网格编码"), (3, "网格编码")]
        assert "无权" in result.errors[0].reason
    assert Person.objects.count() == 0
    superuser = make_superuser()
    assert registry_import(actor=superuser, kind="persons", source=path, street=world.street).ok


def test_rows_must_name_a_grid_of_the_street_being_imported(world, tmp_path):
    rows = [person_row(1, area=world.other_grid.code), person_row(2, area=world.community.code)]
    path = write_sheet(tmp_path / "p.xlsx", "persons", rows)
    result = registry_import(actor=None, kind="persons", source=path, street=world.street)
    assert [e.reason for e in result.errors] == [
        "城厢街道没有该编码的网格",
        "“湘湖社区”不是网格或微网格,记录须落在网格或微网格上",
    ]


# The other kinds ---------------------------------------------------------------------------


def test_buildings_and_houses_import_and_reimport(world, tmp_path):
    building = {
        "area": MICROGRID,
        "compound": "景港府",
        "building_name": "2幢",
        "building_address": "城厢街道景港府2幢",
        "floors": 6,
    }
    rows = [
        building | {"address": f"城厢街道景港府2幢{room}室", "room": str(room), "use": "出租"}
        for room in (101, 102, 201)
    ] + [{"area": MICROGRID, "building_name": "3幢", "building_address": "城厢街道景港府3幢"}]
    path = write_sheet(tmp_path / "b.xlsx", "buildings", rows)

    first = registry_import(actor=world.admin, kind="buildings", source=path, street=world.street)
    second = registry_import(actor=world.admin, kind="buildings", source=path, street=world.street)

    assert first.created == {"楼栋": 2, "房屋": 3}
    assert second.updated == {"楼栋": 2, "房屋": 3} and not second.created_total
    assert House.objects.filter(building__address="城厢街道景港府2幢", use="rented").count() == 3
    assert Building.objects.get(address="城厢街道景港府3幢").houses.count() == 0


def test_a_registered_house_joins_a_building_the_same_file_creates(world, tmp_path):
    house = make_house(world, address="城厢街道景港府5幢101室")
    row = {"area": MICROGRID, "building_name": "5幢", "building_address": "城厢街道景港府5幢",
           "address": house.address, "use": "空置"}  # fmt: skip
    path = write_sheet(tmp_path / "b.xlsx", "buildings", [row])
    result = registry_import(actor=None, kind="buildings", source=path, street=world.street)
    assert (result.created, result.updated) == ({"楼栋": 1}, {"房屋": 1})
    house.refresh_from_db()
    assert (house.building.address, house.use, house.version) == ("城厢街道景港府5幢", "vacant", 2)


def test_rows_of_one_building_must_agree(world, tmp_path):
    rows = [
        {"area": MICROGRID, "building_name": "2幢", "building_address": "A2幢", "floors": 6,
         "address": "A2幢101", "use": "自住"},
        {"area": MICROGRID, "building_name": "2幢", "building_address": "A2幢", "floors": 7,
         "address": "A2幢102", "use": "自住"},
        {"area": MICROGRID, "building_name": "2幢", "building_address": "A2幢", "floors": 6,
         "address": "A2幢103"},
    ]  # fmt: skip
    path = write_sheet(tmp_path / "b.xlsx", "buildings", rows)
    result = registry_import(actor=None, kind="buildings", source=path, street=world.street)
    assert [(e.row, e.column, e.reason) for e in result.errors] == [
        (3, "层数", "与第2行同一楼栋的层数不一致"),
        (4, "房屋用途", "填写房屋地址时须填写房屋用途"),
    ]
    assert not Building.objects.exists()


def test_persons_find_their_house_by_address(world, tmp_path):
    house = make_house(world, address="城厢街道景港府9幢101室")
    rows = [person_row(1, house=house.address), person_row(2, house="城厢街道无此地址")]
    path = write_sheet(tmp_path / "p.xlsx", "persons", rows)
    refused = registry_import(actor=None, kind="persons", source=path, street=world.street)
    assert [(e.row, e.column) for e in refused.errors] == [(3, "居住房屋地址")]
    path = write_sheet(tmp_path / "p.xlsx", "persons", rows[:1])
    assert registry_import(actor=None, kind="persons", source=path, street=world.street).ok
    assert Person.objects.get().house == house


def test_enterprises_import_with_their_libraries(world, tmp_path):
    code = credit_code()
    row = {
        "area": MICROGRID,
        "name": "景港机械",
        "credit_code": code,
        "scale": "规上",
        "address": "景港路1号",
        "contact_phone": "13700003333",
        "libraries": "服务库:2024-03-01、培育库:2023-05-10",
    }
    path = write_sheet(tmp_path / "e.xlsx", "enterprises", [row])
    assert registry_import(
        actor=world.admin, kind="enterprises", source=path, street=world.street
    ).ok
    enterprise = Enterprise.objects.get(credit_code=code)
    assert enterprise.contact_phone_masked == "137****3333"
    assert enterprise.library_entries.filter(left_on__isnull=True).count() == 2

    path = write_sheet(
        tmp_path / "e.xlsx", "enterprises", [row | {"libraries": "稳商库:2024-06-01"}]
    )
    result = registry_import(
        actor=world.admin, kind="enterprises", source=path, street=world.street
    )
    assert result.updated == {"企业": 1}
    open_now = enterprise.library_entries.filter(left_on__isnull=True)
    assert [entry.library for entry in open_now] == [Library.RETENTION]
    assert enterprise.library_entries.count() == 3


def test_enterprise_rows_are_checked(world, tmp_path):
    rows = [
        {"area": MICROGRID, "name": "甲", "credit_code": "91330109MA2H7K3P2I", "scale": "规上",
         "address": "x"},
        {"area": MICROGRID, "name": "乙", "credit_code": credit_code(), "scale": "大型",
         "address": "x", "libraries": "服务库2024"},
    ]  # fmt: skip
    path = write_sheet(tmp_path / "e.xlsx", "enterprises", rows)
    result = registry_import(actor=None, kind="enterprises", source=path, street=world.street)
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "统一社会信用代码"),
        (3, "规模"),
        (3, "企业库"),
    ]
    assert "字母I" in result.errors[0].reason


def test_facilities_import_and_name_their_enterprise_by_credit_code(world, tmp_path):
    enterprise = make_enterprise(world)
    rows = [
        {"area": MICROGRID, "code": "XF-1", "kind": "消防栓", "name": "消火栓", "address": "东门",
         "enterprise": enterprise.credit_code, "last_inspected_on": date(2024, 3, 1)},
        {"area": MICROGRID, "code": "DT-1", "kind": "电梯", "name": "1号梯", "address": "1幢"},
    ]  # fmt: skip
    path = write_sheet(tmp_path / "f.xlsx", "facilities", rows)
    assert registry_import(
        actor=world.admin, kind="facilities", source=path, street=world.street
    ).ok
    hydrant = Facility.objects.get(code="XF-1")
    assert (hydrant.enterprise, hydrant.last_inspected_on) == (enterprise, date(2024, 3, 1))
    assert Facility.objects.get(code="DT-1").inspection_cycle_days == 30


# Grids and grid workers --------------------------------------------------------------------


def grid_rows() -> list[dict]:
    return [
        {"community": "330109001001", "code": "330109001001050", "name": "湘湖第五十网格",
         "username": "gw50", "full_name": "陈网格", "phone": "13900005050",
         "password": "Grid@50pass"},
        {"community": "330109001001", "parent": "330109001001050", "code": "330109001001050001",
         "name": "景港府1号微网格", "level": "微网格"},
        {"community": "330109001001", "code": "330109001001001", "name": "湘湖一网格",
         "username": "gw"},
    ]  # fmt: skip


def test_grids_import_creates_areas_and_grid_workers_who_can_sign_in(world, tmp_path):
    path = write_sheet(tmp_path / "g.xlsx", "grids", grid_rows())

    out, _ = run_import("grids", str(path), "--street", "330109001", "--user", "admin")

    assert "新增网格 2 条" in out and "新增网格员账号 1 条" in out
    grid = Area.objects.get(code="330109001001050")
    assert (grid.level, grid.parent, grid.street) == (Level.GRID, world.community, world.street)
    micro = Area.objects.get(code="330109001001050001")
    assert (micro.level, micro.parent) == (Level.MICROGRID, grid)
    world.grid.refresh_from_db()
    assert world.grid.name == "湘湖一网格"
    worker = User.objects.get(username="gw50")
    assert (worker.full_name, worker.unit.name) == ("陈网格", "湘湖社区居委会")
    assert RoleGrant.objects.filter(user=worker, role=Role.GRID_WORKER, area=grid).exists()
    assert Client().login(username="gw50", password="Grid@50pass")
    # The existing grid worker keeps one grant; a second import adds nothing.
    assert RoleGrant.objects.filter(user=world.grid_worker, area=world.grid).count() == 1
    out, _ = run_import("grids", str(path), "--street", "330109001", "--user", "admin")
    assert "更新网格 3 条" in out and "新增" not in out
    assert Area.objects.filter(code__startswith="330109001001050").count() == 2


def test_grid_rows_are_checked(world, tmp_path):
    rows = [
        {"community": "330109001001", "code": "330109001002001", "name": "错编码"},
        {"community": "330109001001", "code": "330109001001060001", "name": "无上级",
         "level": "微网格"},
        {"community": "330109001001", "code": "330109001001061", "name": "弱密码",
         "username": "gw61", "full_name": "甲", "password": "12345678"},
        {"community": "330102008001", "code": "330102008001009", "name": "外街道"},
    ]  # fmt: skip
    path = write_sheet(tmp_path / "g.xlsx", "grids", rows)
    result = registry_import(actor=world.admin, kind="grids", source=path, street=world.street)
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "网格编码"),
        (3, "上级网格编码"),
        (4, "初始密码"),
        (5, "社区编码"),
    ]
    assert not Area.objects.filter(name__in=["错编码", "弱密码"]).exists()
    assert not User.objects.filter(username="gw61").exists()


# Progress and speed ------------------------------------------------------------------------


def write_persons(path: Path, count: int, areas: list[str]) -> Path:
    """`count` persons spread over `areas`, written row by row as a large file would be."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("居民")
    sheet.append([column.header for column in SPECS["persons"].columns])
    first = date(1940, 1, 1)
    for n in range(count):
        born = first + timedelta(days=n // 499)
        number = resident_id_complete(f"330109{born:%Y%m%d}{n % 499 * 2 + 1:03d}")
        tags = "独居老人" if n % 20 == 0 else ""
        sheet.append(
            [areas[n % len(areas)], f"居民{n}", number, f"139{n:08d}", "户籍", "", tags, ""]
        )
    book.save(path)
    return path


def test_50000_persons_import_in_bulk_with_progress(world, tmp_path, capsys):
    areas = [world.microgrid.code, world.grid.code, world.sibling_microgrid.code]
    path = write_persons(tmp_path / "persons.xlsx", 50_000, areas)
    out = StringIO()

    started = time.monotonic()
    call_command(
        "import", "persons", str(path), "--street", "330109001", "--user", "admin", stdout=out
    )
    seconds = time.monotonic() - started

    assert Person.objects.count() == 50_000
    assert PersonTag.objects.count() == 2_500
    assert Person.objects.filter(area=world.sibling_microgrid).count() == 16_666
    assert "已读取 10000 行" in out.getvalue() and "已写入居民 50000/50000 条" in out.getvalue()
    with capsys.disabled():
        print(f"\n50000 persons imported in {seconds:.1f} s ({50_000 / seconds:.0f} rows/s)")
