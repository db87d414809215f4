from typing import Any

from django.http import HttpRequest

from shanzhi import policy


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the top bar offers the signed-in user."""
    return {"can_use_admin": policy.can_use_admin(request.user)}
