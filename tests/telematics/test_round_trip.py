"""The round trip (issue 12, item 5): one organisation's telematics source polls another organisation's ISO 15143-3
feed, served by the app itself over HTTP (live_server), with that organisation's viewer key as the password of HTTP
Basic, and stores exactly what the feed showed: the full data of the feed organisation's own machines, only the shared
part (windows and packs) of the machines shared with it. Nothing mocked: the poller, outbound, the feed's
authentication, its XML or JSON and its access scopes all run for real."""

import datetime as dt

import pytest
import time_machine

from accounts.models import ApiKeyRole
from fleet.models import FaultCode, Position, Reading
from fleet.selectors import fault_codes_visible_to, positions_visible_to, readings_visible_to
from telematics import poller
from telematics.models import AuthType
from telematics.services import SourceAuth, telematics_source_create
from tests.api.conftest import new_api_key
from tests.factories import AdminFactory, MachineFactory, OrganisationFactory, SharingFactory

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)


def _telemetry(machine, hours_ago):
    """Readings of three packs, a position and a fault code of `machine`, `hours_ago` before NOW."""
    at = NOW - dt.timedelta(hours=hours_ago)
    Reading.objects.create(machine=machine, metric="operating_hours", timestamp=at, value=1000 - hours_ago)
    Reading.objects.create(machine=machine, metric="engine_running", timestamp=at, value=float(hours_ago % 2))
    Reading.objects.create(machine=machine, metric="fuel_used", timestamp=at, value=5000 - hours_ago)
    Position.objects.create(machine=machine, timestamp=at, latitude=45 + hours_ago / 1000, longitude=4.8)
    FaultCode.objects.create(
        machine=machine, timestamp=at, identifier=f"110-{hours_ago % 10}", description="Coolant hot", severity="high"
    )


def _rows(queryset, fields):
    return set(queryset.values_list(*fields))


@pytest.fixture
def clock():
    # The clock ticks (the live server answers in another thread of this process), from NOW.
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.mark.parametrize("accept_xml", [False, True], ids=["JSON", "XML"])
def test_a_source_polling_the_app_s_own_feed_stores_exactly_what_the_feed_showed(
    live_server, clock, owner_org, beneficiary_org, monkeypatch, accept_xml
):
    if accept_xml:
        monkeypatch.setattr(poller, "ACCEPT", "application/xml")
    # The feed's organisation (BuildCo) owns an excavator and receives Rent & Go's loader since three days, with the
    # essential and usage-hours packs only. Rent & Go's dozer is not shared.
    own = MachineFactory(organisation=beneficiary_org, make="Volvo", model="EC220E", serial_number="VOL-1", pin="P-OWN")
    shared = MachineFactory(
        organisation=owner_org, make="Caterpillar", model="950 GC", serial_number="CAT-2", pin="P-SH"
    )
    hidden = MachineFactory(organisation=owner_org, make="Caterpillar", model="D6", serial_number="CAT-3", pin="P-HID")
    SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[shared],
        start_at=NOW - dt.timedelta(days=3),
        data_packs=["essential", "usage_hours"],
    )
    for machine in (own, shared, hidden):
        for hours_ago in (1, 30, 100):  # the last is before the sharing started
            _telemetry(machine, hours_ago)

    # Another organisation mirrors BuildCo's feed into machines of its own, matched by PIN.
    mirror_org = OrganisationFactory(name="BuildCo data warehouse")
    mirror_admin = AdminFactory(organisation=mirror_org)
    mirrors = {
        own: MachineFactory(organisation=mirror_org, make="Mirror", serial_number="M-1", pin="P-OWN"),
        shared: MachineFactory(organisation=mirror_org, make="Mirror", serial_number="M-2", pin="P-SH"),
    }
    hidden_mirror = MachineFactory(organisation=mirror_org, make="Mirror", serial_number="M-3", pin="P-HID")
    viewer_key = new_api_key(beneficiary_org, "Data warehouse", ApiKeyRole.VIEWER)[1]
    from accounts.actors import Actor

    source = telematics_source_create(
        actor=Actor.for_user(mirror_admin),
        name="BuildCo's feed",
        base_url=f"{live_server.url}/api/aemp/v2",
        auth=SourceAuth(type=AuthType.BASIC, username="buildco", secret=viewer_key),
    )

    run = poller.telematics_source_poll(source_id=source.pk)

    assert run.error == ""
    assert (run.machines_seen, run.machines_matched, run.machines_created) == (2, 2, 0)
    since = NOW - poller.FIRST_HISTORY
    for original, mirror in mirrors.items():
        read = {"organisation": beneficiary_org, "machine": original, "since": since}
        assert _rows(Reading.objects.filter(machine=mirror), ("metric", "timestamp", "value")) == _rows(
            readings_visible_to(**read), ("metric", "timestamp", "value")
        )
        assert _rows(Position.objects.filter(machine=mirror), ("timestamp", "latitude", "longitude")) == _rows(
            positions_visible_to(**read), ("timestamp", "latitude", "longitude")
        )
        assert _rows(FaultCode.objects.filter(machine=mirror), ("timestamp", "identifier", "severity")) == _rows(
            fault_codes_visible_to(**read), ("timestamp", "identifier", "severity")
        )
    # In full for BuildCo's own machine; for the shared one, only the window and the two packs.
    assert Reading.objects.filter(machine=mirrors[own]).count() == 9
    assert set(Reading.objects.filter(machine=mirrors[shared]).values_list("metric", flat=True)) == {
        "operating_hours",
        "engine_running",
    }
    assert Reading.objects.filter(machine=mirrors[shared]).count() == 4
    assert not FaultCode.objects.filter(machine=mirrors[shared]).exists()
    assert Position.objects.filter(machine=mirrors[shared]).count() == 2
    assert not Reading.objects.filter(machine=hidden_mirror).exists()
    assert run.readings_stored == 9 + 3 + 3 + 4 + 2

    # A second poll finds nothing new and stores nothing twice.
    again = poller.telematics_source_poll(source_id=source.pk)
    assert (again.error, again.readings_stored) == ("", 0)
