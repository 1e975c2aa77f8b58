"""Tenant isolation of every sharing selector, and DESIGN §3's access window: the beneficiary sees a machine's data in
[start_at, effective_end), restricted to each sharing's data packs, computed from the dates and never from the cached
status. Three standing viewers: the owner, the beneficiary and an outsider.

Time is frozen at NOW (12 July 2026, 09:00 UTC) by the `clock` fixture each test asks for (directly or through the
fixtures that build sharings)."""

import datetime as dt
import uuid

import pytest

from fleet.data_packs import ALL_DATA_PACKS
from fleet.selectors import (
    fault_codes_visible_to,
    machine_get,
    machines_visible_to,
    positions_visible_to,
    readings_visible_to,
)
from hiboo_connect.errors import NotFound
from sharing.models import Sharing
from sharing.selectors import (
    received_machine_get,
    received_machines_of,
    sharing_audit_events,
    sharing_get,
    sharings_incoming,
    sharings_outgoing,
    sharings_overlapping,
    sharings_visible_to,
)
from sharing.services import sharing_create
from tests.factories import (
    FaultCodeFactory,
    MachineFactory,
    PositionFactory,
    ReadingFactory,
    SharingFactory,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
SECOND = dt.timedelta(seconds=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
VIEWERS = ["owner", "beneficiary", "outsider"]


@pytest.fixture
def clock(frozen):
    return frozen(NOW)


@pytest.fixture
def orgs(owner_org, beneficiary_org, outsider_org):
    return {"owner": owner_org, "beneficiary": beneficiary_org, "outsider": outsider_org}


@pytest.fixture
def grant(clock, owner_org, beneficiary_org, machine):
    """`grant(start_at=..., end_at=..., stopped_at=..., data_packs=...)`: a sharing of `machine` to the beneficiary."""

    def build(**fields):
        fields.setdefault("start_at", NOW - 10 * DAY)
        return SharingFactory(owner=owner_org, beneficiary=beneficiary_org, machines=[machine], **fields)

    return build


def pks(queryset):
    return set(queryset.values_list("pk", flat=True))


# --- sharings --------------------------------------------------------------------------------------------------------

SHARING_LIST_ROWS = [
    # id, selector, which viewers see the sharing
    ("outgoing", sharings_outgoing, {"owner"}),
    ("incoming", sharings_incoming, {"beneficiary"}),
    ("visible", sharings_visible_to, {"owner", "beneficiary"}),
]


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize(
    ("selector", "seen_by"), [row[1:] for row in SHARING_LIST_ROWS], ids=[row[0] for row in SHARING_LIST_ROWS]
)
def test_sharing_lists_are_scoped(grant, orgs, owner_org, selector, seen_by, viewer):
    sharing = grant()
    pending = SharingFactory(owner=owner_org, beneficiary=None, recipient_email="new@newco.example")
    expected = set()
    if viewer in seen_by:
        expected.add(sharing.pk)
    if viewer == "owner" and viewer in seen_by:
        expected.add(pending.pk)  # a pending sharing is the owner's only until someone accepts it
    assert pks(selector(orgs[viewer])) == expected


@pytest.mark.parametrize(("viewer", "visible"), [("owner", True), ("beneficiary", True), ("outsider", False)])
def test_sharing_get(grant, orgs, viewer, visible):
    sharing = grant()
    if visible:
        assert sharing_get(organisation=orgs[viewer], sharing_id=sharing.pk) == sharing
        assert sharing_get(organisation=orgs[viewer], sharing_id=str(sharing.pk)) == sharing
    else:
        error = _not_found(sharing_get, organisation=orgs[viewer], sharing_id=sharing.pk)
        assert error.code == "sharing_not_found"


@pytest.mark.parametrize(
    "sharing_id",
    ["garbage", "", None, 12, uuid.UUID(int=0), "00000000-0000-0000-0000-00000000000z", ["a"]],
    ids=["text", "empty", "None", "a number", "an unknown UUID", "almost a UUID", "a list"],
)
def test_sharing_get_garbage_ids_are_not_found(grant, owner_org, sharing_id):
    grant()
    assert _not_found(sharing_get, organisation=owner_org, sharing_id=sharing_id).code == "sharing_not_found"


def _not_found(selector, **kwargs):
    with pytest.raises(NotFound) as info:
        selector(**kwargs)
    return info.value


@pytest.mark.parametrize(("viewer", "sees"), [("owner", True), ("beneficiary", False), ("outsider", False)])
def test_sharing_audit_events_only_for_the_owner(clock, orgs, admin_actor, machine, beneficiary_admin, viewer, sees):
    (sharing,) = sharing_create(
        actor=admin_actor, machine_ids=[machine.pk], recipient_email=beneficiary_admin.email, start_at=NOW
    )
    events = sharing_audit_events(organisation=orgs[viewer], sharing=sharing)
    assert [event.action for event in events] == (["created"] if sees else [])


def test_sharings_overlapping(grant, owner_org, outsider_org, machine):
    overlapping = grant(start_at=NOW - DAY, end_at=NOW + 5 * DAY)
    grant(start_at=NOW - 10 * DAY, end_at=NOW - 5 * DAY)  # ended before
    grant(start_at=NOW + 20 * DAY)  # starts after
    grant(start_at=NOW - 10 * DAY, end_at=NOW + 10 * DAY, stopped_at=NOW - 4 * DAY)  # stopped before
    other_machine = MachineFactory(organisation=owner_org)
    SharingFactory(owner=owner_org, machines=[other_machine], start_at=NOW - DAY)
    found = sharings_overlapping(organisation=owner_org, machine_ids=[machine.pk], start_at=NOW, end_at=NOW + 10 * DAY)
    assert pks(found) == {overlapping.pk}
    assert not sharings_overlapping(
        organisation=outsider_org, machine_ids=[machine.pk], start_at=NOW, end_at=None
    ).exists()


# --- machines --------------------------------------------------------------------------------------------------------


@pytest.fixture
def fleets(grant, owner_org, outsider_org, machine):
    """The owner's shared machine, an unshared one, and a machine of the outsider's own."""
    grant()
    return {
        "shared": machine,
        "unshared": MachineFactory(organisation=owner_org),
        "outsider's own": MachineFactory(organisation=outsider_org),
    }


MACHINE_ROWS = [
    # viewer, the machines it sees
    ("owner", {"shared", "unshared"}),
    ("beneficiary", {"shared"}),
    ("outsider", {"outsider's own"}),
]


@pytest.mark.parametrize(("viewer", "sees"), MACHINE_ROWS, ids=[row[0] for row in MACHINE_ROWS])
def test_machines_visible_to(fleets, orgs, viewer, sees):
    assert pks(machines_visible_to(orgs[viewer])) == {fleets[name].pk for name in sees}
    for name, machine in fleets.items():
        if name in sees:
            assert machine_get(organisation=orgs[viewer], machine_id=machine.pk) == machine
        else:
            assert _not_found(machine_get, organisation=orgs[viewer], machine_id=machine.pk).code == "machine_not_found"


@pytest.mark.parametrize(
    "machine_id", ["garbage", None, 7, uuid.UUID(int=1)], ids=["text", "None", "number", "unknown"]
)
def test_machine_get_garbage_ids_are_not_found(fleets, owner_org, machine_id):
    assert _not_found(machine_get, organisation=owner_org, machine_id=machine_id).code == "machine_not_found"


@pytest.mark.parametrize(("viewer", "sees"), [("owner", False), ("beneficiary", True), ("outsider", False)])
def test_received_machines_of(fleets, orgs, viewer, sees):
    received = list(received_machines_of(orgs[viewer]))
    assert [item.machine for item in received] == ([fleets["shared"]] if sees else [])
    beneficiary_copy = received_machines_of(orgs["beneficiary"]).get()
    if sees:
        assert (
            received_machine_get(organisation=orgs[viewer], received_machine_id=beneficiary_copy.pk) == beneficiary_copy
        )
    else:
        error = _not_found(received_machine_get, organisation=orgs[viewer], received_machine_id=beneficiary_copy.pk)
        assert error.code == "received_machine_not_found"


def test_received_machine_get_garbage_ids_are_not_found(fleets, beneficiary_org):
    for garbage in ("garbage", None, 3, uuid.UUID(int=2)):
        _not_found(received_machine_get, organisation=beneficiary_org, received_machine_id=garbage)


# --- readings: one sharing -------------------------------------------------------------------------------------------

START = NOW - 10 * DAY
END = NOW - 2 * DAY

ONE_WINDOW_ROWS = [
    # id, timestamp, metric, visible to the beneficiary (the owner always sees it, the outsider never)
    ("one second before the start", START - SECOND, "operating_hours", False),
    ("exactly at the start", START, "operating_hours", True),
    ("inside", START + DAY, "idle_hours", True),
    ("one second before the end", END - SECOND, "operating_hours", True),
    ("exactly at the end", END, "operating_hours", False),
    ("after the end", NOW - HOUR, "operating_hours", False),
    ("inside, metric of a pack not shared", START + DAY, "fuel_used", False),
    ("inside, unlisted metric without the others pack", START + DAY, "hydraulic_pressure", False),
]


@pytest.mark.parametrize(
    ("timestamp", "metric", "beneficiary_sees"),
    [row[1:] for row in ONE_WINDOW_ROWS],
    ids=[row[0] for row in ONE_WINDOW_ROWS],
)
def test_readings_one_window(grant, orgs, machine, timestamp, metric, beneficiary_sees):
    grant(start_at=START, end_at=END, data_packs=["usage_hours"])
    reading = ReadingFactory(machine=machine, metric=metric, timestamp=timestamp)
    expected = {"owner": True, "beneficiary": beneficiary_sees, "outsider": False}
    for viewer, sees in expected.items():
        assert pks(readings_visible_to(organisation=orgs[viewer], machine=machine)) == ({reading.pk} if sees else set())


def test_readings_owner_sees_everything(grant, owner_org, machine):
    grant(start_at=START, end_at=END, data_packs=["essential"])
    readings = [
        ReadingFactory(machine=machine, metric=metric, timestamp=timestamp)
        for metric in ("operating_hours", "fuel_used", "hydraulic_pressure")
        for timestamp in (START - DAY, START + DAY, NOW + HOUR)
    ]
    assert pks(readings_visible_to(organisation=owner_org, machine=machine)) == {reading.pk for reading in readings}


def test_readings_nothing_before_the_start_of_an_open_ended_sharing(grant, beneficiary_org, machine):
    grant(start_at=NOW - DAY, end_at=None)
    ReadingFactory(machine=machine, timestamp=NOW - DAY - SECOND)
    ReadingFactory(machine=machine, timestamp=NOW - 300 * DAY)
    inside = ReadingFactory(machine=machine, timestamp=NOW - HOUR)
    assert pks(readings_visible_to(organisation=beneficiary_org, machine=machine)) == {inside.pk}


def test_readings_no_live_data_stamped_ahead_of_now(grant, beneficiary_org, machine):
    """The live stream is there only while the sharing runs: a reading stamped in the future is not granted early."""
    grant(start_at=NOW - DAY, end_at=NOW + 10 * DAY)
    ReadingFactory(machine=machine, timestamp=NOW + HOUR)
    assert not readings_visible_to(organisation=beneficiary_org, machine=machine).exists()


def test_readings_arriving_late_for_an_ended_window_are_visible(grant, beneficiary_org, machine):
    grant(start_at=START, end_at=END)
    late = ReadingFactory(machine=machine, timestamp=END - HOUR)  # stored now, two days after the end
    assert late.received_at > END
    ReadingFactory(machine=machine, timestamp=END + HOUR)
    assert pks(readings_visible_to(organisation=beneficiary_org, machine=machine)) == {late.pk}


STOPPED_AT = NOW - 3 * DAY
STOP_ROWS = [
    ("one second before the stop", STOPPED_AT - SECOND, True),
    ("exactly at the stop", STOPPED_AT, False),
    ("after the stop, before the planned end", NOW - DAY, False),
]


@pytest.mark.parametrize(("timestamp", "visible"), [row[1:] for row in STOP_ROWS], ids=[row[0] for row in STOP_ROWS])
def test_readings_a_stopped_sharing_cuts_at_stopped_at(grant, beneficiary_org, machine, timestamp, visible):
    grant(start_at=START, end_at=NOW + 10 * DAY, stopped_at=STOPPED_AT)
    reading = ReadingFactory(machine=machine, timestamp=timestamp)
    assert pks(readings_visible_to(organisation=beneficiary_org, machine=machine)) == (
        {reading.pk} if visible else set()
    )


def test_readings_a_pending_sharing_gives_nothing(clock, owner_org, beneficiary_admin, machine):
    # Addressed to someone of the beneficiary organisation's domain who has no account yet: nobody receives it.
    SharingFactory(owner=owner_org, beneficiary=None, recipient_email="newcomer@buildco.example", machines=[machine])
    ReadingFactory(machine=machine, timestamp=NOW - HOUR)
    assert not readings_visible_to(organisation=beneficiary_admin.organisation, machine=machine).exists()


# --- readings: several sharings, packs, the cached status ------------------------------------------------------------

TWO_WINDOWS_ROWS = [
    # id, timestamp, metric, visible: window A [−10 d, −6 d) usage hours, window B [−4 d, open) energy and fuel
    ("A: its pack", NOW - 8 * DAY, "operating_hours", True),
    ("A: the other window's pack", NOW - 8 * DAY, "fuel_used", False),
    ("B: its pack", NOW - 2 * DAY, "fuel_remaining", True),
    ("B: the other window's pack", NOW - 2 * DAY, "operating_hours", False),
    ("between the windows", NOW - 5 * DAY, "operating_hours", False),
    ("between the windows, other pack", NOW - 5 * DAY, "fuel_used", False),
    ("before both", NOW - 11 * DAY, "operating_hours", False),
    ("neither pack", NOW - 2 * DAY, "coolant_temperature", False),
]


@pytest.mark.parametrize(
    ("timestamp", "metric", "visible"), [row[1:] for row in TWO_WINDOWS_ROWS], ids=[row[0] for row in TWO_WINDOWS_ROWS]
)
def test_readings_union_of_two_windows_each_with_its_packs(grant, beneficiary_org, machine, timestamp, metric, visible):
    grant(start_at=NOW - 10 * DAY, end_at=NOW - 6 * DAY, data_packs=["usage_hours"])
    grant(start_at=NOW - 4 * DAY, end_at=None, data_packs=["energy_and_fuel"])
    reading = ReadingFactory(machine=machine, metric=metric, timestamp=timestamp)
    assert pks(readings_visible_to(organisation=beneficiary_org, machine=machine)) == (
        {reading.pk} if visible else set()
    )


def test_readings_of_a_sharing_of_another_machine_give_nothing(grant, owner_org, beneficiary_org, machine):
    grant()
    other = MachineFactory(organisation=owner_org)
    ReadingFactory(machine=other, timestamp=NOW - HOUR)
    assert not readings_visible_to(organisation=beneficiary_org, machine=other).exists()


PACK_ROWS = [
    # id, packs of the sharing, metric, visible
    ("unlisted metric with others", ["others"], "hydraulic_pressure", True),
    (
        "unlisted metric with every pack but others",
        [p for p in ALL_DATA_PACKS if p != "others"],
        "hydraulic_pressure",
        False,
    ),
    ("power take-off hours with others", ["others"], "power_take_off_hours", True),
    ("power take-off hours without others", ["usage_hours"], "power_take_off_hours", False),
    ("listed metric with others only", ["others"], "operating_hours", False),
    ("engine running with essential", ["essential"], "engine_running", True),
    ("coolant temperature with vehicle conditions", ["vehicle_conditions"], "coolant_temperature", True),
    ("odometer with activity", ["activity"], "distance", True),
    ("odometer with usage hours", ["usage_hours"], "distance", False),
]


@pytest.mark.parametrize(
    ("packs", "metric", "visible"), [row[1:] for row in PACK_ROWS], ids=[row[0] for row in PACK_ROWS]
)
def test_readings_restricted_to_the_packs(grant, beneficiary_org, machine, packs, metric, visible):
    grant(data_packs=packs)
    reading = ReadingFactory(machine=machine, metric=metric, timestamp=NOW - HOUR)
    assert pks(readings_visible_to(organisation=beneficiary_org, machine=machine)) == (
        {reading.pk} if visible else set()
    )


CACHED_STATUS_ROWS = [
    # id, dates, a wrong cached status, timestamp of the reading, visible
    ("in progress cached as stopped", {"end_at": None}, "stopped", NOW - HOUR, True),
    ("in progress cached as terminated", {"end_at": NOW + DAY}, "terminated", NOW - HOUR, True),
    ("in progress cached as scheduled", {"end_at": None}, "scheduled", NOW - HOUR, True),
    ("in progress cached as pending", {"end_at": None}, "pending", NOW - HOUR, True),
    ("scheduled cached as in progress", {"start_at": NOW + HOUR}, "in_progress", NOW - SECOND, False),
    ("ended cached as in progress", {"end_at": NOW - DAY}, "in_progress", NOW - HOUR, False),
    ("stopped cached as in progress", {"stopped_at": NOW - DAY}, "in_progress", NOW - HOUR, False),
]


@pytest.mark.parametrize(
    ("dates", "cached_status", "timestamp", "visible"),
    [row[1:] for row in CACHED_STATUS_ROWS],
    ids=[row[0] for row in CACHED_STATUS_ROWS],
)
def test_readings_access_reads_the_dates_not_the_cached_status(
    grant, beneficiary_org, machine, dates, cached_status, timestamp, visible
):
    sharing = grant(**dates)
    Sharing.objects.filter(pk=sharing.pk).update(status=cached_status)
    reading = ReadingFactory(machine=machine, timestamp=timestamp)
    assert pks(readings_visible_to(organisation=beneficiary_org, machine=machine)) == (
        {reading.pk} if visible else set()
    )


def test_readings_narrowed_by_metric_and_period(grant, beneficiary_org, machine):
    grant(start_at=START, end_at=None)
    wanted = ReadingFactory(machine=machine, metric="operating_hours", timestamp=NOW - 5 * DAY)
    ReadingFactory(machine=machine, metric="idle_hours", timestamp=NOW - 5 * DAY)
    ReadingFactory(machine=machine, metric="operating_hours", timestamp=NOW - 7 * DAY)
    ReadingFactory(machine=machine, metric="operating_hours", timestamp=NOW - 3 * DAY)
    found = readings_visible_to(
        organisation=beneficiary_org,
        machine=machine,
        metrics=["operating_hours"],
        since=NOW - 6 * DAY,
        until=NOW - 3 * DAY,
    )
    assert pks(found) == {wanted.pk}


# --- positions and fault codes ---------------------------------------------------------------------------------------

OTHER_TABLE_ROWS = [
    # id, selector, factory, pack that carries it, another pack
    ("positions", positions_visible_to, PositionFactory, "essential", "usage_hours"),
    ("fault codes", fault_codes_visible_to, FaultCodeFactory, "fault_codes", "essential"),
]


@pytest.mark.parametrize("with_pack", [True, False], ids=["with its pack", "without its pack"])
@pytest.mark.parametrize(
    ("selector", "factory", "pack", "other_pack"),
    [row[1:] for row in OTHER_TABLE_ROWS],
    ids=[row[0] for row in OTHER_TABLE_ROWS],
)
def test_positions_and_fault_codes(grant, orgs, machine, selector, factory, pack, other_pack, with_pack):
    grant(start_at=START, end_at=END, data_packs=[pack if with_pack else other_pack])
    before = factory(machine=machine, timestamp=START - SECOND)
    inside = factory(machine=machine, timestamp=START + DAY)
    after = factory(machine=machine, timestamp=END)
    assert pks(selector(organisation=orgs["owner"], machine=machine)) == {before.pk, inside.pk, after.pk}
    assert pks(selector(organisation=orgs["beneficiary"], machine=machine)) == ({inside.pk} if with_pack else set())
    assert not selector(organisation=orgs["outsider"], machine=machine).exists()
