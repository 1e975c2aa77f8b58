"""Every sharing service through its public function: DESIGN §3's rules on creating, editing, stopping, deleting,
attaching a beneficiary and the lifecycle job, who may do each, and the audit event each writes.

Time is frozen at NOW (12 July 2026, 09:00 UTC) by the `clock` fixture each test asks for (directly or through
`sharing_in`); the lifecycle tests move it."""

import datetime as dt
import uuid
from typing import Any

import pytest

from accounts.actors import Actor
from accounts.models import ApiKey, ApiKeyRole, Contact
from accounts.services import organisation_create
from audit.models import ActorKind, AuditEvent
from fleet.data_packs import ALL_DATA_PACKS
from hiboo_connect.errors import InvalidInput, NotAllowed, RuleConflict
from sharing.audit import AuditAction, AuditTarget
from sharing.lifecycle import SharingStatus
from sharing.models import ReceivedMachine, Sharing
from sharing.services import (
    received_machine_update,
    sharing_create,
    sharing_delete,
    sharing_lifecycle_run,
    sharing_stop,
    sharing_update,
    sharings_attach_beneficiary,
)
from tests.factories import (
    ContactFactory,
    MachineFactory,
    SharingFactory,
    UserFactory,
    WorkspaceFactory,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
SECOND = dt.timedelta(seconds=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
NEW_PERSON = "new.person@newco.example"

PENDING = SharingStatus.PENDING
SCHEDULED = SharingStatus.SCHEDULED
IN_PROGRESS = SharingStatus.IN_PROGRESS
STOPPED = SharingStatus.STOPPED
TERMINATED = SharingStatus.TERMINATED


def iso(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def clock(frozen):
    return frozen(NOW)


@pytest.fixture
def beneficiary_actor(beneficiary_admin):
    return Actor.for_user(beneficiary_admin)


@pytest.fixture
def outsider_actor(outsider_admin):
    return Actor.for_user(outsider_admin)


def refused(error_class, code, call, *args, **kwargs):
    """Call and assert the exact DomainError class and code; returns the error for further checks."""
    with pytest.raises(error_class) as info:
        call(*args, **kwargs)
    assert type(info.value) is error_class
    assert info.value.code == code, info.value.message
    return info.value


def share(actor, machines, recipient_email, **kwargs):
    kwargs.setdefault("start_at", NOW + DAY)
    return sharing_create(
        actor=actor, machine_ids=[machine.pk for machine in machines], recipient_email=recipient_email, **kwargs
    )


# A sharing in each state, built as stored rows: the state is what its dates say at NOW.
STATES = {
    "pending": {"beneficiary": None, "start_at": NOW + DAY, "end_at": NOW + 10 * DAY},
    "pending, start passed": {"beneficiary": None, "start_at": NOW - DAY, "end_at": NOW + 10 * DAY},
    "scheduled": {"start_at": NOW + DAY, "end_at": NOW + 10 * DAY},
    "in progress": {"start_at": NOW - DAY, "end_at": NOW + 10 * DAY},
    "in progress, open-ended": {"start_at": NOW - DAY, "end_at": None},
    "stopped": {"start_at": NOW - 5 * DAY, "end_at": NOW + 10 * DAY, "stopped_at": NOW - DAY},
    "stopped before its start": {"start_at": NOW + DAY, "end_at": NOW + 10 * DAY, "stopped_at": NOW - DAY},
    "terminated": {"start_at": NOW - 10 * DAY, "end_at": NOW - DAY},
}
EXPECTED_STATUS = {
    "pending": PENDING,
    "pending, start passed": PENDING,
    "scheduled": SCHEDULED,
    "in progress": IN_PROGRESS,
    "in progress, open-ended": IN_PROGRESS,
    "stopped": STOPPED,
    "stopped before its start": STOPPED,
    "terminated": TERMINATED,
}


@pytest.fixture
def sharing_in(clock, owner_org, beneficiary_org, beneficiary_admin, machine):
    """`sharing_in(state)`: a sharing of `machine` from the owner to the beneficiary (or pending) in that state."""

    def build(state, **overrides):
        fields = dict(STATES[state])
        if fields.get("beneficiary", beneficiary_org) is None:
            fields.update(recipient_email=NEW_PERSON, recipient_organisation_name="NewCo")
        else:
            fields.update(beneficiary=beneficiary_org, recipient_email=beneficiary_admin.email)
        fields.update(overrides)
        sharing = SharingFactory(owner=owner_org, machines=[machine], **fields)
        if "stopped_at" not in overrides:
            assert sharing.status_at(NOW) == EXPECTED_STATUS[state]
        return sharing

    return build


# --- creating --------------------------------------------------------------------------------------------------------


def test_create_known_recipient_in_the_future_is_scheduled(clock, admin_actor, owner_admin, machine, beneficiary_admin):
    (sharing,) = share(admin_actor, [machine], beneficiary_admin.email, start_at=NOW + DAY, end_at=NOW + 30 * DAY)
    sharing.refresh_from_db()
    assert sharing.status == SCHEDULED
    assert sharing.beneficiary == beneficiary_admin.organisation
    assert sharing.recipient_organisation_name == "BuildCo"
    assert sharing.owner == machine.organisation
    assert (sharing.sender, sharing.sender_label) == (owner_admin, owner_admin.email)
    assert list(sharing.machines.all()) == [machine]
    assert (sharing.start_at, sharing.end_at, sharing.stopped_at) == (NOW + DAY, NOW + 30 * DAY, None)


@pytest.mark.parametrize(
    "start_at", [NOW, NOW - DAY, NOW - 300 * DAY], ids=["starting now", "started yesterday", "started 300 days ago"]
)
def test_create_known_recipient_already_started_is_in_progress(
    clock, admin_actor, machine, beneficiary_admin, start_at
):
    (sharing,) = share(admin_actor, [machine], beneficiary_admin.email, start_at=start_at)
    sharing.refresh_from_db()
    assert sharing.status == IN_PROGRESS


def test_create_recipient_e_mail_is_matched_whatever_its_case(clock, admin_actor, machine, beneficiary_admin):
    (sharing,) = share(admin_actor, [machine], "  Admin@BuildCo.EXAMPLE ")
    assert sharing.recipient_email == "admin@buildco.example"
    assert sharing.beneficiary == beneficiary_admin.organisation


def test_create_unknown_recipient_needs_an_organisation_name(clock, admin_actor, machine):
    refused(InvalidInput, "recipient_organisation_required", share, admin_actor, [machine], NEW_PERSON)
    assert not Sharing.objects.exists()


@pytest.mark.parametrize(
    "start_at", [NOW + DAY, NOW - DAY], ids=["start ahead", "start passed: still pending, nobody to see it"]
)
def test_create_unknown_recipient_is_pending(clock, admin_actor, machine, start_at):
    (sharing,) = share(admin_actor, [machine], NEW_PERSON, recipient_organisation_name=" NewCo ", start_at=start_at)
    sharing.refresh_from_db()
    assert sharing.status == PENDING
    assert sharing.beneficiary is None
    assert sharing.recipient_organisation_name == "NewCo"
    assert not ReceivedMachine.objects.exists()


def test_create_recipient_without_an_organisation_yet_is_pending(clock, admin_actor, machine):
    UserFactory(email=NEW_PERSON, organisation=None)
    (sharing,) = share(admin_actor, [machine], NEW_PERSON, recipient_organisation_name="NewCo")
    assert (sharing.status, sharing.beneficiary) == (PENDING, None)


def test_create_unknown_recipient_takes_the_organisation_name_from_the_address_book(
    clock, admin_actor, owner_org, machine
):
    ContactFactory(organisation=owner_org, email=NEW_PERSON, organisation_name="NewCo")
    (sharing,) = share(admin_actor, [machine], NEW_PERSON)
    assert (sharing.status, sharing.recipient_organisation_name) == (PENDING, "NewCo")


@pytest.mark.parametrize("recipient", ["admin@rentandgo.example", "member@rentandgo.example"], ids=["admin", "member"])
def test_create_refuses_a_recipient_of_the_owner_organisation(clock, admin_actor, owner_member, machine, recipient):
    error = refused(InvalidInput, "recipient_in_own_organisation", share, admin_actor, [machine], recipient)
    assert error.field == "recipient_email"
    assert not Sharing.objects.exists()


@pytest.mark.parametrize("recipient", ["", "not an e-mail", "a@b"], ids=["empty", "words", "no domain"])
def test_create_refuses_an_invalid_e_mail(clock, admin_actor, machine, recipient):
    refused(InvalidInput, "invalid_email", share, admin_actor, [machine], recipient, recipient_organisation_name="X")


def test_create_needs_at_least_one_machine(clock, admin_actor, beneficiary_admin):
    error = refused(InvalidInput, "machines_required", share, admin_actor, [], beneficiary_admin.email)
    assert error.field == "machines"


@pytest.mark.parametrize(
    "machine_ids",
    [["not-a-uuid"], [None], [12]],
    ids=["garbage text", "None", "a number"],
)
def test_create_refuses_machine_ids_that_are_not_uuids(clock, admin_actor, beneficiary_admin, machine_ids):
    refused(
        InvalidInput,
        "invalid_machine_id",
        sharing_create,
        actor=admin_actor,
        machine_ids=machine_ids,
        recipient_email=beneficiary_admin.email,
        start_at=NOW,
    )


@pytest.mark.parametrize(
    "whose", ["unknown id", "another organisation's", "own and another organisation's"], ids=lambda whose: whose
)
def test_create_refuses_machines_the_owner_does_not_own(
    clock, admin_actor, machine, outsider_org, beneficiary_admin, whose
):
    other = {
        "unknown id": [uuid.uuid4()],
        "another organisation's": [MachineFactory(organisation=outsider_org).pk],
        "own and another organisation's": [machine.pk, MachineFactory(organisation=outsider_org).pk],
    }[whose]
    refused(
        InvalidInput,
        "unknown_machine",
        sharing_create,
        actor=admin_actor,
        machine_ids=other,
        recipient_email=beneficiary_admin.email,
        start_at=NOW,
    )
    assert not Sharing.objects.exists()


@pytest.fixture
def received(clock, admin_actor, machine, beneficiary_admin):
    """`machine` shared by the owner with the beneficiary: the beneficiary received it."""
    share(admin_actor, [machine], beneficiary_admin.email, start_at=NOW - DAY)
    return machine


@pytest.mark.parametrize(
    ("with_own_machine", "one_per_machine"),
    [(False, False), (True, False), (True, True), (False, True)],
    ids=["alone", "mixed with own machines", "mixed, one per machine", "alone, one per machine"],
)
def test_create_never_shares_a_received_machine_on(
    clock, received, beneficiary_actor, beneficiary_org, outsider_admin, with_own_machine, one_per_machine
):
    machines = [received]
    if with_own_machine:
        machines.insert(0, MachineFactory(organisation=beneficiary_org))
    before = Sharing.objects.count()
    error = refused(
        RuleConflict,
        "resharing_forbidden",
        share,
        beneficiary_actor,
        machines,
        outsider_admin.email,
        one_per_machine=one_per_machine,
    )
    assert error.field == "machines"
    assert Sharing.objects.count() == before


@pytest.mark.parametrize("how", ["stopped", "ended"], ids=["after a stop", "after the end"])
def test_create_never_shares_a_received_machine_on_even_after_its_sharing_ended(
    clock, admin_actor, machine, beneficiary_actor, beneficiary_admin, outsider_admin, how
):
    (sharing,) = share(admin_actor, [machine], beneficiary_admin.email, start_at=NOW - DAY, end_at=NOW + DAY)
    if how == "stopped":
        sharing_stop(actor=admin_actor, sharing=sharing)
    else:
        clock.move_to(NOW + 2 * DAY)
    refused(RuleConflict, "resharing_forbidden", share, beneficiary_actor, [machine], outsider_admin.email)


ROLLING_YEAR_ROWS = [
    ("exactly one year ago", dt.datetime(2025, 7, 12, 9, 0, tzinfo=UTC), None),
    ("one second earlier", dt.datetime(2025, 7, 12, 8, 59, 59, tzinfo=UTC), "start_too_early"),
    ("in another time zone, exactly one year ago", dt.datetime(2025, 7, 12, 11, 0, tzinfo=dt.timezone(2 * HOUR)), None),
]


@pytest.mark.parametrize(
    ("start_at", "expected"), [row[1:] for row in ROLLING_YEAR_ROWS], ids=[row[0] for row in ROLLING_YEAR_ROWS]
)
def test_create_start_no_earlier_than_one_rolling_year(
    clock, admin_actor, machine, beneficiary_admin, start_at, expected
):
    if expected is None:
        (sharing,) = share(admin_actor, [machine], beneficiary_admin.email, start_at=start_at)
        assert sharing.start_at == start_at
    else:
        error = refused(
            InvalidInput, expected, share, admin_actor, [machine], beneficiary_admin.email, start_at=start_at
        )
        assert error.field == "start_at"


def test_create_rolling_year_on_29_february(frozen, admin_actor, machine, beneficiary_admin):
    frozen(dt.datetime(2028, 2, 29, 12, tzinfo=UTC))
    year_ago = dt.datetime(2027, 2, 28, 12, tzinfo=UTC)
    refused(
        InvalidInput,
        "start_too_early",
        share,
        admin_actor,
        [machine],
        beneficiary_admin.email,
        start_at=year_ago - SECOND,
    )
    (sharing,) = share(admin_actor, [machine], beneficiary_admin.email, start_at=year_ago)
    assert sharing.status == IN_PROGRESS


END_ROWS = [
    # id, start_at, end_at, expected code
    ("open-ended", NOW - DAY, None, None),
    ("end after start and now", NOW + DAY, NOW + 2 * DAY, None),
    ("end one second after now", NOW - DAY, NOW + SECOND, None),
    ("end equal to start", NOW + DAY, NOW + DAY, "end_before_start"),
    ("end before start", NOW + 2 * DAY, NOW + DAY, "end_before_start"),
    ("end after start but exactly now", NOW - DAY, NOW, "end_in_past"),
    ("end after start but in the past", NOW - 2 * DAY, NOW - DAY, "end_in_past"),
]


@pytest.mark.parametrize(
    ("start_at", "end_at", "expected"), [row[1:] for row in END_ROWS], ids=[row[0] for row in END_ROWS]
)
def test_create_end_empty_or_after_both_start_and_now(
    clock, admin_actor, machine, beneficiary_admin, start_at, end_at, expected
):
    if expected is None:
        (sharing,) = share(admin_actor, [machine], beneficiary_admin.email, start_at=start_at, end_at=end_at)
        sharing.refresh_from_db()
        assert sharing.end_at == end_at
    else:
        error = refused(
            InvalidInput,
            expected,
            share,
            admin_actor,
            [machine],
            beneficiary_admin.email,
            start_at=start_at,
            end_at=end_at,
        )
        assert error.field == "end_at"
        assert not Sharing.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("start_at", None, "start_required"),
        ("start_at", dt.datetime(2026, 7, 13), "invalid_datetime"),  # noqa: DTZ001 (naive on purpose)
        ("end_at", dt.datetime(2026, 7, 20), "invalid_datetime"),  # noqa: DTZ001 (naive on purpose)
        ("start_at", "2026-07-13", "invalid_datetime"),
    ],
    ids=["no start", "naive start", "naive end", "text start"],
)
def test_create_dates_need_a_time_zone(clock, admin_actor, machine, beneficiary_admin, field, value, code):
    kwargs = {"start_at": NOW + DAY, field: value}
    refused(InvalidInput, code, share, admin_actor, [machine], beneficiary_admin.email, **kwargs)


DATA_PACK_ROWS = [
    # id, data_packs given, stored or refusal code
    ("default: all", None, list(ALL_DATA_PACKS)),
    (
        "subset kept (canonical order, no duplicates)",
        ["fault_codes", "essential", "essential"],
        ["essential", "fault_codes"],
    ),
    ("a single pack", ["others"], ["others"]),
    ("empty refused", [], "data_packs_required"),
    ("unknown refused", ["essential", "gossip"], "unknown_data_pack"),
    ("a bare string refused", "essential", "invalid_data_packs"),
]


@pytest.mark.parametrize(
    ("data_packs", "expected"), [row[1:] for row in DATA_PACK_ROWS], ids=[row[0] for row in DATA_PACK_ROWS]
)
def test_create_data_packs(clock, admin_actor, machine, beneficiary_admin, data_packs, expected):
    kwargs = {} if data_packs is None else {"data_packs": data_packs}
    if isinstance(expected, list):
        (sharing,) = share(admin_actor, [machine], beneficiary_admin.email, **kwargs)
        sharing.refresh_from_db()
        assert sharing.data_packs == expected
    else:
        error = refused(InvalidInput, expected, share, admin_actor, [machine], beneficiary_admin.email, **kwargs)
        assert error.field == "data_packs"


PROPERTY_ROWS: list[tuple[str, Any, Any]] = [
    ("none", None, {}),
    (
        "known and other keys kept, trimmed, numbers as text, empty values dropped",
        {"customer": " ACME ", "purchaseOrder": 4512, "rate": 12.5, "site": "", "project": None},
        {"customer": "ACME", "purchaseOrder": "4512", "rate": "12.5"},
    ),
    ("not a mapping", ["customer"], "invalid_properties"),
    ("too many", {f"key{n}": "v" for n in range(31)}, "too_many_properties"),
    ("empty name", {" ": "v"}, "invalid_property_name"),
    ("name too long", {"k" * 51: "v"}, "invalid_property_name"),
    ("value too long", {"customer": "v" * 256}, "property_too_long"),
    ("boolean value", {"customer": True}, "invalid_property_value"),
    ("nested value", {"customer": {"name": "ACME"}}, "invalid_property_value"),
]


@pytest.mark.parametrize(
    ("properties", "expected"), [row[1:] for row in PROPERTY_ROWS], ids=[row[0] for row in PROPERTY_ROWS]
)
def test_create_properties_are_validated(clock, admin_actor, machine, beneficiary_admin, properties, expected):
    if isinstance(expected, dict):
        (sharing,) = share(admin_actor, [machine], beneficiary_admin.email, properties=properties)
        sharing.refresh_from_db()
        assert sharing.properties == expected
    else:
        error = refused(
            InvalidInput, expected, share, admin_actor, [machine], beneficiary_admin.email, properties=properties
        )
        assert error.field == "properties"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("reference", "r" * 256, "reference_too_long"), ("notification_enabled", "yes", "invalid_boolean")],
    ids=["reference too long", "notification switch not a boolean"],
)
def test_create_refuses_other_invalid_fields(clock, admin_actor, machine, beneficiary_admin, field, value, code):
    refused(InvalidInput, code, share, admin_actor, [machine], beneficiary_admin.email, **{field: value})


