"""The share centre's CSV export: the filtered list of sharings, one row each, dates in the current (the
organisation's) time zone. The view filters with the list's FilterSet and hands the sharings here.

The file streams: rows are read as plain values (no model objects) a chunk at a time, with one query for the machines
of each chunk, and written as they come, so memory stays flat whatever the number of rows. Everything translated (the
header, the status labels, yes and no) and the time zone are taken once, while the request is active, never per row.
The status shown is the one the dates give now, never the cached column. Every cell goes through
hiboo_connect.csv_cells (text a spreadsheet would run as a formula is neutralised)."""

import csv
import datetime as dt
import json
from collections.abc import Iterator
from itertools import islice

from django.utils import timezone
from django.utils.translation import gettext as _

from hiboo_connect.csv_cells import csv_row

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
    "data_packs",
    "properties",
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


def _lines(header, sharings, *, statuses, notifications, tz, now) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(csv_row(header))
    rows = sharings.values_list(*_COLUMNS).iterator(chunk_size=CHUNK)
    while chunk := list(islice(rows, CHUNK)):
        machines = selectors.machines_of_sharings([row[0] for row in chunk])
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
            row = [
                pk,
                statuses[status],
                reference,
                owner,
                beneficiary or "",
                email,
                recipient_name,
                _local(start_at, tz),
                _local(end_at, tz),
                _local(stopped_at, tz),
                "; ".join(label for _machine_id, label in shared),
                "; ".join(str(machine_id) for machine_id, _label in shared),
                "; ".join(packs),
                json.dumps(properties, ensure_ascii=False, sort_keys=True) if properties else "",
                notifications[notify],
                _local(created_at, tz),
            ]
            yield writer.writerow(csv_row(row))
