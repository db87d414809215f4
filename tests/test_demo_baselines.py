"""The demo enters its street's 2024 in the seeds' proportions, so 同比 shows, marked 录入数, on
its dashboard and in its report: the whole street, a channel, a category and a case type."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from shanzhi.accounts.models import User
from shanzhi.analytics.models import Baseline
from shanzhi.analytics.periods import period_parse
from shanzhi.areas.models import Area
from shanzhi.reports.compose import operator, report_compose
from shanzhi.reports.writers import report_markdown

pytestmark = pytest.mark.django_db
YEAR = period_parse("2025")


def test_the_demo_enters_last_year_and_its_surfaces_show_year_on_year(client):
    # A small demo street takes ten seconds or more to build: one test only.
    out = io.StringIO()
    call_command("demo", "--scale", "small", "--year", "2025", stdout=out)
    printed = out.getvalue()
    street = Area.objects.get(code="330109001")
    entered = Baseline.objects.filter(area=street, period_start__year=2024)
    kinds = {(b.key, b.source, b.category is not None, b.case_type is not None) for b in entered}
    assert {
        ("petitions", "", False, False),
        ("intake", "", False, False),
        ("intake", "", True, False),
        ("intake", "", False, True),
        ("intake", "police", False, False),
        ("satisfaction_rate", "", False, False),
    } <= kinds
    assert all(b.note.startswith("演示数据") for b in entered)
    assert entered.get(key="satisfaction_rate").value == Decimal("99.2")
    # Printed by the command as every surface writes it.
    line = next(line for line in printed.splitlines() if line.startswith("上年基数(录入数)"))
    assert "信访受理量:同比下降" in line and "(录入数)" in line

    report = report_markdown(report_compose(viewer=operator(), area=street, period=YEAR))
    assert "同比" in report and "(录入数)" in report
    assert "与上年录入数相比,社会治安类受理量" in report

    client.force_login(User.objects.get(username__regex=r"^[^.]+\.leader$"))
    page = client.get(reverse("dashboard"), {"period": "2025", "area": street.code})
    headline = page.content.decode()
    assert headline.count("(录入数)") >= 2  # 受理量 and 满意率
    matters = client.get(
        reverse("dashboard_list", args=["matters"]), {"period": "2025", "area": street.code}
    ).content.decode()
    assert "社会治安类" in matters and "消防通道堵塞占用" in matters
    assert matters.count("(录入数)") == 2
    petitions = client.get(
        reverse("dashboard_list", args=["petitions"]), {"period": "2025", "area": street.code}
    ).content.decode()
    assert "同比下降" in petitions and "(录入数)" in petitions
