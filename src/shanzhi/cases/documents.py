"""The papers a flow issues (整改通知书, 受理告知书, 处理意见书, 调解协议书…), as .docx.

Which papers a flow issues, and what they say, is the flow's declaration (`DocumentSpec`); a case
has a paper once the action that issues it is in its log, and the paper records that action.
"""

import io
from dataclasses import dataclass

from django.utils import timezone
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from shanzhi.errors import NotFound

from .flows import flow_of
from .flows.spec import DocumentSpec
from .models import Case, CaseAction

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class IssuedDocument:
    spec: DocumentSpec
    row: CaseAction

    @property
    def filename(self) -> str:
        return f"{self.row.case.number}-{self.spec.title}.docx"


def case_documents(case: Case) -> list[IssuedDocument]:
    """The papers the case has, each from the latest log row of the action that issues it."""
    issued = []
    for spec in flow_of(case).documents:
        row = (
            CaseAction.objects.filter(case=case, action=spec.after)
            .select_related("to_unit", "case__area")
            .order_by("-created_at", "-id")
            .first()
        )
        if row is not None:
            issued.append(IssuedDocument(spec, row))
    return issued


def case_document(case: Case, key: str) -> IssuedDocument:
    for document in case_documents(case):
        if document.spec.key == key:
            return document
    raise NotFound("该事件没有这份文书")


def document_docx(document: IssuedDocument) -> bytes:
    """The paper as a Word file: its title, the case number and date, then each paragraph."""
    case, row = document.row.case, document.row
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "仿宋"
    style.font.size = Pt(16)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(document.spec.title)
    run.bold = True
    run.font.size = Pt(22)
    issued = timezone.localtime(row.created_at)
    number = doc.add_paragraph(f"编号:{case.number}")
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for paragraph in document.spec.compose(case, row):
        if not paragraph.text:
            continue
        line = doc.add_paragraph()
        label = line.add_run(f"{paragraph.heading}:")
        label.bold = True
        line.add_run(paragraph.text)
    signed = doc.add_paragraph(f"{issued:%Y年%m月%d日}")
    signed.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
