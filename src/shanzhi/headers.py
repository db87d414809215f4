"""The Content-Security-Policy of every response.

One fixed policy needs no per-request work, no nonces and no per-view exceptions, so it is a
small middleware here rather than a dependency: every script and style is a file the
application serves itself (htmx, ECharts and the admin's included), and pages carry no inline
script, event handler or style element.

- `style-src-attr 'unsafe-inline'`: ECharts writes its tooltips as HTML with style attributes,
  and django's admin sets a few too. Style attributes cannot run script; `<style>` elements and
  style sheets from elsewhere stay refused (`style-src-elem 'self'`).
- `img-src data:`: the admin's and ECharts' small icons are data: URLs.
- `frame-ancestors 'none'` says in CSP what X-Frame-Options: DENY says to older browsers.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-elem 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = (
            "Content-Security-Policy-Report-Only"
            if settings.SHANZHI_CSP_REPORT_ONLY
            else "Content-Security-Policy"
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(self.header, POLICY)
        return response
