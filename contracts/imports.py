"""Contracts from a CSV file (DESIGN §7): one row per contract line, read into one desired state per reference, every
error tied to its row and column. What French spreadsheets export works: UTF-8 with or without a BOM, commas or
semicolons, ISO dates or dd/mm/yyyy. Applying is contract_apply for each contract, in one transaction: nothing applies
unless the whole file is valid and every plan is free of conflicts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
import zoneinfo
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.actors import Actor
from fleet.data_packs import ALL_DATA_PACKS
from fleet.selectors import machines_owned_by
from hiboo_connect.api.fields import parse_instant
from hiboo_connect.dates import after_last_day
from hiboo_connect.errors import DomainError

from . import services
from .models import ContractStatus
from .plan import Desired, Line

#: Rows of one file: a few thousand contract lines (the bench previews 3,000).
ROWS_MAX = 5000
COLUMNS = [
    "reference",
    "recipient",
    "recipientOrganisationName",
    "assetId",
    "make",
    "serialNumber",
    "lineReference",
    "startDate",
    "endDate",
    "dataPacksCodes",
    "status",
    "customer",
    "site",
    "purchaseOrder",
    "project",
    "accountNumber",
]
PROPERTY_COLUMNS = ("customer", "site", "purchaseOrder", "project", "accountNumber")
#: The contract's own fields: every line of one contract must agree on them.
CONTRACT_COLUMNS = ("recipient", "recipientOrganisationName", "dataPacksCodes", "status", *PROPERTY_COLUMNS)
TEMPLATE_EXAMPLE = [
    "C-2026-0901",
    "site.manager@customer.example",
    "Customer Ltd",
    "",
    "Caterpillar",
    "CAT0320GCXYZ01234",
    "L1",
    "01/08/2026",
    "31/08/2026",
    "essential usage_hours",
    "active",
    "Customer Ltd",
    "Lyon Part-Dieu",
    "PO-7781",
    "",
    "",
]
#: The services' field names → the file's columns, for a refusal of a whole contract.
CONTRACT_FIELD_COLUMNS = {
    "recipient_email": "recipient",
    "recipient_organisation_name": "recipientOrganisationName",
    "reference": "reference",
}
DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def template_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(TEMPLATE_EXAMPLE)
    return out.getvalue()


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str
    code: str
    message: str

    def as_json(self) -> dict:
        return {"row": self.row, "column": self.column or None, "code": self.code, "message": self.message}


@dataclass
class _Contract:
    first_row: int
    values: dict[str, str]
    lines: list[Line] = field(default_factory=list)
    starts: list[dt.datetime] = field(default_factory=list)
    ends: list[dt.datetime | None] = field(default_factory=list)


class CsvInvalid(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvInvalid(
            [RowError(0, "", "invalid_encoding", _("Save the file as CSV in UTF-8 (with or without a BOM)."))]
        ) from None


def _rows(text: str) -> tuple[list[str], list[list[str]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise CsvInvalid([RowError(1, "", "empty_file", _("The file is empty: start from the template."))])
    return [name.strip() for name in rows[0]], rows[1:]


def _date(value: str, *, column: str, end: bool, time_zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """An instant from ISO 8601 (a date alone, or a date and time with its zone) or dd/mm/yyyy, read in the
    organisation's time zone. A day alone ends at the end of that day: a rental until 31/08 includes the 31st."""
    day = None
    try:
        if match := DAY_FIRST.fullmatch(value):
            day = dt.date(int(match[3]), int(match[2]), int(match[1]))
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("Give a date as dd/mm/yyyy or yyyy-mm-dd.")) from None
    if day is None:
        return parse_instant(value)
    if after_last_day(day):
        if column == "endDate":
            raise ValueError(_("The end cannot be after 31 December 2099; leave it empty for an open-ended sharing."))
        raise ValueError(_("The start cannot be after 31 December 2099."))
    if end:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time.min, tzinfo=time_zone).astimezone(dt.UTC)


