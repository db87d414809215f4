"""The period report (工作总结) on a small hand-built year with known figures.

2025 on the world's street (all moments Asia/Shanghai):
  A, B  路灯 (城市管理) in 湘湖社区, accepted March, resolved, rated 满意 / 基本满意
  C     路灯 in 湖头陈社区, accepted 04-01, never resolved: overdue at the year's end
  D     重大 fire hazard (安全隐患) in 湘湖社区, graded 05-06, signed off 05-07
  E     邻里纠纷 (矛盾纠纷) in 湘湖社区, mediated from 06-02, agreed 06-03, rated 满意
  P     a petition about a street lamp in 湘湖社区, registered and accepted 07-01, answered 07-02
  Two enterprises visited three times in 2025; two cases accepted in August 2024.
So: 受理6件, 办结5件, 办结率83.33%, 同比增长200.00% (6 against 2), 湘湖社区 5, 湖头陈社区 1.
"""

import io
import re
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import docx
import docx.shared
import pytest
from django.core.management import CommandError, call_command
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from shanzhi import clock
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.selectors import Scope, figures_compute, kpi_cases
from shanzhi.analytics.services import baseline_enter
from shanzhi.areas.models import Area
from shanzhi.cases import services
from shanzhi.cases.models import CaseCategory, Source
from shanzhi.registry.services import visit_log
from shanzhi.reports import charts
from shanzhi.reports.compose import operator, report_compose
from shanzhi.reports.writers import report_docx, report_html, report_markdown

from .case_factories import case_type, police
from .flow_factories import agreed, mediated, petitioned, signed_off
from .registry_factories import make_enterprise

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = period_parse("2025")