def test_create_one_sharing_of_several_machines(clock, admin_actor, owner_org, beneficiary_admin):
    machines = MachineFactory.create_batch(3, organisation=owner_org)
    sharings = share(admin_actor, machines, beneficiary_admin.email, reference="C-1")
    assert len(sharings) == 1
    assert set(sharings[0].machines.all()) == set(machines)


def test_create_one_sharing_per_machine(clock, admin_actor, owner_org, beneficiary_admin):
    machines = MachineFactory.create_batch(3, organisation=owner_org)
    sharings = share(admin_actor, machines, beneficiary_admin.email, reference="C-1", one_per_machine=True)
    assert len(sharings) == 3
    assert sorted([machine.pk for machine in sharing.machines.all()] for sharing in sharings) == sorted(
        [machine.pk] for machine in machines
    )
    assert {sharing.reference for sharing in sharings} == {"C-1"}
    assert AuditEvent.objects.filter(action=AuditAction.CREATED).count() == 3


@pytest.mark.parametrize("known", [True, False], ids=["known recipient", "unknown recipient"])
def test_create_records_the_recipient_as_a_contact(clock, admin_actor, owner_org, machine, beneficiary_admin, known):
    email = beneficiary_admin.email if known else NEW_PERSON
    share(admin_actor, [machine], email, recipient_organisation_name="NewCo")
    contact = Contact.objects.get(organisation=owner_org, email=email)
    if known:
        assert (contact.organisation_name, contact.known_organisation) == ("BuildCo", beneficiary_admin.organisation)
    else:
        assert (contact.organisation_name, contact.known_organisation) == ("NewCo", None)


