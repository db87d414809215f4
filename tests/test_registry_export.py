"""Registry exports: the import's columns (an export re-imports), the user's scope, masking, and
clear exports only for a granted role with a reason, logged once per file."""

from io import BytesIO, StringIO

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from shanzhi.errors import DomainError, PermissionDenied
from shanzhi.protection import unseal
from shanzhi.registry.exports import registry_export
from shanzhi.registry.imports import SPECS, registry_import
from shanzhi.registry.models import (
    AccessField,
    AccessLog,
    AccessVia,
    Enterprise,
    Facility,
    House,
    Library,
    LibraryEntry,
    Person,
)
from shanzhi.registry.selectors import RecordFilters

from .registry_factories import (
    make_building,
    make_enterprise,
    make_facility,
    make_house,
    make_person,
)

pytestmark = pytest.mark.django_db


def export_rows(user, kind, **options) -> list[tuple]:
    buffer = BytesIO()
    registry_export(user=user, kind=kind, target=buffer, **options)
    buffer.seek(0)
    return list(openpyxl.load_workbook(buffer).worksheets[0].iter_rows(values_only=True))


def by_header(rows: list[tuple]) -> list[dict]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_a_grid_workers_export_is_masked_and_holds_only_their_grids(world):
    mine = make_person(world, name="本网格居民", phone="13900002222")
    make_person(world, area=world.sibling_microgrid, name="隔壁网格居民")
    make_person(world, area=world.far_grid, name="别的社区居民")

    rows = export_rows(world.grid_worker, "persons")

    assert list(rows[0]) == [column.header for column in SPECS["persons"].columns]
    [row] = by_header(rows)
    assert row["姓名"] == "本网格居民"
    assert row["身份证号"] == mine.id_number_masked and "*" in row["身份证号"]
    assert row["联系电话"] == "139****2222"
    assert row["网格编码"] == world.microgrid.code
    assert not AccessLog.objects.exists()


def test_a_grid_worker_may_not_export_personal_data(world):
    make_person(world)
    with pytest.raises(PermissionDenied, match="无权导出含个人信息"):
        export_rows(world.grid_worker, "person", personal=True, reason="核对")
    assert not AccessLog.objects.exists()


def test_a_leader_exports_in_the_clear_with_a_reason_and_it_is_logged(world):
    people = [make_person(world, name=f"居民{n}") for n in range(3)]
    make_person(world, area=world.other_grid, name="南星居民")

    with pytest.raises(DomainError, match="请填写导出原因"):
        export_rows(world.leader, "person", personal=True, reason=" ")
    assert not AccessLog.objects.exists()
    rows = by_header(export_rows(world.leader, "person", personal=True, reason="低保年审核对"))

    assert sorted(row["身份证号"] for row in rows) == sorted(
        unseal(person.id_number_sealed) for person in people
    )
    log = AccessLog.objects.get()
    assert (log.user, log.area, log.field, log.via) == (
        world.leader,
        world.street,
        AccessField.EXPORT,
        AccessVia.EXPORT,
    )
    assert (log.record_count, log.reason, log.subject_kind) == (3, "低保年审核对", "person")


def test_a_community_leaders_clear_export_is_logged_under_the_filtered_area(world):
    make_person(world)
    make_person(world, area=world.far_grid)
    rows = export_rows(
        world.community_leader,
        "person",
        filters=RecordFilters(area=world.grid),
        personal=True,
        reason="走访准备",
    )
    assert len(rows) == 2
    assert AccessLog.objects.get().area == world.grid


def test_sensitive_tags_are_exported_only_to_those_who_may_see_them(world):
    make_person(world, tags=("living_alone", "community_correction"))
    [seen_by_worker] = by_header(export_rows(world.grid_worker, "person"))
    [seen_by_leader] = by_header(export_rows(world.leader, "person"))
    assert seen_by_worker["标签"] == "独居老人"
    assert seen_by_leader["标签"] == "独居老人、社区矫正"


def test_filters_narrow_the_export_as_they_narrow_the_list(world):
    make_person(world, name="甲", tags=("living_alone",))
    make_person(world, name="乙")
    rows = by_header(export_rows(world.leader, "person", filters=RecordFilters(tag="living_alone")))
    assert [row["姓名"] for row in rows] == ["甲"]
    rows = by_header(export_rows(world.leader, "person", filters=RecordFilters(q="乙")))
    assert [row["姓名"] for row in rows] == ["乙"]


