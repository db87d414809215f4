from functools import cache
from typing import Any, cast

from django.http import HttpRequest

from shanzhi import policy
from shanzhi.accounts.models import User
from shanzhi.cases.selectors import notifications_for
from shanzhi.jobs.selectors import demo_building_flag, demo_job_unfinished


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the top bar offers the signed-in user, with their unread notifications."""
    user = request.user
    can_use_case_pages = policy.can_use_case_pages(user)

    # Called by the template only where the top bar shows (not in htmx fragments), and once.
    @cache
    def unread_count() -> int:
        if not can_use_case_pages:
            return 0
        return notifications_for(user=cast(User, user), unread_only=True).count()

    return {
        "can_use_admin": policy.can_use_admin(user),
        "can_use_case_pages": can_use_case_pages,
        "can_use_desk": policy.can_use_desk(user),
        "can_use_oversight": policy.can_use_oversight(user),
        "can_use_registry": policy.can_use_registry(user),
        "can_use_field_pages": policy.can_use_field_pages(user),
        "can_view_figures": policy.can_view_figures(user),
        "can_read_security_log": policy.can_read_security_log(user),
        "can_use_participation": policy.can_use_participation(user),
        "can_set_up_streets": policy.can_set_up_streets(user),
        "keeps_street_setup": policy.has_role(user, "administrator"),
        "reports_as_resident": policy.has_role(user, "resident"),
        "unread_count": unread_count,
    }


def demo_progress(request: HttpRequest) -> dict[str, Any]:
    """The demo year's job while a background process builds it (a file says so: no query
    otherwise); its banner polls on by itself."""
    if not demo_building_flag().exists():
        return {}
    job = demo_job_unfinished()
    return {"demo_building": job is not None, "demo_job": job}
