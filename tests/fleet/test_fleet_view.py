"""The fleet list as a fleet view (issue 14, item 15): one way of naming own and received machines, an origin badge,
an engine-state dot with the data's freshness (amber when stale), a category filter; in English and French."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from fleet.filters import MachineFilterSet
from fleet.glance import freshness, naming
from tests.factories import MachineFactory, PositionFactory, ReadingFactory, SharingFactory

UTC = dt.UTC
NOW = dt.datetime(2025, 3, 20, 12, tzinfo=UTC)
URL = reverse("fleet:machines")


# --- the pure parts ----------------------------------------------------------------------------------------------


def test_naming_says_below_the_name_only_what_the_name_does_not():
    machine = MachineFactory.build(make="Caterpillar", model="320 GC", serial_number="CAT0320X1")
    assert naming(machine) == naming(machine, None)
    assert naming(machine).name == "Caterpillar 320 GC"
    assert naming(machine).detail == "CAT0320X1"
    # A received machine's first name is "model serial": make and model below it, the serial not twice.
    assert naming(machine, "320 GC CAT0320X1").detail == "Caterpillar 320 GC"
    assert naming(machine, "Tower crane, site B").detail == "Caterpillar 320 GC · CAT0320X1"


@pytest.mark.parametrize(
    ("engine", "seen_ago", "state", "label", "seen", "stale"),
    [
        (True, dt.timedelta(hours=2), "running", "Running", "last seen 2 hours ago", False),
        (False, dt.timedelta(seconds=20), "off", "Off", "last seen just now", False),
        (True, dt.timedelta(days=16, hours=3), "running", "Last reported running", "last seen 16 days ago", True),
        (None, dt.timedelta(days=1, minutes=1), "unknown", "No engine status", "last seen 24 hours ago", True),
        (None, None, "unknown", "No engine status", "no data yet", True),
        (False, dt.timedelta(minutes=1), "off", "Off", "last seen 1 minute ago", False),
        (False, dt.timedelta(days=75), "off", "Last reported off", "last seen 2 months ago", True),
    ],
)
def test_freshness(engine, seen_ago, state, label, seen, stale):
    result = freshness(engine_running=engine, last_seen=seen_ago and NOW - seen_ago, now=NOW)
    assert (result.state, result.state_label, result.seen, result.stale) == (state, label, seen, stale)
    assert result.summary == f"{label}, {seen}"


def test_freshness_in_french():
    with translation.override("fr"):
        result = freshness(engine_running=True, last_seen=NOW - dt.timedelta(days=3), now=NOW)
        assert (result.state_label, result.seen) == ("En marche au dernier relevé", "vu il y a 3 jours")


# --- the page ------------------------------------------------------------------------------------------------------


@pytest.fixture
def world(frozen, owner_org, beneficiary_org, machine):
    """Rent & Go's excavator (`machine`) runs and reports today; shared with BuildCo since 1 March (all packs).
    BuildCo's own dumper was last seen 16 days ago, its engine off; its crane never reported."""
    frozen(NOW)
    machine.make, machine.model, machine.serial_number = "Caterpillar", "320 GC", "CAT0320GC77"
    machine.save()
    ReadingFactory(machine=machine, metric="engine_running", timestamp=NOW - dt.timedelta(hours=2), value=1)
    PositionFactory(machine=machine, timestamp=NOW - dt.timedelta(hours=1))
    SharingFactory(
        owner=owner_org, beneficiary=beneficiary_org, machines=[machine], start_at=NOW - dt.timedelta(days=19)
    )
    dumper = MachineFactory(
        organisation=beneficiary_org, make="Volvo", model="A30G", serial_number="VOA30G0001", category="dumper"
    )
    ReadingFactory(machine=dumper, metric="engine_running", timestamp=NOW - dt.timedelta(days=16), value=0)
    crane = MachineFactory(
        organisation=beneficiary_org, make="Liebherr", model="LTM 1050", serial_number="LTM10500", category="crane"
    )
    return {"excavator": machine, "dumper": dumper, "crane": crane}


