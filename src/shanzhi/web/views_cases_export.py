"""The case list as xlsx, and a case on paper (the 工单 to print).

Both read what the case pages read: the list through `case_list` with the list page's own
filters, a case through the policy; personal data is masked as on the pages.
"""

import io

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from shanzhi import clock
from shanzhi.cases.exports import EXPORT_LIMIT, case_workbook_write
from shanzhi.cases.flows import flow_of
from shanzhi.cases.selectors import (
    action_details,
    case_facts,
    case_list,
    case_timeline,
    deadline_label,
)
from shanzhi.masking import mask_name, mask_personal
from shanzhi.registry.services import reporter_phone_shown

from .forms_cases import CaseFilterForm
from .views_cases import case_or_404, signed_in, staff_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@staff_page()
@require_GET
def case_list_export(request: HttpRequest) -> HttpResponse:
    """/cases/export.xlsx: the cases the list shows for the same filters, masked."""
    form = CaseFilterForm(request.GET, user=signed_in(request))
    form.is_valid()  # as the list page: the fields that pass narrow the list
    cases = case_list(user=request.user, filters=form.filters())
    buffer = io.BytesIO()
    count = case_workbook_write(cases=cases, target=buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    name = f"事件清单{clock.now():%Y%m%d%H%M}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, name) or ""
    response["X-Shanzhi-Rows"] = str(count)
    if count >= EXPORT_LIMIT:
        response["X-Shanzhi-Truncated"] = str(EXPORT_LIMIT)
    return response


@staff_page()
@require_GET
def case_print(request: HttpRequest, number: str) -> HttpResponse:
    """/cases/<number>/print/: the case on one or two sheets of paper, for signing and filing."""
    case = case_or_404(request, number)
    context = {
        "case": case,
        "flow": flow_of(case),
        "state_label": flow_of(case).state_label(case.state),
        "facts": case_facts(case),
        "timeline": [
            {
                "at": step.created_at,
                "label": step.label,
                "actor": step.actor or ("" if step.action != "report" else "群众"),
                "unit": step.to_unit.name if step.to_unit else "",
                "note": mask_personal(" · ".join(filter(None, [*action_details(step), step.note]))),
            }
            for step in case_timeline(case=case)
        ],
        "deadline_label": deadline_label(case),
        "reporter_name": mask_name(case.reporter_name),
        "reporter_phone": reporter_phone_shown(viewer=request.user, case=case),
        "description": mask_personal(case.description),
        "printed_at": clock.now(),
    }
    return render(request, "web/case_print/print.html", context)
