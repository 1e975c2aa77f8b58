"""CSV formula injection (issue 9, item 4): every CSV the product writes neutralises text cells a spreadsheet would read
as a formula, whoever controls the text (another organisation names things in your incoming export). Numbers stay
numbers, negative ones included."""

import csv
import datetime as dt
import io

import pytest
from django.db.models import TextField, Value
from django.urls import reverse

from accounts.models import Organisation
from hiboo_connect.csv_cells import csv_cell, csv_cell_expression, csv_row
from tests.factories import (
    FaultCodeFactory,
    MachineFactory,
    OrganisationFactory,
    ReadingFactory,
    SharingFactory,
    UserFactory,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+33 6 12", "'+33 6 12"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("CTR-1", "CTR-1"),
        ("", ""),
        (-5.5, -5.5),
        (-3, -3),
        (None, None),
    ],
)
def test_a_cell_that_could_start_a_formula_is_quoted_and_numbers_are_kept(value, expected):
    assert csv_cell(value) == expected


@pytest.mark.parametrize("value", ["=1+2", "+33 6 12", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "CTR-1", "'=x", "", None])
def test_the_cell_function_in_sql_quotes_the_same_text(db, value):
    """csv_cell_expression, for cells the database writes (the share centre's export), is csv_cell's twin."""
    OrganisationFactory()
    cell = csv_cell_expression(Value(value, output_field=TextField()))
    assert Organisation.objects.annotate(cell=cell).values_list("cell", flat=True).first() == csv_cell(value)


def test_a_row_passes_every_cell_through_the_cell_function():
    assert csv_row(["=x", 1, "ok"]) == ["'=x", 1, "ok"]


def rows_of(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def test_the_share_centre_export_neutralises_what_another_organisation_typed(client, frozen, db):
    frozen(NOW)
    owner = OrganisationFactory(name='=HYPERLINK("http://evil.example")')
    beneficiary = OrganisationFactory(name="BuildCo")
    machine = MachineFactory(organisation=owner, model="@SUM(1)")
    SharingFactory(
        owner=owner,
        beneficiary=beneficiary,
        machines=[machine],
        reference="+cmd|' /C calc'!A0",
        recipient_organisation_name="-2+3",
        properties={"site": "=1+1"},
        start_at=NOW - dt.timedelta(days=1),
    )
    client.force_login(UserFactory(organisation=beneficiary))
    header, row = rows_of(b"".join(client.get("/sharings/export.csv?direction=incoming").streaming_content))
    cells = dict(zip(header, row, strict=True))
    assert cells["Owner"] == '\'=HYPERLINK("http://evil.example")'
    assert cells["Reference"] == "'+cmd|' /C calc'!A0"
    assert cells["Recipient's organisation"] == "'-2+3"
    assert cells["Machines"].startswith("Caterpillar")  # the machine's name starts with its make
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_the_machine_export_neutralises_fault_texts_and_keeps_negative_numbers(client, frozen, owner_admin, machine):
    frozen(NOW)
    at = NOW - dt.timedelta(hours=2)
    ReadingFactory(machine=machine, metric="operating_hours", timestamp=at, value=-5.5)
    FaultCodeFactory(machine=machine, timestamp=at, identifier="-1", description="=1+2", severity="@x")
    FaultCodeFactory(machine=machine, timestamp=at, identifier="7", description="ok", severity="low")
    client.force_login(owner_admin)
    day = NOW.date().isoformat()
    response = client.get(reverse("fleet:machine_export", args=[machine.pk]), {"first": day, "last": day})
    header, *rows = rows_of(b"".join(response.streaming_content))
    cells = [dict(zip(header, row, strict=True)) for row in rows]
    (reading,) = [row for row in cells if row["Kind"] == "reading"]
    assert reading["Value"] == "-5.5"
    faults = {row["Fault code"]: row for row in cells if row["Kind"] == "fault"}
    assert set(faults) == {"'-1", "7"}
    assert faults["'-1"]["Description"] == "'=1+2"
    assert faults["'-1"]["Severity"] == "'@x"
