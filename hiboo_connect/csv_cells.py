"""One CSV cell as the product writes it: text that a spreadsheet would read as a formula is neutralised.

Another organisation controls some of the strings in an export (a reference, a property, an organisation or machine
name), so a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with a single quote, as
OWASP advises for CSV injection. Only text is touched: numbers (negative ones included) stay numbers. Every CSV the
product writes passes its cells through `csv_cell` (or `csv_row`), wherever its rows are built."""

from collections.abc import Iterable
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """The value to hand to csv.writer: text that could start a formula gets a leading quote; the rest as is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(value) for value in values]
