"""Figures written as the reports write them; shared by the dashboard, rankings and report.

Rates in percent with two decimals (99.20%), counts as integers and in 万/亿 once they are large
(3454.15万), 同比增长 x% / 同比下降 x% / 与去年持平, nothing where there is nothing to compare
with, 未记录 where the input was never recorded, and an entered baseline marked as entered.
"""

from decimal import ROUND_HALF_UP, Decimal

from .measures import COUNT, PERCENT
from .selectors import YEAR_AGO, Change, Figure

NO_VALUE = "—"
NOT_RECORDED = "未记录"
ENTERED = "(录入数)"
_CENT = Decimal("0.01")
_LARGE = ((Decimal(100_000_000), "亿"), (Decimal(10_000), "万"))


def _two(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def percent_text(value: Decimal | None) -> str:
    """99.2 → "99.20%"."""
    return NO_VALUE if value is None else f"{_two(value)}%"


def amount_text(
    value: Decimal | int | None, unit: str = "", *, fixed: bool = False, exact: bool = False
) -> str:
    """A count or amount: 2322 → "2322", 34541500 → "3454.15万", 11000 → "1.1万" (11000 when
    `exact`: a report whose rates must be checkable writes whole counts); below 万 a fraction,
    or any value when `fixed` (hours, days), keeps two decimals (12.50, 7.00)."""
    if value is None:
        return NO_VALUE
    number = Decimal(value)
    for size, name in () if exact else _LARGE:
        if abs(number) >= size:
            scaled = _two(number / size).normalize()
            return f"{scaled:f}{name}{unit}"
    if number == number.to_integral_value() and not fixed:
        return f"{int(number)}{unit}"
    return f"{_two(number)}{unit}"


def figure_value_text(figure: Figure, *, exact: bool = False) -> str:
    """The value with its unit, marked when it was entered rather than counted; counts whole
    when `exact`."""
    kpi = figure.kpi
    if figure.unrecorded:
        return NOT_RECORDED
    if figure.value is None:
        text = NO_VALUE
    elif kpi.unit == PERCENT:
        text = percent_text(figure.value)
    elif kpi.unit == COUNT or kpi.unit in ("次", "家", "人", "个", "张", "场", "分"):
        text = amount_text(figure.value, kpi.unit, exact=exact)
    else:
        text = amount_text(figure.value, kpi.unit, fixed=True)
    return text + (ENTERED if figure.baseline_used else "")


def figure_text(figure: Figure) -> str:
    """ "办结率99.20%", "受理量2322件"."""
    return f"{figure.kpi.name}{figure_value_text(figure)}"


def change_text(change: Change) -> str:
    """ "同比增长12.50%", "环比下降3.10%", "与去年持平"; "" when there is nothing to compare."""
    if change.ratio is None:
        return ""
    ratio = _two(change.ratio)
    if ratio == 0:
        return "与去年持平" if change.kind == YEAR_AGO else "与上期持平"
    verb = "增长" if ratio > 0 else "下降"
    text = f"{change.label}{verb}{abs(ratio)}%"
    return text + (ENTERED if change.baseline_used else "")
