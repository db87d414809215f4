"""Template filters for moments: `{{ case.handle_due_at|moment }}` (shanzhi.clock.moment_label)."""

from datetime import datetime

from django import template

from shanzhi.clock import moment_label

register = template.Library()


@register.filter
def moment(value: datetime | None) -> str:
    """The moment without its year when it is this year's; "" for none."""
    return moment_label(value) if value else ""
