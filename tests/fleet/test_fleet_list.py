"""The Fleet page: own and received machines in one list, filtered by origin, workspace and a search (the
MachineFilterSet, htmx in place), with last seen and operating hours that respect a beneficiary's windows and packs,
who has our machines now and until when; authorization and pinned query counts."""

import datetime as dt

import pytest
from django.urls import reverse

from fleet.filters import MachineFilterSet
from fleet.models import Position, Reading
from sharing.models import ReceivedMachine, Sharing, SharingMachine
from tests.factories import (
    MachineFactory,
    PositionFactory,
    ReadingFactory,
    SharingFactory,
    UserFactory,
    WorkspaceFactory,
)

UTC = dt.UTC
NOW = dt.datetime(2025, 3, 20, 12, tzinfo=UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}
URL = reverse("fleet:machines")


def utc(day, hour=0, month=3):
    return dt.datetime(2025, month, day, hour, tzinfo=UTC)


@pytest.fixture
def fleet(frozen, owner_org, beneficiary_org, machine):
    """`machine` (Rent & Go's) reported until 19 March; shared with BuildCo 1–10 March (essential and usage hours,
    ended) and from 15 March to 10 April (energy and fuel only, running). BuildCo also owns a dumper."""
    frozen(NOW)
    for day, hours in ((9, 1400), (12, 1450), (19, 1500)):
        ReadingFactory(machine=machine, metric="operating_hours", timestamp=utc(day, 17), value=hours)
        ReadingFactory(machine=machine, metric="engine_running", timestamp=utc(day, 17), value=1)
        PositionFactory(machine=machine, timestamp=utc(day, 18))
    ended = SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[machine],
        reference="CTR-1",
        start_at=utc(1),
        end_at=utc(10),
        data_packs=["essential", "usage_hours"],
    )
    running = SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[machine],
        reference="CTR-2",
        start_at=utc(15),
        end_at=utc(10, month=4),
        data_packs=["energy_and_fuel"],
    )
    dumper = MachineFactory(organisation=beneficiary_org, make="Volvo", model="A30G", serial_number="VOA30G0001")
    ReadingFactory(machine=dumper, metric="operating_hours", timestamp=utc(20, 8), value=321.5)
    return {"machine": machine, "dumper": dumper, "ended": ended, "running": running}


def rows_of(response):
    return {row.pk if origin == "own" else row.machine_id: (origin, row) for origin, row in response.context["rows"]}


def facts(response, machine):
    origin, row = rows_of(response)[machine.pk]
    return (row if origin == "own" else row.machine).facts


# --- what each side sees ---------------------------------------------------------------------------------------------


def test_owner_sees_everything_and_who_has_the_machine_until_when(client, owner_admin, fleet):
    client.force_login(owner_admin)
    response = client.get(URL)
    assert response.status_code == 200
    machine_facts = facts(response, fleet["machine"])
    assert machine_facts.operating_hours == 1500
    assert machine_facts.last_seen == utc(19, 18)
    assert list(machine_facts.running_sharings) == [fleet["running"]]  # the ended one no longer holds it
    content = response.content.decode()
    assert "BuildCo" in content
    assert "until 10 Apr 2025" in content
    assert "1,500 h" in content
    assert fleet["dumper"].serial_number not in content  # BuildCo's own machine is not ours


def test_beneficiary_sees_only_what_its_windows_and_packs_give(client, beneficiary_admin, fleet):
    client.force_login(beneficiary_admin)
    response = client.get(URL)
    rows = rows_of(response)
    assert {pk: origin for pk, (origin, _row) in rows.items()} == {
        fleet["machine"].pk: "received",
        fleet["dumper"].pk: "own",
    }
    received = facts(response, fleet["machine"])
    # The running sharing has neither essential nor usage hours: the values stop with the first window (10 March).
    assert received.operating_hours == 1400
    assert received.last_seen == utc(9, 18)
    assert received.running_sharings == ()
    assert facts(response, fleet["dumper"]).operating_hours == 321.5
    content = response.content.decode()
    assert "1,500" not in content
    assert "1,450" not in content
    assert "From Rent &amp; Go" in content
    assert "320 GC " + fleet["machine"].serial_number in content


