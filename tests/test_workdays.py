"""The working-day calendar: deadlines across real holidays, overrides, work hours and the command.

Every holiday and 调休 date below was checked against the chinesecalendar package's own data.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from shanzhi.errors import NotFound, PermissionDenied
from shanzhi.workdays import services
from shanzhi.workdays.calendar import (
    WORK_HOURS_PER_DAY,
    WORK_PERIODS,
    WorkCalendar,
    add_work_hours,
    add_workdays,
    is_workday,
    work_hours_between,
    workday_end,
)
from shanzhi.workdays.models import CalendarDay

from .factories import make_superuser

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def run(*args: str) -> str:
    out = StringIO()
    call_command("workdays", *args, stdout=out)
    return out.getvalue()


# Working days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 2, 4),  # Sun, 2024 春节
        date(2024, 2, 18),  # Sun, 2024 春节
        date(2024, 9, 29),  # Sun, 2024 国庆
        date(2024, 10, 12),  # Sat, 2024 国庆
        date(2025, 1, 26),  # Sun, 2025 春节
        date(2025, 2, 8),  # Sat, 2025 春节
        date(2025, 9, 28),  # Sun, 2025 国庆
        date(2025, 10, 11),  # Sat, 2025 国庆
        date(2026, 2, 14),  # Sat, 2026 春节
        date(2026, 2, 28),  # Sat, 2026 春节
        date(2026, 9, 20),  # Sun, 2026 国庆
        date(2026, 10, 10),  # Sat, 2026 国庆
    ],
)
def test_adjusted_weekend_days_are_worked(day):
    assert day.weekday() >= 5
    assert is_workday(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 2, 12),
        date(2024, 10, 7),
        date(2025, 2, 4),
        date(2025, 10, 8),
        date(2026, 2, 23),
        date(2026, 10, 7),
    ],
)
def test_holiday_weekdays_are_off(day):
    assert day.weekday() < 5
    assert not is_workday(day)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2024, 4, 30), 3, date(2024, 5, 8)),  # 劳动节
        (date(2024, 2, 2), 1, date(2024, 2, 4)),  # 春节前的调休周日
        (date(2024, 2, 8), 1, date(2024, 2, 9)),  # 2024 年除夕仍上班
        (date(2024, 2, 9), 1, date(2024, 2, 18)),  # 节后的调休周日
        (date(2024, 9, 27), 1, date(2024, 9, 29)),
        (date(2024, 9, 30), 1, date(2024, 10, 8)),
        (date(2024, 9, 30), 5, date(2024, 10, 12)),
        (date(2025, 1, 24), 1, date(2025, 1, 26)),
        (date(2025, 1, 27), 1, date(2025, 2, 5)),
        (date(2025, 2, 5), 3, date(2025, 2, 8)),
        (date(2025, 9, 26), 1, date(2025, 9, 28)),
        (date(2025, 9, 30), 1, date(2025, 10, 9)),
        (date(2025, 9, 30), 3, date(2025, 10, 11)),
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 14), 1, date(2026, 2, 24)),
        (date(2026, 2, 26), 2, date(2026, 2, 28)),
        (date(2026, 9, 18), 1, date(2026, 9, 20)),
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 3, date(2026, 10, 10)),
    ],
)
def test_deadlines_across_real_holidays(start, days, expected):
    assert add_workdays(start, days) == expected


def test_zero_days_is_the_start_even_on_a_holiday():
    assert add_workdays(date(2024, 10, 1), 0) == date(2024, 10, 1)


def test_negative_days_are_refused():
    with pytest.raises(ValueError, match="负数"):
        add_workdays(date(2024, 4, 30), -1)


def test_years_without_data_fall_back_to_monday_to_friday():
    assert is_workday(date(2027, 10, 1))  # a Friday; the package has no 2027 data
    assert not is_workday(date(2027, 10, 2))
    assert add_workdays(date(2027, 10, 1), 1) == date(2027, 10, 4)
    assert is_workday(date(2003, 10, 1))


# Overrides ------------------------------------------------------------------------------------


def test_override_beats_the_package(world, platform):
    services.calendar_day_set(actor=platform, day=date(2024, 10, 8), is_workday=False, note="停电")
    services.calendar_day_set(actor=platform, day=date(2024, 10, 3), is_workday=True, note="值班")
    assert not is_workday(date(2024, 10, 8))
    assert is_workday(date(2024, 10, 3))
    assert add_workdays(date(2024, 9, 30), 1) == date(2024, 10, 3)
    assert add_workdays(date(2024, 10, 3), 1) == date(2024, 10, 9)


def test_overrides_cover_a_year_beyond_the_package():
    for day in range(1, 8):
        services.calendar_day_set(
            actor=None, day=date(2027, 10, day), is_workday=False, note="2027年国庆节"
        )
    services.calendar_day_set(actor=None, day=date(2027, 9, 26), is_workday=True, note="国庆调休")
    assert is_workday(date(2027, 9, 26))
    assert add_workdays(date(2027, 9, 24), 1) == date(2027, 9, 26)
    assert add_workdays(date(2027, 9, 30), 1) == date(2027, 10, 8)


def test_a_new_override_is_seen_by_the_next_call():
    assert add_workdays(date(2027, 9, 30), 1) == date(2027, 10, 1)
    services.calendar_day_set(actor=None, day=date(2027, 10, 1), is_workday=False, note="国庆节")
    assert add_workdays(date(2027, 9, 30), 1) == date(2027, 10, 4)


def test_overrides_are_read_in_one_query(django_assert_max_num_queries):
    services.calendar_day_set(actor=None, day=date(2025, 1, 2), is_workday=False, note="测试")
    with django_assert_max_num_queries(1):
        assert add_workdays(date(2024, 4, 30), 3) == date(2024, 5, 8)
    with django_assert_max_num_queries(1):
        # Crosses a year end and meets the override on the way.
        assert add_workdays(date(2024, 12, 30), 2) == date(2025, 1, 3)
    with django_assert_max_num_queries(1):
        assert work_hours_between(at(2024, 1, 1), at(2026, 12, 31)) > 0
    with django_assert_max_num_queries(1):
        add_work_hours(at(2024, 12, 20, 9), 100)


def test_one_calendar_serves_many_computations_with_one_query(django_assert_num_queries):
    calendar = WorkCalendar()
    with django_assert_num_queries(1):
        for month in range(1, 12):
            calendar.add_workdays(date(2025, month, 1), 10)
            calendar.work_hours_between(at(2025, month, 1, 9), at(2025, month, 20, 9))


# Working hours --------------------------------------------------------------------------------


def test_work_periods_add_up_to_the_working_day():
    total = sum(
        (
            datetime.combine(date.min, end) - datetime.combine(date.min, begin)
            for begin, end in WORK_PERIODS
        ),
        timedelta(),
    )
    assert total == timedelta(hours=WORK_HOURS_PER_DAY)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (at(2024, 6, 3, 9), 1, at(2024, 6, 3, 10)),  # Monday morning
        (at(2024, 6, 3, 9), 3, at(2024, 6, 3, 12)),  # ends at lunch, not after it
        (at(2024, 6, 3, 11), 2, at(2024, 6, 3, 14, 30)),  # across lunch
        (at(2024, 6, 3, 12, 30), 1, at(2024, 6, 3, 14, 30)),  # starts during lunch
        (at(2024, 6, 3, 7), 0.5, at(2024, 6, 3, 9, 30)),  # before work
        (at(2024, 6, 3, 18), 1, at(2024, 6, 4, 10)),  # evening
        (at(2024, 6, 3, 9), 7, at(2024, 6, 3, 17, 30)),  # a whole day
        # Friday afternoon, then the weekend and 端午 on Monday 2024-06-10.
        (at(2024, 6, 7, 16, 30), 3, at(2024, 6, 11, 11)),
        # The last afternoon before 国庆, then 2024-10-08.
        (at(2024, 9, 30, 16), 7, at(2024, 10, 8, 16)),
        # A Saturday before the 调休 Sunday 2024-09-29.
        (at(2024, 9, 28, 10), 1, at(2024, 9, 29, 10)),
    ],
)
def test_add_work_hours(start, hours, expected):
    assert add_work_hours(start, hours) == expected


def test_add_work_hours_reads_any_timezone_and_answers_in_local_time():
    result = add_work_hours(datetime(2024, 6, 3, 1, 0, tzinfo=UTC), 1)  # 09:00 in Shanghai
    assert result == at(2024, 6, 3, 10)
    assert result.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (at(2024, 6, 3, 8), at(2024, 6, 3, 20), 7.0),
        (at(2024, 6, 3, 11), at(2024, 6, 3, 14), 1.5),
        (at(2024, 6, 3, 12), at(2024, 6, 3, 13, 30), 0.0),  # lunch only
        (at(2024, 6, 3, 17), at(2024, 6, 4, 9, 30), 1.0),  # overnight
        (at(2024, 6, 7, 16, 30), at(2024, 6, 11, 11), 3.0),  # weekend and 端午
        (at(2024, 9, 30), at(2024, 10, 8), 7.0),  # 国庆 week: only 9-30 is worked
        (at(2024, 9, 28), at(2024, 9, 30), 7.0),  # the 调休 Sunday counts
        (at(2024, 6, 3, 10), at(2024, 6, 3, 9), 0.0),
        (at(2024, 6, 3, 10), at(2024, 6, 3, 10), 0.0),
    ],
)
def test_work_hours_between(start, end, hours):
    assert work_hours_between(start, end) == pytest.approx(hours)


@pytest.mark.parametrize("hours", [0.25, 2.5, 7, 30, 100])
def test_hours_added_are_the_hours_between(hours):
    start = at(2024, 9, 27, 15, 10)
    assert work_hours_between(start, add_work_hours(start, hours)) == pytest.approx(hours)


def test_workday_end_is_the_last_second_in_shanghai():
    end = workday_end(date(2024, 10, 8))
    assert end == at(2024, 10, 8, 23, 59) + timedelta(seconds=59)
    assert end.timetz() == time(23, 59, 59, tzinfo=end.tzinfo)
    assert end.utcoffset() == timedelta(hours=8)


@pytest.fixture
def platform(db):
    return make_superuser()


# Service --------------------------------------------------------------------------------------


def test_platform_administrator_sets_and_updates_an_override(world, platform):
    row = services.calendar_day_set(
        actor=platform, day=date(2027, 10, 1), is_workday=False, note=" 2027年国庆节 "
    )
    assert (row.is_workday, row.note, row.created_by) == (False, "2027年国庆节", platform)
    services.calendar_day_set(actor=None, day=date(2027, 10, 1), is_workday=True, note="改为上班")
    row.refresh_from_db()
    assert CalendarDay.objects.count() == 1
    assert (row.is_workday, row.note, row.created_by) == (True, "改为上班", platform)


def test_street_roles_are_refused_even_a_street_administrator(world):
    for actor in (world.leader, world.admin):
        with pytest.raises(PermissionDenied, match="只有平台管理员"):
            services.calendar_day_set(
                actor=actor, day=date(2027, 10, 1), is_workday=False, note="国庆节"
            )
    assert not CalendarDay.objects.exists()
    services.calendar_day_set(actor=None, day=date(2027, 10, 1), is_workday=False, note="国庆节")
    with pytest.raises(PermissionDenied):
        services.calendar_day_clear(actor=world.leader, day=date(2027, 10, 1))
    assert CalendarDay.objects.filter(date=date(2027, 10, 1)).exists()


def test_clear_hands_the_day_back_to_the_package(world, platform):
    services.calendar_day_set(actor=platform, day=date(2024, 10, 1), is_workday=True, note="值班")
    assert is_workday(date(2024, 10, 1))
    services.calendar_day_clear(actor=platform, day=date(2024, 10, 1))
    assert not is_workday(date(2024, 10, 1))
    with pytest.raises(NotFound, match="没有人工调整"):
        services.calendar_day_clear(actor=platform, day=date(2024, 10, 1))


def test_blank_note_is_refused():
    with pytest.raises(services.CalendarRuleError, match="调整说明"):
        services.calendar_day_set(actor=None, day=date(2027, 10, 1), is_workday=False, note="  ")
    assert not CalendarDay.objects.exists()


# Command --------------------------------------------------------------------------------------


def test_add_prints_the_date_first():
    lines = run("add", "2024-04-30", "3").splitlines()
    assert lines[0] == "2024-05-08"
    assert "2024-05-01" in lines[1] and "节假日" in lines[1]


def test_add_names_the_adjusted_weekend_day_it_counted():
    lines = run("add", "2026-02-26", "2").splitlines()
    assert lines[0] == "2026-02-28"
    assert "调休" in lines[1] and "2026-02-28" in lines[1]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-02-14", "2026-02-14 星期六 工作日(调休)"),
        ("2024-10-03", "2024-10-03 星期四 休息日(国庆节)"),
        ("2025-01-29", "2025-01-29 星期三 休息日(春节)"),
        ("2024-06-04", "2024-06-04 星期二 工作日"),
        ("2024-06-08", "2024-06-08 星期六 休息日"),
    ],
)
def test_check(day, expected):
    assert run("check", day).strip() == expected


def test_check_says_when_it_guesses():
    assert "按周一至周五推定" in run("check", "2027-10-01")


def test_set_off_then_on():
    output = run("set", "2027-10-01", "--off", "--note", "2027年国庆节")
    assert "休息日" in output and "2027年国庆节" in output
    row = CalendarDay.objects.get(date=date(2027, 10, 1))
    assert (row.is_workday, row.note, row.created_by) == (False, "2027年国庆节", None)
    assert run("check", "2027-10-01").strip() == "2027-10-01 星期五 休息日(人工调整:2027年国庆节)"
    run("set", "2027-10-01", "--on", "--note", "值班")
    row.refresh_from_db()
    assert row.is_workday and CalendarDay.objects.count() == 1


def test_clear_through_the_command():
    run("set", "2027-10-01", "--off", "--note", "国庆节")
    assert "已清除" in run("clear", "2027-10-01")
    assert not CalendarDay.objects.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("add", "2024-04-31", "3"),
        ("add", "2024/04/30", "3"),
        ("add", "2024-04-30", "-1"),
        ("add", "2024-04-30", "三"),
        ("check", "昨天"),
        ("set", "2027-02-30", "--off", "--note", "国庆节"),
        ("set", "2027-10-01", "--off", "--note", " "),
        ("clear", "2027-10-02"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_changes_nothing(args):
    services.calendar_day_set(actor=None, day=date(2027, 10, 1), is_workday=True, note="值班")
    with pytest.raises(CommandError) as refused:
        run(*args)
    assert CHINESE.search(str(refused.value))
    row = CalendarDay.objects.get()
    assert (row.date, row.is_workday, row.note) == (date(2027, 10, 1), True, "值班")


# Admin ----------------------------------------------------------------------------------------


def test_platform_administrator_adds_an_override_in_the_admin(client, world, platform):
    client.force_login(platform)
    response = client.post(
        "/admin/workdays/calendarday/add/",
        {"date": "2027-10-01", "is_workday": "", "note": "2027年国庆节"},
    )
    assert response.status_code == 302
    row = CalendarDay.objects.get()
    assert (row.date, row.is_workday, row.created_by) == (date(2027, 10, 1), False, platform)


def test_non_administrator_cannot_open_the_calendar_admin(client, world):
    client.force_login(world.leader)
    response = client.get("/admin/workdays/calendarday/add/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
