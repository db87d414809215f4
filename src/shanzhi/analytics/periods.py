"""Periods a figure is counted over: year, half-year, quarter, month, ISO week, day or any range.

A period is a run of whole local days, `start` inclusive and `end` exclusive, in the project's
time zone (Asia/Shanghai). Its text form is what the report command and the pages accept.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from shanzhi.errors import DomainError


class PeriodError(DomainError):
    code = "invalid_period"


YEAR, HALF, QUARTER, MONTH, WEEK, DAY, RANGE = (
    "year",
    "half",
    "quarter",
    "month",
    "week",
    "day",
    "range",
)
QUARTER_NAMES = ("一", "二", "三", "四")
# The years a figure can be counted over: comparisons reach a year back, links a period ahead,
# and no date arithmetic near year 1 or 9999 may fail.
FIRST_YEAR, LAST_YEAR = 2000, 2100

_FORMS = (
    (re.compile(r"^(\d{4})$"), YEAR),
    (re.compile(r"^(\d{4})H([12])$", re.IGNORECASE), HALF),
    (re.compile(r"^(\d{4})Q([1-4])$", re.IGNORECASE), QUARTER),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), MONTH),
    (re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE), WEEK),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), DAY),
    (re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\.\.(\d{4}-\d{1,2}-\d{1,2})$"), RANGE),
)
HELP = (
    "期间写法:2025(年)、2025H1(半年)、2025Q3(季度)、2025-03(月)、2025-W10(周)、"
    "2025-03-05(日)、2025-01-01..2025-02-15(起止日期,含两端)"
)


def _month_start(year: int, month: int) -> date:
    """The first day of `month` of `year`, months past 12 or below 1 rolling the year."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, 1)


def _shift_year(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without it
        return day.replace(year=day.year + years, day=28)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.get_default_timezone())


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive
    kind: str

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise PeriodError("期间的结束日期须晚于开始日期")

    # Construction ------------------------------------------------------------------------

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(date(year, 1, 1), date(year + 1, 1, 1), YEAR)

    @classmethod
    def half(cls, year: int, half: int) -> "Period":
        first = _month_start(year, 6 * (half - 1) + 1)
        return cls(first, _month_start(year, 6 * half + 1), HALF)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> "Period":
        first = _month_start(year, 3 * (quarter - 1) + 1)
        return cls(first, _month_start(year, 3 * quarter + 1), QUARTER)

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        return cls(_month_start(year, month), _month_start(year, month + 1), MONTH)

    @classmethod
    def week(cls, year: int, week: int) -> "Period":
        first = date.fromisocalendar(year, week, 1)
        return cls(first, first + timedelta(days=7), WEEK)

    @classmethod
    def day(cls, day: date) -> "Period":
        return cls(day, day + timedelta(days=1), DAY)

    @classmethod
    def between(cls, first: date, last: date) -> "Period":
        """The days from `first` to `last`, both included."""
        return cls(first, last + timedelta(days=1), RANGE)

    # Reading -----------------------------------------------------------------------------

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def start_at(self) -> datetime:
        return local_midnight(self.start)

    @property
    def end_at(self) -> datetime:
        return local_midnight(self.end)

    @property
    def label(self) -> str:
        s = self.start
        if self.kind == YEAR:
            return f"{s.year}年"
        if self.kind == HALF:
            return f"{s.year}年{'上' if s.month == 1 else '下'}半年"
        if self.kind == QUARTER:
            return f"{s.year}年第{QUARTER_NAMES[(s.month - 1) // 3]}季度"
        if self.kind == MONTH:
            return f"{s.year}年{s.month}月"
        if self.kind == WEEK:
            iso = s.isocalendar()
            return f"{iso.year}年第{iso.week}周"
        if self.kind == DAY:
            return f"{s.year}年{s.month}月{s.day}日"
        return f"{s.isoformat()}至{self.last.isoformat()}"

    @property
    def code(self) -> str:
        """The text form `period_parse` reads back."""
        s = self.start
        if self.kind == YEAR:
            return f"{s.year}"
        if self.kind == HALF:
            return f"{s.year}H{1 if s.month == 1 else 2}"
        if self.kind == QUARTER:
            return f"{s.year}Q{(s.month - 1) // 3 + 1}"
        if self.kind == MONTH:
            return f"{s.year}-{s.month:02d}"
        if self.kind == WEEK:
            iso = s.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        if self.kind == DAY:
            return s.isoformat()
        return f"{s.isoformat()}..{self.last.isoformat()}"

    def __str__(self) -> str:
        return self.label

    def contains(self, moment: datetime) -> bool:
        return self.start_at <= moment < self.end_at

    def as_of(self, now: datetime) -> datetime:
        """The moment figures are counted at by default: `now` while the period runs, its end
        once it is over (and its start while it has not begun, which counts nothing)."""
        return min(max(now, self.start_at), self.end_at)

    # Comparison periods ------------------------------------------------------------------

    def previous(self) -> "Period":
        """环比: the period of the same kind and length just before this one."""
        s = self.start
        if self.kind == YEAR:
            return Period.year(s.year - 1)
        if self.kind in (HALF, QUARTER, MONTH):
            months = {HALF: 6, QUARTER: 3, MONTH: 1}[self.kind]
            return Period(_month_start(s.year, s.month - months), s, self.kind)
        return Period(s - timedelta(days=self.days), s, self.kind)

    def year_ago(self) -> "Period":
        """同比: the same period one year earlier."""
        s = self.start
        if self.kind == YEAR:
            return Period.year(s.year - 1)
        if self.kind in (HALF, QUARTER, MONTH):
            return Period(_shift_year(s, -1), _shift_year(self.end, -1), self.kind)
        if self.kind == WEEK:
            iso = s.isocalendar()
            # A 53rd week has no twin in a 52-week year; its last week stands in.
            weeks = date(iso.year - 1, 12, 28).isocalendar().week
            return Period.week(iso.year - 1, min(iso.week, weeks))
        if self.kind == DAY:
            return Period.day(_shift_year(s, -1))
        first = _shift_year(s, -1)
        return Period(first, first + timedelta(days=self.days), RANGE)

    def matching_moment(self, other: "Period", moment: datetime) -> datetime:
        """The moment in `other` as far into it as `moment` is into this period, so a running
        period is compared with the same stretch of the earlier one (1–24 Nov with 1–24 Oct);
        at this period's end, the end of the other, whatever their lengths."""
        if moment >= self.end_at:
            return other.end_at
        return min(other.start_at + (moment - self.start_at), other.end_at)


