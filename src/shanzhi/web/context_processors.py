from typing import Any

from django.http import HttpRequest

from shanzhi import policy


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the top bar offers the signed-in user."""
    user = request.user
    return {
        "can_use_admin": policy.can_use_admin(user),
        "can_use_case_pages": policy.can_use_case_pages(user),
        "can_use_desk": policy.can_use_desk(user),
        "can_use_oversight": policy.can_use_oversight(user),
        "can_use_registry": policy.can_use_registry(user),
        "can_use_field_pages": policy.can_use_field_pages(user),
        "can_view_figures": policy.can_view_figures(user),
        "can_read_security_log": policy.can_read_security_log(user),
        "can_use_participation": policy.can_use_participation(user),
    }