def test_create_puts_received_machines_in_the_beneficiary_fleet_named_model_serial(
    clock, admin_actor, owner_org, beneficiary_admin
):
    excavator = MachineFactory(organisation=owner_org, model="320 GC", serial_number="CAT0320GCXYZ01234")
    loader = MachineFactory(organisation=owner_org, make="Volvo", model="L60H", serial_number="VCEL60H0001")
    share(admin_actor, [excavator, loader], beneficiary_admin.email, one_per_machine=True)
    names = dict(
        ReceivedMachine.objects.filter(organisation=beneficiary_admin.organisation).values_list("machine_id", "name")
    )
    assert names == {excavator.pk: "320 GC CAT0320GCXYZ01234", loader.pk: "L60H VCEL60H0001"}


def test_create_again_keeps_the_beneficiary_s_own_name(clock, admin_actor, machine, beneficiary_admin):
    share(admin_actor, [machine], beneficiary_admin.email)
    ReceivedMachine.objects.filter(machine=machine).update(name="Our digger")
    share(admin_actor, [machine], beneficiary_admin.email, start_at=NOW + 20 * DAY)
    assert list(ReceivedMachine.objects.values_list("name", flat=True)) == ["Our digger"]


def test_create_audit_event(clock, admin_actor, owner_admin, owner_org, machine, beneficiary_admin):
    (sharing,) = share(
        admin_actor,
        [machine],
        beneficiary_admin.email,
        reference="C-1",
        properties={"customer": "BuildCo"},
        data_packs=["essential"],
        notification_enabled=False,
        start_at=NOW + DAY,
        end_at=NOW + 2 * DAY,
    )
    event = AuditEvent.objects.get()
    assert (event.actor_kind, event.actor_label, event.actor_user) == (ActorKind.USER, owner_admin.email, owner_admin)
    assert (event.organisation, event.target_type, event.target_id) == (owner_org, AuditTarget.SHARING, sharing.pk)
    assert (event.action, event.occurred_at) == (AuditAction.CREATED, NOW)
    assert event.changes == [
        {"field": "machines", "before": None, "after": [str(machine.pk)]},
        {"field": "recipient_email", "before": None, "after": "admin@buildco.example"},
        {
            "field": "beneficiary",
            "before": None,
            "after": {"id": str(beneficiary_admin.organisation.pk), "name": "BuildCo"},
        },
        {"field": "start_at", "before": None, "after": "2026-07-13T09:00:00Z"},
        {"field": "end_at", "before": None, "after": "2026-07-14T09:00:00Z"},
        {"field": "reference", "before": None, "after": "C-1"},
        {"field": "properties", "before": None, "after": {"customer": "BuildCo"}},
        {"field": "data_packs", "before": None, "after": ["essential"]},
        {"field": "notification_enabled", "before": None, "after": False},
        {"field": "status", "before": None, "after": "scheduled"},
    ]


def test_create_by_api_key_is_audited_as_the_key(clock, owner_org, machine):
    api_key = ApiKey(organisation=owner_org, name="contract sync", role=ApiKeyRole.ADMIN)
    (sharing,) = share(Actor.for_api_key(api_key), [machine], NEW_PERSON, recipient_organisation_name="NewCo")
    assert (sharing.sender, sharing.sender_label) == (None, "API key contract sync")
    event = AuditEvent.objects.get()
    assert (event.actor_kind, event.actor_label, event.actor_user) == (ActorKind.API_KEY, "API key contract sync", None)
    assert {"field": "beneficiary", "before": None, "after": None} in event.changes
    assert {"field": "status", "before": None, "after": "pending"} in event.changes


