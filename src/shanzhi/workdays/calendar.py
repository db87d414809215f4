"""Working days and working hours: statutory holidays, 调休 days and administrators' overrides.

Each function reads the overrides of the years it touches in one query. A caller that computes
many deadlines at once (a report over many cases) makes one `WorkCalendar` and asks it repeatedly,
so the overrides are read once for the whole computation.
"""

import math
from datetime import date, datetime, time, timedelta

import chinese_calendar
from django.utils import timezone

from .models import CalendarDay

WORK_PERIODS: tuple[tuple[time, time], ...] = (
    (time(9, 0), time(12, 0)),
    (time(13, 30), time(17, 30)),
)
WORK_HOURS_PER_DAY = 7

WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

# The package raises NotImplementedError outside the years it has data for; asking the range
# up front keeps a long loop over such a year free of exceptions.
_PACKAGE_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


def _reach(workdays: float) -> timedelta:
    """How far ahead `workdays` working days may lie: twice as many calendar days, plus the
    longest holiday, so the overrides are usually read in one query."""
    return timedelta(days=2 * math.ceil(workdays) + 14)


def _periods(day: date) -> list[tuple[datetime, datetime]]:
    tz = timezone.get_default_timezone()
    return [
        (datetime.combine(day, opens, tzinfo=tz), datetime.combine(day, closes, tzinfo=tz))
        for opens, closes in WORK_PERIODS
    ]


class WorkCalendar:
    """The calendar as one computation sees it: the overrides of each year are read once."""

    def __init__(self) -> None:
        self._overrides: dict[date, tuple[bool, str]] = {}
        self._loaded_years: set[int] = set()

    def _load(self, first: date, last: date) -> None:
        missing = [y for y in range(first.year, last.year + 1) if y not in self._loaded_years]
        if not missing:
            return
        rows = CalendarDay.objects.filter(
            date__gte=date(missing[0], 1, 1), date__lte=date(missing[-1], 12, 31)
        ).values_list("date", "is_workday", "note")
        for day, workday, note in rows:
            self._overrides[day] = (workday, note)
        self._loaded_years.update(range(missing[0], missing[-1] + 1))

    def is_workday(self, day: date) -> bool:
        self._load(day, day)
        override = self._overrides.get(day)
        if override is not None:
            return override[0]
        if day.year in _PACKAGE_YEARS:
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def describe(self, day: date) -> str:
        """Whether `day` is worked and why, in Chinese: "工作日(调休)", "休息日(国庆节)"."""
        workday = self.is_workday(day)
        label = "工作日" if workday else "休息日"
        override = self._overrides.get(day)
        if override is not None:
            return f"{label}(人工调整:{override[1]})"
        if day.year not in _PACKAGE_YEARS:
            return f"{label}(暂无{day.year}年法定节假日数据,按周一至周五推定)"
        if workday and day.weekday() >= 5:
            return f"{label}(调休)"
        _, holiday = chinese_calendar.get_holiday_detail(day)
        if not workday and holiday:
            return f"{label}({chinese_calendar.Holiday(holiday).chinese})"
        return label

    def add_workdays(self, start: date, days: int) -> date:
        if days < 0:
            raise ValueError("工作日数不能为负数")
        self._load(start, start + _reach(days))
        day = start
        while days:
            day += timedelta(days=1)
            if self.is_workday(day):
                days -= 1
        return day

    def add_work_hours(self, start: datetime, hours: float) -> datetime:
        if hours < 0:
            raise ValueError("工作时长不能为负数")
        start = timezone.localtime(start, timezone.get_default_timezone())
        remaining = timedelta(hours=hours)
        day = start.date()
        self._load(day, day + _reach(hours / WORK_HOURS_PER_DAY))
        while True:
            if self.is_workday(day):
                for opens, closes in _periods(day):
                    begin = max(opens, start)
                    if begin >= closes:
                        continue
                    if remaining <= closes - begin:
                        return begin + remaining
                    remaining -= closes - begin
            day += timedelta(days=1)

    def work_hours_between(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        tz = timezone.get_default_timezone()
        start, end = timezone.localtime(start, tz), timezone.localtime(end, tz)
        self._load(start.date(), end.date())
        worked = timedelta()
        day = start.date()
        while day <= end.date():
            if self.is_workday(day):
                for opens, closes in _periods(day):
                    begin, finish = max(opens, start), min(closes, end)
                    if begin < finish:
                        worked += finish - begin
            day += timedelta(days=1)
        return worked / timedelta(hours=1)


def is_workday(day: date) -> bool:
    """An override wins; else the statutory calendar; for years without data, Monday to Friday."""
    return WorkCalendar().is_workday(day)


def add_workdays(start: date, days: int) -> date:
    """The `days`-th working day after `start`, which itself is not counted."""
    return WorkCalendar().add_workdays(start, days)


def workday_end(day: date) -> datetime:
    """The last second of `day` in local time, when a deadline falling on it runs out."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=timezone.get_default_timezone())


def add_work_hours(start: datetime, hours: float) -> datetime:
    """The moment `hours` working hours have passed; time outside the work periods does not count,
    so a start outside them counts from the next period's beginning."""
    return WorkCalendar().add_work_hours(start, hours)


def work_hours_between(start: datetime, end: datetime) -> float:
    """The working hours between two aware datetimes; 0 when `end` is not after `start`."""
    return WorkCalendar().work_hours_between(start, end)
