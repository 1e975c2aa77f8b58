"""Writes on workspaces, machines and telemetry. Storing a reading that is already there is harmless (ON CONFLICT DO
NOTHING); on PostgreSQL telemetry arrives through COPY."""

import dataclasses
import datetime as dt
import itertools
import operator
from collections.abc import Iterable
from typing import Any, NamedTuple, cast

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Organisation
from audit.services import audit_record
from hiboo_connect.errors import InvalidInput, NotAllowed
from hiboo_connect.text import single_line

from .audit import AuditAction, AuditTarget
from .ingest import FAULT, POSITION, ItemRefused, parse_item
from .models import FaultCode, Machine, Position, Reading, Workspace

BATCH_SIZE = 5000


# --- workspaces ------------------------------------------------------------------------------------------------------


def _clean_workspace_name(name: str) -> str:
    name = single_line(name)
    if not name:
        raise InvalidInput("name_required", _("Give the workspace a name."), field="name")
    if len(name) > cast(int, Workspace._meta.get_field("name").max_length):
        raise InvalidInput("name_too_long", _("The name is too long (120 characters at most)."), field="name")
    return name


def _audit_workspace(
    *, actor: Actor, workspace: Workspace, action: str, changes, now: dt.datetime | None = None
) -> None:
    audit_record(
        actor=actor,
        organisation=workspace.organisation,
        target_type=AuditTarget.WORKSPACE,
        target_id=workspace.pk,
        action=action,
        changes=changes,
        now=now or timezone.now(),
    )


@transaction.atomic
def workspace_create(*, actor: Actor, name: str, now: dt.datetime | None = None) -> Workspace:
    organisation = actor.organisation
    if organisation is None:  # the system acts for an organisation it is given; a workspace needs one
        raise NotAllowed("not_your_organisation", _("This belongs to another organisation."))
    actor.require_admin_of(organisation)
    name = _clean_workspace_name(name)
    try:
        with transaction.atomic():
            workspace = Workspace.objects.create(organisation=organisation, name=name)
    except IntegrityError:
        raise InvalidInput("name_taken", _("A workspace with this name already exists."), field="name") from None
    _audit_workspace(
        actor=actor, workspace=workspace, action=AuditAction.CREATED, changes=[("name", None, name)], now=now
    )
    return workspace


@transaction.atomic
def workspace_rename(*, actor: Actor, workspace: Workspace, name: str) -> Workspace:
    actor.require_admin_of(workspace.organisation)
    name = _clean_workspace_name(name)
    if Workspace.objects.filter(organisation=workspace.organisation, name=name).exclude(pk=workspace.pk).exists():
        raise InvalidInput("name_taken", _("A workspace with this name already exists."), field="name")
    if name == workspace.name:
        return workspace
    changes = [("name", workspace.name, name)]
    workspace.name = name
    workspace.save(update_fields=["name"])
    _audit_workspace(actor=actor, workspace=workspace, action=AuditAction.RENAMED, changes=changes)
    return workspace


@transaction.atomic
def workspace_delete(*, actor: Actor, workspace: Workspace) -> None:
    """Deleting a workspace removes the grouping only; its machines stay in the fleet. The audit event keeps which
    machines it held."""
    actor.require_admin_of(workspace.organisation)
    held = [str(machine_id) for machine_id in workspace.machines.order_by("pk").values_list("pk", flat=True)]
    _audit_workspace(
        actor=actor,
        workspace=workspace,
        action=AuditAction.DELETED,
        changes=[("name", workspace.name, None), ("machines", held, None)],
    )
    workspace.delete()


# --- machines ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def machine_create(
    *,
    organisation: Organisation,
    make: str,
    model: str,
    serial_number: str,
    category: str,
    year: int | None = None,
    pin: str = "",
    workspaces: Iterable[Workspace] = (),
    now: dt.datetime | None = None,
) -> Machine:
    make, serial_number = make.strip(), serial_number.strip()
    if Machine.objects.filter(make=make, serial_number=serial_number).exists():
        raise InvalidInput(
            "machine_exists", _("A machine with this make and serial number already exists."), field="serial_number"
        )
    workspaces = list(workspaces)
    if any(workspace.organisation_id != organisation.pk for workspace in workspaces):
        raise InvalidInput(
            "workspace_not_yours", _("Workspaces must belong to the machine's owner."), field="workspaces"
        )
    machine = Machine.objects.create(
        organisation=organisation,
        make=make,
        model=model.strip(),
        serial_number=serial_number,
        category=category,
        year=year,
        pin=pin,
        created_at=now or timezone.now(),
    )
    machine.workspaces.set(workspaces)
    return machine