def _row(content: str, link_target) -> str:
    """The HTML of the table row that links to a machine page."""
    href = reverse("fleet:machine", args=[link_target.pk])
    start = content.rindex("<tr", 0, content.index(f'href="{href}"'))
    return content[start : content.index("</tr>", start)]


def test_rows_name_own_and_received_machines_one_way_with_origin_status_and_freshness(client, beneficiary_admin, world):
    client.force_login(beneficiary_admin)
    content = client.get(URL).content.decode()

    excavator = _row(content, world["excavator"])
    assert ">320 GC CAT0320GC77</a>" in excavator  # the beneficiary's name for it
    assert '<span class="sub">Caterpillar 320 GC</span>' in excavator
    assert "From Rent &amp; Go" in excavator
    assert "status-dot status-running" in excavator
    assert "status-stale" not in excavator
    assert "Running" in excavator
    assert "last seen 1 hour ago" in excavator

    dumper = _row(content, world["dumper"])
    assert ">Volvo A30G</a>" in dumper
    assert '<span class="sub">VOA30G0001</span>' in dumper
    assert ">Ours</span>" in dumper
    assert 'class="machine-status is-stale"' in dumper  # amber, in words too
    assert "Last reported off" in dumper
    assert "last seen 16 days ago" in dumper

    crane = _row(content, world["crane"])
    assert "status-dot status-unknown status-stale" in crane
    assert "no data yet" in crane


def test_the_status_of_a_received_machine_comes_only_from_what_was_shared(
    client, beneficiary_admin, owner_org, beneficiary_org, frozen
):
    """Shared without the essential pack: neither the engine state nor the last position shows."""
    frozen(NOW)
    machine = MachineFactory(organisation=owner_org)
    ReadingFactory(machine=machine, metric="engine_running", timestamp=NOW - dt.timedelta(hours=2), value=1)
    PositionFactory(machine=machine, timestamp=NOW - dt.timedelta(hours=1))
    SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[machine],
        start_at=NOW - dt.timedelta(days=5),
        data_packs=["usage_hours"],
    )
    client.force_login(beneficiary_admin)
    row = _row(client.get(URL).content.decode(), machine)
    assert "status-unknown" in row
    assert "no data yet" in row
    assert "Running" not in row


def test_the_owner_sees_its_machine_as_ours(client, owner_admin, world):
    client.force_login(owner_admin)
    row = _row(client.get(URL).content.decode(), world["excavator"])
    assert ">Caterpillar 320 GC</a>" in row
    assert ">Ours</span>" in row
    assert "Running" in row


def test_filter_by_category(client, beneficiary_admin, beneficiary_org, world):
    assert list(MachineFilterSet({"category": "crane"}, organisation=beneficiary_org).qs) == [world["crane"]]
    assert set(MachineFilterSet({"category": "excavator"}, organisation=beneficiary_org).qs) == {world["excavator"]}
    # An unknown category is left out with a notice, never a 500.
    client.force_login(beneficiary_admin)
    response = client.get(URL, {"category": "spaceship"})
    assert response.status_code == 200
    assert "Some filters were not understood" in response.content.decode()
    response = client.get(URL, {"category": "dumper"})
    assert [row.pk for _origin, row in response.context["rows"]] == [world["dumper"].pk]
    assert '<option value="dumper" selected>' in response.content.decode()


def test_the_fleet_view_in_french(client, beneficiary_admin, world):
    client.force_login(beneficiary_admin)
    client.cookies["django_language"] = "fr"
    content = client.get(URL).content.decode()
    assert "De Rent &amp; Go" in _row(content, world["excavator"])
    assert "vu il y a 1 heure" in _row(content, world["excavator"])
    assert "En propre" in _row(content, world["dumper"])
    assert "Toutes les catégories" in content
