"""The share centre's CSV export: the filtered list of sharings, one row each, dates in the current (the
organisation's) time zone. The view filters with the list's FilterSet and hands the sharings here.

The file streams: rows are read a chunk at a time and written as they come, so memory stays flat whatever the number of
rows. Everything translated (the header, the status labels, yes and no) and the time zone are taken once, while the
request is active, never per row. The status shown is the one the dates give now (SharingQuerySet.status_expression),
never the cached column. Every cell of text someone typed is neutralised where a spreadsheet would run it as a formula
(hiboo_connect.csv_cells, in SQL). The file is handed to the response a chunk of lines at a time.

On PostgreSQL the query writes nearly every cell as text: the dates in the time zone (hiboo_connect.dates
.LocalMinutes), the ids, each sharing's machines (one subquery, sharing.selectors); Python only looks up the labels and
decodes each distinct JSON text once a chunk, so one statement reads the whole file. Elsewhere (SQLite) the dates are
written in Python and each chunk's machines are read with one more query; the bytes are the same."""

import csv
import json
from collections.abc import Iterator
from itertools import islice
from zoneinfo import ZoneInfo

from django.db.models import F, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from hiboo_connect.csv_cells import csv_cell, csv_cell_expression, csv_row
from hiboo_connect.dates import LocalMinutes, database_knows_zone, local_minutes

from . import selectors
from .lifecycle import SharingStatus
from .models import SharingQuerySet

#: Rows fetched per round trip.
CHUNK = 2000

#: The columns whose text someone typed, each written through csv_cell.
_TYPED = ("reference", "owner__name", "beneficiary__name", "recipient_email", "recipient_organisation_name")
#: The dates, in the export's order: start, end, stopped at, created at.
_DATES = ("start_at", "end_at", "stopped_at", "created_at")


class _Echo:
    """A file that hands back what is written to it, so csv.writer yields lines to stream."""

    def write(self, value):
        return value


def sharings_filename() -> str:
    return f"sharings-{timezone.localdate():%Y-%m-%d}.csv"


def sharings_header() -> list[str]:
    """The export's first line, in the active language."""
    return [
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


def sharings_lines(sharings) -> Iterator[str]:
    """The CSV lines of `sharings` (a filtered, ordered queryset), header first."""
    header = sharings_header()
    statuses = {status: str(label) for status, label in SharingStatus.choices}
    notifications = {True: _("yes"), False: _("no")}
    tz, now = timezone.get_current_timezone(), timezone.now()
    # The database writes the dates in a time zone it knows by the same name; any other is written in Python (a zone
    # newer than the database's tz data, say): the same bytes, never an error halfway through the file.
    zone = tz.key if isinstance(tz, ZoneInfo) and database_knows_zone(tz.key) else None
    return _lines(header, sharings, statuses=statuses, notifications=notifications, tz=tz, zone=zone, now=now)


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


def _columns(*, now, zone: str | None) -> list:
    """What the query selects, one per cell of a row in the file's order but the machines (read a chunk at a time):
    with a time zone `zone` (PostgreSQL), the cells as written but the status, the JSON columns and the
    notifications; without, the id and the dates as stored (_written_in_python writes them)."""
    typed = [csv_cell_expression(F(name)) for name in _TYPED]
    # The two JSON columns as the database's text: each distinct text is decoded and written once a chunk (most
    # sharings of an organisation carry the same packs and few properties), not decoded by the driver for every row.
    packs, properties = Cast("data_packs", TextField()), Cast("properties", TextField())
    status = SharingQuerySet.status_expression(now)
    pk: str | Cast = "pk" if zone is None else Cast("pk", TextField())
    dates: list[F | LocalMinutes] = [F(name) if zone is None else LocalMinutes(F(name), zone) for name in _DATES]
    start, end, stopped, created = dates
    return [pk, status, *typed, start, end, stopped, packs, properties, "notification_enabled", created]


#: The machines cells of a sharing without machines.
_NO_MACHINES = ("", "")


def _machines_cells(sharing_ids: list) -> dict:
    """Sharing id → its machines' cells (names, ids), as PostgreSQL joins them: one query for a chunk."""
    joined = selectors.machines_of_sharings_joined(sharing_ids)
    return {sharing_id: (csv_cell(names), ids) for sharing_id, (names, ids) in joined.items()}


def _written_in_python(chunk: list[tuple], tz) -> tuple[list[tuple], dict]:
    """For a chunk read by _columns without a time zone: its rows with their dates written, and its machines' cells
    as _machines_cells writes them on PostgreSQL (one query)."""
    machines = {
        sharing_id: (
            csv_cell("; ".join(label for _machine_id, label in shared)),
            "; ".join(str(machine_id) for machine_id, _label in shared),
        )
        for sharing_id, shared in selectors.machines_of_sharings([values[0] for values in chunk]).items()
    }
    written = [
        (
            *values[:7],
            *(local_minutes(moment, tz) for moment in values[7:10]),
            *values[10:13],
            local_minutes(values[13], tz),
        )
        for values in chunk
    ]
    return written, machines


def _lines(header, sharings, *, statuses, notifications, tz, zone: str | None, now) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(csv_row(header))
    rows = sharings.values_list(*_columns(now=now, zone=zone)).iterator(chunk_size=CHUNK)
    while chunk := list(islice(rows, CHUNK)):
        if zone is None:
            chunk, machines = _written_in_python(chunk, tz)
        else:
            machines = _machines_cells([values[0] for values in chunk])
        packs_cells: dict = {}
        properties_cells: dict = {}
        lines = [
            writer.writerow(
                (
                    values[0],
                    statuses[values[1]],
                    *values[2:10],
                    *machines.get(values[0], _NO_MACHINES),
                    _cached(packs_cells, values[10], _packs_cell),
                    _cached(properties_cells, values[11], _properties_cell),
                    notifications[values[12]],
                    values[13],
                )
            )
            for values in chunk
        ]
        # One piece of the response per chunk: the response encodes each piece it is handed.
        yield "".join(lines)
