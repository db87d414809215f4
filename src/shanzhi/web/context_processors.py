from typing import Any

from django.http import HttpRequest

from shanzhi import policy
from shanzhi.jobs.selectors import demo_building_flag, demo_job_unfinished


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


def demo_progress(request: HttpRequest) -> dict[str, Any]:
    """The demo year's job while a background process builds it (a file says so: no query
    otherwise); its banner polls on by itself."""
    if not demo_building_flag().exists():
        return {}
    job = demo_job_unfinished()
    return {"demo_building": job is not None, "demo_job": job}
