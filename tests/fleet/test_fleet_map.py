"""Fleet → Map (issue 14, item 11): what each organisation sees on it (a received machine only at positions inside its
windows and only with the essential pack), who may open it, bad input, the drawing (fit, zoom, clusters, machines at
one place) and its cost, pinned at 10 and 100 machines."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from fleet import maps
from fleet.models import Position, Reading
from tests.factories import MachineFactory, PositionFactory, ReadingFactory, SharingFactory, UserFactory

UTC = dt.UTC
NOW = dt.datetime(2025, 3, 20, 12, tzinfo=UTC)
URL = reverse("fleet:map")
LIST = {"view": "list"}


def utc(day, hour=0):
    return dt.datetime(2025, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def world(frozen, owner_org, beneficiary_org, machine):
    """`machine` (Rent & Go's) was at Lyon on 5 March and at Grenoble on 19 March. BuildCo received it 1–10 March
    (essential pack, ended). A second machine is shared with BuildCo now, without the essential pack."""
    frozen(NOW)
    PositionFactory(machine=machine, timestamp=utc(5, 9), latitude=45.7640, longitude=4.8357)
    PositionFactory(machine=machine, timestamp=utc(19, 9), latitude=45.1885, longitude=5.7245)
    ReadingFactory(machine=machine, metric="engine_running", timestamp=utc(19, 9), value=1)
    SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[machine],
        start_at=utc(1),
        end_at=utc(10),
        data_packs=["essential"],
    )
    hidden = MachineFactory(organisation=owner_org, make="Volvo", model="L60H", serial_number="VOL60H9")
    PositionFactory(machine=hidden, timestamp=utc(19, 10), latitude=43.2965, longitude=5.3698)
    SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[hidden],
        start_at=utc(15),
        data_packs=["usage_hours", "energy_and_fuel"],
    )
    return {"machine": machine, "hidden": hidden}


def positions(response) -> dict:
    return {row.machine.pk: row.position for row in response.context["rows"]}


def test_the_owner_sees_the_newest_position_of_each_machine(client, owner_admin, world):
    client.force_login(owner_admin)
    response = client.get(URL)
    assert response.status_code == 200
    seen = positions(response)
    assert (seen[world["machine"].pk].latitude, seen[world["hidden"].pk].latitude) == (45.1885, 43.2965)
    svg = str(response.context["svg"])
    assert 'role="group"' in svg
    assert svg.count("<a ") == 2
    assert re.search(r'aria-label="Caterpillar [^"]*: Last reported running, last seen 27 hours ago"', svg)
    assert reverse("fleet:machine", args=[world["machine"].pk]) in svg
    assert '<path fill-rule="evenodd"' in svg  # the outlines of France


def test_a_beneficiary_sees_a_received_machine_only_where_its_window_saw_it(client, beneficiary_admin, world):
    """The sharing ended on 10 March: the map shows Lyon (5 March), never Grenoble (19 March)."""
    client.force_login(beneficiary_admin)
    response = client.get(URL)
    seen = positions(response)
    assert seen[world["machine"].pk].latitude == 45.7640
    content = response.content.decode()
    assert "45.1885" not in content
    assert "Grenoble" not in content
    assert "Running" not in str(response.context["svg"])  # the engine status of 19 March was not shared
    list_page = client.get(URL, LIST).content.decode()
    assert "45.76400, 4.83570" in list_page
    assert "45.18850" not in list_page


def test_no_position_leaks_when_the_essential_pack_is_not_shared(client, beneficiary_admin, world):
    client.force_login(beneficiary_admin)
    response = client.get(URL)
    assert positions(response)[world["hidden"].pk] is None
    for page in (response.content.decode(), client.get(URL, LIST).content.decode()):
        assert "43.29" not in page
        assert "5.369" not in page
    assert response.context["unplaced"] == 1


def test_nothing_before_the_window_starts(client, beneficiary_admin, owner_org, beneficiary_org, frozen):
    frozen(NOW)
    machine = MachineFactory(organisation=owner_org)
    PositionFactory(machine=machine, timestamp=utc(19), latitude=44.0, longitude=4.0)
    SharingFactory(owner=owner_org, beneficiary=beneficiary_org, machines=[machine], start_at=utc(25))
    client.force_login(beneficiary_admin)
    response = client.get(URL)
    assert positions(response) == {machine.pk: None}
    assert "44.00000" not in client.get(URL, LIST).content.decode()


def test_members_see_the_map(client, owner_org, world):
    client.force_login(UserFactory(organisation=owner_org))
    assert client.get(URL).status_code == 200


def test_outsiders_see_none_of_these_machines(client, outsider_admin, world):
    client.force_login(outsider_admin)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert client.get(URL, LIST).context["rows"] == []


def test_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "box", ["abc", "1,2,3", "10,0,5,1", "0,0,1,nan", "-200,0,1,1", "0,50,1,40", "0,0,1,inf", ",,,", "1e999,0,1,1"]
)
def test_a_box_not_understood_shows_every_machine_with_a_reason(client, owner_admin, world, box):
    client.force_login(owner_admin)
    response = client.get(URL, {"box": box})
    assert response.status_code == 200
    assert "The map&#x27;s area was not understood" in response.content.decode()
    assert str(response.context["svg"]).count("<a ") == 2


def test_filters_not_understood_are_left_out(client, owner_admin, world):
    client.force_login(owner_admin)
    response = client.get(URL, {"workspace": "not-a-uuid", "category": "spaceship", "origin": "mars"})
    assert response.status_code == 200
    assert "Some filters were not understood" in response.content.decode()


def test_zoom_links_and_a_chosen_box(client, owner_admin, world):
    client.force_login(owner_admin)
    response = client.get(URL)
    zoom_in = maps.Box.parse(re.search(r"box=([-0-9.,]+)", response.context["zoom_in_url"]).group(1))
    zoom_out = maps.Box.parse(re.search(r"box=([-0-9.,]+)", response.context["zoom_out_url"]).group(1))
    assert zoom_in.east - zoom_in.west < zoom_out.east - zoom_out.west
    # Around Grenoble only: Lyon's machine is outside the area, and said so.
    response = client.get(URL, {"box": "5.6,45.1,5.8,45.3"})
    assert response.context["outside"] == 1
    assert str(response.context["svg"]).count("<a ") == 1
    assert "1 outside this area" in response.content.decode()


# --- the drawing ----------------------------------------------------------------------------------------------------


def marker(latitude, longitude, label="m", state="running", stale=False):
    return maps.Marker(latitude, longitude, label, state, stale, f"/m/{label}/")


def test_fit_adds_a_margin_and_never_zooms_to_a_point():
    box = maps.fit([(45.0, 4.0), (46.0, 5.0)])
    assert (box.west, box.south, box.east, box.north) == pytest.approx((3.85, 44.85, 5.15, 46.15))
    single = maps.fit([(45.0, 4.0)])
    assert single.east - single.west == pytest.approx(maps.MIN_SPAN)
    assert maps.fit([]) == maps.Box(*maps.WORLD)


def test_box_zoom_stays_inside_the_world():
    world = maps.Box(-180, -85, 180, 85).zoomed(2)
    assert world.west >= -180
    assert world.east <= 180
    assert maps.Box.parse(maps.Box(4.5, 45.1, 5.2, 45.9).as_param()) == maps.Box(4.5, 45.1, 5.2, 45.9)


def test_dots_far_apart_are_links_and_near_ones_a_cluster_that_zooms_to_them():
    markers = [marker(45.0, 4.0, "a"), marker(45.001, 4.001, "b"), marker(45.002, 4.002, "c"), marker(48.0, 2.0, "d")]
    drawn = maps.fleet_map(
        chart_id="t", title="T", markers=markers, box=None, area_url=lambda area: f"/zoom/{area.as_param()}"
    )
    svg = str(drawn.svg)
    assert 'href="/m/d/"' in svg
    assert 'href="/m/a/"' not in svg
    assert "3 machines here: show this area" in svg
    zoom = maps.Box.parse(re.search(r'href="/zoom/([^"]+)"', svg).group(1))
    assert zoom.west < 4.0 < 4.002 < zoom.east
    # In that area, the three are apart.
    svg = str(maps.fleet_map(chart_id="t", title="T", markers=markers, box=zoom, area_url=str).svg)
    assert all(f'href="/m/{name}/"' in svg for name in "abc")


def test_machines_at_one_place_stand_side_by_side():
    markers = [marker(45.0 + index * 0.00001, 4.0, name) for index, name in enumerate("abcd")] + [
        marker(46.0, 5.0, "e")
    ]
    svg = str(maps.fleet_map(chart_id="t", title="T", markers=markers, box=None, area_url=str).svg)
    centres = set(re.findall(r'class="map-dot map-dot-running" cx="([-0-9.]+)" cy="([-0-9.]+)"', svg))
    assert len(centres) == 5
    assert "machines here" not in svg


def test_stale_dots_are_drawn_hollow_and_named():
    svg = str(
        maps.fleet_map(
            chart_id="t",
            title="T",
            markers=[marker(45, 4, "Old: Off, last seen 3 days ago", "off", True)],
            box=None,
            area_url=str,
        ).svg
    )
    assert "map-dot-stale" in svg
    assert 'aria-label="Old: Off, last seen 3 days ago"' in svg


def test_an_empty_map_is_the_world_as_a_picture():
    drawn = maps.fleet_map(chart_id="t", title="T", markers=[], box=None, area_url=str)
    assert 'role="img"' in str(drawn.svg)
    assert "0 machines on this part of the map." in str(drawn.svg)


def test_the_outlines_of_an_area_are_drawn_once_and_drawn_alike():
    """A machine page without a position shows the whole world (280 KB of outlines, about 190 ms to draw): each
    area's outlines are drawn once and kept, the same bytes every time."""
    maps._land_drawn.cache_clear()
    lyon = maps.Box(4.7, 45.7, 4.9, 45.8)
    first = str(maps.fleet_map(chart_id="t", title="T", markers=[], box=None, area_url=str).svg)
    again = str(maps.fleet_map(chart_id="t", title="T", markers=[], box=None, area_url=str).svg)
    near = str(maps.fleet_map(chart_id="t", title="T", markers=[], box=lyon, area_url=str).svg)
    assert first == again
    assert near != first
    assert maps._land_drawn.cache_info()[:2] == (1, 2)  # (hits, misses): the world once, then Lyon
    maps._land_drawn.cache_clear()
    assert str(maps.fleet_map(chart_id="t", title="T", markers=[], box=None, area_url=str).svg) == first


def test_open_in_a_map_url():
    assert maps.open_in_a_map_url(45.764, 4.8357) == (
        "https://www.openstreetmap.org/?mlat=45.76400&mlon=4.83570#map=15/45.76400/4.83570"
    )


# --- cost ---------------------------------------------------------------------------------------------------------


def _bulk(count, *, owner, beneficiary):
    """`count` machines of the viewer and `count` received, each with a position and an engine status."""
    own = [MachineFactory(organisation=beneficiary) for _index in range(count)]
    received = [MachineFactory(organisation=owner) for _index in range(count)]
    machines = own + received
    Position.objects.bulk_create(
        Position(machine=machine, timestamp=utc(19, 18), latitude=45 + index * 0.01, longitude=4 + index * 0.01)
        for index, machine in enumerate(machines)
    )
    Reading.objects.bulk_create(
        Reading(machine=machine, metric="engine_running", timestamp=utc(19, 18), value=1) for machine in machines
    )
    SharingFactory(owner=owner, beneficiary=beneficiary, machines=received, start_at=utc(1))


#: session, user, organisation; the workspaces of the filter form; the machines; then their snapshot: the grants of
#: the received ones, the newest engine statuses, the newest positions.
MAP_QUERIES = 8


@pytest.mark.parametrize("count", [5, 50])  # 10 and 100 machines
@pytest.mark.parametrize("view", ["map", "list"])
def test_the_map_costs_the_same_whatever_the_fleet(
    client, django_assert_num_queries, frozen, owner_org, beneficiary_org, beneficiary_admin, count, view
):
    frozen(NOW)
    _bulk(count, owner=owner_org, beneficiary=beneficiary_org)
    client.force_login(beneficiary_admin)
    with django_assert_num_queries(MAP_QUERIES):
        response = client.get(URL, {"view": view})
    assert response.context["placed"] == 2 * count