class _Reader:
    def __init__(self, *, owner, header: list[str]):
        self.owner = owner
        self.time_zone = zoneinfo.ZoneInfo(owner.timezone)
        self.header = header
        self.errors: list[RowError] = []
        self.contracts: dict[str, _Contract] = {}

    def error(self, row: int, column: str, code: str, message: str) -> None:
        self.errors.append(RowError(row, column, code, str(message)))

    def check_header(self) -> None:
        unknown = [name for name in self.header if name not in COLUMNS]
        for name in unknown:
            self.error(1, name, "unknown_column", _("Unknown column; the template lists the columns."))
        for name in ("reference", "recipient", "startDate"):
            if name not in self.header:
                self.error(1, name, "missing_column", _("This column is required."))

    def read(self, rows: list[list[str]]) -> None:
        machines = self._machines(rows)
        for index, cells in enumerate(rows, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            values = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(self.header)}
            self._row(index, values, machines)

    def _machines(self, rows: list[list[str]]) -> dict:
        """The owner's machines the file names by serial number: one query."""
        if "serialNumber" not in self.header:
            return {}
        column = self.header.index("serialNumber")
        serials = {cells[column].strip() for cells in rows if column < len(cells) and cells[column].strip()}
        by_serial: dict[str, list] = {}
        for machine in (
            machines_owned_by(self.owner).filter(serial_number__in=serials).only("pk", "make", "serial_number")
        ):
            by_serial.setdefault(machine.serial_number.lower(), []).append(machine)
        return by_serial

    def _asset(self, row: int, values: dict, machines: dict) -> uuid.UUID | None:
        if values.get("assetId"):
            try:
                return uuid.UUID(values["assetId"])
            except ValueError:
                self.error(row, "assetId", "invalid_asset_id", _("Give an asset id (a UUID)."))
                return None
        serial = values.get("serialNumber", "")
        if not serial:
            self.error(row, "assetId", "asset_required", _("Give the asset id, or its serial number (and make)."))
            return None
        found = machines.get(serial.lower(), [])
        if values.get("make"):
            found = [machine for machine in found if machine.make.lower() == values["make"].lower()]
        if len(found) == 1:
            return found[0].pk
        if not found:
            self.error(row, "serialNumber", "unknown_machine", _("None of your machines has this serial number."))
        else:
            self.error(
                row, "make", "ambiguous_serial_number", _("Several machines have this serial number: give the make.")
            )
        return None

    def _row(self, row: int, values: dict, machines: dict) -> None:
        reference = values.get("reference", "")
        if not reference:
            self.error(row, "reference", "reference_required", _("Give the contract's reference."))
            return
        asset_id = self._asset(row, values, machines)
        dates: dict[str, dt.datetime | None] = {}
        for column in ("startDate", "endDate"):
            text = values.get(column, "")
            if not text:
                dates[column] = None
                continue
            try:
                dates[column] = _date(text, column=column, end=column == "endDate", time_zone=self.time_zone)
            except ValueError as error:
                self.error(row, column, "invalid_date", str(error) or _("Give a date as dd/mm/yyyy or yyyy-mm-dd."))
        if values.get("startDate", "") == "":
            self.error(row, "startDate", "start_required", _("Give a start date."))
        self._contract_values(row, reference, values)
        if asset_id is None or "startDate" not in dates or dates.get("startDate") is None:
            return
        contract = self.contracts[reference]
        start, end = dates["startDate"], dates.get("endDate")
        if end is not None and start is not None and end <= start:
            self.error(row, "endDate", "end_before_start", _("The end must be after the start."))
            return
        contract.lines.append(Line(asset_id, values.get("lineReference", "")[:100], start, end))
        contract.starts.append(start)  # type: ignore[arg-type]
        contract.ends.append(end)

    def _contract_values(self, row: int, reference: str, values: dict) -> None:
        own = {name: values.get(name, "") for name in CONTRACT_COLUMNS}
        status = own["status"] or ContractStatus.ACTIVE
        if status not in ContractStatus.values:
            self.error(row, "status", "invalid_status", _("Give one of: %s.") % ", ".join(ContractStatus.values))
        packs = own["dataPacksCodes"].replace(",", " ").split()
        unknown = [code for code in packs if code not in ALL_DATA_PACKS]
        if unknown:
            self.error(row, "dataPacksCodes", "unknown_data_pack", _("Unknown data pack: %s.") % ", ".join(unknown))
        known = self.contracts.get(reference)
        if known is None:
            self.contracts[reference] = _Contract(first_row=row, values=own)
            return
        for name in CONTRACT_COLUMNS:
            if own[name] != known.values[name]:
                self.error(
                    row,
                    name,
                    "contract_mismatch",
                    _("Every line of contract “%(reference)s” must give the same value as row %(row)d.")
                    % {"reference": reference, "row": known.first_row},
                )

    def desired_states(self) -> list[tuple[Desired, int]]:
        """Each contract's desired state and the row it first appears on."""
        desired = []
        for reference, contract in self.contracts.items():
            values = contract.values
            ends = contract.ends
            desired.append(
                (
                    Desired(
                        reference=reference,
                        status=values["status"] or ContractStatus.ACTIVE,
                        recipient_email=values["recipient"],
                        recipient_organisation_name=values["recipientOrganisationName"],
                        start_at=min(contract.starts),
                        end_at=None if not ends or None in ends else max(end for end in ends if end is not None),
                        data_packs=tuple(values["dataPacksCodes"].replace(",", " ").split()) or ALL_DATA_PACKS,
                        properties={name: values[name] for name in PROPERTY_COLUMNS if values[name]},
                        lines=tuple(contract.lines),
                    ),
                    contract.first_row,
                )
            )
        return desired


