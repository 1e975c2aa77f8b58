"""`python manage.py import_readings FILE --organisation SLUG`: load readings, positions and fault codes of the
organisation's own machines from a CSV file or JSON lines, without the API.

Each row (or line) is one item of `POST /api/v1/readings`, checked and stored by the same service
(fleet.services.telemetry_ingest) in chunks of 10,000: a CSV has a header naming the item's fields (assetId or make
and serialNumber, metric, timestamp, value, latitude, longitude, altitude, code, description, severity, source;
empty cells are left out); JSON lines hold one object per line. Refused rows are reported with their line number;
the others are stored. The exit status is 1 when any row was refused."""

import csv
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from accounts.actors import Actor
from accounts.models import Organisation
from fleet.services import MAX_INGEST_ITEMS, IngestError, telemetry_ingest

NUMERIC_COLUMNS = ("value", "latitude", "longitude", "altitude")
#: Errors printed one by one; the rest are counted.
SHOWN_ERRORS = 100


def _csv_cell(name: str, cell: str):
    if name not in NUMERIC_COLUMNS:
        return cell
    if name == "value" and cell.lower() in ("true", "false"):
        return cell.lower() == "true"  # engine_running
    try:
        return float(cell)
    except ValueError:
        return cell  # refused by the service as "must be a number", with its line


def _csv_items(handle):
    """(line number, item) for each data row: the header is line 1."""
    reader = csv.DictReader(handle)
    for row in reader:
        extra = row.pop(None, None)  # more cells than the header names
        item = {name: _csv_cell(name, cell.strip()) for name, cell in row.items() if cell and cell.strip()}
        if extra:
            item["unnamed columns"] = extra
        yield reader.line_num, item


def _json_lines(handle):
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            yield number, _Unreadable()


class _Unreadable:
    """A line that is not JSON: the service refuses it as "not an object", with its line number."""


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number")


class Command(BaseCommand):
    help = "Import readings, positions and fault codes from a CSV or JSON-lines file (the items of POST /readings)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv file, or JSON lines (any other extension).")
        parser.add_argument("--organisation", required=True, help="The slug of the organisation owning the machines.")
        parser.add_argument("--format", choices=("csv", "jsonl"), help="Default: from the file's extension.")

    def handle(self, *args, **options):
        # An operator's tool, in English like the other commands (the refusals come from the service, translated):
        # whatever language the process last served a request in.
        with translation.override("en"):
            self._import(**options)

    def _import(self, *, file, organisation, format, **options):
        try:
            owner = Organisation.objects.get(slug=organisation)
        except Organisation.DoesNotExist:
            raise CommandError(f"No organisation with the slug {organisation!r}.") from None
        path = Path(file)
        kind = format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
        try:
            handle = path.open(encoding="utf-8-sig", newline="")
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        stored = duplicates = rows = 0
        errors: list[tuple[int, IngestError]] = []
        with handle:
            items = _csv_items(handle) if kind == "csv" else _json_lines(handle)
            try:
                for lines, chunk in self._chunks(items):
                    report = telemetry_ingest(actor=Actor.system(), organisation=owner, items=chunk)
                    stored, duplicates, rows = stored + report.stored, duplicates + report.duplicates, rows + len(chunk)
                    errors.extend((lines[error.index], error) for error in report.errors)
            except (UnicodeDecodeError, csv.Error) as error:
                raise CommandError(f"{file} is not readable as {kind}: {error}.") from None
        for line, refusal in errors[:SHOWN_ERRORS]:
            self.stderr.write(f"line {line}: {refusal.code}: {refusal.message}")
        if len(errors) > SHOWN_ERRORS:
            self.stderr.write(f"... and {len(errors) - SHOWN_ERRORS} more refused lines.")
        self.stdout.write(
            f"{rows} rows read for {owner.name}: {stored} stored, {duplicates} already there, {len(errors)} refused."
        )
        if errors:
            raise CommandError(f"{len(errors)} of {rows} rows were refused (see above); the others were stored.")

    @staticmethod
    def _chunks(items):
        lines, chunk = [], []
        for line, item in items:
            lines.append(line)
            chunk.append(item)
            if len(chunk) == MAX_INGEST_ITEMS:
                yield lines, chunk
                lines, chunk = [], []
        if chunk:
            yield lines, chunk
