"""Taking in an Open311 report: who sends it, where it happened, and then the ordinary intake."""

import hashlib

from django.conf import settings

from shanzhi import policy, ratelimit
from shanzhi.api.models import ApiToken
from shanzhi.api.scopes import Scope
from shanzhi.api.tokens import api_token_authenticate
from shanzhi.areas.models import Area
from shanzhi.cases.models import Case, CaseType, Source
from shanzhi.cases.services import IntakeError, case_report
from shanzhi.errors import DomainError, NotFound, PermissionDenied

from . import selectors
from .params import Submission


class RateLimited(DomainError):
    code = "rate_limited"


def _rate_limit() -> tuple[int, int]:
    """(reports, seconds) an anonymous client address may send; 10 per 10 minutes by default."""
    return (
        int(getattr(settings, "SHANZHI_OPEN311_RATE_LIMIT", 10)),
        int(getattr(settings, "SHANZHI_OPEN311_RATE_WINDOW", 600)),
    )


def open311_sender(*, api_key: str, client_address: str) -> ApiToken | None:
    """Who sends a report: a channel's token, or None for a resident.

    Checked before the form is read, so that an address sending malformed reports is limited too.
    """
    if api_key:
        token = api_token_authenticate(api_key, scope=Scope.REPORT)
        if token is None:
            raise PermissionDenied("api_key 无效或已吊销")
        return token
    limit, window = _rate_limit()
    if not ratelimit.hit(
        scope="open311_report", key=client_address, limit=limit, window_seconds=window
    ):
        raise RateLimited(f"上报过于频繁:每{window // 60}分钟最多{limit}件,请稍后再试")
    return None


def _service(submission: Submission) -> CaseType:
    try:
        case_type = selectors.service_for(submission.service_code)
    except NotFound as exc:
        raise IntakeError(exc.message) from exc
    if submission.jurisdiction_id and submission.jurisdiction_id != case_type.street.code:
        raise IntakeError("jurisdiction_id 与 service_code 所属街道不一致")
    return case_type


def _place(submission: Submission, case_type: CaseType) -> Area:
    """The area named by address_id; without one, the street of the service itself."""
    if not submission.address_id:
        return case_type.street
    try:
        area = policy.area_for_public_report(submission.address_id)
    except NotFound as exc:
        raise IntakeError(f"没有找到编码为“{submission.address_id}”的辖区(address_id)") from exc
    if area.street_id != case_type.street_id:
        raise IntakeError("address_id 所指辖区不在该事项所属街道内")
    return area


def _client_key(submission: Submission, token: ApiToken | None) -> str:
    """The Idempotency-Key, kept apart per channel so two clients' keys never meet."""
    if not submission.idempotency_key:
        return ""
    channel = f"token{token.pk}" if token is not None else "resident"
    digest = hashlib.sha256(f"{channel}:{submission.idempotency_key}".encode()).hexdigest()
    return f"open311:{digest[:48]}"


def open311_request_submit(*, submission: Submission, token: ApiToken | None) -> tuple[Case, bool]:
    """Report a case through Open311. Without a token it is a resident's report; with one, the
    token's channel is the source and its user (if any) the reporter.
    The same Idempotency-Key again returns the first case, created False."""
    case_type = _service(submission)
    area = _place(submission, case_type)
    return case_report(
        area=area,
        source=token.source if token is not None else Source.RESIDENT,
        description=submission.description,
        actor=token.user if token is not None else None,
        reporter_name=submission.reporter_name,
        reporter_phone=submission.phone,
        address=submission.address_string,
        latitude=submission.latitude,
        longitude=submission.longitude,
        case_type=case_type,
        client_key=_client_key(submission, token),
        photos=submission.photos,
        extra=submission.attributes,
        media_url=submission.media_url,
        channel=token,
    )
