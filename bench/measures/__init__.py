"""The measures of `make bench`, one small function each, registered in the order of issue 10's table. A measure
gets the World (bench/world.py) and returns a Result: the figure as printed, and whether it meets its goal (None
while nobody measures it yet). Add a measure with @measure in the module of its concern: lifecycle.py, create.py and
ingest.py here; lists.py holds the lists, search, timeline, CSV, API list, readings and machine page measures."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable


@dataclasses.dataclass
class Result:
    figure: str
    met: bool | None
    #: Where the time goes, or what was not measured and why: printed under the table.
    note: str = ""


@dataclasses.dataclass
class Measure:
    order: int
    name: str
    goal: str
    function: Callable


MEASURES: list[Measure] = []


def measure(order: int, name: str, goal: str):
    """Register a measure; `order` is its row in issue 10's table."""

    def register(function):
        MEASURES.append(Measure(order, name, goal, function))
        return function

    return register


def not_measured(why: str = "") -> Result:
    return Result("not measured yet", None, why)


def timed(function, *args, **kwargs) -> tuple[float, object]:
    """Seconds taken by one call, and what it returned."""
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - started, value


def repeated(function, repeat: int) -> list[float]:
    """Seconds of each of `repeat` calls, after one warm-up call."""
    function()
    return [timed(function)[0] for _call in range(repeat)]


def p95(seconds: list[float]) -> float:
    return sorted(seconds)[max(int(len(seconds) * 0.95) - 1, 0)]


def median(seconds: list[float]) -> float:
    return statistics.median(seconds)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"