def _date(text: str) -> date:
    try:
        year, month, day = (int(part) for part in text.split("-"))
        return date(year, month, day)
    except ValueError:
        raise PeriodError(f"日期“{text}”不存在") from None


def period_parse(text: str) -> Period:
    """Read a period written as in `HELP`, within FIRST_YEAR to LAST_YEAR; anything else is
    refused in Chinese (PeriodError), never with another exception."""
    text = (text or "").strip()
    try:
        period = _parsed(text)
    except (OverflowError, ValueError):
        raise PeriodError(f"无法识别期间“{text}”。{HELP}") from None
    if not (period.start.year >= FIRST_YEAR and period.last.year <= LAST_YEAR):
        raise PeriodError(f"期间须在{FIRST_YEAR}年至{LAST_YEAR}年之间")
    return period


def _parsed(text: str) -> Period:
    for pattern, kind in _FORMS:
        match = pattern.match(text)
        if match is None:
            continue
        parts = match.groups()
        try:
            if kind == YEAR:
                return Period.year(int(parts[0]))
            if kind == HALF:
                return Period.half(int(parts[0]), int(parts[1]))
            if kind == QUARTER:
                return Period.quarter(int(parts[0]), int(parts[1]))
            if kind == MONTH:
                if not 1 <= int(parts[1]) <= 12:
                    raise PeriodError(f"月份“{parts[1]}”无效")
                return Period.month(int(parts[0]), int(parts[1]))
            if kind == WEEK:
                return Period.week(int(parts[0]), int(parts[1]))
        except ValueError:
            raise PeriodError(f"“{text}”不是有效的期间。{HELP}") from None
        if kind == DAY:
            return Period.day(_date(text))
        first, last = _date(parts[0]), _date(parts[1])
        if last < first:
            raise PeriodError("结束日期不能早于开始日期")
        return Period.between(first, last)
    raise PeriodError(f"无法识别期间“{text}”。{HELP}")