def test_create_refuses_a_viewer_api_key(clock, owner_org, machine, beneficiary_admin):
    api_key = ApiKey(organisation=owner_org, name="dashboard", role=ApiKeyRole.VIEWER)
    refused(NotAllowed, "admin_required", share, Actor.for_api_key(api_key), [machine], beneficiary_admin.email)


# --- who may act -----------------------------------------------------------------------------------------------------


def _attempt(action, actor, sharing):
    if action == "create":
        return share(actor, list(sharing.machines.all()), "someone@else.example", recipient_organisation_name="Else")
    if action == "update":
        return sharing_update(actor=actor, sharing=sharing, changes={"reference": "hijacked"})
    if action == "stop":
        return sharing_stop(actor=actor, sharing=sharing)
    return sharing_delete(actor=actor, sharing=sharing)


ACTOR_ROWS = [
    # id, actor fixture, action, error class, code
    ("member: create", "member_actor", "create", NotAllowed, "admin_required"),
    ("member: update", "member_actor", "update", NotAllowed, "admin_required"),
    ("member: stop", "member_actor", "stop", NotAllowed, "admin_required"),
    ("member: delete", "member_actor", "delete", NotAllowed, "admin_required"),
    # Another organisation cannot name the owner's machines at all.
    ("outsider admin: create", "outsider_actor", "create", InvalidInput, "unknown_machine"),
    ("outsider admin: update", "outsider_actor", "update", NotAllowed, "not_your_organisation"),
    ("outsider admin: stop", "outsider_actor", "stop", NotAllowed, "not_your_organisation"),
    ("outsider admin: delete", "outsider_actor", "delete", NotAllowed, "not_your_organisation"),
    ("beneficiary admin: update", "beneficiary_actor", "update", NotAllowed, "not_your_organisation"),
    ("beneficiary admin: stop", "beneficiary_actor", "stop", NotAllowed, "not_your_organisation"),
    ("beneficiary admin: delete", "beneficiary_actor", "delete", NotAllowed, "not_your_organisation"),
]


@pytest.mark.parametrize(
    ("actor_fixture", "action", "error_class", "code"),
    [row[1:] for row in ACTOR_ROWS],
    ids=[row[0] for row in ACTOR_ROWS],
)
def test_only_the_owner_s_admins_act_on_sharings(request, sharing_in, actor_fixture, action, error_class, code):
    sharing = sharing_in("scheduled")
    actor = request.getfixturevalue(actor_fixture)
    refused(error_class, code, _attempt, action, actor, sharing)
    assert Sharing.objects.count() == 1
    stored = Sharing.objects.get()
    assert (stored.reference, stored.stopped_at, stored.status) == (sharing.reference, None, SCHEDULED)
    assert not AuditEvent.objects.exists()


# --- updating dates --------------------------------------------------------------------------------------------------

NAIVE_START = dt.datetime(2026, 8, 1)  # noqa: DTZ001 (naive on purpose: the service refuses it)
DATE_UPDATE_ROWS = [
    # id, state, changes, expected: None (accepted) or (error class, code)
    ("scheduled: start later", "scheduled", {"start_at": NOW + 2 * DAY}, None),
    ("scheduled: start earlier, still ahead", "scheduled", {"start_at": NOW + HOUR}, None),
    (
        "scheduled: start and end moved together",
        "scheduled",
        {"start_at": NOW + 20 * DAY, "end_at": NOW + 30 * DAY},
        None,
    ),
    ("scheduled: start to exactly now", "scheduled", {"start_at": NOW}, (InvalidInput, "start_in_past")),
    ("scheduled: start to the past", "scheduled", {"start_at": NOW - HOUR}, (InvalidInput, "start_in_past")),
    ("scheduled: start after the end", "scheduled", {"start_at": NOW + 20 * DAY}, (InvalidInput, "end_before_start")),
    ("scheduled: start removed", "scheduled", {"start_at": None}, (InvalidInput, "start_required")),
    ("scheduled: naive start", "scheduled", {"start_at": NAIVE_START}, (InvalidInput, "invalid_datetime")),
    ("scheduled: end cleared", "scheduled", {"end_at": None}, None),
    ("scheduled: end equal to start", "scheduled", {"end_at": NOW + DAY}, (InvalidInput, "end_before_start")),
    ("pending: start later", "pending", {"start_at": NOW + 2 * DAY}, None),
    (
        "pending with a past start: start locked",
        "pending, start passed",
        {"start_at": NOW + DAY},
        (RuleConflict, "start_locked"),
    ),
    ("in progress: start locked", "in progress", {"start_at": NOW + DAY}, (RuleConflict, "start_locked")),
    (
        "in progress: start to the past, still locked",
        "in progress",
        {"start_at": NOW - 2 * DAY},
        (RuleConflict, "start_locked"),
    ),
    ("in progress: end later", "in progress", {"end_at": NOW + 20 * DAY}, None),
    ("in progress: end earlier, still ahead", "in progress", {"end_at": NOW + HOUR}, None),
    ("in progress: end cleared", "in progress", {"end_at": None}, None),
    ("in progress: end to exactly now", "in progress", {"end_at": NOW}, (InvalidInput, "end_in_past")),
    ("in progress: end to the past", "in progress", {"end_at": NOW - HOUR}, (InvalidInput, "end_in_past")),
    ("in progress, open-ended: end set", "in progress, open-ended", {"end_at": NOW + DAY}, None),
    (
        "in progress, open-ended: end in the past",
        "in progress, open-ended",
        {"end_at": NOW - HOUR},
        (InvalidInput, "end_in_past"),
    ),
    ("stopped: end moved", "stopped", {"end_at": NOW + 20 * DAY}, (RuleConflict, "sharing_ended")),
    ("stopped: end cleared", "stopped", {"end_at": None}, (RuleConflict, "sharing_ended")),
    (
        "stopped before its start: start moved",
        "stopped before its start",
        {"start_at": NOW + 2 * DAY},
        (RuleConflict, "sharing_ended"),
    ),
    ("terminated: end moved", "terminated", {"end_at": NOW + DAY}, (RuleConflict, "sharing_ended")),
    ("terminated: end cleared", "terminated", {"end_at": None}, (RuleConflict, "sharing_ended")),
    ("terminated: start moved", "terminated", {"start_at": NOW + DAY}, (RuleConflict, "sharing_ended")),
]


@pytest.mark.parametrize(
    ("state", "changes", "expected"), [row[1:] for row in DATE_UPDATE_ROWS], ids=[row[0] for row in DATE_UPDATE_ROWS]
)
def test_update_dates(admin_actor, sharing_in, state, changes, expected):
    sharing = sharing_in(state)
    before = (sharing.start_at, sharing.end_at)
    if expected is None:
        sharing_update(actor=admin_actor, sharing=sharing, changes=changes)
        sharing.refresh_from_db()
        for field, value in changes.items():
            assert getattr(sharing, field) == value
        assert sharing.status == EXPECTED_STATUS[state]
    else:
        refused(*expected, sharing_update, actor=admin_actor, sharing=sharing, changes=changes)
        sharing.refresh_from_db()
        assert (sharing.start_at, sharing.end_at) == before
        assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"start_at": dt.datetime(2026, 7, 15, tzinfo=UTC)}, (RuleConflict, "start_locked")),
        ({"end_at": dt.datetime(2026, 8, 31, tzinfo=UTC)}, None),
        ({"end_at": None}, None),
        ({"end_at": dt.datetime(2026, 7, 10, tzinfo=UTC)}, (InvalidInput, "end_in_past")),
    ],
    ids=["start moved: locked", "end moved to 31 August", "end cleared", "end moved to 10 July: in the past"],
)
def test_update_design_example_12_july_sharing_1_to_30_july(
    clock, admin_actor, machine, beneficiary_admin, changes, expected
):
    """DESIGN §3: today is 12 July, the sharing runs 1–30 July: the start is locked, the end can move."""
    (sharing,) = share(
        admin_actor,
        [machine],
        beneficiary_admin.email,
        start_at=dt.datetime(2026, 7, 1, tzinfo=UTC),
        end_at=dt.datetime(2026, 7, 30, tzinfo=UTC),
    )
    if expected is None:
        updated = sharing_update(actor=admin_actor, sharing=sharing, changes=changes)
        assert updated.end_at == changes["end_at"]
    else:
        refused(*expected, sharing_update, actor=admin_actor, sharing=sharing, changes=changes)