def contracts_read(*, owner, raw: bytes) -> list[tuple[Desired, int]]:
    """The desired state of each contract of the file, or CsvInvalid with every error by row and column."""
    header, rows = _rows(_text(raw))
    if len(rows) > ROWS_MAX:
        raise CsvInvalid([RowError(ROWS_MAX + 2, "", "too_many_rows", _("A file holds at most %d lines.") % ROWS_MAX)])
    reader = _Reader(owner=owner, header=header)
    reader.check_header()
    if reader.errors:
        raise CsvInvalid(reader.errors)
    reader.read(rows)
    if not reader.contracts and not reader.errors:
        reader.error(2, "", "no_rows", _("The file has no lines."))
    if reader.errors:
        raise CsvInvalid(reader.errors)
    return reader.desired_states()


@dataclass(frozen=True)
class ImportResult:
    dry_run: bool
    results: list[services.ApplyResult]

    @property
    def conflicts(self) -> int:
        return sum(len(result.plan.conflicts) for result in self.results)


class ImportConflict(Exception):
    def __init__(self, result: ImportResult):
        super().__init__("conflicts")
        self.result = result


def contracts_import(*, actor: Actor, raw: bytes, dry_run: bool = False) -> ImportResult:
    """Read the file and apply (or preview) every contract in it, in one transaction: any invalid row refuses the
    file (CsvInvalid, nothing applied), any conflict in any plan refuses it too (ImportConflict, with the plans). A
    preview (dry run) answers the plans, conflicts included."""
    desired_states = contracts_read(owner=actor.organisation, raw=raw)
    results: list[services.ApplyResult] = []
    errors: list[RowError] = []
    # A preview reads what every contract's plan needs at once; an apply reads each contract under its lock.
    facts = (
        services.contract_facts(owner=actor.organisation, desired_states=[d for d, _row in desired_states])
        if dry_run
        else None
    )
    with transaction.atomic():
        for desired, first_row in desired_states:
            try:
                result = services.contract_apply(
                    actor=actor, reference=desired.reference, desired=desired, dry_run=dry_run, facts=facts
                )
            except services.ContractConflict as conflict:
                result = conflict.result
            except DomainError as error:
                column = CONTRACT_FIELD_COLUMNS.get(error.field or "", error.field or "")
                errors.append(RowError(first_row, column, error.code, error.message))
                continue
            results.append(result)
        if errors:
            raise CsvInvalid(errors)
        outcome = ImportResult(dry_run, results)
        if outcome.conflicts and not dry_run:
            raise ImportConflict(outcome)
    return outcome
