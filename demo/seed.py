"""Building the demo world of `manage.py seed_demo`: three organisations, a fleet of real makes and models, months of
telemetry and sharings in every status, all deterministic. Running it again adds only what is missing: organisations
are known by slug, machines by make and serial number, sharings by reference, and telemetry resumes from the last
stored day (rows already stored are skipped by the unique indexes)."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import Organisation, Role
from fleet.data_packs import Metric
from fleet.selectors import readings_visible_to
from sharing.selectors import sharings_outgoing
from sharing.services import sharing_lifecycle_run

from .catalogue import DEMO_PASSWORD, ORGANISATIONS
from .telemetry import LOCAL, DemoMachine, TelemetryBuffer, initial_state, local_midnight, simulate
from .world import USERS, ensure_late_users, ensure_machines, ensure_organisations, ensure_sharings, ensure_workspaces

__all__ = ["DemoLogin", "DemoSummary", "seed_demo"]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    organisation: str


@dataclass
class DemoSummary:
    logins: list[DemoLogin]
    organisations_created: int = 0
    machines: int = 0
    machines_created: int = 0
    sharings_created: int = 0
    sharings_existing: int = 0
    #: (owner name, status) → number of sharings
    sharings_by_owner_and_status: Counter = field(default_factory=Counter)
    #: Rows offered to telemetry_store; those already stored were skipped.
    telemetry_rows: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def seed_demo(
    *,
    machines: int = 60,
    days: int = 90,
    now: dt.datetime | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> DemoSummary:
    """Build (or complete) the demo world with `machines` machines and `days` days of telemetry ending at `now`."""
    now = now or timezone.now()
    clock = time.monotonic()
    seconds = {}

    # The organisations and their fleets were set up before the history the demo shows.
    set_up = now - dt.timedelta(days=max(days, 100))
    organisations, organisations_created = ensure_organisations(now=set_up)
    workspaces = ensure_workspaces(organisations, now=set_up)
    demo_machines, machines_created = ensure_machines(organisations, workspaces, machines, now=set_up)
    seconds["organisations and machines"] = time.monotonic() - clock

    clock = time.monotonic()
    sharings_created, sharings_existing = ensure_sharings(organisations, demo_machines, now)
    ensure_late_users(organisations, now=now)
    sharing_lifecycle_run(now=now)
    seconds["sharings"] = time.monotonic() - clock

    clock = time.monotonic()
    rows = seed_telemetry(demo_machines, organisations, days=days, now=now, progress=progress)
    seconds["telemetry"] = time.monotonic() - clock

    by_status: Counter[tuple[str, str]] = Counter()
    for organisation in organisations.values():
        for status in sharings_outgoing(organisation).values_list("status", flat=True):
            by_status[organisation.name, status] += 1
    names = {spec.key: spec.name for spec in ORGANISATIONS}
    return DemoSummary(
        logins=[
            DemoLogin(user.email, DEMO_PASSWORD, str(Role(user.role).label), names[user.organisation]) for user in USERS
        ],
        organisations_created=organisations_created,
        machines=len(demo_machines),
        machines_created=machines_created,
        sharings_created=sharings_created,
        sharings_existing=sharings_existing,
        sharings_by_owner_and_status=by_status,
        telemetry_rows=rows,
        seconds=seconds,
    )


def seed_telemetry(
    machines: list[DemoMachine],
    organisations: dict[str, Organisation],
    *,
    days: int,
    now: dt.datetime,
    progress: Callable[[int, int, int], None] | None = None,
) -> int:
    """Telemetry for [now - days, now], machine by machine, resuming after what is stored. Returns the rows offered."""
    window_start = now - dt.timedelta(days=days)
    buffer = TelemetryBuffer()
    for done, machine in enumerate(machines, 1):
        first_day, since, state = _resume_point(machine, organisations[machine.owner], window_start)
        simulate(machine, first_day=first_day, state=state, since=since, until=now, buffer=buffer)
        if progress:
            progress(done, len(machines), buffer.rows + len(buffer))
    buffer.flush()
    return buffer.rows


def _resume_point(machine: DemoMachine, owner: Organisation, window_start: dt.datetime):
    """Where to start playing a machine's days: the window's start when nothing is stored, otherwise the last stored
    day, with the counters as they stood at its midnight."""
    first_day = window_start.astimezone(LOCAL).date()
    latest = (
        readings_visible_to(organisation=owner, machine=machine.machine, metrics=[Metric.ENGINE_RUNNING])
        .order_by("-timestamp")
        .values_list("timestamp", flat=True)
        .first()
    )
    if latest is None:
        return first_day, window_start, initial_state(machine, first_day)
    first_day = max(first_day, latest.astimezone(LOCAL).date())
    midnight = local_midnight(first_day)
    fallback = initial_state(machine, first_day)
    state = {}
    for metric in machine.state_metrics:
        stored = (
            readings_visible_to(organisation=owner, machine=machine.machine, metrics=[metric], until=midnight)
            .order_by("-timestamp")
            .values_list("value", flat=True)
            .first()
        )
        state[metric] = fallback[metric] if stored is None else stored
    return first_day, max(window_start, midnight), state
