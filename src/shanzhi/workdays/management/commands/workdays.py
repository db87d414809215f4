from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.errors import DomainError
from shanzhi.workdays import services
from shanzhi.workdays.calendar import WEEKDAY_NAMES, WorkCalendar


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期“{text}”无效,应写作 2024-04-30 这样的格式") from None


def _parse_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise CommandError(f"工作日数“{text}”无效,应为不小于0的整数") from None
    if days < 0:
        raise CommandError(f"工作日数不能为负数,收到 {days}")
    return days


class Command(BaseCommand):
    help = "工作日历:推算期限、查询某日是否上班、人工调整某日"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="子命令")
        add = actions.add_parser("add", help="某日之后第N个工作日(当日不计)")
        add.add_argument("start", help="起始日期,如 2024-04-30")
        # Read as text so a negative or malformed number is refused with a Chinese message.
        add.add_argument("days", help="工作日数")
        check = actions.add_parser("check", help="某日是否工作日")
        check.add_argument("day", help="日期,如 2026-02-14")
        set_ = actions.add_parser("set", help="人工调整某日为工作日或休息日")
        set_.add_argument("day", help="日期,如 2027-10-01")
        kind = set_.add_mutually_exclusive_group(required=True)
        kind.add_argument("--on", dest="is_workday", action="store_true", help="设为工作日")
        kind.add_argument("--off", dest="is_workday", action="store_false", help="设为休息日")
        set_.add_argument("--note", required=True, help="调整说明,如“2027年国庆节”")
        clear = actions.add_parser("clear", help="清除某日的人工调整")
        clear.add_argument("day", help="日期")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add":
            self._add(_parse_date(options["start"]), _parse_days(options["days"]))
        elif action == "check":
            day = _parse_date(options["day"])
            self.stdout.write(self._line(WorkCalendar(), day))
        else:
            day = _parse_date(options["day"])
            try:
                if action == "set":
                    services.calendar_day_set(
                        actor=None, day=day, is_workday=options["is_workday"], note=options["note"]
                    )
                else:
                    services.calendar_day_clear(actor=None, day=day)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            done = "已保存" if action == "set" else "已清除,现为"
            self.stdout.write(self.style.SUCCESS(f"{done}:{self._line(WorkCalendar(), day)}"))

    def _add(self, start: date, days: int) -> None:
        calendar = WorkCalendar()
        end = calendar.add_workdays(start, days)
        # The ISO date stands alone on the first line so scripts can read it.
        self.stdout.write(end.isoformat())
        between = [start + timedelta(days=n) for n in range(1, (end - start).days)]
        skipped = [d for d in between if d.weekday() < 5 and not calendar.is_workday(d)]
        worked = [d for d in [*between, end] if d.weekday() >= 5 and calendar.is_workday(d)]
        notes = []
        if skipped:
            notes.append("跳过节假日:" + "、".join(d.isoformat() for d in skipped))
        if worked:
            notes.append("计入调休上班日:" + "、".join(d.isoformat() for d in worked))
        if notes:
            self.stdout.write(";".join(notes))

    def _line(self, calendar: WorkCalendar, day: date) -> str:
        return f"{day.isoformat()} {WEEKDAY_NAMES[day.weekday()]} {calendar.describe(day)}"
