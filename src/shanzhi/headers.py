"""The Content-Security-Policy of every response.

One fixed policy needs no per-request work and no nonces, so it is a small middleware here
rather than a dependency: every script and style is a file the application serves itself (htmx,
ECharts and the admin's own included), and no page carries an inline script, event handler,
style element or style attribute.

One page is allowed style attributes: the dashboard, whose ECharts charts set them on the
elements they draw (tests/test_browser_csp.py sees the violations without it). Style
attributes cannot run script; style elements and style sheets from elsewhere stay refused
there too. A view opts in with `allow_style_attributes`.

- `img-src data: blob:`: the admin's and the charts' small icons are data: URLs.
- `frame-ancestors 'none'` says in CSP what X-Frame-Options: DENY says to older browsers.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

_DIRECTIVES = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]
POLICY = "; ".join(_DIRECTIVES)
POLICY_WITH_STYLE_ATTRIBUTES = "; ".join(
    [*_DIRECTIVES, "style-src-elem 'self'", "style-src-attr 'unsafe-inline'"]
)

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])


def _header_name() -> str:
    if settings.SHANZHI_CSP_REPORT_ONLY:
        return "Content-Security-Policy-Report-Only"
    return "Content-Security-Policy"


def allow_style_attributes(view: ViewFunc) -> ViewFunc:
    """Serve this view's pages with style attributes allowed (and nothing else relaxed)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = view(request, *args, **kwargs)
        response.headers[_header_name()] = POLICY_WITH_STYLE_ATTRIBUTES
        return response

    return wrapped  # type: ignore[return-value]


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(_header_name(), POLICY)
        return response