@transaction.atomic
def machine_set_workspaces(*, actor: Actor, machine: Machine, workspaces: Iterable[Workspace]) -> Machine:
    """Place one of the organisation's own machines in exactly these workspaces (none takes it out of all of them).
    Admins of the owner only; the workspaces must be the owner's own. A change is audited, as on received machines."""
    actor.require_admin_of(machine.organisation)
    workspaces_place(
        actor=actor,
        holder=machine,
        organisation=machine.organisation,
        target_type=AuditTarget.MACHINE,
        workspaces=workspaces,
        now=timezone.now(),
    )
    return machine


def workspaces_place(*, actor: Actor, holder, organisation: Organisation, target_type: str, workspaces, now) -> None:
    """Set the workspaces of a machine or a received machine (`holder`, which has a `workspaces` relation) to
    exactly `workspaces`, all of `organisation`, and audit the change. The caller has checked the actor's rights."""
    workspaces = list(workspaces)
    if any(workspace.organisation_id != organisation.pk for workspace in workspaces):
        raise InvalidInput("workspace_not_yours", _("Choose workspaces of your own organisation."), field="workspaces")
    before = sorted(str(pk) for pk in holder.workspaces.values_list("pk", flat=True))
    after = sorted(str(workspace.pk) for workspace in workspaces)
    if before == after:
        return
    holder.workspaces.set(workspaces)
    audit_record(
        actor=actor,
        organisation=organisation,
        target_type=target_type,
        target_id=holder.pk,
        action=AuditAction.WORKSPACES_CHANGED,
        changes=[("workspaces", before, after)],
        now=now,
    )


@dataclasses.dataclass(frozen=True)
class Stored:
    """What a telemetry_store call did with the rows of one kind: stored, or skipped as already there."""

    stored: int = 0
    duplicates: int = 0


@dataclasses.dataclass(frozen=True)
class TelemetryStored:
    readings: Stored = Stored()
    positions: Stored = Stored()
    fault_codes: Stored = Stored()

    @property
    def stored(self) -> int:
        return self.readings.stored + self.positions.stored + self.fault_codes.stored

    @property
    def duplicates(self) -> int:
        return self.readings.duplicates + self.positions.duplicates + self.fault_codes.duplicates


class ReadingRow(NamedTuple):
    """One reading to store, as telemetry_store takes it without a model instance (building 200,000 Reading objects
    costs more than storing them by COPY)."""

    machine_id: Any
    metric: str
    timestamp: dt.datetime
    value: float


# The columns a feed sends, per table; received_at is the moment of the call.
_TELEMETRY_COLUMNS = {
    Reading: ("machine_id", "metric", "timestamp", "value"),
    Position: ("machine_id", "timestamp", "latitude", "longitude", "altitude"),
    FaultCode: ("machine_id", "timestamp", "identifier", "description", "severity", "source"),
}


def telemetry_store(
    *,
    readings: Iterable[Reading | ReadingRow] = (),
    positions: Iterable[Position] = (),
    fault_codes: Iterable[FaultCode] = (),
) -> TelemetryStored:
    """Store telemetry in bulk. Rows already stored (same machine, metric or identifier, timestamp) are skipped, so
    a feed may resend a batch safely and late readings simply arrive. Returns how many rows of each kind were stored
    and how many were already there (or repeated within the call).

    On PostgreSQL the rows are COPied into a temporary staging table and moved with one INSERT … SELECT … ON CONFLICT
    DO NOTHING per kind, at about the speed of a plain COPY; elsewhere (SQLite) they go through bulk_create."""
    now = timezone.now()
    store = _store_by_copy if connection.vendor == "postgresql" else _store_by_bulk_create
    with transaction.atomic():
        return TelemetryStored(
            readings=store(Reading, readings, now),
            positions=store(Position, positions, now),
            fault_codes=store(FaultCode, fault_codes, now),
        )


def _store_by_copy(model, rows: Iterable, now) -> Stored:
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return Stored()
    columns = _TELEMETRY_COLUMNS[model]
    table = model._meta.db_table
    staging = f"{table}_staging"
    quoted = ", ".join(f'"{column}"' for column in columns)
    offered = 0
    with connection.cursor() as cursor:
        # The staging table has the table's column types and nothing else: no constraint, no index to maintain.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "
            f"SELECT {quoted} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} ({quoted}) FROM STDIN") as copy:
            values = operator.attrgetter(*columns)
            for row in itertools.chain([first], rows):
                copy.write_row(values(row))
                offered += 1
        cursor.execute(
            f"INSERT INTO {table} ({quoted}, received_at) SELECT {quoted}, %s FROM {staging} ON CONFLICT DO NOTHING",
            [now],
        )
        stored = cursor.rowcount
        cursor.execute(f"TRUNCATE {staging}")  # for a next call in the same transaction
    return Stored(stored=stored, duplicates=offered - stored)


