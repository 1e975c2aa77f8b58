"""Telemetry of the demo machines, day by day: shifts on weekdays, fuel burnt by machine class, idling, counters that
only grow, a fuel level that drops and gets refilled, positions around the job sites and the odd SAE J1939 fault.

A day is a pure function of (machine, date, counters at the start of the day): every random draw comes from a
generator seeded with the machine and the date. That makes the data deterministic and lets a second run resume from
what is stored: it re-reads the counters before the last stored day, replays that day (the rows already stored are
skipped by the unique indexes) and goes on up to now. Counters are rounded as they are stored, so the values read back
are exactly the ones the first run carried on with."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction

from fleet.data_packs import Metric
from fleet.models import FaultCode, Machine, Position, Reading
from fleet.services import telemetry_store

from .catalogue import FAULTS, FAULTS_BY_ID, HOME_SITES, QUARRY, RENTAL, RENTAL_CUSTOMER_SITES, SITES, MachineModel

UTC = dt.UTC
#: The demo's sites are in France: shifts follow local time, timestamps are stored in UTC.
LOCAL = ZoneInfo("Europe/Paris")
DEMO_SEED = 15143  # after ISO 15143-3
SITE_PERIOD_DAYS = 21
DAILY_REPORT_HOUR = 23.0
IDLE_BURN = 0.25  # share of the working burn rate an idling engine uses
DEF_PER_FUEL = 0.04  # litres of diesel exhaust fluid per litre of fuel
CHUNK_ROWS = 20_000

#: Counters carried from day to day, with the number of decimals they are stored with.
STATE_PRECISION: dict[str, int] = {
    Metric.OPERATING_HOURS: 2,
    Metric.IDLE_HOURS: 2,
    Metric.FUEL_USED: 1,
    Metric.FUEL_REMAINING: 1,
    Metric.DEF_REMAINING: 1,
    Metric.DISTANCE: 1,
    Metric.LOAD_COUNT: 0,
    Metric.PAYLOAD_TOTAL: 1,
    Metric.ACTIVE_REGENERATION_HOURS: 2,
    Metric.POWER_TAKE_OFF_HOURS: 2,
}


@dataclass(frozen=True)
class DemoMachine:
    """A demo machine as the generator sees it: the stored row and what the catalogue says about it."""

    machine: Machine
    index: int
    owner: str
    model: MachineModel
    home_site: str

    @property
    def seed(self) -> int:
        return DEMO_SEED * 1_000_003 + self.index

    @property
    def has_travel(self) -> bool:
        return self.model.machine_class.travel > 0

    @property
    def has_loads(self) -> bool:
        return self.model.machine_class.loads_per_hour > 0

    @property
    def has_payload(self) -> bool:
        return self.has_loads and self.model.tonnes_per_load > 0

    @property
    def volts(self) -> int:
        return 24 if self.model.electric else self.model.machine_class.volts

    @property
    def state_metrics(self) -> list[str]:
        """The counters this machine reports."""
        model = self.model
        metrics: list[str] = [Metric.OPERATING_HOURS, Metric.IDLE_HOURS]
        if model.has_fuel:
            metrics += [Metric.FUEL_USED, Metric.FUEL_REMAINING]
        if model.has_def:
            metrics.append(Metric.DEF_REMAINING)
        if model.has_particulate_filter:
            metrics.append(Metric.ACTIVE_REGENERATION_HOURS)
        if self.has_travel:
            metrics.append(Metric.DISTANCE)
        if self.has_loads:
            metrics.append(Metric.LOAD_COUNT)
        if self.has_payload:
            metrics.append(Metric.PAYLOAD_TOTAL)
        if model.machine_class.power_take_off:
            metrics.append(Metric.POWER_TAKE_OFF_HOURS)
        return metrics

    @property
    def recurring_fault(self) -> str | None:
        """The first machine of the demo has a known issue: it idles a lot and its particulate filter complains."""
        return "3719-16" if self.index == 0 else None


def initial_state(machine: DemoMachine, day: dt.date) -> dict[str, float]:
    """Plausible counters for a machine of this age on `day`, when nothing is stored yet."""
    rng = random.Random(machine.seed)
    model, machine_class = machine.model, machine.model.machine_class
    built = dt.date(machine.machine.year or 2020, 3, 1)
    years = max(0.15, (day - built).days / 365.25)
    hours = years * machine_class.annual_hours * rng.uniform(0.7, 1.2)
    idle = hours * sum(machine_class.idle_share) / 2
    work = hours - idle
    values: dict[str, float] = {
        Metric.OPERATING_HOURS: hours,
        Metric.IDLE_HOURS: idle,
        Metric.FUEL_USED: (work + idle * IDLE_BURN) * machine_class.burn,
        Metric.FUEL_REMAINING: rng.uniform(35, 90),
        Metric.DEF_REMAINING: rng.uniform(35, 90),
        Metric.DISTANCE: work * machine_class.travel * 0.9,
        Metric.LOAD_COUNT: work * machine_class.loads_per_hour * 0.9,
        Metric.PAYLOAD_TOTAL: work * machine_class.loads_per_hour * 0.9 * model.tonnes_per_load,
        Metric.ACTIVE_REGENERATION_HOURS: hours * 0.015,
        Metric.POWER_TAKE_OFF_HOURS: work * 0.6,
    }
    return {metric: round(values[metric], STATE_PRECISION[metric]) for metric in machine.state_metrics}


# --- where and when machines work ------------------------------------------------------------------------------------


def site_on(machine: DemoMachine, day: dt.date):
    """The site a machine works at on `day` and where it parks there. Rental machines go out on hire for a few weeks at
    a time and come back to their depot; the contractor's move between its sites; the quarry's stay at the quarry."""
    period = (day.toordinal() + machine.index * 5) // SITE_PERIOD_DAYS
    rng = random.Random(machine.seed * 7919 + period)
    if machine.index == 0:
        site = SITES["part_dieu"]  # on long-term hire with the contractor
    elif machine.owner == RENTAL:
        site = SITES[machine.home_site] if rng.random() < 0.3 else SITES[rng.choice(RENTAL_CUSTOMER_SITES)]
    elif machine.owner == QUARRY:
        site = SITES[machine.home_site]
    else:
        site = SITES["batiroc_yard"] if rng.random() < 0.1 else SITES[rng.choice(HOME_SITES[machine.owner])]
    parked = (
        site.latitude + rng.uniform(-0.5, 0.5) * site.spread,
        site.longitude + rng.uniform(-0.5, 0.5) * site.spread,
    )
    return site, parked


def work_probability(machine: DemoMachine, day: dt.date, site) -> float:
    if (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day == 1) or (day.month, day.day) == (5, 1):
        return 0.0
    summer_break = day.month == 8 and 4 <= day.day <= 22 and machine.owner != QUARRY
    weekday = day.weekday()
    if weekday == 6:
        chance = 0.01
    elif weekday == 5:
        chance = 0.55 if machine.owner == QUARRY else 0.06
    elif site.depot:
        chance = 0.05  # a machine back at the depot is only started for checks
    else:
        chance = 0.92 if machine.owner == QUARRY or machine.index == 0 else 0.85
    return chance * (0.15 if summer_break else 1.0)


# --- rows, stored in chunks -----------------------------------------------------------------------------------------


def _row_builder(model, given: tuple[str, ...]):
    """Build instances of `model` from the values of the `given` fields, in that order, through Django's positional
    path (the one Model.from_db takes): much faster than keyword arguments, which matters for millions of rows. The
    other fields get their default, or None (the id comes from the database, received_at from auto_now_add)."""
    fields = model._meta.concrete_fields
    missing = [field for field in fields if field.attname not in given]
    positions = [given.index(field.attname) if field.attname in given else None for field in fields]
    defaults = {field.attname: field for field in missing if field.has_default()}

    def build(*values):
        return model(
            *[
                values[position]
                if position is not None
                else (defaults[field.attname].get_default() if field.attname in defaults else None)
                for field, position in zip(fields, positions, strict=True)
            ]
        )

    return build


new_reading = _row_builder(Reading, ("machine_id", "metric", "timestamp", "value"))
new_position = _row_builder(Position, ("machine_id", "timestamp", "latitude", "longitude", "altitude"))
new_fault_code = _row_builder(FaultCode, ("machine_id", "timestamp", "identifier", "description", "severity", "source"))


class TelemetryBuffer:
    """Collects rows and stores them in chunks through fleet.services.telemetry_store."""

    def __init__(self, chunk_rows: int = CHUNK_ROWS):
        self.chunk_rows = chunk_rows
        self.readings: list[Reading] = []
        self.positions: list[Position] = []
        self.fault_codes: list[FaultCode] = []
        self.rows = 0

    def __len__(self):
        return len(self.readings) + len(self.positions) + len(self.fault_codes)

    def flush(self) -> None:
        if not len(self):
            return
        self.rows += len(self)
        # One transaction per chunk: a machine's stored telemetry is always a prefix of its history, which is what a
        # second run resumes from.
        with transaction.atomic():
            telemetry_store(readings=self.readings, positions=self.positions, fault_codes=self.fault_codes)
        self.readings, self.positions, self.fault_codes = [], [], []

    def flush_if_full(self) -> None:
        if len(self) >= self.chunk_rows:
            self.flush()


# --- one day ---------------------------------------------------------------------------------------------------------


def _day_origin(day: dt.date) -> dt.datetime:
    """Local midnight of `day` in UTC (shifts run in daytime, far from the 2–3 am clock changes)."""
    # UTC midnight minus the offset in force at local noon, written without a naive datetime.
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=LOCAL).astimezone(UTC) - dt.timedelta(hours=12)


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=LOCAL).astimezone(UTC)


class _Day:
    """One day of one machine being played: its random stream, its site and the rows it adds. The methods draw from
    the random stream in a fixed order, so a day always plays the same."""

    def __init__(self, machine: DemoMachine, day: dt.date, state: dict[str, float], buffer: TelemetryBuffer, keep):
        self.machine, self.state, self.buffer, self.keep = machine, state, buffer, keep
        self.rng = random.Random(machine.seed * 1_000_033 + day.toordinal())
        self.model, self.machine_class = machine.model, machine.model.machine_class
        self.pk = machine.machine.pk
        self.origin = _day_origin(day)
        self.site, self.parked = site_on(machine, day)
        self.works = self.rng.random() < work_probability(machine, day, self.site)
        self.fuel_today = 0.0
        self.load_factor = 0.0

    def moment(self, hour: float) -> dt.datetime:
        return self.origin + dt.timedelta(seconds=round(hour * 3600))

    def read(self, at: dt.datetime, metric: str, value: float) -> None:
        self.buffer.readings.append(new_reading(self.pk, metric, at, value))

    def add(self, metric: str, amount: float) -> None:
        if metric in self.state:
            self.state[metric] = round(self.state[metric] + amount, STATE_PRECISION[metric])

    def position(self, at: dt.datetime, latitude: float, longitude: float) -> None:
        altitude = round(self.site.altitude + self.rng.uniform(-2, 2), 1)
        self.buffer.positions.append(new_position(self.pk, at, round(latitude, 6), round(longitude, 6), altitude))

    def fault(self, at: dt.datetime, identifier: str) -> None:
        if self.keep(at):
            code = FAULTS_BY_ID[identifier]
            self.buffer.fault_codes.append(
                new_fault_code(self.pk, at, code.identifier, code.description, code.severity, code.source)
            )

    def volts(self, running: bool) -> float:
        machine = self.machine
        if self.model.electric:
            low, high = (25.3, 25.9) if running else (24.1, 24.7)
        elif running:
            low, high = (27.6, 28.6) if machine.volts == 24 else (13.8, 14.4)
        else:
            low, high = (24.7, 25.4) if machine.volts == 24 else (12.4, 12.8)
        return round(self.rng.uniform(low, high), 2)

    def morning_round(self) -> None:
        """Refuel a low tank, top up the DEF (now and then forgotten)."""
        model, state, rng = self.model, self.state, self.rng
        if model.has_fuel and state[Metric.FUEL_REMAINING] < rng.uniform(20, 35):
            state[Metric.FUEL_REMAINING] = round(rng.uniform(92, 100), 1)
        if model.has_def and (
            state[Metric.DEF_REMAINING] < 15 or (state[Metric.DEF_REMAINING] < 25 and rng.random() < 0.6)
        ):
            state[Metric.DEF_REMAINING] = round(rng.uniform(90, 100), 1)

    def work(self, hours: float, idle_share: float, burn: float) -> float:
        """Run the counters on by `hours` of engine time; returns the fuel burnt."""
        model, machine_class, rng = self.model, self.machine_class, self.rng
        idle = hours * idle_share
        work = hours - idle
        fuel = work * burn + idle * burn * IDLE_BURN if model.has_fuel else 0.0
        self.add(Metric.OPERATING_HOURS, hours)
        self.add(Metric.IDLE_HOURS, idle)
        self.add(Metric.FUEL_USED, fuel)
        self.add(Metric.FUEL_REMAINING, -fuel / machine_class.tank * 100)
        self.add(Metric.DEF_REMAINING, -fuel * DEF_PER_FUEL / (machine_class.tank * 0.12) * 100)
        self.add(Metric.DISTANCE, work * machine_class.travel * rng.uniform(0.6, 1.2))
        loads = round(work * machine_class.loads_per_hour * rng.uniform(0.8, 1.15))
        self.add(Metric.LOAD_COUNT, loads)
        self.add(Metric.PAYLOAD_TOTAL, loads * model.tonnes_per_load * rng.uniform(0.88, 1.04))
        self.add(Metric.ACTIVE_REGENERATION_HOURS, hours * rng.uniform(0.005, 0.03))
        self.add(Metric.POWER_TAKE_OFF_HOURS, work * rng.uniform(0.5, 0.8))
        return fuel

    def tanks_checked(self, at: dt.datetime, def_warned: bool) -> bool:
        """The bowser comes round for a nearly empty tank; a low DEF raises its fault once, an empty one is topped
        up. Returns whether the DEF warning has been raised today."""
        model, state, rng = self.model, self.state, self.rng
        if model.has_fuel and state[Metric.FUEL_REMAINING] < 6:
            state[Metric.FUEL_REMAINING] = round(rng.uniform(90, 98), 1)
        if model.has_def and state[Metric.DEF_REMAINING] < 8 and not def_warned:
            self.fault(at, "1761-18")
            def_warned = True
        if model.has_def and state[Metric.DEF_REMAINING] < 2:
            state[Metric.DEF_REMAINING] = round(rng.uniform(90, 100), 1)  # the engine derates: topped up
        return def_warned

    def report(self, at: dt.datetime, *, running: bool, first: bool, warm: bool) -> None:
        """The readings of one moment of the working day, and where the machine is."""
        model, state, rng = self.model, self.state, self.rng
        self.read(at, Metric.ENGINE_RUNNING, 1.0 if running else 0.0)
        self.read(at, Metric.OPERATING_HOURS, state[Metric.OPERATING_HOURS])
        self.read(at, Metric.IDLE_HOURS, state[Metric.IDLE_HOURS])
        if model.has_fuel:
            self.read(at, Metric.FUEL_USED, state[Metric.FUEL_USED])
            self.read(at, Metric.FUEL_REMAINING, state[Metric.FUEL_REMAINING])
            if running and warm:
                self.read(at, Metric.COOLANT_TEMPERATURE, round(rng.uniform(82, 93), 1))
        if first:
            self.read(at, Metric.BATTERY_VOLTAGE, self.volts(True))
        spread, parked = self.site.spread, self.parked
        self.position(at, parked[0] + rng.uniform(-spread, spread), parked[1] + rng.uniform(-spread, spread))

    def working_day(self) -> None:
        machine, machine_class, rng = self.machine, self.machine_class, self.rng
        start = rng.uniform(6.0, 7.0) if machine_class.long_days else rng.uniform(6.5, 8.0)
        end = start + (rng.uniform(10.0, 11.5) if machine_class.long_days else rng.uniform(8.5, 10.0))
        lunch = not machine_class.long_days
        marks = sorted({start, end, 10.0, 15.0, *((12.0, 13.0) if lunch else ())})
        marks = [mark for mark in marks if start <= mark <= end]
        idle_share = rng.uniform(*machine_class.idle_share)
        if machine.recurring_fault:
            idle_share = min(0.6, idle_share + 0.15)
        self.load_factor = rng.uniform(*machine_class.load_factor)
        reference_load = sum(machine_class.load_factor) / 2
        on_ratio = rng.uniform(0.8, 0.97)
        burn = machine_class.burn * self.load_factor / reference_load

        self.morning_round()
        def_warned = False
        previous = start
        for mark in marks:
            at = self.moment(mark)
            running = mark != end and not (lunch and mark == 12.0)
            if mark > previous and not (lunch and previous == 12.0):
                self.fuel_today += self.work((mark - previous) * on_ratio, idle_share, burn)
                def_warned = self.tanks_checked(at, def_warned)
            previous = mark
            if self.keep(at):
                self.report(at, running=running, first=mark == start, warm=mark > start)
        self.faults_of_the_day(start, end)

    def faults_of_the_day(self, start: float, end: float) -> None:
        """A machine's known issue every working day, otherwise now and then."""
        machine, rng = self.machine, self.rng
        if machine.recurring_fault:
            self.fault(self.moment(rng.uniform(start + 1, end - 0.5)), machine.recurring_fault)
        if rng.random() < 0.03:
            candidates = [code for code in FAULTS if _applies(code.needs, machine)]
            code = rng.choice(candidates)
            hour = rng.uniform(start + 0.5, end - 0.2)
            self.fault(self.moment(hour), code.identifier)
            if code.identifier == "110-0" and self.keep(self.moment(hour)):
                self.read(self.moment(hour), Metric.COOLANT_TEMPERATURE, round(rng.uniform(104, 109), 1))

    def daily_report(self) -> None:
        """Working day or not: every counter, the last 24 h and where the machine is parked."""
        machine, model, rng = self.machine, self.model, self.rng
        at = self.moment(DAILY_REPORT_HOUR)
        if not self.keep(at):
            return
        self.read(at, Metric.ENGINE_RUNNING, 0.0)
        for metric in machine.state_metrics:
            self.read(at, metric, self.state[metric])
        if model.has_fuel:
            self.read(at, Metric.FUEL_USED_LAST_24, round(self.fuel_today, 1))
            if self.works:
                self.read(at, Metric.AVERAGE_LOAD_FACTOR_LAST_24, round(self.load_factor * 100, 1))
        if self.works and machine.has_travel:
            speed = self.machine_class.max_speed * rng.uniform(0.45, 1.0)
            self.read(at, Metric.PEAK_DAILY_SPEED, round(speed, 1))
        self.read(at, Metric.BATTERY_VOLTAGE, self.volts(False))
        self.position(at, *self.parked)


