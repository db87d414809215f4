"""历史基数: entered by page and by spreadsheet, used (and marked) in 同比, corrected and withdrawn
with their history kept."""

from datetime import datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shanzhi import clock
from shanzhi.analytics import baseline_io
from shanzhi.analytics.breakdowns import changes_by_matter, changes_compute
from shanzhi.analytics.formatting import change_text
from shanzhi.analytics.models import Baseline, BaselineAction, BaselineHistory
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.selectors import Scope, figures_compute, kpi_compare
from shanzhi.analytics.services import (
    BaselineError,
    baseline_correct,
    baseline_enter,
    baseline_withdraw,
)
from shanzhi.cases.models import State
from shanzhi.errors import DomainError, PermissionDenied

from .case_factories import case_type, make_case

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
Y2024, Y2025 = period_parse("2024"), period_parse("2025")


@pytest.fixture
def five_in_2025(world):
    with clock.acting_at(datetime(2025, 5, 6, 10, tzinfo=SHANGHAI)):
        for _ in range(5):
            make_case(world, State.ACCEPTED)


def intake_change(world):
    return kpi_compare(
        viewer=world.leader, kpi="intake", scope=Scope(area=world.street), period=Y2025
    )


def enter(world, value="4", **kwargs):
    return baseline_enter(
        actor=kwargs.pop("actor", world.leader),
        area=kwargs.pop("area", world.street),
        kpi=kwargs.pop("kpi", "intake"),
        period=kwargs.pop("period", Y2024),
        value=value,
        note=kwargs.pop("note", "2024年工作总结"),
        **kwargs,
    )


def test_year_on_year_uses_an_entered_baseline_and_says_so(world, five_in_2025):
    # Without a baseline, 2024 has no cases in the system: no 同比 rather than ∞.
    assert intake_change(world).ratio is None and change_text(intake_change(world)) == ""
    enter(world, "4")
    change = intake_change(world)
    assert change.baseline_used is True
    assert change.current.value == 5 and change.earlier.value == 4
    assert change.ratio == Decimal(25)
    assert change_text(change) == "同比增长25.00%(录入数)"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"value": "很多"}, "不是有效的数值"),
        ({"value": "-3"}, "不小于0"),
        ({"value": "1e15"}, "数值过大"),
        ({"value": "100.5", "kpi": "satisfaction_rate"}, "是百分比,不能超过100"),
        ({"note": "  "}, "请说明数据来源"),
        ({"period": period_parse("2099")}, "只能录入已经结束的期间"),
        ({"kpi": "happiness"}, "没有名为“happiness”的指标"),
    ],
)
def test_entry_is_checked_in_chinese(world, kwargs, message):
    with pytest.raises(BaselineError, match=message):
        enter(world, **kwargs)
    assert not Baseline.objects.exists()


def test_entering_twice_and_outside_ones_area_are_refused(world):
    enter(world)
    with pytest.raises(BaselineError, match="请勿重复录入"):
        enter(world, "5")
    with pytest.raises(PermissionDenied):
        enter(world, actor=world.community_leader)
    with pytest.raises(PermissionDenied):
        enter(world, actor=world.dispatcher)


def test_correcting_keeps_what_it_was_and_withdrawing_keeps_it_too(world, five_in_2025):
    baseline = enter(world, "4")
    corrected = baseline_correct(
        actor=world.admin,
        baseline=baseline,
        value="10",
        note="2024年工作总结(修订)",
        reason="原数字少录了下半年",
    )
    assert corrected.value == 10 and corrected.entered_by == world.admin
    assert intake_change(world).ratio == Decimal(-50)
    kept = BaselineHistory.objects.get()
    assert (kept.action, kept.value, kept.new_value, kept.entered_by) == (
        BaselineAction.CORRECTED,
        Decimal(4),
        Decimal(10),
        world.leader,
    )
    with pytest.raises(BaselineError, match="理由"):
        baseline_withdraw(actor=world.admin, baseline=corrected, reason=" ")
    with pytest.raises(PermissionDenied):
        baseline_withdraw(actor=world.community_leader, baseline=corrected, reason="不对")
    withdrawn = baseline_withdraw(actor=world.admin, baseline=corrected, reason="口径不一致")
    assert withdrawn.value == 10 and withdrawn.action == BaselineAction.WITHDRAWN
    assert not Baseline.objects.exists() and BaselineHistory.objects.count() == 2
    assert intake_change(world).baseline_used is False
    # The same figure may be entered again once the old one is withdrawn.
    enter(world, "8")


# Spreadsheets --------------------------------------------------------------------------------


