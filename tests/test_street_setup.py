"""`shanzhi street add`: a street set up from its official code, ready for its first case."""

from io import StringIO

import openpyxl
import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command

from shanzhi.accounts.models import Role, RoleGrant, Unit, User
from shanzhi.analytics.models import RankingRule
from shanzhi.areas.models import Area, Level
from shanzhi.cases import services
from shanzhi.cases.catalogue import CATALOGUE, STREET_UNITS
from shanzhi.cases.models import CaseType, Satisfaction, Source, State
from shanzhi.registry.imports import SPECS, registry_import
from shanzhi.streets.divisions import division_nearest, division_street
from shanzhi.streets.selectors import street_checklist
from shanzhi.streets.services import StreetSetUpError, street_set_up

pytestmark = pytest.mark.django_db

WUMA = "330302018"  # 温州市鹿城区五马街道: not the demo's city, district or street


def test_the_national_list_has_every_street_of_zhejiang_and_beyond():
    assert division_street("330109001").name == "城厢街道"
    assert division_street(WUMA).full_name == "浙江省温州市鹿城区五马街道"
    beijing = division_street("110105001")
    assert (beijing.city_code, beijing.city_name, beijing.district_name) == (
        "1101",
        "北京市",
        "朝阳区",
    )
    assert division_street("330109999") is None


def test_a_street_is_set_up_under_its_district_and_city_with_everything_it_starts_from():
    result = street_set_up(code=WUMA)

    street = Area.objects.get(code=WUMA)
    assert result.created and street.level == Level.STREET and street.name == "五马街道"
    assert [a.code for a in Area.objects.filter(path__in=street.ancestor_paths)] == [
        "3303",
        "330302",
    ]
    assert street.parent.name == "鹿城区" and street.parent.parent.name == "温州市"
    assert Unit.objects.filter(street=street).count() == len(STREET_UNITS) == result.units
    assert Unit.objects.filter(street=street, name="五马派出所").exists()
    assert CaseType.objects.filter(street=street).count() == len(CATALOGUE) == result.case_types
    assert RankingRule.objects.filter(street=street).count() == 3 == result.ranking_rules
    admin = User.objects.get(username=f"{WUMA}.admin")
    assert admin.must_change_password
    assert check_password(result.password, admin.password)
    assert RoleGrant.objects.get(user=admin).role == Role.ADMINISTRATOR


def test_running_it_again_changes_nothing_and_says_so():
    street_set_up(code=WUMA)
    users, units = User.objects.count(), Unit.objects.count()
    out = StringIO()
    call_command("street", "add", WUMA, stdout=out)
    assert "已经开通,本次未作任何改动" in out.getvalue()
    assert (User.objects.count(), Unit.objects.count()) == (users, units)


def test_an_unknown_code_names_the_nearest_ones_and_creates_nothing():
    with pytest.raises(StreetSetUpError) as refused:
        street_set_up(code="330302019")
    assert "没有编码为“330302019”的乡级行政区划" in refused.value.message
    assert "五马街道(330302018)" in refused.value.message
    assert not Area.objects.exists()
    with pytest.raises(CommandError, match="最接近的是"):
        call_command("street", "add", "33030201")
    assert WUMA in [d.code for d in division_nearest("五马街")]


def test_the_command_prints_the_one_time_password_and_writes_the_templates(tmp_path):
    out = StringIO()
    call_command(
        "street", "add", WUMA, "--admin", "wuma.admin", "--templates", tmp_path, stdout=out
    )
    text = out.getvalue()
    password = text.split("一次性密码:")[1].split("(")[0]
    assert check_password(password, User.objects.get(username="wuma.admin").password)
    assert "民政部国家地名信息库" in text
    assert sorted(p.name for p in tmp_path.iterdir())[:3] == [
        "1-单位导入模板.xlsx",
        "2-网格和网格员导入模板.xlsx",
        "3-人员与角色导入模板.xlsx",
    ]
    assert "✗ 指挥中心坐席" in text


def staff_sheet(path, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    columns = SPECS["users"].columns
    sheet.append([column.header for column in columns])
    for row in rows:
        sheet.append([row.get(column.key, "") for column in columns])
    book.save(path)
    return path


def test_a_new_street_runs_a_case_from_report_to_archive(tmp_path):
    """Only what set-up made, then what its administrator does: import the staff sheet."""
    result = street_set_up(code=WUMA)
    street = result.street
    admin = User.objects.get(username=result.administrator)
    staff = staff_sheet(
        tmp_path / "人员.xlsx",
        [
            {
                "username": "wuma.d1",
                "full_name": "陈坐席",
                "unit_area": WUMA,
                "unit": "社会治理综合中心",
                "role": "指挥中心坐席",
                "role_area": WUMA,
                "password": "Wuma#Desk2026",
            },
            {
                "username": "wuma.h1",
                "full_name": "林队员",
                "unit_area": WUMA,
                "unit": "五马综合行政执法中队",
                "role": "办理人",
                "role_area": WUMA,
                "password": "Wuma#Team2026",
            },
        ],
    )
    imported = registry_import(actor=admin, kind="users", source=staff, street=street)
    assert imported.ok and imported.summary() == "新增人员 2 条;新增角色授权 2 条"
    dispatcher = User.objects.get(username="wuma.d1")
    handler = User.objects.get(username="wuma.h1")
    assert dispatcher.must_change_password and handler.unit.name == "五马综合行政执法中队"
    case_type = CaseType.objects.get(street=street, code="CG-SR-01")  # 占道经营
    unit = services.unit_for(case_type=case_type, area=street)
    assert unit == handler.unit

    case, created = services.case_report(
        area=street,
        source=Source.HOTLINE,
        actor=dispatcher,
        description="五马街口有流动摊贩占道经营,影响通行",
        reporter_name="王先生",
        reporter_phone="13900001234",
    )
    case = services.case_accept(case=case, actor=dispatcher, case_type=case_type)
    case = services.case_dispatch(case=case, actor=dispatcher, unit=unit)
    case = services.case_claim(case=case, actor=handler)
    case = services.case_resolve(
        case=case, actor=handler, result="已劝离摊贩", evidence="现场劝离并登记"
    )
    case = services.case_callback(case=case, actor=dispatcher, satisfaction=Satisfaction.SATISFIED)
    assert created and case.state == State.ARCHIVED
    assert case.number and case.street == street
    done = {item.label: item.done for item in street_checklist(street=street)}
    assert done["事项清单"] and done["指挥中心坐席"] and not done["网格与网格员"]


def test_the_staff_import_refuses_a_unit_the_street_lacks_and_changes_nothing(tmp_path):
    result = street_set_up(code=WUMA)
    admin = User.objects.get(username=result.administrator)
    sheet = staff_sheet(
        tmp_path / "人员.xlsx",
        [
            {
                "username": "wuma.x",
                "full_name": "某人",
                "unit_area": WUMA,
                "unit": "不存在办",
                "role": "办理人",
                "role_area": WUMA,
            },
            {
                "username": "wuma.y",
                "full_name": "某人",
                "unit_area": WUMA,
                "unit": "社会治理综合中心",
                "role": "指挥中心坐席",
                "role_area": "330302",
            },
        ],
    )
    imported = registry_import(actor=admin, kind="users", source=sheet, street=result.street)
    assert [(e.row, e.column) for e in imported.errors] == [(2, "所在单位"), (3, "授权辖区编码")]
    assert "没有名为“不存在办”的单位" in imported.errors[0].reason
    assert not User.objects.filter(username__startswith="wuma.").exists()
