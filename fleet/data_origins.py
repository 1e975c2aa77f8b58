"""Where a machine's data comes from, for its page. Fleet stores the data but not the feeds that bring it: those live a
layer up (the telematics sources, DESIGN §5), which register here, once at start-up, a function that names a machine's
origins as its owner may see them. Fleet never imports them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DataOrigin:
    """One feed a machine's data comes from: its name, its page (if the viewer may open it) and when it last listed
    the machine."""

    name: str
    url: str | None = None
    last_listed_at: dt.datetime | None = None


DataOrigins = Callable[..., list[DataOrigin]]
_providers: list[DataOrigins] = []


def register_data_origins(provider: DataOrigins) -> None:
    """`provider(organisation=..., machine=...)` answers the machine's origins as `organisation` may see them."""
    if provider not in _providers:
        _providers.append(provider)


def data_origins(*, organisation: Any, machine: Any) -> list[DataOrigin]:
    return [origin for provider in _providers for origin in provider(organisation=organisation, machine=machine)]