@pytest.mark.parametrize("state", ["stopped", "terminated", "in progress"], ids=lambda state: state)
def test_update_resending_the_current_dates_is_not_a_change(admin_actor, sharing_in, state):
    """A form sends every field back: unchanged dates of a locked sharing must not refuse the other changes."""
    sharing = sharing_in(state)
    changes = {"start_at": sharing.start_at, "end_at": sharing.end_at, "reference": "PO-9"}
    updated = sharing_update(actor=admin_actor, sharing=sharing, changes=changes)
    assert updated.reference == "PO-9"
    assert [change["field"] for change in AuditEvent.objects.get().changes] == ["reference"]


# --- updating the other fields ---------------------------------------------------------------------------------------

DATA_PACKS_UPDATE_ROWS = [
    ("pending", "pending", None),
    ("pending, start passed", "pending, start passed", None),
    ("scheduled", "scheduled", None),
    ("in progress", "in progress", "data_packs_locked"),
    ("stopped", "stopped", "data_packs_locked"),
    ("stopped before its start", "stopped before its start", "data_packs_locked"),
    ("terminated", "terminated", "data_packs_locked"),
]


@pytest.mark.parametrize(
    ("state", "expected"), [row[1:] for row in DATA_PACKS_UPDATE_ROWS], ids=[row[0] for row in DATA_PACKS_UPDATE_ROWS]
)
def test_update_data_packs_only_before_the_start(admin_actor, sharing_in, state, expected):
    sharing = sharing_in(state)
    changes = {"data_packs": ["usage_hours", "essential"]}
    if expected is None:
        sharing_update(actor=admin_actor, sharing=sharing, changes=changes)
        sharing.refresh_from_db()
        assert sharing.data_packs == ["essential", "usage_hours"]
    else:
        refused(RuleConflict, expected, sharing_update, actor=admin_actor, sharing=sharing, changes=changes)
        sharing.refresh_from_db()
        assert sharing.data_packs == list(ALL_DATA_PACKS)


def test_update_unchanged_data_packs_of_a_started_sharing_are_not_a_change(admin_actor, sharing_in):
    sharing = sharing_in("in progress")
    sharing_update(actor=admin_actor, sharing=sharing, changes={"data_packs": list(reversed(ALL_DATA_PACKS))})
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("data_packs", "code"), [([], "data_packs_required"), (["gossip"], "unknown_data_pack")], ids=["empty", "unknown"]
)
def test_update_data_packs_are_validated(admin_actor, sharing_in, data_packs, code):
    refused(
        InvalidInput,
        code,
        sharing_update,
        actor=admin_actor,
        sharing=sharing_in("scheduled"),
        changes={"data_packs": data_packs},
    )


@pytest.mark.parametrize("state", list(STATES), ids=list(STATES))
def test_update_reference_properties_and_notification_at_any_time(admin_actor, sharing_in, state):
    sharing = sharing_in(state)
    changes = {"reference": " PO-42 ", "properties": {"site": "Lyon"}, "notification_enabled": False}
    sharing_update(actor=admin_actor, sharing=sharing, changes=changes)
    sharing.refresh_from_db()
    assert (sharing.reference, sharing.properties, sharing.notification_enabled) == ("PO-42", {"site": "Lyon"}, False)
    assert sharing.status == EXPECTED_STATUS[state]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"reference": "r" * 256}, "reference_too_long"),
        ({"properties": {"site": "x" * 256}}, "property_too_long"),
        ({"notification_enabled": "no"}, "invalid_boolean"),
        ({"owner": "someone else"}, "unknown_field"),
        ({"status": "in_progress"}, "unknown_field"),
    ],
    ids=["reference too long", "property too long", "switch not a boolean", "owner", "status"],
)
def test_update_refuses_invalid_values_and_unknown_fields(admin_actor, sharing_in, changes, code):
    refused(InvalidInput, code, sharing_update, actor=admin_actor, sharing=sharing_in("scheduled"), changes=changes)


@pytest.mark.parametrize("key", ["machines", "machine_ids"], ids=lambda key: key)
@pytest.mark.parametrize("state", ["pending", "scheduled", "in progress"], ids=lambda state: state)
def test_update_machines_never_change(admin_actor, owner_org, sharing_in, machine, key, state):
    sharing = sharing_in(state)
    other = MachineFactory(organisation=owner_org)
    error = refused(
        RuleConflict, "machines_locked", sharing_update, actor=admin_actor, sharing=sharing, changes={key: [other.pk]}
    )
    assert error.field == "machines"
    assert list(sharing.machines.all()) == [machine]


# --- updating the recipient ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected_status"),
    [("pending", SCHEDULED), ("pending, start passed", IN_PROGRESS)],
    ids=["start ahead: scheduled", "start passed: in progress"],
)
def test_update_pending_recipient_to_an_existing_user_attaches_their_organisation(
    admin_actor, owner_org, sharing_in, machine, outsider_admin, state, expected_status
):
    sharing = sharing_in(state)
    sharing_update(actor=admin_actor, sharing=sharing, changes={"recipient_email": outsider_admin.email})
    sharing.refresh_from_db()
    assert (sharing.beneficiary, sharing.status) == (outsider_admin.organisation, expected_status)
    assert (sharing.recipient_email, sharing.recipient_organisation_name) == ("admin@quarry.example", "Quarry Ltd")
    assert ReceivedMachine.objects.filter(organisation=outsider_admin.organisation, machine=machine).exists()
    contact = Contact.objects.get(organisation=owner_org, email=outsider_admin.email)
    assert contact.known_organisation == outsider_admin.organisation
    event = AuditEvent.objects.get()
    assert event.changes == [
        {
            "field": "beneficiary",
            "before": None,
            "after": {"id": str(outsider_admin.organisation.pk), "name": "Quarry Ltd"},
        },
        {"field": "recipient_email", "before": NEW_PERSON, "after": "admin@quarry.example"},
        {"field": "recipient_organisation_name", "before": "NewCo", "after": "Quarry Ltd"},
        {"field": "status", "before": "pending", "after": expected_status.value},
    ]


def test_update_pending_recipient_to_any_other_e_mail(admin_actor, owner_org, sharing_in):
    sharing = sharing_in("pending")
    changes = {"recipient_email": "Other.Person@NewCo.example", "recipient_organisation_name": "NewCo Group"}
    sharing_update(actor=admin_actor, sharing=sharing, changes=changes)
    sharing.refresh_from_db()
    assert (sharing.recipient_email, sharing.recipient_organisation_name) == (
        "other.person@newco.example",
        "NewCo Group",
    )
    assert (sharing.beneficiary, sharing.status) == (None, PENDING)
    assert (
        Contact.objects.get(organisation=owner_org, email="other.person@newco.example").organisation_name
        == "NewCo Group"
    )


@pytest.mark.parametrize(
    ("recipient", "error_class", "code"),
    [
        ("member@rentandgo.example", InvalidInput, "recipient_in_own_organisation"),
        ("not an e-mail", InvalidInput, "invalid_email"),
    ],
    ids=["a member of the owner organisation", "not an e-mail"],
)
def test_update_pending_recipient_refusals(admin_actor, owner_member, sharing_in, recipient, error_class, code):
    sharing = sharing_in("pending")
    refused(
        error_class, code, sharing_update, actor=admin_actor, sharing=sharing, changes={"recipient_email": recipient}
    )
    sharing.refresh_from_db()
    assert (sharing.recipient_email, sharing.beneficiary) == (NEW_PERSON, None)


