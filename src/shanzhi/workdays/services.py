"""Writes to the working-day calendar: administrators override the statutory calendar by date."""

from datetime import date

from django.db import transaction

from shanzhi import policy
from shanzhi.accounts.models import User
from shanzhi.errors import DomainError, NotFound, PermissionDenied

from .models import NOTE_MAX_LENGTH, CalendarDay


class CalendarRuleError(DomainError):
    code = "calendar_rule"


def _check_actor(actor: User | None) -> None:
    # None is the system itself (set-up commands).
    if actor is not None and not policy.can_edit_calendar(actor):
        raise PermissionDenied("只有平台管理员可以调整工作日历:它对所有街道生效")


@transaction.atomic
def calendar_day_set(*, actor: User | None, day: date, is_workday: bool, note: str) -> CalendarDay:
    """Make `day` a working day or a day off, replacing any earlier override of it."""
    _check_actor(actor)
    note = note.strip()
    if not note:
        raise CalendarRuleError("请填写调整说明,例如“2027年国庆节”")
    if len(note) > NOTE_MAX_LENGTH:
        raise CalendarRuleError(f"调整说明不能超过{NOTE_MAX_LENGTH}个字")
    row, _ = CalendarDay.objects.update_or_create(
        date=day,
        defaults={"is_workday": is_workday, "note": note},
        create_defaults={"is_workday": is_workday, "note": note, "created_by": actor},
    )
    return row


@transaction.atomic
def calendar_day_clear(*, actor: User | None, day: date) -> None:
    """Remove the override of `day`, so the statutory calendar decides it again."""
    _check_actor(actor)
    deleted, _ = CalendarDay.objects.filter(date=day).delete()
    if not deleted:
        raise NotFound(f"{day.isoformat()} 没有人工调整,无需清除")
