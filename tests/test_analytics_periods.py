"""Periods: the text forms, their labels, 环比 and 同比 periods, and the default "as of"."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from shanzhi.analytics.periods import Period, PeriodError, period_parse

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2025", date(2025, 1, 1), date(2026, 1, 1), "2025年"),
        ("2025H1", date(2025, 1, 1), date(2025, 7, 1), "2025年上半年"),
        ("2025h2", date(2025, 7, 1), date(2026, 1, 1), "2025年下半年"),
        ("2025Q3", date(2025, 7, 1), date(2025, 10, 1), "2025年第三季度"),
        ("2025Q4", date(2025, 10, 1), date(2026, 1, 1), "2025年第四季度"),
        ("2025-03", date(2025, 3, 1), date(2025, 4, 1), "2025年3月"),
        ("2025-12", date(2025, 12, 1), date(2026, 1, 1), "2025年12月"),
        ("2025-W10", date(2025, 3, 3), date(2025, 3, 10), "2025年第10周"),
        ("2025-03-05", date(2025, 3, 5), date(2025, 3, 6), "2025年3月5日"),
        (
            "2025-01-01..2025-02-15",
            date(2025, 1, 1),
            date(2025, 2, 16),
            "2025-01-01至2025-02-15",
        ),
    ],
)
def test_each_form_parses_to_its_days_label_and_back(text, start, end, label):
    period = period_parse(text)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert period_parse(period.code) == period


@pytest.mark.parametrize(
    "text", ["", "25", "2025Q5", "2025H3", "2025-13", "2025-W60", "2025-02-30", "去年", "2025/03"]
)
def test_anything_else_is_refused_in_chinese(text):
    with pytest.raises(PeriodError) as caught:
        period_parse(text)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)


def test_a_range_ending_before_it_starts_is_refused():
    with pytest.raises(PeriodError, match="结束日期不能早于开始日期"):
        period_parse("2025-03-01..2025-02-01")


@pytest.mark.parametrize(
    ("text", "previous", "year_ago"),
    [
        ("2025", "2024", "2024"),
        ("2025H1", "2024H2", "2024H1"),
        ("2025H2", "2025H1", "2024H2"),
        ("2025Q1", "2024Q4", "2024Q1"),
        ("2025Q3", "2025Q2", "2024Q3"),
        ("2025-01", "2024-12", "2024-01"),
        ("2025-03", "2025-02", "2024-03"),
        ("2025-W01", "2024-W52", "2024-W01"),
        ("2025-W10", "2025-W09", "2024-W10"),
        ("2025-03-01", "2025-02-28", "2024-03-01"),
        ("2024-02-29", "2024-02-28", "2023-02-28"),
        ("2025-01-01..2025-02-15", "2024-11-16..2024-12-31", "2024-01-01..2024-02-15"),
    ],
)
def test_previous_and_year_ago_for_each_kind(text, previous, year_ago):
    period = period_parse(text)
    assert period.previous() == period_parse(previous)
    assert period.year_ago() == period_parse(year_ago)


def test_a_53rd_week_compares_with_the_last_week_of_a_52_week_year():
    assert period_parse("2026-W53").year_ago() == period_parse("2025-W52")


def test_boundaries_are_local_midnights_in_shanghai():
    period = period_parse("2025-03")
    assert period.start_at == datetime(2025, 3, 1, tzinfo=SHANGHAI)
    assert period.end_at == datetime(2025, 4, 1, tzinfo=SHANGHAI)
    assert period.contains(datetime(2025, 3, 31, 23, 59, tzinfo=SHANGHAI))
    assert not period.contains(datetime(2025, 4, 1, tzinfo=SHANGHAI))


def test_as_of_is_now_while_running_and_the_end_once_over():
    period = period_parse("2025")
    running = datetime(2025, 6, 1, 10, 0, tzinfo=SHANGHAI)
    later = datetime(2026, 2, 1, tzinfo=SHANGHAI)
    assert period.as_of(running) == running
    assert period.as_of(later) == period.end_at
    assert period.as_of(datetime(2024, 5, 1, tzinfo=SHANGHAI)) == period.start_at


def test_a_running_period_compares_with_the_same_stretch_of_the_earlier_one():
    november = Period.month(2025, 11)
    moment = datetime(2025, 11, 24, 15, 0, tzinfo=SHANGHAI)
    assert november.matching_moment(november.previous(), moment) == datetime(
        2025, 10, 24, 15, 0, tzinfo=SHANGHAI
    )
    # At its end a short month compares with the whole of a longer one.
    february = Period.month(2025, 2)
    assert february.matching_moment(february.previous(), february.end_at) == datetime(
        2025, 2, 1, tzinfo=SHANGHAI
    )
