"""The report written out: Markdown, HTML (every figure a link to its cases) and Word (.docx,
with real tables and the charts as images)."""

import io
from functools import cache
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from docx import Document
from docx.document import Document as WordDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle

from .charts import chart_caption, chart_png, charts_drawn
from .compose import Chart, Paragraph, Report, Table

MARKDOWN, HTML, DOCX = "md", "html", "docx"
FORMATS = {MARKDOWN: "Markdown", HTML: "网页(HTML)", DOCX: "Word 文档(.docx)"}
CONTENT_TYPES = {
    MARKDOWN: "text/markdown; charset=utf-8",
    HTML: "text/html; charset=utf-8",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# GB/T 9704-2012 党政机关公文格式: A4, 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm, 22 lines a
# page; 标题 2号小标宋, 正文 3号仿宋, 一级标题 3号黑体, 二级标题 3号楷体, 页码 4号半角宋体
# "— 1 —" 7 mm below the type area, odd pages right and even pages left, one character in.
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
TOP, INSIDE = Mm(37), Mm(28)
TYPE_WIDTH, TYPE_HEIGHT = Mm(156), Mm(225)
LINES_PER_PAGE = 22
SIZE_2, SIZE_3, SIZE_4, SIZE_SMALL_4 = Pt(22), Pt(16), Pt(14), Pt(12)
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
DASH = "—"  # 一字线 either side of the page number
# (style, font, size, alignment, first-line indent in characters); Caption titles the tables
# and charts, 表格 is the tables' text.
STYLES = (
    ("Normal", BODY_FONT, SIZE_3, WD_ALIGN_PARAGRAPH.JUSTIFY, 2),
    ("Title", TITLE_FONT, SIZE_2, WD_ALIGN_PARAGRAPH.CENTER, 0),
    ("Subtitle", SUBHEADING_FONT, SIZE_3, WD_ALIGN_PARAGRAPH.CENTER, 0),
    ("Heading 1", HEADING_FONT, SIZE_3, WD_ALIGN_PARAGRAPH.JUSTIFY, 2),
    ("Heading 2", SUBHEADING_FONT, SIZE_3, WD_ALIGN_PARAGRAPH.JUSTIFY, 2),
    ("Caption", HEADING_FONT, SIZE_4, WD_ALIGN_PARAGRAPH.CENTER, 0),
    ("Footer", PAGE_NUMBER_FONT, SIZE_4, WD_ALIGN_PARAGRAPH.RIGHT, 0),
)
TABLE_TEXT = "表格文字"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown_table(table: Table) -> list[str]:
    lines = [f"**{table.title}**", ""]
    lines.append("| " + " | ".join(table.header) + " |")
    lines.append("|" + "|".join([" --- "] * len(table.header)) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(_cell(span.text) for span in row) + " |")
    return [*lines, ""]


def report_markdown(report: Report) -> str:
    """Paragraphs and pipe tables; the charts' figures are in the tables."""
    lines = [f"# {report.title}", "", f"*{report.scope_note}*", ""]
    for section in report.sections:
        lines += [f"{'#' * (section.level + 1)} {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Paragraph):
                lines += [block.text, ""]
            elif isinstance(block, Table):
                lines += _markdown_table(block)
    return "\n".join(lines).rstrip() + "\n"


@cache
def _report_styles() -> str:
    # The report page links this style sheet; a standalone file has to carry it inside.
    found = finders.find("web/report.css")
    if not isinstance(found, str):
        raise RuntimeError("web/report.css is missing from the static files")
    return Path(found).read_text(encoding="utf-8")


def report_html(report: Report) -> str:
    """A standalone page; every figure that counts cases links to the case list behind it."""
    return render_to_string(
        "web/reports/document.html", {"report": report, "styles": _report_styles()}
    )


def _fonts(element: Any, name: str) -> None:
    """Name the font for Latin, East Asian and complex scripts alike: Word takes Chinese text's
    font from w:eastAsia, and a theme font, if left, wins over any name."""
    fonts = element.get_or_add_rFonts()
    for attribute in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attribute}"), None)
    for attribute in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attribute}"), name)


def _style(
    document: WordDocument, name: str, font: str, size: Length, align: Any, indent: int
) -> ParagraphStyle:
    style = document.styles[name]
    assert isinstance(style, ParagraphStyle)  # noqa: S101 - the template's paragraph styles
    _fonts(style.element.get_or_add_rPr(), font)
    style.font.size = size
    style.font.bold = False
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    p_pr = style.element.get_or_add_pPr()
    for border in p_pr.findall(qn("w:pBdr")):
        p_pr.remove(border)  # the template's Title has a blue rule under it
    layout = style.paragraph_format
    layout.alignment = align
    layout.first_line_indent = Pt(size.pt * indent) if indent else Pt(0)
    layout.space_before = layout.space_after = Pt(0)
    layout.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    layout.line_spacing = Pt(TYPE_HEIGHT.pt / LINES_PER_PAGE)
    return style


