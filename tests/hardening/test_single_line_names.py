"""Single-line names (issue 9, item 5): line breaks and other control characters typed or sent in a name are folded
into one space by the services, so they never show as fake lines in an e-mail or a CSV cell."""

import csv
import datetime as dt
import io

import pytest

from accounts.actors import Actor
from accounts.services import contact_update, organisation_create, organisation_update
from fleet.services import workspace_create, workspace_rename
from hiboo_connect.text import single_line
from outbox.email import message_email
from outbox.models import Message
from sharing.models import ReceivedMachine
from sharing.services import received_machine_update, sharing_create, sharing_update
from tests.factories import ContactFactory, SharingFactory, UserFactory, WorkspaceFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)


@pytest.fixture
def now(frozen):
    frozen(NOW)
    return NOW


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Rent\n& Go", "Rent & Go"),
        ("Rent\r\nGo", "Rent Go"),
        ("  Rent \n\n Go\t ", "Rent Go"),
        ("Rent\u2028Go\u2029", "Rent Go"),
        ("Rent\x00\x0b\x1f\x7f\x85Go", "Rent Go"),
        ("Société\u00a0Générale", "Société\u00a0Générale"),  # a non-breaking space is a space, kept
        ("Plain", "Plain"),
        ("", ""),
    ],
)
def test_single_line(typed, kept):
    assert single_line(typed) == kept


def test_organisation_names(db):
    organisation = organisation_create(name="Rent\n& Go", admin=UserFactory(organisation=None))
    assert organisation.name == "Rent & Go"
    admin = organisation.users.get()
    organisation_update(
        actor=Actor.for_user(admin), organisation=organisation, name="Rent\r\nAnd Go", timezone="UTC", language="en"
    )
    assert organisation.name == "Rent And Go"


def test_contact_names(admin_actor, owner_org):
    contact = ContactFactory(organisation=owner_org)
    contact_update(actor=admin_actor, contact=contact, name="Jane\nDoe", organisation_name="Build\r\nCo")
    assert (contact.name, contact.organisation_name) == ("Jane Doe", "Build Co")


def test_workspace_names(admin_actor, owner_org):
    assert workspace_create(actor=admin_actor, name="North\nsite").name == "North site"
    workspace = WorkspaceFactory(organisation=owner_org, name="South")
    assert workspace_rename(actor=admin_actor, workspace=workspace, name="South\tsite\n").name == "South site"


def test_received_machine_names(now, beneficiary_admin, owner_org, machine):
    SharingFactory(owner=owner_org, beneficiary=beneficiary_admin.organisation, machines=[machine], start_at=NOW)
    received = ReceivedMachine.objects.get(machine=machine)
    received_machine_update(actor=Actor.for_user(beneficiary_admin), received_machine=received, name="Digger\n2")
    assert received.name == "Digger 2"


def test_sharing_reference_and_recipient_organisation_name(now, admin_actor, machine):
    (sharing,) = sharing_create(
        actor=admin_actor,
        machine_ids=[machine.pk],
        recipient_email="new@newco.example",
        recipient_organisation_name="New\nCo",
        reference="CTR\r\n42",
        start_at=NOW,
    )
    assert (sharing.reference, sharing.recipient_organisation_name) == ("CTR 42", "New Co")
    sharing_update(
        actor=admin_actor, sharing=sharing, changes={"reference": "CTR\n43", "recipient_organisation_name": "Newer\nCo"}
    )
    sharing.refresh_from_db()
    assert (sharing.reference, sharing.recipient_organisation_name) == ("CTR 43", "Newer Co")
    email = message_email(Message.objects.filter(recipient="new@newco.example").first())
    assert "New\nCo" not in email.body


def test_a_name_stored_with_a_line_break_stays_one_csv_line_per_sharing(client, now, owner_admin, owner_org, machine):
    # Stored before the rule (past the services): the file still has one line per sharing when read as CSV.
    SharingFactory(owner=owner_org, beneficiary=None, machines=[machine], recipient_organisation_name="A\nB")
    client.force_login(owner_admin)
    response = client.get("/sharings/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 2
