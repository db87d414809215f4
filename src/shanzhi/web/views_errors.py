"""The refusal Django answers itself, in Chinese: a form whose CSRF check failed.

The 400/403/404/500 pages are the templates of the same names; this one needs a view, because
Django's own CSRF page is in English.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted from an expired page or from elsewhere: nothing was done."""
    return render(request, "web/errors/csrf.html", status=403)