def workbook(*rows, header=None):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header or ["辖区编码", "指标", "期间", "数值", "来源说明", "来源渠道"])
    for row in rows:
        sheet.append(list(row))
    buffer = BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_import_is_all_or_nothing_with_row_numbers(world):
    street = world.street.code
    bad = workbook(
        (street, "受理量", 2024, 2322, "2024年工作总结"),
        (street, "幸福指数", 2024, 1, "2024年工作总结"),
        (world.community.code, "办结率", "2024H1", 120, "半年报"),
        (world.other_street.code, "受理量", 2024, 10, "南星"),
        (street, "受理量", "2024年", 10, "总结"),
        (street, "满意率", 2024, 99.2, ""),
    )
    result = baseline_io.baseline_import(actor=world.leader, source=bad)
    assert not result.ok and not result.applied
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "指标"),
        (4, "数值"),
        (5, "辖区编码"),
        (6, "期间"),
        (7, "来源说明"),
    ]
    assert "没有名为“幸福指数”的指标" in result.errors[0].reason
    assert "不能超过100" in result.errors[1].reason
    assert not Baseline.objects.exists()

    good = workbook(
        (street, "受理量", 2024, 2322, "2024年工作总结"),
        (world.community.code, "满意率", "2024H1", 99.2, "半年报", "12345热线"),
    )
    result = baseline_io.baseline_import(actor=world.leader, source=good)
    assert result.ok and result.applied and result.created_total == 2
    rate = Baseline.objects.get(key="satisfaction_rate")
    assert (rate.value, rate.source, rate.period_kind) == (Decimal("99.2"), "hotline", "half")


def test_a_file_repeating_a_row_or_an_entered_figure_is_refused_whole(world):
    enter(world, "4")
    again = workbook(
        (world.community.code, "受理量", 2024, 5, "总结"),
        (world.street.code, "受理量", 2024, 6, "总结"),
    )
    result = baseline_io.baseline_import(actor=world.leader, source=again)
    assert [e.row for e in result.errors] == [3] and "请勿重复录入" in result.errors[0].reason
    assert Baseline.objects.count() == 1


def test_the_template_imports_as_it_is(world):
    buffer = BytesIO()
    baseline_io.template_write(buffer)
    buffer.seek(0)
    book = openpyxl.load_workbook(buffer)
    assert [c.value for c in book.worksheets[0][1]] == [
        "辖区编码",
        "指标",
        "期间",
        "数值",
        "来源说明",
        "来源渠道",
        "事项类别",
        "事项",
    ]
    assert "受理量" in [row[0] for row in book["指标"].iter_rows(values_only=True)]
    buffer.seek(0)
    result = baseline_io.baseline_import(actor=world.leader, source=buffer)
    assert result.ok, result.errors
    assert Baseline.objects.get().value == 2322


def test_a_file_that_is_not_a_spreadsheet_or_lacks_columns_is_refused(world):
    with pytest.raises(DomainError, match="无法读取该文件"):
        baseline_io.baseline_import(actor=world.leader, source=BytesIO(b"not a zip"))
    result = baseline_io.baseline_import(
        actor=world.leader, source=workbook(header=["辖区编码", "指标"])
    )
    # Optional columns may be missing (a template from before 事项类别 and 事项 were added).
    assert {e.column for e in result.errors} == {"期间", "数值", "来源说明"}
    assert {e.row for e in result.errors} == {1}


# Pages ---------------------------------------------------------------------------------------


