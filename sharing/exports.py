"""The share centre's CSV export: the filtered list of sharings, one row each, dates in the current (the
organisation's) time zone. The view filters with the list's FilterSet and hands the sharings here.

The file streams: rows are read as plain values (no model objects) a chunk at a time, with one query for the machines
of each chunk, and written as they come, so memory stays flat whatever the number of rows. Everything translated (the
header, the status labels, yes and no) and the time zone are taken once, while the request is active, never per row.
The status shown is the one the dates give now, never the cached column. Every cell of text someone typed goes
through hiboo_connect.csv_cells (text a spreadsheet would run as a formula is neutralised); the file is handed to the
response a chunk of lines at a time."""

import csv
import datetime as dt
import json
from collections.abc import Iterator
from itertools import islice

from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from hiboo_connect.csv_cells import csv_cell, csv_row

from . import selectors
from .lifecycle import SharingStatus, sharing_status

#: Rows fetched per round trip.
CHUNK = 2000

_COLUMNS = (
    "pk",
    "beneficiary_id",
    "reference",
    "owner__name",
    "beneficiary__name",
    "recipient_email",
    "recipient_organisation_name",
    "start_at",
    "end_at",
    "stopped_at",
    # The two JSON columns as the database's text: each distinct text is decoded and written once a chunk (most
    # sharings of an organisation carry the same packs and few properties), not decoded by the driver for every row.
    Cast("data_packs", TextField()),
    Cast("properties", TextField()),
    "notification_enabled",
    "created_at",
)


class _Echo:
    """A file that hands back what is written to it, so csv.writer yields lines to stream."""

    def write(self, value):
        return value


def sharings_filename() -> str:
    return f"sharings-{timezone.localdate():%Y-%m-%d}.csv"


def sharings_lines(sharings) -> Iterator[str]:
    """The CSV lines of `sharings` (a filtered, ordered queryset), header first."""
    header = [
        _("Id"),
        _("Status"),
        _("Reference"),
        _("Owner"),
        _("Beneficiary"),
        _("Recipient"),
        _("Recipient's organisation"),
        _("Start"),
        _("End"),
        _("Stopped at"),
        _("Machines"),
        _("Machine ids"),
        _("Data packs"),
        _("Properties"),
        _("Notifications"),
        _("Created at"),
    ]
    statuses = {status: str(label) for status, label in SharingStatus.choices}
    notifications = {True: _("yes"), False: _("no")}
    tz, now = timezone.get_current_timezone(), timezone.now()
    return _lines(header, sharings, statuses=statuses, notifications=notifications, tz=tz, now=now)


def _local(moment, tz: dt.tzinfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="minutes") if moment else ""


def _cached(cells: dict, text: str | None, make) -> str:
    cell = cells.get(text)
    if cell is None:
        cell = cells[text] = make(text)
    return cell


def _packs_cell(text: str | None) -> str:
    return "; ".join(json.loads(text)) if text else ""


def _properties_cell(text: str | None) -> str:
    properties = json.loads(text) if text else None
    return csv_cell(json.dumps(properties, ensure_ascii=False, sort_keys=True)) if properties else ""


def _lines(header, sharings, *, statuses, notifications, tz, now) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(csv_row(header))
    rows = sharings.values_list(*_COLUMNS).iterator(chunk_size=CHUNK)
    while chunk := list(islice(rows, CHUNK)):
        machines = selectors.machines_of_sharings([row[0] for row in chunk])
        packs_cells: dict = {}
        properties_cells: dict = {}
        lines = []
        for values in chunk:
            (pk, beneficiary_id, reference, owner, beneficiary, email, recipient_name) = values[:7]
            (start_at, end_at, stopped_at, packs, properties, notify, created_at) = values[7:]
            status = sharing_status(
                beneficiary_known=beneficiary_id is not None,
                start_at=start_at,
                end_at=end_at,
                stopped_at=stopped_at,
                now=now,
            )
            shared = machines.get(pk, ())
            # Cells of text someone typed go through csv_cell; the others (an id, a status label, a date, yes / no,
            # machine ids, data pack codes) are written here and never start like a formula.
            row = [
                pk,
                statuses[status],
                csv_cell(reference),
                csv_cell(owner),
                csv_cell(beneficiary or ""),
                csv_cell(email),
                csv_cell(recipient_name),
                _local(start_at, tz),
                _local(end_at, tz),
                _local(stopped_at, tz),
                csv_cell("; ".join(label for _machine_id, label in shared)),
                "; ".join(str(machine_id) for machine_id, _label in shared),
                _cached(packs_cells, packs, _packs_cell),
                _cached(properties_cells, properties, _properties_cell),
                notifications[notify],
                _local(created_at, tz),
            ]
            lines.append(writer.writerow(row))
        # One piece of the response per chunk: the response encodes each piece it is handed.
        yield "".join(lines)