def _store_by_bulk_create(model, rows: Iterable, now) -> Stored:
    rows = [row if isinstance(row, model) else model(**row._asdict()) for row in rows]
    if not rows:
        return Stored()
    changes_before = connection.connection.total_changes if connection.vendor == "sqlite" else None
    model.objects.bulk_create(rows, batch_size=BATCH_SIZE, ignore_conflicts=True)
    if changes_before is None:
        return Stored(stored=len(rows))
    stored = connection.connection.total_changes - changes_before
    return Stored(stored=stored, duplicates=len(rows) - stored)


# --- pushed readings -------------------------------------------------------------------------------------------------

#: Readings one push (an API call, a chunk of an import file) may carry.
MAX_INGEST_ITEMS = 10_000
#: Machines looked up per query when items name them (SQLite bounds the parameters of one statement).
_LOOKUP_CHUNK = 500


@dataclasses.dataclass(frozen=True)
class IngestError:
    index: int
    code: str
    message: str


@dataclasses.dataclass(frozen=True)
class IngestReport:
    """What one push did: rows stored, rows already there (or repeated in the push), items refused and why."""

    stored: int
    duplicates: int
    errors: tuple[IngestError, ...]

    @property
    def rejected(self) -> int:
        return len(self.errors)


def _owned_machines(organisation: Organisation, keys) -> tuple[dict, dict]:
    """The organisation's own machines that the items name: by id, and by (make without case, serial number). A
    machine of another organisation is simply not found, whether it exists or not."""
    ids = sorted({key.asset_id for key in keys if key.asset_id is not None})
    serials = sorted({key.serial_number for key in keys if key.asset_id is None})
    by_id, by_serial = {}, {}
    own = Machine.objects.filter(organisation=organisation).only("pk", "make", "serial_number")
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        for machine in own.filter(pk__in=ids[start : start + _LOOKUP_CHUNK]):
            by_id[machine.pk] = machine.pk
    for start in range(0, len(serials), _LOOKUP_CHUNK):
        for machine in own.filter(serial_number__in=serials[start : start + _LOOKUP_CHUNK]):
            by_serial[(machine.make.casefold(), machine.serial_number)] = machine.pk
    return by_id, by_serial


def telemetry_ingest(
    *, actor: Actor, organisation: Organisation, items: list, first_index: int = 0, now: dt.datetime | None = None
) -> IngestReport:
    """Store pushed readings, positions and fault codes of `organisation`'s own machines (DESIGN §8), at
    most MAX_INGEST_ITEMS at once. Each item is checked alone (fleet.ingest): a refused item is reported with its
    index (counted from `first_index`) and the others are stored, through telemetry_store's bulk path. Only the
    machine's owner may push: another organisation's machine is refused exactly like one that does not exist."""
    actor.require_admin_of(organisation)
    if len(items) > MAX_INGEST_ITEMS:
        raise InvalidInput(
            "too_many_readings",
            _("Send at most %(limit)d readings at once.") % {"limit": MAX_INGEST_ITEMS},
            field="readings",
        )
    now = now or timezone.now()
    errors: list[IngestError] = []
    parsed = []
    for offset, item in enumerate(items):
        try:
            parsed.append((first_index + offset, parse_item(item, now=now)))
        except ItemRefused as refusal:
            errors.append(IngestError(first_index + offset, refusal.code, refusal.message))
    by_id, by_serial = _owned_machines(organisation, [item.machine for _index, item in parsed])
    readings, positions, fault_codes = [], [], []
    for index, item in parsed:
        key = item.machine
        if key.asset_id is not None:
            machine_id = by_id.get(key.asset_id)
        else:
            machine_id = by_serial.get((key.make.casefold(), key.serial_number))
        if machine_id is None:
            errors.append(
                IngestError(
                    index, "unknown_machine", _("No machine of your organisation has this id or serial number.")
                )
            )
        elif item.kind == POSITION:
            positions.append(Position(machine_id=machine_id, timestamp=item.timestamp, **item.values))
        elif item.kind == FAULT:
            fault_codes.append(FaultCode(machine_id=machine_id, timestamp=item.timestamp, **item.values))
        else:
            readings.append(ReadingRow(machine_id, item.metric, item.timestamp, **item.values))
    result = telemetry_store(readings=readings, positions=positions, fault_codes=fault_codes)
    errors.sort(key=operator.attrgetter("index"))
    return IngestReport(stored=result.stored, duplicates=result.duplicates, errors=tuple(errors))