@pytest.mark.parametrize("state", ["scheduled", "in progress", "stopped", "terminated"], ids=lambda state: state)
def test_update_known_recipient_to_another_user_of_the_same_organisation(
    admin_actor, sharing_in, beneficiary_org, state
):
    colleague = UserFactory(organisation=beneficiary_org, email="site.manager@buildco.example")
    sharing = sharing_in(state)
    sharing_update(actor=admin_actor, sharing=sharing, changes={"recipient_email": colleague.email})
    sharing.refresh_from_db()
    assert (sharing.recipient_email, sharing.beneficiary) == (colleague.email, beneficiary_org)
    assert Contact.objects.get(email=colleague.email).known_organisation == beneficiary_org
    assert AuditEvent.objects.get().changes == [
        {"field": "recipient_email", "before": "admin@buildco.example", "after": "site.manager@buildco.example"}
    ]


@pytest.mark.parametrize(
    "recipient",
    ["admin@quarry.example", "member@rentandgo.example", NEW_PERSON],
    ids=["a user of another organisation", "a member of the owner organisation", "no user yet"],
)
def test_update_known_recipient_never_moves_to_another_organisation(
    admin_actor, sharing_in, beneficiary_org, outsider_admin, owner_member, recipient
):
    sharing = sharing_in("scheduled")
    refused(
        RuleConflict,
        "recipient_other_organisation",
        sharing_update,
        actor=admin_actor,
        sharing=sharing,
        changes={"recipient_email": recipient},
    )
    sharing.refresh_from_db()
    assert (sharing.recipient_email, sharing.beneficiary) == ("admin@buildco.example", beneficiary_org)


def test_update_recipient_of_a_sharing_stopped_while_pending_is_locked(admin_actor, sharing_in):
    sharing = sharing_in("pending", stopped_at=NOW - HOUR, status=STOPPED)
    refused(
        RuleConflict,
        "recipient_locked",
        sharing_update,
        actor=admin_actor,
        sharing=sharing,
        changes={"recipient_email": "x@y.example"},
    )


def test_update_audit_event(admin_actor, owner_admin, owner_org, sharing_in):
    sharing = sharing_in("scheduled", reference="C-1", properties={"site": "Lyon"})
    sharing_update(
        actor=admin_actor,
        sharing=sharing,
        changes={
            "start_at": NOW + 2 * DAY,
            "end_at": None,
            "reference": "C-2",
            "properties": {"site": "Lyon"},  # unchanged: not in the trail
            "data_packs": ["essential"],
            "notification_enabled": False,
        },
    )
    event = AuditEvent.objects.get()
    assert (event.actor_kind, event.actor_label, event.actor_user) == (ActorKind.USER, owner_admin.email, owner_admin)
    assert (event.organisation, event.target_id, event.action, event.occurred_at) == (
        owner_org,
        sharing.pk,
        AuditAction.UPDATED,
        NOW,
    )
    assert event.changes == [
        {"field": "data_packs", "before": list(ALL_DATA_PACKS), "after": ["essential"]},
        {"field": "end_at", "before": "2026-07-22T09:00:00Z", "after": None},
        {"field": "notification_enabled", "before": True, "after": False},
        {"field": "reference", "before": "C-1", "after": "C-2"},
        {"field": "start_at", "before": "2026-07-13T09:00:00Z", "after": "2026-07-14T09:00:00Z"},
    ]


def test_update_without_a_change_writes_nothing(admin_actor, sharing_in):
    sharing = sharing_in("in progress", reference="C-1")
    sharing_update(actor=admin_actor, sharing=sharing, changes={"reference": "C-1 "})
    assert not AuditEvent.objects.exists()


# --- stopping --------------------------------------------------------------------------------------------------------

STOP_ROWS = [
    ("pending", None),
    ("pending, start passed", None),
    ("scheduled", None),
    ("in progress", None),
    ("in progress, open-ended", None),
    ("stopped", "sharing_ended"),
    ("stopped before its start", "sharing_ended"),
    ("terminated", "sharing_ended"),
]


@pytest.mark.parametrize(("state", "expected"), STOP_ROWS, ids=[row[0] for row in STOP_ROWS])
def test_stop(admin_actor, owner_admin, sharing_in, state, expected):
    sharing = sharing_in(state)
    if expected is None:
        stopped = sharing_stop(actor=admin_actor, sharing=sharing)
        sharing.refresh_from_db()
        assert (sharing.stopped_at, sharing.status) == (NOW, STOPPED)
        assert stopped.stopped_at == NOW
        assert (sharing.start_at, sharing.end_at) == (STATES[state]["start_at"], STATES[state]["end_at"])
        event = AuditEvent.objects.get()
        assert (event.actor_kind, event.actor_label, event.actor_user) == (
            ActorKind.USER,
            owner_admin.email,
            owner_admin,
        )
        assert (event.action, event.target_id) == (AuditAction.STOPPED, sharing.pk)
        assert event.changes == [
            {"field": "stopped_at", "before": None, "after": "2026-07-12T09:00:00Z"},
            {"field": "status", "before": EXPECTED_STATUS[state].value, "after": "stopped"},
        ]
    else:
        stopped_at = sharing.stopped_at
        refused(RuleConflict, expected, sharing_stop, actor=admin_actor, sharing=sharing)
        sharing.refresh_from_db()
        assert sharing.stopped_at == stopped_at
        assert not AuditEvent.objects.exists()


def test_stop_reads_the_dates_not_the_cached_status(admin_actor, sharing_in):
    sharing = sharing_in("terminated", status=IN_PROGRESS)  # the job has not run yet
    refused(RuleConflict, "sharing_ended", sharing_stop, actor=admin_actor, sharing=sharing)


# --- deleting --------------------------------------------------------------------------------------------------------

DELETE_ROWS = [
    ("pending", None),
    ("pending, start passed", None),
    ("scheduled", None),
    ("in progress", "sharing_started"),
    ("in progress, open-ended", "sharing_started"),
    ("stopped", "sharing_ended"),
    ("stopped before its start", "sharing_ended"),
    ("terminated", "sharing_ended"),
]


@pytest.mark.parametrize(("state", "expected"), DELETE_ROWS, ids=[row[0] for row in DELETE_ROWS])
def test_delete(admin_actor, owner_admin, owner_org, sharing_in, machine, state, expected):
    sharing = sharing_in(state)
    if expected is None:
        sharing_delete(actor=admin_actor, sharing=sharing)
        assert not Sharing.objects.exists()
        event = AuditEvent.objects.get()
        assert (event.actor_kind, event.actor_label, event.actor_user) == (
            ActorKind.USER,
            owner_admin.email,
            owner_admin,
        )
        assert (event.organisation, event.action, event.target_id) == (owner_org, AuditAction.DELETED, sharing.pk)
        assert event.changes == [
            {"field": "machines", "before": [str(machine.pk)], "after": None},
            {"field": "recipient_email", "before": sharing.recipient_email, "after": None},
            {"field": "reference", "before": sharing.reference, "after": None},
            {"field": "start_at", "before": iso(sharing.start_at), "after": None},
            {"field": "end_at", "before": iso(sharing.end_at), "after": None},
        ]
    else:
        error = refused(RuleConflict, expected, sharing_delete, actor=admin_actor, sharing=sharing)
        assert ("stop it instead" if expected == "sharing_started" else "kept") in error.message
        assert Sharing.objects.filter(pk=sharing.pk).exists()
        assert ReceivedMachine.objects.filter(machine=machine).exists()
        assert not AuditEvent.objects.exists()


def test_delete_reads_the_dates_not_the_cached_status(admin_actor, sharing_in):
    sharing = sharing_in("in progress", status=SCHEDULED)  # the job has not run yet
    refused(RuleConflict, "sharing_started", sharing_delete, actor=admin_actor, sharing=sharing)


def test_delete_removes_the_received_machine_when_no_other_sharing_brings_it(
    admin_actor, sharing_in, beneficiary_org, machine
):
    sharing_delete(actor=admin_actor, sharing=sharing_in("scheduled"))
    assert not ReceivedMachine.objects.filter(organisation=beneficiary_org).exists()