def _page_number(paragraph: Any) -> None:
    """— PAGE — with the number as a field, so Word numbers every page."""
    paragraph.add_run(f"{DASH} ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), " PAGE ")
    shown = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    shown.append(text)
    field.append(shown)
    paragraph._p.append(field)
    paragraph.add_run(f" {DASH}")


# The settings that come before w:mirrorMargins in the schema's order, which Word holds to.
_BEFORE_MIRROR = {
    qn(f"w:{name}")
    for name in [
        "writeProtection",
        "view",
        "zoom",
        "removePersonalInformation",
        "removeDateAndTime",
        "doNotDisplayPageBoundaries",
        "displayBackgroundShape",
        "printPostScriptOverText",
        "printFractionalCharacterWidth",
        "printFormsData",
        "embedTrueTypeFonts",
        "embedSystemFonts",
        "saveSubsetFonts",
        "saveFormsData",
    ]
}


def _mirror_margins(document: WordDocument) -> None:
    """Left and right margins become inside and outside: 订口 on the binding side of each page."""
    settings = document.settings.element
    mirror = OxmlElement("w:mirrorMargins")
    following = next((c for c in settings if c.tag not in _BEFORE_MIRROR), None)
    if following is None:
        settings.append(mirror)
    else:
        following.addprevious(mirror)


def _layout(document: WordDocument) -> None:
    """A4 with the standard's margins, mirrored for double-sided printing (订口 inside), and
    page numbers in the footer, odd pages right, even pages left."""
    section = document.sections[0]
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin = TOP
    section.left_margin = INSIDE
    section.right_margin = Mm(210 - 28 - 156)
    section.bottom_margin = Mm(297 - 37 - 225)
    # The number's line sits 7 mm below the type area.
    section.footer_distance = Mm(297 - 37 - 225 - 7) - SIZE_4
    _mirror_margins(document)
    document.settings.odd_and_even_pages_header_footer = True
    one_character = SIZE_4
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        paragraph.style = document.styles["Footer"]
        paragraph.alignment = align
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            paragraph.paragraph_format.right_indent = one_character
        else:
            paragraph.paragraph_format.left_indent = one_character
        _page_number(paragraph)


def _styles(document: WordDocument) -> None:
    for name, font, size, align, indent in STYLES:
        _style(document, name, font, size, align, indent)
    table_text = document.styles.add_style(TABLE_TEXT, WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = document.styles["Normal"]
    _style(document, TABLE_TEXT, BODY_FONT, SIZE_SMALL_4, WD_ALIGN_PARAGRAPH.CENTER, 0)
    table_text.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE


def _docx_table(document: WordDocument, table: Table) -> None:
    document.add_paragraph(table.title, style="Caption")
    grid = document.add_table(rows=1, cols=len(table.header))
    grid.style = "Table Grid"
    for cell, text in zip(grid.rows[0].cells, table.header, strict=True):
        paragraph = cell.paragraphs[0]
        paragraph.style = document.styles[TABLE_TEXT]
        _fonts(paragraph.add_run(text)._element.get_or_add_rPr(), HEADING_FONT)
    for row in table.rows:
        cells = grid.add_row().cells
        for cell, span in zip(cells, row, strict=True):
            paragraph = cell.paragraphs[0]
            paragraph.style = document.styles[TABLE_TEXT]
            paragraph.add_run(span.text)


def _docx_chart(document: WordDocument, chart: Chart, number: int) -> None:
    picture = document.add_paragraph(style=TABLE_TEXT)
    picture.add_run().add_picture(io.BytesIO(chart_png(chart)), width=TYPE_WIDTH)
    document.add_paragraph(chart_caption(chart, number), style="Caption")


def report_docx(report: Report) -> bytes:
    """A Word document a 街道 office can file: laid out by GB/T 9704 (see the constants above),
    the title, sections as 一级标题 (Heading 1), paragraphs in the body style, the tables by
    category and area, and the charts as images."""
    document = Document()
    _styles(document)
    _layout(document)
    document.add_paragraph(report.title, style="Title")
    document.add_paragraph(report.scope_note, style="Subtitle")
    numbers = {id(chart): number for chart, number in charts_drawn(report.charts)}
    for section in report.sections:
        document.add_paragraph(section.title, style=f"Heading {section.level}")
        for block in section.blocks:
            if isinstance(block, Paragraph):
                document.add_paragraph(block.text)
            elif isinstance(block, Table):
                _docx_table(document, block)
            elif id(block) in numbers:
                _docx_chart(document, block, numbers[id(block)])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def report_write(report: Report, kind: str) -> bytes:
    """The report in one of FORMATS, as the bytes of its file."""
    if kind == MARKDOWN:
        return report_markdown(report).encode()
    if kind == HTML:
        return report_html(report).encode()
    if kind == DOCX:
        return report_docx(report)
    raise ValueError(kind)
