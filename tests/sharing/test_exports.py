"""The share centre's CSV export (sharing/exports.py) writes its cells in SQL: the dates in the time zone and the ids
on PostgreSQL, the status and the formula guard on every database. Here its bytes are held to those of the export as
it was written before, in Python from the stored values (kept below as the reference), over rows that reach every
branch of the formatting, in several time zones and in French; and the statements it runs are pinned."""

import csv
import datetime as dt
import json
import os
from itertools import islice
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo

import pytest
from django.db import connection
from django.db.models import DateTimeField, Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Organisation
from hiboo_connect import dates
from hiboo_connect.csv_cells import csv_cell, csv_row
from hiboo_connect.dates import LocalMinutes, local_minutes, showable
from sharing import exports, selectors
from sharing.lifecycle import SharingStatus, sharing_status
from sharing.models import Sharing
from tests.factories import MachineFactory, OrganisationFactory, SharingFactory, UserFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
#: Zones east and west of UTC, with half and three-quarter hours, summer time in either hemisphere.
ZONES = (
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "America/St_Johns",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
)
#: Around both of Paris's summer-time changes, with microseconds, local mean time (offsets with seconds) and the
#: limits showable pulls a stored moment inside.
MOMENTS = (
    dt.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),
    dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    dt.datetime(2026, 10, 25, 0, 59, 30, 1, tzinfo=UTC),
    dt.datetime(2026, 10, 25, 1, 0, 0, 500000, tzinfo=UTC),
    dt.datetime(2026, 7, 1, 22, 30, 15, tzinfo=UTC),
    dt.datetime(1890, 6, 1, 12, 0, tzinfo=UTC),
    dt.datetime(1, 1, 1, 3, 0, tzinfo=UTC),
    dt.datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC),
    dt.datetime(9999, 12, 31, 23, 30, tzinfo=UTC),
)


@pytest.fixture
def now(frozen):
    frozen(NOW)
    return NOW


# --- the reference: the export as it was written in Python (before the cells moved into SQL) -----------------------

_REFERENCE_COLUMNS = (
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


def _reference_lines(sharings) -> str:
    header, statuses, notifications, tz, now = _taken_once()
    writer = csv.writer(exports._Echo())
    lines = [writer.writerow(csv_row(header))]
    rows = sharings.values_list(*_REFERENCE_COLUMNS).iterator(chunk_size=exports.CHUNK)
    while chunk := list(islice(rows, exports.CHUNK)):
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
                csv_cell(reference),
                csv_cell(owner),
                csv_cell(beneficiary or ""),
                csv_cell(email),
                csv_cell(recipient_name),
                local_minutes(start_at, tz),
                local_minutes(end_at, tz),
                local_minutes(stopped_at, tz),
                csv_cell("; ".join(label for _machine_id, label in shared)),
                "; ".join(str(machine_id) for machine_id, _label in shared),
                "; ".join(packs),
                csv_cell(json.dumps(properties, ensure_ascii=False, sort_keys=True)) if properties else "",
                notifications[notify],
                local_minutes(created_at, tz),
            ]
            lines.append(writer.writerow(row))
    return "".join(lines)


def _taken_once():
    """The header, the labels, the time zone and the moment, as the export takes them from the request."""
    header = exports.sharings_header()
    statuses = {status: str(label) for status, label in SharingStatus.choices}
    notifications = {True: _("yes"), False: _("no")}
    return header, statuses, notifications, timezone.get_current_timezone(), timezone.now()


# --- the rows -------------------------------------------------------------------------------------------------------


