"""The report written out: Markdown, HTML (every figure a link to its cases) and Word (.docx,
with real tables and the charts as images)."""

import io
from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from docx import Document
from docx.document import Document as WordDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.run import Run

from .charts import chart_caption, chart_png
from .compose import Chart, Paragraph, Report, Table

MARKDOWN, HTML, DOCX = "md", "html", "docx"
FORMATS = {MARKDOWN: "Markdown", HTML: "网页(HTML)", DOCX: "Word 文档(.docx)"}
CONTENT_TYPES = {
    MARKDOWN: "text/markdown; charset=utf-8",
    HTML: "text/html; charset=utf-8",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
BODY_FONT = "宋体"
TITLE_FONT = "黑体"


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
        lines += [f"## {section.title}", ""]
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


def _font(run: Run, name: str, size: float | None = None) -> None:
    run.font.name = name
    # Word picks the East Asian font from its own attribute, not from the Latin name.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size is not None:
        run.font.size = Pt(size)


def _docx_table(document: WordDocument, table: Table) -> None:
    caption = document.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(caption.add_run(table.title), TITLE_FONT, 11)
    grid = document.add_table(rows=1, cols=len(table.header))
    grid.style = "Table Grid"
    for cell, text in zip(grid.rows[0].cells, table.header, strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(text), TITLE_FONT, 10)
    for row in table.rows:
        cells = grid.add_row().cells
        for cell, span in zip(cells, row, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(span.text), BODY_FONT, 10)


def _docx_chart(document: WordDocument, chart: Chart, number: int) -> bool:
    """Draw the chart unless it would be empty; whether it was drawn."""
    if not any(any(values) for _, values in chart.series):
        return False
    document.add_picture(io.BytesIO(chart_png(chart)), width=Cm(15))
    caption = document.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(caption.add_run(chart_caption(chart, number)), BODY_FONT, 10)
    return True


def report_docx(report: Report) -> bytes:
    """A Word document: title, paragraphs, tables by category and area, charts as images."""
    document = Document()
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(report.title), TITLE_FONT, 18)
    note = document.add_paragraph()
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(note.add_run(report.scope_note), BODY_FONT, 10)
    charts = 0
    for section in report.sections:
        heading = document.add_paragraph()
        _font(heading.add_run(section.title), TITLE_FONT, 14)
        for block in section.blocks:
            if isinstance(block, Paragraph):
                paragraph = document.add_paragraph()
                paragraph.paragraph_format.first_line_indent = Pt(24)
                _font(paragraph.add_run(block.text), BODY_FONT, 12)
            elif isinstance(block, Table):
                _docx_table(document, block)
            else:
                charts += _docx_chart(document, block, charts + 1)
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
