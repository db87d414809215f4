"""Cells the project writes into spreadsheets (xlsx and csv) for someone to open in Excel or WPS.

Text that begins like a formula (=, +, -, @, a tab or a carriage return) would run as one in the
reader's spreadsheet: a note of `=HYPERLINK(...)` typed by anyone becomes a live link in the file
a leader opens. Such text is written with a leading apostrophe, the spreadsheets' own mark for
"this is text". Numbers, dates and empty cells pass unchanged.
"""

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value: Any) -> Any:
    """`value` as a spreadsheet must hold it: formula-like text neutralised."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def row_safe(values: Iterable[Any]) -> list[Any]:
    """Each cell of a row through `cell_safe`."""
    return [cell_safe(value) for value in values]
