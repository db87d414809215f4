"""URLs of the REST API: ninja's operations, and JSON errors for whatever falls outside them."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path, re_path

from .api import api
from .errors import http_error_response


def _json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """ninja answers a wrong method and its own root with plain text or HTML; answer in JSON."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return http_error_response(404)
        if response.status_code == 405:
            answer = http_error_response(405)
            answer["Allow"] = response.get("Allow", "")
            return answer
        return response

    return wrapped


def _not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return http_error_response(404)


_patterns, _app, _namespace = api.urls
_wrapped = [
    URLPattern(p.pattern, _json_errors(p.callback), p.default_args, p.name)
    if isinstance(p, URLPattern)
    else p
    for p in _patterns
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include((_wrapped, _app), namespace=_namespace)),
    re_path(r"^(?P<rest>.*)$", _not_found),
]
