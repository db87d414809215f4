"""The time services act at: now, unless a generator replays the past through the same services.

The demo creates a year of cases by calling the real services at the moments they happened, so
every action-log row carries a true time. Nothing else sets the clock.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.utils import timezone

_local = threading.local()


def now() -> datetime:
    """The acting moment: the replayed one inside `acting_at`, the real one otherwise."""
    return getattr(_local, "moment", None) or timezone.now()


def is_replaying() -> bool:
    """Whether services run inside `acting_at`, replaying moments that have passed."""
    return getattr(_local, "moment", None) is not None


@contextmanager
def acting_at(moment: datetime) -> Iterator[None]:
    """Run the enclosed service calls as if at `moment` (an aware datetime)."""
    if timezone.is_naive(moment):
        raise ValueError("acting_at needs an aware datetime")
    previous = getattr(_local, "moment", None)
    _local.moment = moment
    try:
        yield
    finally:
        _local.moment = previous


def moment_label(moment: datetime) -> str:
    """A moment as staff and residents read it, in local time: "12-02 09:30" this year,
    "2025-12-02 09:30" any other (a date without its year would pass for this year's)."""
    local = timezone.localtime(moment)
    if local.year == timezone.localtime(now()).year:
        return f"{local:%m-%d %H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"
