"""Open311 GeoReport v2 endpoints: each reads its parameters, asks a selector or service, and
answers in the format its URL ends with (.json, .xml; none means JSON)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from shanzhi import clock, policy, ratelimit
from shanzhi.errors import DomainError, NotFound, PermissionDenied
from shanzhi.uploads import photo_response

from . import params, selectors
from .render import FORMATS, Document, error_document, respond
from .representations import (
    discovery_repr,
    receipt_repr,
    request_repr,
    service_definition_repr,
    service_repr,
    token_repr,
)
from .services import RateLimited, open311_request_submit, open311_sender

View = Callable[..., Document]


def _status(error: DomainError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, PermissionDenied):
        return 403
    if isinstance(error, RateLimited):
        return 429
    return 400


def endpoint(*methods: str) -> Callable[[View], Callable[..., HttpResponse]]:
    """Format negotiation, allowed methods and Open311-shaped errors for one endpoint.

    CSRF does not apply: the API never reads the session, only the api_key it is sent.
    """

    def wrap(view: View) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def run(request: HttpRequest, *args: Any, fmt: str | None = None, **kwargs: Any) -> Any:
            fmt = fmt or "json"
            if fmt not in FORMATS:
                unsupported = f"不支持的格式“{fmt}”,请用 .json 或 .xml"
                return respond(error_document(400, unsupported), "json")
            if request.method not in methods:
                response = respond(
                    error_document(405, f"该地址只接受 {'、'.join(methods)} 请求"), fmt
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                document = view(request, *args, **kwargs)
            except DomainError as exc:
                document = error_document(_status(exc), exc.message)
            return respond(document, fmt)

        return run

    return wrap


@endpoint("GET")
def discovery(request: HttpRequest) -> Document:
    url = request.build_absolute_uri(reverse("open311-root"))
    contact = str(getattr(settings, "SHANZHI_OPEN311_CONTACT", "")) or "所在街道社会治理综合中心"
    return Document(discovery_repr(url=url, contact=contact), root="discovery")


@endpoint("GET")
def services(request: HttpRequest) -> Document:
    types = selectors.services_list(jurisdiction_id=request.GET.get("jurisdiction_id", ""))
    return Document([service_repr(t) for t in types], root="services", item="service")


@endpoint("GET")
def service_definition(request: HttpRequest, service_code: str) -> Document:
    case_type = selectors.service_for(service_code)
    return Document(service_definition_repr(case_type), root="service_definition")


@endpoint("GET", "POST")
def requests(request: HttpRequest) -> Document:
    if request.method == "POST":
        token = open311_sender(
            api_key=request.POST.get("api_key") or request.GET.get("api_key", ""),
            client_address=ratelimit.client_address(request),
        )
        submission = params.submission(
            request.POST,
            request.FILES.getlist("media"),
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
        case, _ = open311_request_submit(submission=submission, token=token)
        receipt = receipt_repr(case, account_id=submission.account_id)
        return Document([receipt], root="service_requests", item="request")
    filters = params.request_filters(request.GET, now=clock.now())
    cases = selectors.requests_list(filters=filters)
    rows = [request_repr(case, absolute=request.build_absolute_uri) for case in cases]
    return Document(rows, root="service_requests", item="request")


@endpoint("GET")
def request_detail(request: HttpRequest, number: str) -> Document:
    case = selectors.request_for(number)
    row = request_repr(case, absolute=request.build_absolute_uri)
    return Document([row], root="service_requests", item="request")


@endpoint("GET")
def token(request: HttpRequest, token: str) -> Document:
    case = policy.case_for_tracking(token)
    return Document([token_repr(case)], root="service_requests", item="request")


@require_GET
def media(request: HttpRequest, number: str, pk: str) -> HttpResponseBase:
    """A request's photo (its media_url), served only while the request and photo are public."""
    try:
        photo = policy.public_photo_for(number, int(pk))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return photo_response(photo.file, photo.content_type)