def test_page_enters_lists_and_marks_entered_figures(client, world):
    client.force_login(world.leader)
    form = {
        "area": world.street.code,
        "kpi": "intake",
        "period": "2024",
        "value": "2322",
        "source": "",
        "note": "2024年工作总结",
    }
    response = client.post(reverse("baselines"), form, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "已录入城厢街道2024年的“受理量”:2322(录入数)" in page
    row = page.split('data-testid="baseline-row"')[1].split("</tr>")[0]
    assert "2322件" in row and "录入数" in row and "2024年工作总结" in row and "leader" in row


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"value": "abc"}, "不是有效的数值"),
        ({"note": ""}, "请填写来源说明"),
        ({"period": "去年"}, "无法识别期间"),
        ({"area": "330102008"}, "没有找到该辖区,或您无权录入"),
    ],
)
def test_page_answers_bad_entries_in_chinese(client, world, change, message):
    client.force_login(world.leader)
    form = {
        "area": world.street.code,
        "kpi": "intake",
        "period": "2024",
        "value": "10",
        "note": "总结",
    } | change
    response = client.post(reverse("baselines"), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Baseline.objects.exists()


def test_page_corrects_and_withdraws(client, world):
    baseline = enter(world, "4")
    client.force_login(world.admin)
    client.post(
        reverse("baseline_correct", args=[baseline.pk]),
        {"value": "6", "note": "修订", "reason": "少录"},
    )
    assert Baseline.objects.get().value == 6
    response = client.post(
        reverse("baseline_withdraw", args=[baseline.pk]), {"reason": "口径不一致"}, follow=True
    )
    assert not Baseline.objects.exists()
    history = response.content.decode().split('data-testid="baseline-history"')[1]
    assert "撤回" in history and "更正" in history and "口径不一致" in history


def test_page_import_reports_rows_and_writes_nothing(client, world):
    client.force_login(world.leader)
    bad = workbook(
        (world.street.code, "受理量", 2024, 1, "总结"), (world.street.code, "受理量", 2024, "x", "")
    )
    upload = SimpleUploadedFile("基数.xlsx", bad.getvalue())
    response = client.post(reverse("baseline_import"), {"file": upload})
    assert response.status_code == 400
    errors = response.content.decode().split('data-testid="import-errors"')[1]
    assert "第3行" in errors and "数值" in errors and "来源说明" in errors
    assert not Baseline.objects.exists()


def test_template_download_and_who_may_open_the_page(client, world):
    client.force_login(world.grid_worker)
    assert client.get(reverse("baselines")).status_code == 403
    client.force_login(world.other_leader)
    enter(world, "4")
    assert "2024年工作总结" not in client.get(reverse("baselines")).content.decode()
    response = client.get(reverse("baseline_template"))
    assert response.status_code == 200
    openpyxl.load_workbook(BytesIO(b"".join(response.streaming_content)))


# By category and by case type ----------------------------------------------------------------


def matters(world):
    """The matter the factories' cases are of (WY-SS-01) and its top category."""
    matter = case_type(world)
    return matter.category.parent or matter.category, matter


def test_baselines_by_category_and_case_type_give_their_own_year_on_year(world, five_in_2025):
    category, matter = matters(world)
    enter(world, "10", category=category, note="2024年分类台账")
    enter(world, "4", case_type=matter, note="2024年事项台账")
    by_category = kpi_compare(
        viewer=world.leader,
        kpi="intake",
        scope=Scope(area=world.street, category=category),
        period=Y2025,
    )
    assert (by_category.current.value, by_category.earlier.value) == (5, 10)
    assert change_text(by_category) == "同比下降50.00%(录入数)"
    by_type = kpi_compare(
        viewer=world.leader,
        kpi="intake",
        scope=Scope(area=world.street, case_type=matter),
        period=Y2025,
    )
    assert change_text(by_type) == "同比增长25.00%(录入数)"
    # Neither stands for the whole street, which still has no 同比.
    assert intake_change(world).ratio is None
    found = changes_by_matter(viewer=world.leader, scope=Scope(area=world.street), period=Y2025)
    assert [(m.name, change_text(m.change)) for m in found] == [
        (f"{category}类", "同比下降50.00%(录入数)"),
        (matter.name, "同比增长25.00%(录入数)"),
    ]
    # The batch path (dashboard cards) reads the same entered figure.
    current = figures_compute(
        viewer=world.leader,
        kpis=["intake"],
        scope=Scope(area=world.street, category=category),
        period=Y2025,
    )
    batch = changes_compute(
        viewer=world.leader,
        current=current,
        scope=Scope(area=world.street, category=category),
        period=Y2025,
    )
    assert change_text(batch["intake"]) == "同比下降50.00%(录入数)"


def test_matter_baselines_are_checked(world):
    category, matter = matters(world)
    enter(world, "10", category=category)
    with pytest.raises(BaselineError, match="类的“受理量”已录入"):
        enter(world, "11", category=category)
    enter(world, "9")  # the whole street's is another figure
    with pytest.raises(BaselineError, match="只能按类别或按事项之一"):
        enter(world, "3", category=category, case_type=matter)
    with pytest.raises(BaselineError, match="不按事项统计"):
        enter(world, "3", kpi="enterprise_visits", case_type=matter)
    assert Baseline.objects.count() == 2


def test_import_reads_category_and_case_type_columns(world):
    category, matter = matters(world)
    header = ["辖区编码", "指标", "期间", "数值", "来源说明", "来源渠道", "事项类别", "事项"]
    street = world.street.code
    bad = workbook(
        (street, "受理量", 2024, 8, "台账", "", "没有这类"),
        (street, "受理量", 2024, 8, "台账", "", "", "XX-00-00"),
        header=header,
    )
    result = baseline_io.baseline_import(actor=world.leader, source=bad)
    assert [(e.row, e.column) for e in result.errors] == [(2, "事项类别"), (3, "事项")]
    good = workbook(
        (street, "受理量", 2024, 8, "台账", "", category.name),
        (street, "受理量", 2024, 3, "台账", "", "", matter.code),
        (street, "受理量", 2024, 30, "台账"),
        header=header,
    )
    result = baseline_io.baseline_import(actor=world.leader, source=good)
    assert result.ok, result.errors
    assert {(b.category_id, b.case_type_id, b.value) for b in Baseline.objects.all()} == {
        (category.pk, None, 8),
        (None, matter.pk, 3),
        (None, None, 30),
    }


def test_page_enters_a_case_type_baseline_and_the_dashboard_shows_its_change(
    client, world, five_in_2025
):
    _, matter = matters(world)
    client.force_login(world.leader)
    form = {
        "area": world.street.code,
        "kpi": "intake",
        "period": "2024",
        "value": "4",
        "source": "",
        "category": "",
        "case_type": str(matter.pk),
        "note": "2024年事项台账",
    }
    response = client.post(reverse("baselines"), form, follow=True)
    page = response.content.decode()
    assert f"已录入城厢街道2024年{matter.name}的“受理量”:4(录入数)" in page
    assert f'data-testid="baseline-matter">{matter.name}<' in page
    panel = client.get(
        reverse("dashboard_list", args=["matters"]),
        {"period": "2025", "area": world.street.code},
    ).content.decode()
    assert matter.name in panel and "同比增长25.00%(录入数)" in panel
