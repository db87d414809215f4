"""How Shanzhi's case types and cases read as Open311 GeoReport v2 services and requests.

Service codes: a case-type code is unique only within its street, so the Open311 service_code is
the street's area code, a hyphen and the case-type code ("330109001-AQ-XF-01"). Area codes never
contain a hyphen, so the first hyphen splits the two. jurisdiction_id is a street's area code.

Status: open = reported, accepted, dispatched, in_progress; closed = resolved, archived (rejected
and merged cases are closed too, but are never listed publicly).

What is public: a request shows the matter, its place, its progress and its handling unit, never
the reporter (name, phone, account) nor the internal notes of the action log. Phone and ID
numbers and e-mail addresses that a reporter typed into the description or a handler into the
result are masked. A photo's media_url is the access-checked media view, never /media/.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from shanzhi.cases.flows import states_of
from shanzhi.cases.flows.spec import Kind
from shanzhi.cases.models import Case, CaseType
from shanzhi.masking import mask_personal

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this API's behaviour last changed; clients compare it to notice changes.
CHANGESET = "2026-11-24T00:00:00+08:00"
SERVICE_CODE_SEPARATOR = "-"


def w3c(moment: datetime | None) -> str | None:
    """A W3C / RFC 3339 datetime in local time with its offset, to the second."""
    if moment is None:
        return None
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


def service_code(case_type: CaseType) -> str:
    return f"{case_type.street.code}{SERVICE_CODE_SEPARATOR}{case_type.code}"


def split_service_code(code: str) -> tuple[str, str] | None:
    """(street code, case-type code) of an Open311 service_code, or None if it has no such shape."""
    street_code, separator, type_code = code.strip().partition(SERVICE_CODE_SEPARATOR)
    if not separator or not street_code or not type_code:
        return None
    return street_code, type_code


def service_notice(case_type: CaseType) -> str:
    return f"“{case_type.name}”自交办起{case_type.handle_limit_label}内办结"


def service_repr(case_type: CaseType) -> dict[str, Any]:
    """A case type as an Open311 service (GET services)."""
    category = case_type.category
    group = category.parent.name if category.parent_id and category.parent else category.name
    return {
        "service_code": service_code(case_type),
        "service_name": case_type.name,
        "description": f"{category};{case_type.street.name};办理时限{case_type.handle_limit_label}",
        "metadata": bool(case_type.extra_fields),
        "type": "realtime",
        "keywords": ",".join(case_type.keywords),
        "group": group,
    }


def _attribute_repr(position: int, field: dict[str, Any]) -> dict[str, Any]:
    choices = [str(choice) for choice in field.get("choices") or []]
    attribute: dict[str, Any] = {
        "variable": True,
        "code": str(field["name"]),
        "datatype": "singlevaluelist" if choices else "string",
        "required": bool(field.get("required")),
        "datatype_description": "从所列选项中选择一项" if choices else "填写文字,不超过200字",
        "order": position,
        "description": str(field.get("label") or field["name"]),
    }
    if choices:
        attribute["values"] = [{"key": choice, "name": choice} for choice in choices]
    return attribute


def service_definition_repr(case_type: CaseType) -> dict[str, Any]:
    """A case type's extra fields as an Open311 service definition (GET services/{code})."""
    return {
        "service_code": service_code(case_type),
        "attributes": [
            _attribute_repr(position, field)
            for position, field in enumerate(case_type.extra_fields, start=1)
        ],
    }


def open311_status(state: str) -> str:
    """Open311 knows open and closed: a case is open while somebody still has to act."""
    return "open" if state in states_of("open") else "closed"


def _status_notes(case: Case) -> str:
    """What the public may read: the state in the flow's public words; once handled, the
    result (masked); the action log's notes stay internal."""
    state = case.flow_spec.state(case.state)
    if state.kind != Kind.OPEN and case.resolution:
        return mask_personal(case.resolution)
    return state.public_label


def _case_type(case: Case) -> CaseType:
    # Public requests and Open311 reports always have a type; anything else is a caller's bug.
    if case.case_type is None:
        raise ValueError(f"事件 {case.number} 尚未定类,不能作为 Open311 请求表示")
    return case.case_type


def request_repr(case: Case, *, absolute: Callable[[str], str]) -> dict[str, Any]:
    """A case as an Open311 service request, public fields only (GET requests).

    Expects the case as `selectors.requests_list` loads it: type, street, area and unit joined,
    `last_action_at` annotated and `public_photos` prefetched.
    """
    case_type = _case_type(case)
    photos = getattr(case, "public_photos", [])
    last_action_at = getattr(case, "last_action_at", None)
    return {
        "service_request_id": case.number,
        "status": open311_status(case.state),
        "status_notes": _status_notes(case),
        "service_name": case_type.name,
        "service_code": service_code(case_type),
        "description": mask_personal(case.description),
        "agency_responsible": case.unit.name if case.unit else None,
        "service_notice": service_notice(case_type),
        "requested_datetime": w3c(case.reported_at),
        "updated_datetime": w3c(last_action_at or case.reported_at),
        "expected_datetime": w3c(case.handle_due_at),
        "address": case.address or case.area.name,
        "address_id": case.area.code,
        "zipcode": None,
        "lat": float(case.latitude) if case.latitude is not None else None,
        "long": float(case.longitude) if case.longitude is not None else None,
        "media_url": absolute(reverse("open311-media", args=[case.number, photos[0].pk]))
        if photos
        else None,
    }


def receipt_repr(case: Case, *, account_id: str) -> dict[str, Any]:
    """The answer to POST requests: the case number and its tracking token.

    Beyond the spec's four fields it carries status, service_code and requested_datetime, so
    that the answer also validates as a request of the official requests.json schema.
    """
    case_type = _case_type(case)
    receipt: dict[str, Any] = {
        "service_request_id": case.number,
        "token": case.tracking_token,
        "service_notice": service_notice(case_type),
        "status": open311_status(case.state),
        "service_code": service_code(case_type),
        "requested_datetime": w3c(case.reported_at),
    }
    if account_id:
        receipt["account_id"] = account_id
    return receipt


def token_repr(case: Case) -> dict[str, Any]:
    return {"service_request_id": case.number, "token": case.tracking_token}


def discovery_repr(*, url: str, contact: str) -> dict[str, Any]:
    """The discovery document: where this endpoint is and what it speaks."""
    return {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": "接入密钥(api_key)由所在街道的系统管理员在管理后台签发;居民上报无需密钥",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
