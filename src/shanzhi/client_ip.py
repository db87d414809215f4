"""The address a request comes from, for the security log and the per-address sign-in lock."""

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The peer's address as the server saw it (REMOTE_ADDR); empty when there is none."""
    return str(request.META.get("REMOTE_ADDR") or "")[:45]
