"""How the fleet view and the fleet map show a machine at a glance: one way of naming it whoever owns it, its engine
(running, off, never reported) and how fresh its data is ("last seen 16 days ago", stale past a day). `naming` and
`freshness` are pure; `attach` reads the facts of a page of machines through the selectors and hands them out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .selectors import fleet_facts

#: Data older than this is stale: the list says so in amber, the map draws the dot hollow. The same day as the fleet
#: list's "without data" filter (fleet.filters.SILENT_AFTER).
STALE_AFTER = dt.timedelta(days=1)

ENGINE_STATES = {
    "running": gettext_lazy("Running"),
    "off": gettext_lazy("Off"),
    "unknown": gettext_lazy("No engine status"),
}
#: A stale state is only the last one known.
STALE_ENGINE_STATES = {
    "running": gettext_lazy("Last reported running"),
    "off": gettext_lazy("Last reported off"),
    "unknown": gettext_lazy("No engine status"),
}


@dataclass(frozen=True)
class Freshness:
    """What a row or a dot says about a machine: `state` one of ENGINE_STATES, `seen` ("last seen 2 hours ago",
    or "no data yet"), `stale` when it is older than STALE_AFTER or there is none."""

    state: str
    state_label: str
    last_seen: dt.datetime | None
    seen: str
    stale: bool

    @property
    def summary(self) -> str:
        """One sentence for an accessible name or a tooltip: "Running, last seen 2 hours ago"."""
        return f"{self.state_label}, {self.seen}"


def freshness(*, engine_running: bool | None, last_seen: dt.datetime | None, now: dt.datetime) -> Freshness:
    state = "unknown" if engine_running is None else "running" if engine_running else "off"
    if last_seen is None:
        seen, stale = _("no data yet"), True
    elif now - last_seen < dt.timedelta(minutes=1):
        seen, stale = _("last seen just now"), False
    else:
        seen, stale = _seen_ago(now - last_seen), now - last_seen > STALE_AFTER
    label = (STALE_ENGINE_STATES if stale else ENGINE_STATES)[state]
    return Freshness(state=state, state_label=str(label), last_seen=last_seen, seen=seen, stale=stale)


def _seen_ago(age: dt.timedelta) -> str:
    """ "last seen 5 minutes ago", "… 3 hours ago" up to two days, then days up to two months ("16 days", which says
    more than "2 weeks"), then months."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return ngettext("last seen %(count)s minute ago", "last seen %(count)s minutes ago", minutes) % {
            "count": minutes
        }
    hours = minutes // 60
    if hours < 48:
        return ngettext("last seen %(count)s hour ago", "last seen %(count)s hours ago", hours) % {"count": hours}
    days = hours // 24
    if days < 60:
        return ngettext("last seen %(count)s day ago", "last seen %(count)s days ago", days) % {"count": days}
    months = days // 30
    return ngettext("last seen %(count)s month ago", "last seen %(count)s months ago", months) % {"count": months}


@dataclass(frozen=True)
class Naming:
    """The name the organisation knows a machine by (ours: make and model; received: the name we gave it) and, below
    it, whatever of make, model and serial number the name does not already say."""

    name: str
    detail: str


def naming(machine, received_name: str | None = None) -> Naming:
    name = received_name or f"{machine.make} {machine.model}"
    make_model = f"{machine.make} {machine.model}"
    parts = [part for part in (make_model, machine.serial_number) if part.casefold() not in name.casefold()]
    return Naming(name=name, detail=" · ".join(parts))


def attach(organisation, machines: list) -> list:
    """Give each machine of a page (or a single row) its FleetFacts as `machine.facts`, its engine state and data
    freshness as `machine.glance`, and its `machine.naming` (a received machine's name is its `received_name`, the
    fleet list's annotation, or set by the caller). At most four queries however many machines (fleet_facts)."""
    now = timezone.now()
    facts = fleet_facts(organisation=organisation, machines=machines, now=now)
    for machine in machines:
        machine.facts = facts[machine.pk]
        machine.glance = freshness(
            engine_running=machine.facts.engine_running, last_seen=machine.facts.last_seen, now=now
        )
        machine.naming = naming(machine, getattr(machine, "received_name", None))
    return machines