@pytest.fixture
def sharings(db, now):
    """Sharings of one owner that reach every branch: each status, no beneficiary, empty and open ends, several
    machines (names that start like formulas, ties broken by serial), none, typed text starting with = + - @ tab
    and carriage return, empty and shared JSON, notifications on and off, and each of MOMENTS as a date."""
    owner = OrganisationFactory(name="=Rent & Go")
    beneficiaries = [OrganisationFactory(name="BuildCo"), OrganisationFactory(name="+33 Été"), None]
    machines = [
        MachineFactory(organisation=owner, make="Volvo", model="EC220E", serial_number="B-2"),
        MachineFactory(organisation=owner, make="Volvo", model="EC220E", serial_number="A-1"),
        MachineFactory(organisation=owner, make="-Bobcat", model="@E10", serial_number="Z"),
        MachineFactory(organisation=owner, make="Caterpillar", model="320", serial_number="X;9"),
    ]
    references = ["CTR-1", "=1+2", "+cmd", "-2", "@SUM(A1)", "\ttab", "\rreturn", "", 'quote "and" ,comma', "Été"]
    properties = [{}, {"site": "Lyon", "client": "Été & Co"}, {"site": "=1+1"}, {"b": 1, "a": [1, 2.5, None]}]
    packs = [["usage", "location"], ["usage"], []]
    created = []
    for index in range(24):
        start = MOMENTS[index % len(MOMENTS)]
        ends = [
            None,
            NOW - dt.timedelta(days=1),
            None if start.year == 9999 else start + dt.timedelta(days=3, microseconds=7),
        ]
        end = ends[index % 3]
        if end is not None and end <= start:
            end = None
        stopped = [None, None, None, NOW - dt.timedelta(hours=5, seconds=1)][index % 4]
        sharing = SharingFactory(
            owner=owner,
            beneficiary=beneficiaries[index % 3],
            machines=[machines[(index + shift) % 4] for shift in range(index % 4)],
            reference=references[index % len(references)],
            recipient_email=f"-r{index}@example.com" if index % 5 == 0 else f"r{index}@example.com",
            recipient_organisation_name=references[(index + 3) % len(references)],
            properties=properties[index % 4],
            data_packs=packs[index % 3],
            notification_enabled=index % 2 == 0,
            start_at=start,
            end_at=end,
            stopped_at=stopped,
        )
        # The creation date is never pulled inside the showable range (it is written by the product, never far out).
        Sharing.objects.filter(pk=sharing.pk).update(created_at=MOMENTS[index % 6])
        created.append(sharing)
    return Sharing.objects.filter(owner=owner).order_by("-start_at", "-created_at", "pk")


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_export_writes_the_bytes_the_python_export_wrote(sharings, zone, language, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 7)  # several chunks, the last one short
    with timezone.override(ZoneInfo(zone)), translation.override(language):
        written = "".join(exports.sharings_lines(sharings))
        expected = _reference_lines(sharings)
    assert written == expected
    assert written.count("\r\n") == 25
    if language == "fr":
        assert written.startswith("Identifiant,Statut,Référence,")


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ZONES)
def test_local_minutes_in_sql_is_its_python_twin(zone):
    if connection.vendor != "postgresql":
        # CI runs on PostgreSQL (tests/conftest.py stops a CI run on anything else): there this never skips.
        assert not os.environ.get("CI"), "CI runs LocalMinutes' test on PostgreSQL"
        pytest.skip("LocalMinutes is PostgreSQL's (DATABASE_URL=postgres://...)")
    Organisation.objects.bulk_create([OrganisationFactory.build()])
    texts = [
        Organisation.objects.annotate(text=LocalMinutes(Value(moment, output_field=DateTimeField()), zone))
        .values_list("text", flat=True)
        .first()
        for moment in MOMENTS
    ]
    assert texts == [local_minutes(showable(moment), ZoneInfo(zone)) for moment in MOMENTS]


def test_an_export_reads_its_rows_in_one_statement_and_its_machines_in_one_per_chunk(client, sharings, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 10)
    owner = sharings.first().owner
    client.force_login(UserFactory(organisation=owner))
    response = client.get("/sharings/export.csv")
    with CaptureQueriesContext(connection) as queries:
        content = b"".join(response.streaming_content)
    assert content.count(b"\r\n") == 25
    assert len(queries) == 1 + 3  # the rows; the machines of each chunk of 10 (24 sharings)


def test_a_time_zone_the_database_does_not_know_is_written_in_python(sharings, monkeypatch):
    """Python's time zone data may name a zone PostgreSQL's does not know (a newer release): that export is written
    in Python, the same bytes, never an error halfway through the file."""
    monkeypatch.setattr(exports, "CHUNK", 7)
    paris = next(Path(root) / "Europe" / "Paris" for root in TZPATH if (Path(root) / "Europe" / "Paris").exists())
    with paris.open("rb") as data:
        unknown = ZoneInfo.from_file(data, key="Europe/Not_A_Zone_Of_The_Database")
    assert not dates.database_knows_zone(unknown.key)
    assert dates.database_knows_zone("Europe/Paris") == (connection.vendor == "postgresql")
    with timezone.override(unknown):
        written = "".join(exports.sharings_lines(sharings))
    with timezone.override(ZoneInfo("Europe/Paris")):
        assert written == "".join(exports.sharings_lines(sharings))
        assert written == _reference_lines(sharings)
