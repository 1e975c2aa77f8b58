"""`manage.py import_readings`: the items of POST /api/v1/readings from a CSV file or JSON lines, stored by the same
service, refused rows reported with their line numbers, the others stored; a second import of the same file stores
nothing new. Time is frozen on 12 July 2026."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from fleet.models import FaultCode, Position, Reading
from tests.factories import MachineFactory

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def machine(frozen, owner_org):
    frozen(NOW)
    return MachineFactory(organisation=owner_org, make="Volvo", serial_number="VCE-EC220-1")


def _import(path, organisation, **options):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_readings", str(path), organisation=organisation.slug, stdout=out, stderr=err, **options)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), str(error)
    return out.getvalue(), err.getvalue(), None


CSV = """assetId,make,serialNumber,metric,timestamp,value,latitude,longitude,altitude,code,description,severity,source
,Volvo,VCE-EC220-1,operating_hours,2026-07-11T08:00:00Z,812.5,,,,,,,
{id},,,fuel_used,2026-07-11T08:00:00+02:00,40.25,,,,,,,
{id},,,position,2026-07-11T08:00:00Z,,45.5,4.9,,,,,
{id},,,fault,2026-07-11T08:00:00Z,,,,,110-0,"Coolant temperature high, stop the engine",high,Engine
{id},,,engine_running,2026-07-11T08:00:00Z,true,,,,,,,
{id},,,operating_hours,2026-07-11T09:00:00Z,lots,,,,,,,
,Volvo,NOT-OURS,operating_hours,2026-07-11T09:00:00Z,1,,,,,,,
{id},,,operating_hours,2031-01-01T00:00:00Z,1,,,,,,,
"""


def test_a_csv_file_is_stored_and_refused_rows_are_named_by_line(machine, owner_org, tmp_path):
    path = tmp_path / "readings.csv"
    path.write_text(CSV.format(id=machine.pk))

    out, err, failure = _import(path, owner_org)

    assert out.strip() == "8 rows read for Rent & Go: 5 stored, 0 already there, 3 refused."
    assert err.splitlines() == [
        "line 7: invalid_field: value must be a number.",
        "line 8: unknown_machine: No machine of your organisation has this id or serial number.",
        "line 9: timestamp_in_future: The timestamp is more than a day in the future.",
    ]
    assert failure == "3 of 8 rows were refused (see above); the others were stored."
    assert sorted(Reading.objects.filter(machine=machine).values_list("metric", "value")) == [
        ("engine_running", 1.0),
        ("fuel_used", 40.25),
        ("operating_hours", 812.5),
    ]
    assert Position.objects.get(machine=machine).latitude == 45.5
    assert FaultCode.objects.get(machine=machine).description == "Coolant temperature high, stop the engine"

    again = _import(path, owner_org)[0]
    assert again.strip() == "8 rows read for Rent & Go: 0 stored, 5 already there, 3 refused."


def test_json_lines_are_read_in_chunks_of_ten_thousand(machine, owner_org, tmp_path):
    start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    lines = [
        json.dumps(
            {
                "assetId": str(machine.pk),
                "metric": "operating_hours",
                "timestamp": (start + dt.timedelta(minutes=n)).isoformat(),
                "value": n,
            }
        )
        for n in range(10_002)
    ]
    lines[10_001] = '{"assetId": "x", "value": NaN'  # the last line, in the second chunk: not JSON
    lines.insert(3, "")  # blank lines are skipped, and still counted in line numbers
    path = tmp_path / "readings.jsonl"
    path.write_text("\n".join(lines) + "\n")

    out, err, failure = _import(path, owner_org)

    assert out.strip() == "10002 rows read for Rent & Go: 10001 stored, 0 already there, 1 refused."
    assert err.splitlines() == ["line 10003: invalid_item: Each reading must be an object."]
    assert failure is not None
    assert Reading.objects.filter(machine=machine).count() == 10_001


def test_an_unknown_organisation_or_file_is_a_clear_error(machine, owner_org, tmp_path):
    with pytest.raises(CommandError, match="No organisation with the slug 'nope'"):
        call_command("import_readings", str(tmp_path / "x.csv"), organisation="nope")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_readings", str(tmp_path / "missing.csv"), organisation=owner_org.slug)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"metric,value\n\xff\xfe\x00")
    with pytest.raises(CommandError, match="is not readable as csv"):
        call_command("import_readings", str(binary), organisation=owner_org.slug, stdout=io.StringIO())


def test_the_report_is_in_english_whatever_language_is_active(machine, owner_org, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n")

    with translation.override("fr"):
        _out, err, _failure = _import(path, owner_org)

    assert err.splitlines() == ["line 1: invalid_item: Each reading must be an object."]


def test_extra_cells_are_refused_with_their_line(machine, owner_org, tmp_path):
    path = tmp_path / "odd.txt"
    path.write_text(f"assetId,metric,timestamp,value\n{machine.pk},distance,2026-07-11T08:00:00Z,5,surprise\n")

    _out, err, _failure = _import(path, owner_org, format="csv")

    assert err.splitlines() == ["line 2: unknown_field: Unknown field: unnamed columns."]


def test_past_a_hundred_refused_lines_the_rest_are_counted(machine, owner_org, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(["not json"] * 103) + "\n")

    _out, err, failure = _import(path, owner_org)

    lines = err.splitlines()
    assert len(lines) == 101
    assert lines[-1] == "... and 3 more refused lines."
    assert failure == "103 of 103 rows were refused (see above); the others were stored."