def simulate_day(
    machine: DemoMachine,
    day: dt.date,
    state: dict[str, float],
    buffer: TelemetryBuffer,
    keep: Callable[[dt.datetime], bool],
) -> None:
    """Play one day of `machine`, updating `state` in place and adding the rows `keep` accepts to `buffer`."""
    played = _Day(machine, day, state, buffer, keep)
    if played.works:
        played.working_day()
    played.daily_report()


def _applies(needs: str, machine: DemoMachine) -> bool:
    return {
        "": True,
        "fuel": machine.model.has_fuel,
        "filter": machine.model.has_particulate_filter,
        "def": machine.model.has_def,
        "travel": machine.has_travel,
    }[needs]


def simulate(
    machine: DemoMachine,
    *,
    first_day: dt.date,
    state: dict[str, float],
    since: dt.datetime,
    until: dt.datetime,
    buffer: TelemetryBuffer,
) -> None:
    """Play every day from `first_day` to the day of `until`, keeping the rows in [since, until]."""

    def keep(moment: dt.datetime) -> bool:
        return since <= moment <= until

    last_day = until.astimezone(LOCAL).date()
    day = first_day
    while day <= last_day:
        simulate_day(machine, day, state, buffer, keep)
        buffer.flush_if_full()
        day += dt.timedelta(days=1)
