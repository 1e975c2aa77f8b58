"""The machine page's track (issue 14, item 11): the positions of the chosen period as a line over the basemap, for a
beneficiary only inside its windows and only with the essential pack; an "Open in a map" link beside every position
the page shows."""

import datetime as dt

from django.urls import reverse

from fleet.models import Position
from tests.factories import MachineFactory, PositionFactory, SharingFactory
from tests.fleet.test_machine_pages import PERIOD, page_url, telemetry, utc  # noqa: F401 (a fixture)

OSM = "https://www.openstreetmap.org/?mlat="


def test_the_owner_sees_every_position_of_the_period(client, owner_admin, machine, telemetry):  # noqa: F811
    client.force_login(owner_admin)
    response = client.get(page_url(machine), PERIOD)
    track = response.context["track"]
    assert track["count"] == 2
    svg = str(track["svg"])
    assert '<polyline class="map-track"' in svg
    assert "2 positions from" in svg
    content = response.content.decode()
    assert f"{OSM}46.00000&amp;mlon=5.00000" in content  # the latest position, and the track's last
    assert f"{OSM}45.00000&amp;mlon=4.00000" in content  # the track's first


def test_a_beneficiary_sees_only_the_positions_inside_its_windows(client, beneficiary_admin, machine, telemetry):  # noqa: F811
    """12 March lies between the two sharings: that position is neither on the track nor linked."""
    client.force_login(beneficiary_admin)
    response = client.get(page_url(machine), PERIOD)
    track = response.context["track"]
    assert track["count"] == 1
    assert "1 position from" in str(track["svg"])
    content = response.content.decode()
    assert "46.00000" not in content
    assert "mlat=46" not in content
    assert f"{OSM}45.00000&amp;mlon=4.00000" in content


def test_no_track_without_the_essential_pack(client, beneficiary_admin, owner_org, beneficiary_org, frozen):
    frozen(dt.datetime(2025, 3, 20, 12, tzinfo=dt.UTC))
    machine = MachineFactory(organisation=owner_org)
    PositionFactory(machine=machine, timestamp=utc(18, 9), latitude=44.5, longitude=4.5)
    SharingFactory(
        owner=owner_org, beneficiary=beneficiary_org, machines=[machine], start_at=utc(1), data_packs=["usage_hours"]
    )
    client.force_login(beneficiary_admin)
    response = client.get(page_url(machine), PERIOD)
    assert response.context["track"] is None
    content = response.content.decode()
    assert "44.5" not in content
    assert OSM not in content
    assert "which holds positions, is not part of the sharing" in content


def test_a_sharing_not_started_shows_no_track(client, beneficiary_admin, owner_org, beneficiary_org, frozen):
    frozen(dt.datetime(2025, 3, 20, 12, tzinfo=dt.UTC))
    machine = MachineFactory(organisation=owner_org)
    PositionFactory(machine=machine, timestamp=utc(18, 9), latitude=44.5, longitude=4.5)
    SharingFactory(owner=owner_org, beneficiary=beneficiary_org, machines=[machine], start_at=utc(25))
    client.force_login(beneficiary_admin)
    content = client.get(page_url(machine)).content.decode()
    assert 'id="track-title"' not in content
    assert "44.5" not in content


def test_a_long_track_is_drawn_from_at_most_a_thousand_positions(client, owner_admin, machine, frozen):
    frozen(dt.datetime(2025, 3, 20, 12, tzinfo=dt.UTC))
    start = utc(1)
    Position.objects.bulk_create(
        Position(
            machine=machine,
            timestamp=start + dt.timedelta(minutes=15 * index),
            latitude=45 + index / 10_000,
            longitude=4,
        )
        for index in range(1500)
    )
    client.force_login(owner_admin)
    track = client.get(page_url(machine), PERIOD).context["track"]
    assert track["count"] == 1000
    assert [end["point"].timestamp for end in track["ends"]] == [start, start + dt.timedelta(minutes=15 * 1499)]


def test_members_and_outsiders(client, owner_org, outsider_admin, machine, telemetry):  # noqa: F811
    from tests.factories import UserFactory

    client.force_login(UserFactory(organisation=owner_org))
    assert client.get(page_url(machine), PERIOD).context["track"]["count"] == 2
    client.force_login(outsider_admin)
    assert client.get(page_url(machine), PERIOD).status_code == 404
    assert reverse("fleet:machine", args=[machine.pk])