def test_a_clear_export_reimports_as_updates(world, tmp_path):
    house = make_house(world, address="城厢街道景港府1幢101室")
    make_person(world, house=house, tags=("living_alone", "subsistence"))
    make_person(world, area=world.grid, phone="")
    path = tmp_path / "persons.xlsx"
    registry_export(user=world.leader, kind="persons", target=path, personal=True, reason="备份")

    result = registry_import(actor=None, kind="persons", source=path, street=world.street)

    assert result.ok, result.errors
    assert (result.created_total, result.updated_total) == (0, 2)
    assert Person.objects.count() == 2
    assert Person.objects.get(house=house).taggings.count() == 2


def test_buildings_enterprises_and_facilities_exports_reimport(world, tmp_path):
    building = make_building(world, address="城厢街道景港府7幢", floors=11)
    make_house(world, building=building, address="城厢街道景港府7幢101室", room="101")
    make_building(world, address="城厢街道景港府8幢")
    enterprise = make_enterprise(world)
    LibraryEntry.objects.create(
        enterprise=enterprise, library=Library.SERVICE, entered_on="2024-03-01"
    )
    make_facility(world, enterprise=enterprise, last_inspected_on="2024-05-06")
    expected = {"buildings": {"楼栋": 2, "房屋": 1}, "enterprises": {"企业": 1}}
    for kind in ("buildings", "enterprises", "facilities"):
        path = tmp_path / f"{kind}.xlsx"
        # Contact phones re-import only in the clear; the other kinds hold no personal data.
        personal = kind == "enterprises"
        registry_export(user=world.admin, kind=kind, target=path, personal=personal, reason="迁移")
        result = registry_import(actor=world.admin, kind=kind, source=path, street=world.street)
        assert result.ok, (kind, result.errors)
        assert result.updated == expected.get(kind, {"设施": 1}) and not result.created_total
    assert House.objects.get().building == building
    assert LibraryEntry.objects.get().left_on is None
    assert Facility.objects.get().enterprise == enterprise
    assert Enterprise.objects.get().contact_phone_masked == "137****3333"


def test_a_masked_enterprise_export_keeps_the_contact_phone_masked(world):
    make_enterprise(world)
    [row] = by_header(export_rows(world.grid_worker, "enterprise"))
    assert row["联系电话"] == "137****3333"


def test_the_house_list_exports_in_the_buildings_layout(world):
    building = make_building(world, address="城厢街道景港府7幢")
    make_house(world, building=building, address="城厢街道景港府7幢101室", use="rented")
    [row] = by_header(export_rows(world.grid_worker, "house"))
    assert (row["楼栋地址"], row["房屋地址"], row["房屋用途"]) == (
        "城厢街道景港府7幢",
        "城厢街道景港府7幢101室",
        "出租",
    )


def test_export_reads_a_constant_number_of_queries(world, django_assert_max_num_queries):
    for n in range(25):
        make_person(world, name=f"居民{n}", tags=("living_alone",))
    with django_assert_max_num_queries(8):
        rows = export_rows(world.leader, "person")
    assert len(rows) == 26


def test_the_export_command_masks_and_refuses_as_the_service_does(world, tmp_path):
    make_person(world, name="本网格居民")
    make_person(world, area=world.sibling_microgrid, name="隔壁网格居民")
    path = tmp_path / "out.xlsx"
    out = StringIO()
    call_command("export", "persons", "--user", "gw", "-o", str(path), stdout=out)
    assert "已导出 1 条(已脱敏)" in out.getvalue()
    rows = list(openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == ["本网格居民"]

    with pytest.raises(CommandError, match="无权导出含个人信息"):
        call_command(
            "export", "persons", "--user", "gw", "-o", str(path), "--personal", "--reason", "x"
        )
    call_command(
        "export", "person", "--user", "leader", "-o", str(path), "--area", world.grid.code,
        "--personal", "--reason", "核对", stdout=StringIO(),
    )  # fmt: skip
    log = AccessLog.objects.get()
    assert (log.via, log.record_count, log.area) == (AccessVia.COMMAND, 1, world.grid)


def test_the_export_command_reads_choice_filters_by_label(world, tmp_path):
    make_house(world, address="甲", use="rented")
    make_house(world, address="乙")
    path = tmp_path / "out.xlsx"
    out = StringIO()
    call_command("export", "house", "--user", "admin", "-o", str(path), "--use", "出租", stdout=out)
    assert "已导出 1 条" in out.getvalue()
    with pytest.raises(CommandError, match="可选"):
        call_command("export", "house", "--user", "admin", "-o", str(path), "--use", "租")
