"""Rows as the API shows them. Lists read only what their queryset already joined."""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from shanzhi import clock
from shanzhi.accounts.models import Unit, User
from shanzhi.areas.models import Area, Level
from shanzhi.cases.documents import case_documents
from shanzhi.cases.flows import FLOWS
from shanzhi.cases.models import (
    Case,
    CaseAction,
    CaseType,
    HandlingLevel,
    Priority,
    Source,
)
from shanzhi.cases.selectors import (
    action_details,
    available_actions,
    case_facts,
    case_timeline,
    deadline_status,
)
from shanzhi.registry.services import reporter_phone_shown

from .schemas import PageIn

Row = TypeVar("Row", bound=Model)


def page(
    rows: QuerySet[Row], params: PageIn, item: Callable[[Iterable[Row]], list[dict[str, Any]]]
) -> dict[str, Any]:
    """One page of `rows` with the total count: two queries whatever the page size."""
    start = (params.page - 1) * params.page_size
    return {
        "total": rows.count(),
        "page": params.page,
        "page_size": params.page_size,
        "items": item(rows[start : start + params.page_size]),
    }


def _unit(unit: Unit | None) -> dict[str, Any] | None:
    return {"id": unit.pk, "name": unit.name} if unit is not None else None


def _person(user: User | None) -> str | None:
    return (user.full_name or user.username) if user is not None else None


def _case_item(case: Case, moment: datetime) -> dict[str, Any]:
    case_type = case.case_type
    return {
        "number": case.number,
        "title": case.title,
        "flow": case.flow,
        "flow_label": case.flow_spec.label,
        "state": case.state,
        "state_label": case.state_label,
        "source": case.source,
        "source_label": Source(case.source).label,
        "case_type": {"id": case_type.pk, "name": case_type.name} if case_type else None,
        "area": {"code": case.area.code, "name": case.area.name},
        "unit": _unit(case.unit),
        "priority": case.priority,
        "priority_label": Priority(case.priority).label,
        "reported_at": case.reported_at,
        "handle_due_at": case.handle_due_at,
        "deadline_status": deadline_status(case, moment) or None,
        "version": case.version,
    }


def case_items(cases: Iterable[Case]) -> list[dict[str, Any]]:
    """List rows of cases fetched with their area, unit and type (selectors.case_list does)."""
    moment = clock.now()
    return [_case_item(case, moment) for case in cases]


def _action(row: CaseAction) -> dict[str, Any]:
    return {
        "action": row.action,
        "label": row.label,
        "actor": _person(row.actor),
        "from_state": row.from_state or None,
        "from_state_label": row.from_state_label,
        "to_state": row.to_state,
        "to_state_label": row.to_state_label,
        "details": action_details(row),
        "from_unit": row.from_unit.name if row.from_unit else None,
        "to_unit": row.to_unit.name if row.to_unit else None,
        "note": row.note,
        "attachment_count": row.attachment_count,  # type: ignore[attr-defined]
        "created_at": row.created_at,
    }


def case_detail(case: Case, *, user: User | None) -> dict[str, Any]:
    """The full case with its timeline, the reporter's phone masked unless `user` may see it."""
    phone = reporter_phone_shown(viewer=user, case=case)
    return _case_item(case, clock.now()) | {
        "description": case.description,
        "address": case.address,
        "latitude": float(case.latitude) if case.latitude is not None else None,
        "longitude": float(case.longitude) if case.longitude is not None else None,
        "level": case.level,
        "level_label": HandlingLevel(case.level).label,
        "reporter_name": case.reporter_name,
        "reporter_phone": phone,
        "assignee": _person(case.assignee) if case.assignee_id else None,
        "accepted_at": case.accepted_at,
        "dispatched_at": case.dispatched_at,
        "claimed_at": case.claimed_at,
        "resolved_at": case.resolved_at,
        "archived_at": case.archived_at,
        "claim_due_at": case.claim_due_at,
        "extension_requested_until": case.extension_requested_until,
        "extension_reason": case.extension_reason,
        "resolution": case.resolution,
        "satisfaction": case.satisfaction or None,
        "merged_into": case.merged_into.number
        if case.merged_into_id and case.merged_into
        else None,
        "on_spot": case.on_spot,
        "return_count": case.return_count,
        "reopen_count": case.reopen_count,
        "supervise_count": case.supervise_count,
        "extension_count": case.extension_count,
        "available_actions": [t.action for t in available_actions(user, case)],
        "facts": [{"label": label, "value": value} for label, value in case_facts(case)],
        "documents": [
            {"key": doc.spec.key, "title": doc.spec.title, "issued_at": doc.row.created_at}
            for doc in case_documents(case)
        ],
        "timeline": [_action(row) for row in case_timeline(case=case, counted=True)],
    }


def case_type_items(case_types: Iterable[CaseType]) -> list[dict[str, Any]]:
    """Catalogue rows fetched with street, category (and its parent) and default unit."""
    items = []
    for case_type in case_types:
        category = case_type.category
        top = category.parent if category.parent_id else None
        items.append(
            {
                "id": case_type.pk,
                "code": case_type.code,
                "name": case_type.name,
                "street": {"code": case_type.street.code, "name": case_type.street.name},
                "category": {"id": (top or category).pk, "name": (top or category).name},
                "subcategory": {"id": category.pk, "name": category.name} if top else None,
                "default_unit": _unit(case_type.default_unit),
                "claim_limit_hours": case_type.claim_limit_hours,
                "handle_limit_days": case_type.handle_limit_days,
                "handle_limit_hours": case_type.handle_limit_hours,
                "handle_limit_label": case_type.handle_limit_label,
                "priority": case_type.priority,
                "workflow": case_type.workflow,
                "workflow_label": FLOWS[case_type.workflow].label,
                "keywords": [str(keyword) for keyword in case_type.keywords],
            }
        )
    return items


def _area(area: Area) -> dict[str, Any]:
    return {
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "level_label": Level(area.level).label,
        "parent_code": area.parent.code if area.parent else None,
        "street_code": area.street.code if area.street else None,
        "child_count": getattr(area, "child_count", 0),
    }


def area_items(areas: Iterable[Area]) -> list[dict[str, Any]]:
    """Area rows fetched with parent and street and annotated with `child_count`."""
    return [_area(area) for area in areas]


def area_detail(area: Area) -> dict[str, Any]:
    return _area(area) | {"boundary": area.boundary}