@pytest.mark.parametrize(
    "other_state", ["scheduled", "in progress", "stopped", "terminated"], ids=lambda state: f"another sharing {state}"
)
def test_delete_keeps_the_received_machine_another_sharing_brings(
    admin_actor, sharing_in, beneficiary_org, machine, other_state
):
    sharing_in(other_state, start_at=STATES[other_state]["start_at"] + HOUR)
    ReceivedMachine.objects.filter(machine=machine).update(name="Our digger")
    sharing_delete(actor=admin_actor, sharing=sharing_in("scheduled", start_at=NOW + 20 * DAY, end_at=None))
    assert list(ReceivedMachine.objects.filter(organisation=beneficiary_org).values_list("name", flat=True)) == [
        "Our digger"
    ]


def test_delete_removes_only_the_machines_no_other_sharing_brings(admin_actor, owner_org, beneficiary_admin, clock):
    kept, removed = MachineFactory.create_batch(2, organisation=owner_org)
    share(admin_actor, [kept], beneficiary_admin.email, start_at=NOW - DAY)
    (to_delete,) = share(admin_actor, [kept, removed], beneficiary_admin.email, start_at=NOW + DAY)
    sharing_delete(actor=admin_actor, sharing=to_delete)
    assert list(ReceivedMachine.objects.values_list("machine", flat=True)) == [kept.pk]


def test_delete_of_a_pending_sharing_leaves_other_fleets_alone(admin_actor, sharing_in, beneficiary_org, machine):
    sharing_in("in progress")
    sharing_delete(actor=admin_actor, sharing=sharing_in("pending"))
    assert ReceivedMachine.objects.filter(organisation=beneficiary_org, machine=machine).exists()


# --- attaching a beneficiary (invitation accepted) -------------------------------------------------------------------


def test_attach_beneficiary(clock, admin_actor, owner_org, owner_admin, outsider_admin):
    machines = MachineFactory.create_batch(5, organisation=owner_org)
    (scheduled,) = share(
        admin_actor, [machines[0]], NEW_PERSON, recipient_organisation_name="NewCo", start_at=NOW + DAY
    )
    (started,) = share(
        admin_actor,
        [machines[1]],
        NEW_PERSON,
        recipient_organisation_name="NewCo",
        start_at=NOW - DAY,
        end_at=NOW + DAY,
    )
    ended = SharingFactory(
        owner=owner_org,
        beneficiary=None,
        recipient_email=NEW_PERSON,
        start_at=NOW - 3 * DAY,
        end_at=NOW - DAY,
        machines=[machines[2]],
    )
    (stopped,) = share(admin_actor, [machines[3]], NEW_PERSON, recipient_organisation_name="NewCo")
    sharing_stop(actor=admin_actor, sharing=stopped)
    (someone_else,) = share(admin_actor, [machines[4]], "other@newco.example", recipient_organisation_name="NewCo")
    (already_attached,) = share(admin_actor, [machines[4]], outsider_admin.email)
    events_before = AuditEvent.objects.count()

    user = UserFactory(email=NEW_PERSON, organisation=None)
    newco = organisation_create(name="NewCo SAS", admin=user)
    clock.move_to(NOW + HOUR)
    attached = sharings_attach_beneficiary(actor=Actor.for_user(user), user=user)

    assert sorted(sharing.pk for sharing in attached) == sorted([scheduled.pk, started.pk])
    statuses = dict(Sharing.objects.values_list("pk", "status"))
    beneficiaries = dict(Sharing.objects.values_list("pk", "beneficiary"))
    assert (statuses[scheduled.pk], beneficiaries[scheduled.pk]) == (SCHEDULED, newco.pk)
    assert (statuses[started.pk], beneficiaries[started.pk]) == (IN_PROGRESS, newco.pk)
    assert Sharing.objects.get(pk=scheduled.pk).recipient_organisation_name == "NewCo SAS"
    for not_attached in (ended, stopped, someone_else):
        assert beneficiaries[not_attached.pk] is None
    assert beneficiaries[already_attached.pk] == outsider_admin.organisation.pk
    assert set(ReceivedMachine.objects.filter(organisation=newco).values_list("machine", flat=True)) == {
        machines[0].pk,
        machines[1].pk,
    }
    assert Contact.objects.get(organisation=owner_org, email=NEW_PERSON).known_organisation == newco

    events = AuditEvent.objects.order_by("id")[events_before:]
    assert sorted(event.target_id for event in events) == sorted([scheduled.pk, started.pk])
    for event in events:
        assert (event.actor_kind, event.actor_label, event.actor_user) == (ActorKind.USER, NEW_PERSON, user)
        assert (event.organisation, event.action, event.occurred_at) == (
            owner_org,
            AuditAction.BENEFICIARY_ATTACHED,
            NOW + HOUR,
        )
        expected_status = "scheduled" if event.target_id == scheduled.pk else "in_progress"
        assert event.changes == [
            {"field": "beneficiary", "before": None, "after": {"id": str(newco.pk), "name": "NewCo SAS"}},
            {"field": "status", "before": "pending", "after": expected_status},
        ]

    assert sharings_attach_beneficiary(actor=Actor.for_user(user), user=user) == []


def test_attach_beneficiary_statuses_follow_the_dates_at_acceptance(clock, admin_actor, machine):
    (_sharing,) = share(admin_actor, [machine], NEW_PERSON, recipient_organisation_name="NewCo", start_at=NOW + DAY)
    clock.move_to(NOW + 2 * DAY)  # accepted after the start
    user = UserFactory(email=NEW_PERSON, organisation=None)
    organisation_create(name="NewCo", admin=user)
    (attached,) = sharings_attach_beneficiary(actor=Actor.for_user(user), user=user)
    assert attached.status == IN_PROGRESS


def test_attach_beneficiary_needs_an_organisation(db, clock):
    user = UserFactory(email=NEW_PERSON, organisation=None)
    refused(InvalidInput, "no_organisation", sharings_attach_beneficiary, actor=Actor.system(), user=user)


# --- the lifecycle job -----------------------------------------------------------------------------------------------

LIFECYCLE_ROWS = [
    # id, start, end, known beneficiary, when the job runs, (status before, status after) or None if nothing moves
    (
        "scheduled → in progress exactly at the start",
        NOW + DAY,
        NOW + 3 * DAY,
        True,
        NOW + DAY,
        ("scheduled", "in_progress"),
    ),
    ("scheduled stays one second before the start", NOW + DAY, None, True, NOW + DAY - SECOND, None),
    (
        "in progress → terminated exactly at the end",
        NOW - DAY,
        NOW + DAY,
        True,
        NOW + DAY,
        ("in_progress", "terminated"),
    ),
    ("in progress stays one second before the end", NOW - DAY, NOW + DAY, True, NOW + DAY - SECOND, None),
    ("in progress, open-ended, stays", NOW - DAY, None, True, NOW + 400 * DAY, None),
    (
        "scheduled and ended while the job was down → terminated",
        NOW + DAY,
        NOW + 3 * DAY,
        True,
        NOW + 10 * DAY,
        ("scheduled", "terminated"),
    ),
    ("pending stays pending after its start", NOW + DAY, NOW + 3 * DAY, False, NOW + 2 * DAY, None),
    ("pending → terminated at the end", NOW + DAY, NOW + 3 * DAY, False, NOW + 3 * DAY, ("pending", "terminated")),
]


@pytest.mark.parametrize(
    ("start_at", "end_at", "known", "run_at", "move"),
    [row[1:] for row in LIFECYCLE_ROWS],
    ids=[row[0] for row in LIFECYCLE_ROWS],
)
def test_lifecycle_run(
    clock, admin_actor, owner_org, machine, beneficiary_admin, start_at, end_at, known, run_at, move
):
    recipient = beneficiary_admin.email if known else NEW_PERSON
    (sharing,) = share(
        admin_actor, [machine], recipient, recipient_organisation_name="NewCo", start_at=start_at, end_at=end_at
    )
    status_before = sharing.status
    clock.move_to(run_at)
    events_before = AuditEvent.objects.count()

    moved = sharing_lifecycle_run()

    sharing.refresh_from_db()
    new_events = list(AuditEvent.objects.order_by("id")[events_before:])
    if move is None:
        assert (moved, sharing.status, new_events) == (0, status_before, [])
        return
    assert moved == 1
    assert (status_before, sharing.status) == move
    assert sharing.updated_at == run_at
    (event,) = new_events
    assert (event.actor_kind, event.actor_label, event.actor_user) == (ActorKind.SYSTEM, "system", None)
    assert (event.organisation, event.target_type, event.target_id) == (owner_org, AuditTarget.SHARING, sharing.pk)
    assert (event.action, event.occurred_at) == (AuditAction.STATUS_CHANGED, run_at)
    assert event.changes == [{"field": "status", "before": move[0], "after": move[1]}]
    # Running again moves nothing and writes nothing.
    assert sharing_lifecycle_run() == 0
    assert AuditEvent.objects.count() == events_before + 1