def test_a_received_machine_without_the_packs_shows_no_value(client, beneficiary_admin, fleet):
    fleet["ended"].delete()  # only energy and fuel is left
    client.force_login(beneficiary_admin)
    received = facts(client.get(URL), fleet["machine"])
    assert received.operating_hours is None
    assert received.last_seen is None


def test_nothing_before_the_start_and_nothing_from_a_scheduled_sharing(client, beneficiary_admin, fleet):
    Sharing.objects.filter(pk=fleet["ended"].pk).update(start_at=utc(9, 20))  # starts after the 9 March readings
    Sharing.objects.filter(pk=fleet["running"].pk).update(start_at=utc(25), data_packs=["essential", "usage_hours"])
    client.force_login(beneficiary_admin)
    received = facts(client.get(URL), fleet["machine"])
    assert received.operating_hours is None
    assert received.last_seen is None


def test_the_owners_workspaces_never_show_on_the_beneficiary_side(client, beneficiary_admin, owner_org, fleet):
    fleet["machine"].workspaces.add(WorkspaceFactory(organisation=owner_org, name="Secret yard"))
    client.force_login(beneficiary_admin)
    assert "Secret yard" not in client.get(URL).content.decode()


# --- the FilterSet ---------------------------------------------------------------------------------------------------


@pytest.fixture
def placed(fleet, beneficiary_org, owner_org):
    """BuildCo puts the received machine in "Part-Dieu" and its dumper in "Depot"; Rent & Go puts the machine in its
    own "Part-Dieu" too (same name, another organisation's workspace)."""
    site = WorkspaceFactory(organisation=beneficiary_org, name="Part-Dieu")
    depot = WorkspaceFactory(organisation=beneficiary_org, name="Depot")
    ReceivedMachine.objects.get(organisation=beneficiary_org, machine=fleet["machine"]).workspaces.add(site)
    fleet["dumper"].workspaces.add(depot)
    foreign = WorkspaceFactory(organisation=owner_org, name="Part-Dieu")
    fleet["machine"].workspaces.add(foreign)
    return {"site": site, "depot": depot, "foreign": foreign}


def filtered(organisation, **data):
    filterset = MachineFilterSet(data, organisation=organisation)
    return [machine.serial_number for machine in filterset.qs]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, ["machine", "dumper"]),  # ordered by the name we know them by: "320 GC …" before "Volvo A30G"
        ({"origin": "own"}, ["dumper"]),
        ({"origin": "received"}, ["machine"]),
        ({"origin": "all"}, None),  # not a choice: the form is invalid, django-filter lists nothing
        ({"workspace": "site"}, ["machine"]),
        ({"workspace": "depot"}, ["dumper"]),
        ({"workspace": "depot", "origin": "received"}, []),
        ({"q": "a30"}, ["dumper"]),
        ({"q": "320 GC"}, ["machine"]),  # the received machine's name
    ],
)
def test_filterset(beneficiary_org, fleet, placed, data, expected):
    if "workspace" in data:
        data = {**data, "workspace": str(placed[data["workspace"]].pk)}
    serials = {"machine": fleet["machine"].serial_number, "dumper": fleet["dumper"].serial_number}
    result = filtered(beneficiary_org, **data)
    if expected is None:
        assert not MachineFilterSet(data, organisation=beneficiary_org).is_valid()
    else:
        assert result == [serials[name] for name in expected]


def test_another_organisations_workspace_is_not_a_filter(beneficiary_org, fleet, placed):
    filterset = MachineFilterSet({"workspace": str(placed["foreign"].pk)}, organisation=beneficiary_org)
    assert not filterset.is_valid()
    assert "workspace" in filterset.errors


def test_the_received_name_is_searchable(beneficiary_org, fleet):
    ReceivedMachine.objects.filter(organisation=beneficiary_org).update(name="Big yellow digger")
    assert filtered(beneficiary_org, q="yellow") == [fleet["machine"].serial_number]


# --- the page: htmx, pagination, authorization --------------------------------------------------------------------


