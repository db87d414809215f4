"""Reads behind the Open311 endpoints: the public catalogue and the public list of requests."""

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from shanzhi import policy
from shanzhi.areas.models import Area, Level
from shanzhi.cases.flows import states_of
from shanzhi.cases.models import Attachment, Case, CaseAction, CaseType
from shanzhi.errors import NotFound

from .params import RequestFilters
from .representations import split_service_code


def jurisdiction_for(code: str) -> Area:
    """The street whose area code is `code` (Open311's jurisdiction_id)."""
    street = Area.objects.filter(code=code, level=Level.STREET).first()
    if street is None:
        raise NotFound(f"没有找到编码为“{code}”的街道(jurisdiction_id)")
    return street


def services_list(*, jurisdiction_id: str = "") -> QuerySet[CaseType]:
    """Active case types of every street, or of the one jurisdiction_id names, in a stable order."""
    types = CaseType.objects.filter(is_active=True)
    if jurisdiction_id.strip():
        types = types.filter(street=jurisdiction_for(jurisdiction_id.strip()))
    return types.select_related("street", "category__parent").order_by("street__code", "code")


def service_for(code: str) -> CaseType:
    """The active case type an Open311 service_code names."""
    parts = split_service_code(code)
    case_type = None
    if parts is not None:
        case_type = services_list().filter(street__code=parts[0], code=parts[1]).first()
    if case_type is None:
        raise NotFound(f"没有找到事项编码“{code}”,可先查询 services.json")
    return case_type


def _public_cases() -> QuerySet[Case]:
    # The same photos a tracking link shows: the report's own and the evidence of the result.
    photos = Attachment.objects.filter(
        policy.public_photos_q(), content_type__startswith="image/"
    ).order_by("created_at", "id")
    last_action = (
        CaseAction.objects.filter(case=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    return (
        policy.cases_public()
        .select_related("case_type__street", "area", "unit")
        .prefetch_related(Prefetch("attachments", queryset=photos, to_attr="public_photos"))
        .annotate(last_action_at=Subquery(last_action))
    )


def requests_list(*, filters: RequestFilters) -> list[Case]:
    """One page of the public requests, newest first.

    Named case numbers override every other filter, as the spec says.
    """
    cases = _public_cases()
    if filters.numbers:
        cases = cases.filter(number__in=filters.numbers)
    else:
        if filters.jurisdiction_id:
            cases = cases.filter(street=jurisdiction_for(filters.jurisdiction_id))
        if filters.service_codes:
            wanted = Q(pk__in=[])
            for street_code, type_code in filters.service_codes:
                wanted |= Q(case_type__street__code=street_code, case_type__code=type_code)
            cases = cases.filter(wanted)
        if set(filters.states) == {"open"}:
            cases = cases.filter(state__in=states_of("open"))
        elif set(filters.states) == {"closed"}:
            cases = cases.exclude(state__in=states_of("open"))
        if filters.start is not None:
            cases = cases.filter(reported_at__gte=filters.start)
        if filters.end is not None:
            cases = cases.filter(reported_at__lte=filters.end)
    offset = (filters.page - 1) * filters.page_size
    return list(cases.order_by("-reported_at", "-id")[offset : offset + filters.page_size])


def request_for(number: str) -> Case:
    """One public request by case number."""
    case = _public_cases().filter(number=number).first()
    if case is None:
        raise NotFound(f"没有找到编号为“{number}”的公开事件")
    return case