def at(month: int, day: int, hour: int = 10, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def accepted(world, moment, code="CG-SZ-01", *, area=None, source=Source.HOTLINE, extra=None):
    with clock.acting_at(moment):
        case, _ = services.case_report(
            area=area or world.microgrid,
            source=source,
            actor=world.dispatcher,
            description="小区门口路灯不亮",
            reporter_phone="13800001111",
            case_type=case_type(world, code) if extra is not None else None,
            extra=extra,
        )
        case = services.case_accept(
            case=case, actor=world.dispatcher, case_type=case_type(world, code)
        )
        case = services.case_dispatch(case=case, actor=world.dispatcher, unit=police(world))
        return services.case_claim(case=case, actor=world.handler)


def resolved(world, case, moment, satisfaction=""):
    with clock.acting_at(moment):
        case = services.case_resolve(
            case=case, actor=world.handler, result="已处理", evidence="现场已处理完毕"
        )
    if satisfaction:
        with clock.acting_at(moment.replace(hour=15)):
            case = services.case_callback(
                case=case, actor=world.dispatcher, satisfaction=satisfaction
            )
    return case


@pytest.fixture
def year(world):
    resolved(world, accepted(world, at(3, 3)), at(3, 5), "satisfied")
    resolved(world, accepted(world, at(3, 10)), at(3, 12), "basically")
    accepted(world, at(4, 1), area=world.far_grid)
    signed_off(world, at(5, 6), "重大")
    agreed(world, mediated(world, at(6, 2)), at(6, 3))
    petitioned(world, at(7, 1), at(7, 2))
    accepted(world, at(8, 5, year=2024))
    accepted(world, at(8, 6, year=2024))
    first = make_enterprise(world)
    second = make_enterprise(world, name="湘湖食品有限公司")
    for enterprise, moment in ((first, at(3, 1)), (first, at(9, 1)), (second, at(9, 2))):
        visit_log(
            actor=world.grid_worker,
            summary="走访了解经营情况",
            enterprise=enterprise,
            visited_at=moment,
        )
    return world


def markdown(viewer, area, period=YEAR) -> str:
    return report_markdown(report_compose(viewer=viewer, area=area, period=period))


class _Links(HTMLParser):
    """The figures of the html report that link somewhere: (href, text, title)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a" and ("class", "figure") in attrs:
            self._open = {k: v or "" for k, v in attrs}

    def handle_data(self, data):
        if self._open is not None:
            self.links.append((self._open["href"], data, self._open.get("title", "")))
            self._open = None


def test_overview_writes_the_year_as_the_offices_do(year):
    text = markdown(year.leader, year.street)
    assert "2025年,城厢街道共受理各类事件6件,同比增长200.00%,办结5件" in text
    assert "办结率83.33%" in text
    assert "超期1件" in text
    assert "回访3件,回访率100.00%,满意率100.00%" in text


def test_sections_say_hazards_petitions_disputes_and_enterprise_visits(year):
    text = markdown(year.leader, year.street)
    # 一、 for the parts, (一) for what each part tells, as the offices number a summary.
    assert "## 一、主要工作及成效" in text and "## 二、存在问题" in text
    for title in (
        "(一)总体情况",
        "(二)分类情况",
        "(三)各社区情况",
        "(四)安全隐患排查整改",
        "(五)信访与矛盾纠纷",
        "(六)企业服务",
        "(七)网格工作",
    ):
        assert f"### {title}" in text
    assert "全年排查发现安全隐患1处,其中重大隐患1处;已复查销号1处,整改率100.00%" in text
    assert "无逾期未整改隐患" in text
    assert "共受理信访1件,按期受理告知率100.00%;办结1件,办结率100.00%,按期办结率100.00%" in text
    assert "受理矛盾纠纷调解1件,达成调解协议且履行回访未发现未履行的1件,化解率100.00%" in text
    assert "走访企业2家3次" in text
    assert "从事件类别看,城市管理类事件最多,受理3件" in text
    assert "受理量最多的是湘湖社区(5件)" in text
    assert "| 湖头陈社区 | 1 | 0 | 0.00% |" in text
    assert "一是办理时效仍有短板。超期1件" in text


def test_no_year_on_year_without_earlier_data_and_a_marked_one_with_a_baseline(year):
    first_half = period_parse("2025H1")
    text = markdown(year.leader, year.street, first_half)
    # 2024H1 had no case, so no 同比; 2024 August's two are the half-year before (环比).
    assert "共受理各类事件5件,环比增长150.00%,办结" in text
    assert "同比" not in text.split("## 二")[0]
    baseline_enter(
        actor=year.leader,
        area=year.street,
        kpi="intake",
        period=period_parse("2024H1"),
        value=4,
        note="2024年上半年台账",
    )
    text = markdown(year.leader, year.street, first_half)
    assert "共受理各类事件5件,同比增长25.00%(录入数),环比增长150.00%" in text


def test_every_html_figure_links_to_the_cases_it_counts(year):
    page = report_html(report_compose(viewer=year.leader, area=year.street, period=YEAR))
    parser = _Links()
    parser.feed(page)
    assert len(parser.links) > 30
    categories = {str(c.pk): c for c in CaseCategory.objects.filter(street=year.street)}
    for href, text, title in parser.links:
        url = urlparse(href)
        assert url.path == "/cases/"
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        assert query["period"] == "2025"
        scope = Scope(
            area=Area.objects.get(code=query["area"]),
            category=categories.get(query.get("category", "")),
            source=query.get("source", ""),
        )
        cases = kpi_cases(
            viewer=year.leader, key=query["kpi"], scope=scope, period=YEAR, part=query["part"]
        )
        # A count shows its number; a rate "numerator / denominator" and an average the number
        # of cases it averages over, in its title.
        if " / " in title:
            shown = int(title.split(" / ")[0])
        else:
            shown = int(re.match(r"\d+", title or text).group())
        assert cases.count() == shown, href


def test_following_the_links_lands_on_case_lists_of_that_many_cases(year, client):
    page = report_html(report_compose(viewer=year.leader, area=year.street, period=YEAR))
    parser = _Links()
    parser.feed(page)
    chosen = {}
    for href, text, title in parser.links:
        kind = ("category" in href, "source" in href, "denominator" in href, bool(title))
        chosen.setdefault(kind, (href, text, title))
    assert len(chosen) >= 4
    client.force_login(year.leader)
    for href, text, title in chosen.values():
        shown = int(re.match(r"\d+", title or text).group())
        response = client.get(href)
        assert response.status_code == 200
        assert response.context["figure"]["error"] == "", href
        assert response.context["figure"]["count"] == shown, href


def test_a_rate_links_to_its_numerator_and_the_intake_to_the_year(year):
    page = report_html(report_compose(viewer=year.leader, area=year.street, period=YEAR))
    code = year.street.code
    assert f'href="/cases/?kpi=intake&amp;part=numerator&amp;period=2025&amp;area={code}"' in page
    assert 'title="5 / 6">83.33%</a>' in page
    # Registry figures have no case list behind them.
    assert '<span class="figure">2家</span>' in page


def test_the_docx_opens_with_its_tables_paragraphs_and_charts(year, monkeypatch):
    data = report_docx(report_compose(viewer=year.leader, area=year.street, period=YEAR))
    document = docx.Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "城厢街道2025年工作总结"
    assert any(t.startswith("2025年,城厢街道共受理各类事件6件") for t in texts)
    categories, areas = document.tables
    names = [row.cells[0].text for row in categories.rows]
    assert names[:2] == ["类别", "城市管理"]
    assert sorted(names[2:]) == ["信访", "安全隐患", "矛盾纠纷"]
    assert [c.text for c in categories.rows[1].cells[1:4]] == ["3", "2", "66.67%"]
    assert [row.cells[0].text for row in areas.rows] == ["社区", "湘湖社区", "湖头陈社区"]
    assert len(document.inline_shapes) == 2
    # Without a Chinese font the captions say how to read the bare numbers.
    if not charts.cjk_font():
        assert any(t.startswith("图2 各类别受理量(横轴序号对应表1的行)") for t in texts)


def _east_asian(element):
    return element.rPr.rFonts.get(qn("w:eastAsia"))


def test_the_docx_is_laid_out_by_gb_t_9704(year):
    document = docx.Document(
        io.BytesIO(report_docx(report_compose(viewer=year.leader, area=year.street, period=YEAR)))
    )
    page = document.sections[0]
    # A4; 天头 37 mm, 订口 28 mm; 版心 156 × 225 mm (so 26 mm outside, 35 mm at the foot).
    assert (round(page.page_width.mm), round(page.page_height.mm)) == (210, 297)
    assert (round(page.top_margin.mm), round(page.left_margin.mm)) == (37, 28)
    assert round(page.page_width.mm - page.left_margin.mm - page.right_margin.mm) == 156
    assert round(page.page_height.mm - page.top_margin.mm - page.bottom_margin.mm) == 225
    settings = document.settings.element
    assert settings.find(qn("w:mirrorMargins")) is not None  # 订口 inside when printed two-sided
    # Styles: sizes in points (2号 22, 3号 16, 4号 14), fonts named for East Asian text.
    expected = {
        "Title": ("方正小标宋简体", 22),
        "Normal": ("仿宋_GB2312", 16),
        "Heading 1": ("黑体", 16),
        "Heading 2": ("楷体_GB2312", 16),
        "Footer": ("宋体", 14),
    }
    for name, (font, size) in expected.items():
        style = document.styles[name]
        assert (_east_asian(style.element), style.font.size.pt) == (font, size), name
        assert style.font.bold is False and style.font.color.rgb == docx.shared.RGBColor(0, 0, 0)
        theme = style.element.rPr.rFonts.get(qn("w:eastAsiaTheme"))
        assert theme is None, name  # a theme font would win over the name
    # 22 lines to the page: exact line spacing of the type area's height ÷ 22.
    body = document.styles["Normal"].paragraph_format
    assert round(body.line_spacing.pt * 22 / 72 * 25.4) == 225
    assert body.first_line_indent.pt == 32  # two characters
    paragraphs = document.paragraphs
    assert (paragraphs[0].style.name, paragraphs[0].text) == ("Title", "城厢街道2025年工作总结")
    headings = [(p.style.name, p.text) for p in paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == [
        ("Heading 1", "一、主要工作及成效"),
        ("Heading 2", "(一)总体情况"),
        ("Heading 2", "(二)分类情况"),
    ]
    assert headings[-1] == ("Heading 1", "二、存在问题")
    body_texts = [p for p in paragraphs if p.style.name == "Normal" and p.text]
    assert body_texts and all(not p.runs[0].font.size for p in body_texts)  # sized by the style
    # Page numbers "— 1 —" as a PAGE field, odd pages right and even pages left.
    assert document.settings.odd_and_even_pages_header_footer
    for footer, align in (
        (page.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (page.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        number = footer.paragraphs[0]
        assert number.style.name == "Footer" and number.alignment == align
        assert number.text.startswith("— ") and number.text.endswith(" —")
        field = number._p.find(qn("w:fldSimple"))
        assert field is not None and field.get(qn("w:instr")).strip() == "PAGE"
    # Tables and charts are titled in the caption style and fit the type area.
    captions = [p.text for p in paragraphs if p.style.name == "Caption"]
    assert "表1 各类别事件办理情况" in captions and captions[0].startswith("图1 ")
    assert all(round(shape.width.mm) <= 156 for shape in document.inline_shapes)


def test_charts_use_a_chinese_font_when_one_is_installed(year):
    report = report_compose(viewer=year.leader, area=year.street, period=YEAR)
    trend = report.charts[0]
    assert trend.labels == tuple(str(m) for m in range(1, 13))
    assert trend.series[0][1][2] == 2  # March: A and B
    png = charts.chart_png(trend, font="")
    assert png.startswith(b"\x89PNG")
    assert (
        charts.chart_caption(trend, 1, font="Noto Sans CJK SC")
        == "图1 各月受理量与当月办结量(受理量、当月办结)"
    )


def test_a_community_leaders_report_keeps_to_their_community(year):
    text = markdown(year.community_leader, year.community)
    assert "湘湖社区共受理各类事件5件" in text
    assert "湖头陈" not in text
    assert "### (三)各网格情况" in text
    assert "| 湘湖第一网格 | 5 |" in text
    with pytest.raises(CommandError, match="没有编码为“330109001”的辖区,或无权查看"):
        call_command(
            "report",
            "--area",
            year.street.code,
            "--period",
            "2025",
            "--format",
            "md",
            "-o",
            "/dev/null",
            "--user",
            "cl",
        )


@pytest.mark.parametrize("kind", ["md", "html", "docx"])
def test_the_command_writes_each_format(year, tmp_path, kind):
    target = tmp_path / f"report.{kind}"
    out = io.StringIO()
    call_command(
        "report",
        "--area",
        year.community.code,
        "--period",
        "2025",
        "--format",
        kind,
        "-o",
        str(target),
        "--user",
        "cl",
        stdout=out,
    )
    assert "已生成《湘湖社区2025年工作总结》" in out.getvalue()
    data = target.read_bytes()
    if kind == "docx":
        assert "湘湖社区共受理各类事件5件" in "".join(
            p.text for p in docx.Document(str(target)).paragraphs
        )
    else:
        assert "湘湖社区共受理各类事件" in data.decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--area", "330109001", "--period", "2025年"], "无法识别期间“2025年”"),
        (["--area", "330109001", "--period", "2025-13"], "月份“13”无效"),
        (["--area", "999999999", "--period", "2025"], "没有编码为“999999999”的辖区"),
        (["--area", "330109001", "--period", "2025", "--user", "nobody"], "没有用户名为“nobody”"),
        (["--area", "330109001", "--period", "2025", "--user", "gw"], "无权查看统计数据"),
    ],
)
def test_bad_arguments_are_refused_in_chinese(year, tmp_path, args, message):
    target = tmp_path / "r.md"
    with pytest.raises(CommandError, match=message):
        call_command("report", *args, "--format", "md", "-o", str(target))
    assert not target.exists()


def test_a_grid_is_not_a_report_area(year, tmp_path):
    with pytest.raises(CommandError, match="工作总结只能按街道、片区或社区生成"):
        call_command(
            "report",
            "--area",
            year.grid.code,
            "--period",
            "2025",
            "--format",
            "md",
            "-o",
            str(tmp_path / "r.md"),
        )


def test_the_page_shows_the_html_report_and_downloads_the_others(year, client):
    client.force_login(year.leader)
    blank = client.get("/reports/")
    assert blank.status_code == 200
    assert "生成" in blank.content.decode()
    query = {"area": year.street.code, "period": "2025", "format": "html"}
    page = client.get("/reports/", query).content.decode()
    assert "办结率" in page and 'title="5 / 6">83.33%</a>' in page
    # The charts as SVG images (no script for the strict CSP), numbered as in the .docx.
    assert page.count('data-testid="report-chart"') == 2
    assert page.count('<img src="data:image/svg+xml;base64,') == 2
    assert "<figcaption>图1 各月受理量与当月办结量" in page
    standalone = report_html(report_compose(viewer=year.leader, area=year.street, period=YEAR))
    assert standalone.count('<img src="data:image/svg+xml;base64,') == 2
    download = client.get("/reports/", {**query, "format": "docx"})
    assert download["Content-Type"].startswith("application/vnd.openxml")
    assert "attachment" in download["Content-Disposition"]
    assert docx.Document(io.BytesIO(download.content)).tables
    markdown_file = client.get("/reports/", {**query, "format": "md"})
    assert "城厢街道共受理各类事件6件" in markdown_file.content.decode()


def test_the_page_refuses_bad_input_and_those_without_figures(year, client):
    client.force_login(year.leader)
    bad = client.get("/reports/", {"area": year.street.code, "period": "去年", "format": "md"})
    assert bad.status_code == 400
    assert "无法识别期间“去年”" in bad.content.decode()
    client.force_login(year.community_leader)
    hidden = client.get("/reports/", {"area": year.street.code, "period": "2025", "format": "md"})
    assert hidden.status_code == 400
    assert "没有找到该辖区,或您无权查看" in hidden.content.decode()
    client.force_login(year.grid_worker)
    assert client.get("/reports/").status_code == 403


def test_the_demo_streets_report_has_its_real_figures(db):
    # The small demo street takes ten seconds or more to build: one test only.
    call_command("demo", "--scale", "small", "--year", "2025", stdout=io.StringIO())
    street = Area.objects.get(code="330109001")
    totals = figures_compute(
        viewer=operator(),
        kpis=["intake", "resolution_rate", "satisfaction_rate"],
        scope=Scope(area=street),
        period=YEAR,
    )
    assert totals["intake"].numerator > 100
    report = report_compose(viewer=operator(), area=street, period=YEAR)
    text = report_markdown(report)
    intake = totals["intake"].numerator
    assert f"城厢街道共受理各类事件{intake}件" in text
    assert f"办结率{totals['resolution_rate'].value:.2f}%" in text
    document = docx.Document(io.BytesIO(report_docx(report)))
    assert len(document.tables) == 2
    rows = [row.cells[0].text for row in document.tables[1].rows[1:]]
    assert len(rows) == 3 and all(name.endswith("社区") for name in rows)
    assert sum(int(row.cells[1].text) for row in document.tables[0].rows[1:]) == intake