def test_htmx_gets_the_results_fragment_and_the_address_follows_the_filters(client, beneficiary_admin, fleet):
    client.force_login(beneficiary_admin)
    response = client.get(URL, {"origin": "received", "workspace": "", "q": ""}, **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert content.lstrip().startswith('<div id="fleet-results"')
    assert response["HX-Push-Url"] == f"{URL}?origin=received"
    assert fleet["machine"].serial_number in content
    assert fleet["dumper"].serial_number not in content
    assert "HX-Request" in response["Vary"]
    full = client.get(URL, {"origin": "received"})
    assert "<html" in full.content.decode()
    assert '<option value="received" selected>' in full.content.decode()


def test_the_list_is_paginated(client, owner_admin, owner_org, frozen):
    frozen(NOW)
    MachineFactory.create_batch(27, organisation=owner_org)
    client.force_login(owner_admin)
    first = client.get(URL)
    assert len(first.context["rows"]) == 25
    assert "Page 1 of 2" in first.content.decode()
    assert len(client.get(URL, {"page": 2}).context["rows"]) == 2


def test_an_empty_filtered_list_says_so(client, owner_admin, fleet):
    client.force_login(owner_admin)
    response = client.get(URL, {"q": "nothing like this"})
    assert "No machine matches these filters" in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_outsiders_see_none_of_these_machines(client, outsider_admin, fleet):
    client.force_login(outsider_admin)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert fleet["machine"].serial_number not in response.content.decode()
    assert "Your fleet is empty" in response.content.decode()


def test_members_read_the_list_without_admin_controls(client, owner_org, fleet):
    member = UserFactory(organisation=owner_org)
    client.force_login(member)
    response = client.get(URL)
    assert response.status_code == 200
    assert fleet["machine"].serial_number in response.content.decode()
    assert reverse("fleet:own_workspaces", args=[fleet["machine"].pk]) not in response.content.decode()


# --- query counts --------------------------------------------------------------------------------------------------


def _bulk_fleet(count, *, owner, beneficiary, viewer_workspace):
    """`count` machines of the viewer (`beneficiary`) and `count` received from `owner`, each with readings and a
    position, each received machine under a sharing of its own, each own machine shared on to `owner`."""
    own, received = [], []
    for _index in range(count):  # alternately, so serial numbers interleave
        own.append(MachineFactory(organisation=beneficiary))
        received.append(MachineFactory(organisation=owner))
    Reading.objects.bulk_create(
        Reading(machine=machine, metric=metric, timestamp=utc(19, 17), value=100)
        for machine in own + received
        for metric in ("operating_hours", "engine_running")
    )
    Position.objects.bulk_create(
        Position(machine=machine, timestamp=utc(19, 18), latitude=45, longitude=4) for machine in own + received
    )
    for machine in received:
        SharingFactory(owner=owner, beneficiary=beneficiary, machines=[machine], start_at=utc(1))
    for machine in own:
        SharingFactory(owner=beneficiary, beneficiary=owner, machines=[machine], start_at=utc(1))
        machine.workspaces.add(viewer_workspace)
    # Named as our own sort ("make model"), the list interleaves own and received machines by serial number.
    ReceivedMachine.objects.filter(organisation=beneficiary).update(name="Caterpillar 320 GC")
    assert SharingMachine.objects.count() == 2 * count


#: session, user, organisation; the workspaces of the filter form, the count, the page of machines, our workspaces of
#: them, their received rows and those rows' workspaces; then the facts: grants of the received machines, running
#: sharings of our own, latest readings, latest positions.
FLEET_QUERIES = 13


@pytest.mark.parametrize("count", [3, 30])
def test_fleet_page_query_count_does_not_grow(
    client, django_assert_num_queries, frozen, owner_org, beneficiary_org, beneficiary_admin, count
):
    frozen(NOW)
    workspace = WorkspaceFactory(organisation=beneficiary_org)
    _bulk_fleet(count, owner=owner_org, beneficiary=beneficiary_org, viewer_workspace=workspace)
    client.force_login(beneficiary_admin)
    with django_assert_num_queries(FLEET_QUERIES):
        response = client.get(URL)
    rows = response.context["rows"]
    assert len(rows) == min(2 * count, 25)
    assert {origin for origin, _row in rows} == {"own", "received"}
    for origin, row in rows:
        machine = row if origin == "own" else row.machine
        assert machine.facts.operating_hours == 100
        assert machine.facts.last_seen == utc(19, 18)
        assert len(machine.facts.running_sharings) == (1 if origin == "own" else 0)
