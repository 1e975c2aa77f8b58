"""A machine's CSV export: everything visible of a period in one sheet, in time order, streamed. The view reads the
rows through the page's access scope and hands them here; this module only lays them out."""

import csv
import datetime as dt
import heapq
from collections.abc import Iterator

from django.utils.translation import gettext as _

from hiboo_connect.csv_cells import csv_row

from .data_packs import METRICS, DataPack, pack_of_metric

#: The kinds of row of the CSV export, in the "Kind" column. Codes rather than translated words, like the metric and
#: data pack columns: a spreadsheet filter or a script keeps working whoever exported the file.
EXPORT_READING, EXPORT_POSITION, EXPORT_FAULT = "reading", "position", "fault"
#: Rows fetched per round trip while streaming.
CHUNK = 2000


class _Echo:
    """A file that hands back what is written to it, so csv.writer yields lines to stream."""

    def write(self, value):
        return value


def machine_period_filename(machine, period) -> str:
    return f"{machine.serial_number}-{period.first.isoformat()}-{period.last.isoformat()}.csv"


def machine_period_lines(*, readings, positions, faults, tz: dt.tzinfo) -> Iterator[str]:
    """The CSV lines of a period: the numeric readings, the positions and the fault codes (three querysets of value
    tuples, each in time order), one row each with a "Kind" column to filter on, so a fleet manager sees what happened
    when in one sheet (an hour counter stalling next to a fault, a move between sites). Times in `tz`, with their
    offset. The header is translated now, in the request's language; the rows are read as the file streams."""
    header = [
        _("Time"),
        _("Kind"),
        _("Metric"),
        _("ISO 15143-3 name"),
        _("Value"),
        _("Unit"),
        _("Data pack"),
        _("Latitude"),
        _("Longitude"),
        _("Altitude (m)"),
        _("Fault code"),
        _("Description"),
        _("Severity"),
        _("Source"),
    ]
    return _lines(header, readings=readings, positions=positions, faults=faults, tz=tz)


def _lines(header, *, readings, positions, faults, tz) -> Iterator[str]:
    nothing = [""] * 4

    def reading_rows():
        for timestamp, metric, value in readings.iterator(chunk_size=CHUNK):
            info = METRICS.get(metric)
            iso_name, unit = (info.iso_name, info.unit) if info else ("", "")
            pack = pack_of_metric(metric)
            yield timestamp, [EXPORT_READING, metric, iso_name, value, unit, pack, "", "", "", *nothing]

    def position_rows():
        for timestamp, latitude, longitude, altitude in positions.iterator(chunk_size=CHUNK):
            location = ["location", "Location", "", "", DataPack.ESSENTIAL.value]
            altitude = "" if altitude is None else altitude
            yield timestamp, [EXPORT_POSITION, *location, latitude, longitude, altitude, *nothing]

    def fault_rows():
        for timestamp, identifier, description, severity, source in faults.iterator(chunk_size=CHUNK):
            pack = DataPack.FAULT_CODES.value
            yield timestamp, [EXPORT_FAULT, "", "", "", "", pack, "", "", "", identifier, description, severity, source]

    writer = csv.writer(_Echo())
    yield writer.writerow(csv_row(header))
    # Each query is already in time order: merging them keeps the file in time order without sorting it.
    merged = heapq.merge(reading_rows(), position_rows(), fault_rows(), key=lambda row: row[0])
    for timestamp, row in merged:
        yield writer.writerow(csv_row([timestamp.astimezone(tz).isoformat(), *row]))