def test_lifecycle_run_catches_up_after_days_of_downtime(clock, admin_actor, owner_org, beneficiary_admin):
    machine = MachineFactory(organisation=owner_org)

    def make(start, end, recipient=beneficiary_admin.email):
        return share(
            admin_actor, [machine], recipient, recipient_organisation_name="NewCo", start_at=start, end_at=end
        )[0]

    to_start = make(NOW + DAY, None)
    to_end = make(NOW - DAY, NOW + 2 * DAY)
    through = make(NOW + DAY, NOW + 2 * DAY)  # started and ended while nobody ran the job
    pending = make(NOW + DAY, NOW + 2 * DAY, NEW_PERSON)
    stopped = make(NOW - DAY, NOW + 2 * DAY)
    sharing_stop(actor=admin_actor, sharing=stopped)
    later = make(NOW + 30 * DAY, None)
    events_before = AuditEvent.objects.count()

    clock.move_to(NOW + 10 * DAY)
    assert sharing_lifecycle_run() == 4

    statuses = dict(Sharing.objects.values_list("pk", "status"))
    assert statuses == {
        to_start.pk: IN_PROGRESS,
        to_end.pk: TERMINATED,
        through.pk: TERMINATED,
        pending.pk: TERMINATED,
        stopped.pk: STOPPED,
        later.pk: SCHEDULED,
    }
    moves = {
        event.target_id: [(change["before"], change["after"]) for change in event.changes]
        for event in AuditEvent.objects.order_by("id")[events_before:]
    }
    assert moves == {
        to_start.pk: [("scheduled", "in_progress")],
        to_end.pk: [("in_progress", "terminated")],
        through.pk: [("scheduled", "terminated")],
        pending.pk: [("pending", "terminated")],
    }
    assert sharing_lifecycle_run() == 0
    assert AuditEvent.objects.count() == events_before + 4


def test_lifecycle_run_never_overwrites_an_edit_made_while_it_decided(
    clock, monkeypatch, admin_actor, machine, beneficiary_admin
):
    """An admin extends the end between the moment the job reads a due sharing and the moment it claims it: the
    job must not write the status it computed from the old dates."""
    (sharing,) = share(admin_actor, [machine], beneficiary_admin.email, start_at=NOW - DAY, end_at=NOW + DAY)
    decide = Sharing.status_at

    def decide_while_an_admin_extends_the_end(row, now):
        status = decide(row, now)
        Sharing.objects.filter(pk=row.pk).update(end_at=NOW + 30 * DAY)
        return status

    monkeypatch.setattr(Sharing, "status_at", decide_while_an_admin_extends_the_end)
    clock.move_to(NOW + 2 * DAY)
    sharing_lifecycle_run()
    monkeypatch.undo()

    sharing.refresh_from_db()
    assert (sharing.end_at, sharing.status) == (NOW + 30 * DAY, IN_PROGRESS)
    assert not AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED).exists()


def test_lifecycle_run_takes_the_time_it_is_given(clock, admin_actor, machine, beneficiary_admin):
    (sharing,) = share(admin_actor, [machine], beneficiary_admin.email, start_at=NOW + DAY)
    assert sharing_lifecycle_run(now=NOW + DAY) == 1
    sharing.refresh_from_db()
    assert sharing.status == IN_PROGRESS


# --- received machines -----------------------------------------------------------------------------------------------


@pytest.fixture
def received_machine(received, beneficiary_org):
    return ReceivedMachine.objects.get(organisation=beneficiary_org, machine=received)


def test_received_machine_rename(received_machine, beneficiary_actor, beneficiary_admin, beneficiary_org, machine):
    events_before = AuditEvent.objects.count()
    original = received_machine.name
    received_machine_update(actor=beneficiary_actor, received_machine=received_machine, name="  Our digger ")
    received_machine.refresh_from_db()
    assert received_machine.name == "Our digger"
    assert machine.default_display_name == original  # the owner's machine is untouched
    (event,) = AuditEvent.objects.order_by("id")[events_before:]
    assert (event.actor_kind, event.actor_label, event.actor_user) == (
        ActorKind.USER,
        beneficiary_admin.email,
        beneficiary_admin,
    )
    assert (event.organisation, event.target_type, event.target_id, event.action) == (
        beneficiary_org,
        AuditTarget.RECEIVED_MACHINE,
        received_machine.pk,
        AuditAction.RENAMED,
    )
    assert event.changes == [{"field": "name", "before": original, "after": "Our digger"}]
    # Same name again: nothing to record.
    received_machine_update(actor=beneficiary_actor, received_machine=received_machine, name="Our digger")
    assert AuditEvent.objects.count() == events_before + 1


@pytest.mark.parametrize(
    ("name", "code"), [("   ", "name_required"), ("n" * 201, "name_too_long")], ids=["blank", "too long"]
)
def test_received_machine_rename_refusals(received_machine, beneficiary_actor, name, code):
    original = received_machine.name
    refused(
        InvalidInput,
        code,
        received_machine_update,
        actor=beneficiary_actor,
        received_machine=received_machine,
        name=name,
    )
    received_machine.refresh_from_db()
    assert received_machine.name == original


def test_received_machine_workspaces(received_machine, beneficiary_actor, beneficiary_org):
    events_before = AuditEvent.objects.count()
    depot, site = WorkspaceFactory(organisation=beneficiary_org), WorkspaceFactory(organisation=beneficiary_org)
    received_machine_update(actor=beneficiary_actor, received_machine=received_machine, workspaces=[site, depot])
    assert set(received_machine.workspaces.all()) == {depot, site}
    received_machine_update(actor=beneficiary_actor, received_machine=received_machine, workspaces=[site])
    assert list(received_machine.workspaces.all()) == [site]
    first, second = AuditEvent.objects.order_by("id")[events_before:]
    assert (first.action, second.action) == (AuditAction.WORKSPACES_CHANGED, AuditAction.WORKSPACES_CHANGED)
    assert first.changes == [{"field": "workspaces", "before": [], "after": sorted([str(depot.pk), str(site.pk)])}]
    assert second.changes == [
        {"field": "workspaces", "before": sorted([str(depot.pk), str(site.pk)]), "after": [str(site.pk)]}
    ]


@pytest.mark.parametrize("whose", ["owner_org", "outsider_org"], ids=["the owner's", "an outsider's"])
def test_received_machine_workspaces_of_another_organisation_refused(
    request, received_machine, beneficiary_actor, beneficiary_org, whose
):
    own = WorkspaceFactory(organisation=beneficiary_org)
    foreign = WorkspaceFactory(organisation=request.getfixturevalue(whose))
    refused(
        InvalidInput,
        "workspace_not_yours",
        received_machine_update,
        actor=beneficiary_actor,
        received_machine=received_machine,
        workspaces=[own, foreign],
    )
    assert not received_machine.workspaces.exists()


@pytest.mark.parametrize(
    "actor_fixture", ["admin_actor", "outsider_actor"], ids=["the owner's admin", "an outsider's admin"]
)
def test_received_machine_of_another_organisation_refused(request, received_machine, actor_fixture):
    original = received_machine.name
    actor = request.getfixturevalue(actor_fixture)
    refused(
        NotAllowed,
        "not_your_organisation",
        received_machine_update,
        actor=actor,
        received_machine=received_machine,
        name="Mine",
    )
    received_machine.refresh_from_db()
    assert received_machine.name == original
