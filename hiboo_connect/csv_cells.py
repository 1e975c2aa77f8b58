"""One CSV cell as the product writes it: text that a spreadsheet would read as a formula is neutralised.

Another organisation controls some of the strings in an export (a reference, a property, an organisation or machine
name), so a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with a single quote, as
OWASP advises for CSV injection. Only text is touched: numbers (negative ones included) stay numbers. Every CSV the
product writes passes its cells through `csv_cell` (or `csv_row`), wherever its rows are built."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Case, TextField, Value, When
from django.db.models.functions import Concat, Substr
from django.db.models.lookups import In

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """The value to hand to csv.writer: text that could start a formula gets a leading quote; the rest as is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(value) for value in values]


def csv_cell_expression(expression) -> Case:
    """csv_cell in SQL, for text the database writes itself (an export's cells): the same leading quote on the same
    first characters; NULL stays NULL (csv.writer writes it as an empty cell)."""
    return Case(
        When(In(Substr(expression, 1, 1), list(FORMULA_TRIGGERS)), then=Concat(Value("'"), expression)),
        default=expression,
        output_field=TextField(),
    )
