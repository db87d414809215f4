"""Intake: validated, idempotent, numbered, routed and checked for duplicates."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shanzhi.cases import services
from shanzhi.cases.models import Case, CaseAction, CaseCategory, HandlingLevel, Source, State
from shanzhi.cases.selectors import case_possible_duplicates
from shanzhi.errors import PermissionDenied

from .case_factories import case_type, make_case, photo

pytestmark = pytest.mark.django_db


def report(world, **kwargs):
    kwargs.setdefault("area", world.microgrid)
    kwargs.setdefault("source", Source.RESIDENT)
    kwargs.setdefault("description", "小区东门消防通道被私家车堵住了")
    return services.case_report(**kwargs)


def test_a_report_is_numbered_logged_and_placed_at_the_grid_level(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case, created = report(world, reporter_phone="138 0000 1111", photos=[photo()])
    assert created and case.state == State.REPORTED
    assert case.number.startswith("330109001" + str(case.reported_at.year))
    assert case.level == HandlingLevel.GRID and case.street == world.street
    assert case.reporter_phone == "13800001111"
    first = CaseAction.objects.get(case=case)
    assert (first.action, first.to_state, first.attachments.count()) == (
        "report",
        State.REPORTED,
        1,
    )
    second, _ = report(world)
    assert int(second.number[-6:]) == int(case.number[-6:]) + 1


def test_the_same_client_key_twice_makes_one_case(world):
    first, created = report(world, client_key="phone-42-abc")
    again, created_again = report(world, client_key="phone-42-abc", description="重试")
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and Case.objects.count() == 1
    other_street, _ = report(world, area=world.other_grid, client_key="phone-42-abc")
    assert other_street.pk != first.pk  # keys are per street


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"description": "   "}, "请描述发生了什么"),
        ({"description": "字" * 2001}, "不能超过2000字"),
        ({"reporter_phone": "12345"}, "联系电话格式不正确"),
        ({"source": "pigeon"}, "来源渠道无效"),
        (
            {"photos": [SimpleUploadedFile("x.png", b"not an image", content_type="image/png")]},
            "不是有效的图片",
        ),
    ],
)
def test_bad_reports_are_refused_in_chinese_and_change_nothing(world, kwargs, message):
    with pytest.raises(services.IntakeError, match=message):
        report(world, **kwargs)
    assert not Case.objects.exists() and not CaseAction.objects.exists()


def test_reports_above_the_street_are_refused(world):
    with pytest.raises(services.IntakeError, match="须在某个街道之内"):
        report(world, area=world.street.parent)


def test_staff_channels_need_the_role_in_scope(world):
    with pytest.raises(PermissionDenied):
        report(
            world, source=Source.GRID_PATROL, actor=world.grid_worker, area=world.sibling_microgrid
        )
    with pytest.raises(PermissionDenied):
        report(world, source=Source.HOTLINE, actor=world.handler)
    case, _ = report(world, source=Source.GRID_PATROL, actor=world.grid_worker)
    assert case.reporter == world.grid_worker and case.reporter_name == "gw"
    hotline, _ = report(
        world, source=Source.HOTLINE, actor=world.dispatcher, reporter_name="王先生"
    )
    # The caller reported it; the dispatcher only took it down, as the log shows.
    assert (hotline.source, hotline.reporter, hotline.reporter_name) == (
        Source.HOTLINE,
        None,
        "王先生",
    )
    assert hotline.actions.get().actor == world.dispatcher


def test_routing_suggests_the_type_and_unit_from_keywords(world):
    case_type(world)  # seeds the catalogue
    suggestions = services.routing_suggest(
        street=world.street, text="楼道里有电瓶车在充电,很危险", area=world.microgrid
    )
    assert suggestions[0].case_type.name == "电动自行车违规充电"
    assert suggestions[0].unit.name == "湘湖社区居委会"  # its default: the community committee
    assert "充电" in suggestions[0].matched
    police = services.routing_suggest(street=world.street, text="有人冒充公检法打电话,疑似电信诈骗")
    assert police[0].unit.name == "城厢派出所"
    assert services.routing_suggest(street=world.street, text="今天天气很好") == []


def test_catalogue_seed_is_complete_and_idempotent(world):
    created = services.catalogue_seed(street=world.street)
    assert created >= 40
    assert services.catalogue_seed(street=world.street) == 0
    names = set(
        CaseCategory.objects.filter(street=world.street, parent__isnull=True).values_list(
            "name", flat=True
        )
    )
    assert {
        "城市管理",
        "环境卫生",
        "物业管理",
        "矛盾纠纷",
        "安全隐患",
        "信访",
        "企业诉求",
        "民生服务",
        "社会治安",
    } <= names


def test_possible_duplicates_are_same_place_open_and_alike(world):
    first = make_case(world, text="3号楼楼道里有电瓶车在充电,很危险")
    alike = make_case(world, text="3号楼楼道里有人给电瓶车充电,很危险")
    elsewhere = make_case(
        world, area=world.sibling_microgrid, text="3号楼楼道里有电瓶车在充电,很危险"
    )
    different = make_case(world, text="路灯坏了一个月没人修")
    found = [case for case, _ in case_possible_duplicates(case=alike, viewer=world.dispatcher)]
    assert found == [first]
    assert elsewhere not in found and different not in found


def test_extra_answers_are_required_only_where_the_channel_asks_for_them(world):
    hazard = case_type(world, "AQ-XF-01")
    # The desk and field forms do not ask: the dispatcher completes the answers later.
    case, _ = report(world, case_type=hazard)
    assert case.extra == {}
    with pytest.raises(services.IntakeError, match="请填写“隐患等级”"):
        report(world, case_type=hazard, extra={})
    with pytest.raises(services.IntakeError, match="没有附加字段 colour"):
        report(world, case_type=hazard, extra={"hazard_grade": "一般", "colour": "红"})
    kept, _ = report(
        world,
        case_type=hazard,
        extra={"hazard_grade": " 一般 "},
        media_url="https://example.org/a.jpg",
    )
    assert kept.extra == {"hazard_grade": "一般", "media_url": "https://example.org/a.jpg"}
