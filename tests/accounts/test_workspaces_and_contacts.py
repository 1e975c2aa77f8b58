"""The services the sharing rules lean on: creating an organisation (unique slug, first admin), workspaces (fleet;
admins only, unique names per organisation, never another organisation's) and the address book of recipients.

Time is frozen at NOW by the `clock` fixture every test asks for (directly or through `actors`)."""

import datetime as dt

import pytest

from accounts.actors import Actor
from accounts.models import Contact, Organisation, Role
from accounts.services import contact_record, contact_update, organisation_create
from audit.models import AuditEvent
from fleet.models import Workspace
from fleet.services import workspace_create, workspace_delete, workspace_rename
from hiboo_connect.errors import InvalidInput, NotAllowed
from tests.factories import ContactFactory, MachineFactory, OrganisationFactory, UserFactory, WorkspaceFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(db, frozen):
    return frozen(NOW)


@pytest.fixture
def actors(clock, admin_actor, member_actor, outsider_admin):
    return {"admin": admin_actor, "member": member_actor, "outsider admin": Actor.for_user(outsider_admin)}


def refused(error_class, code, call, **kwargs):
    with pytest.raises(error_class) as info:
        call(**kwargs)
    assert type(info.value) is error_class
    assert info.value.code == code, info.value.message
    return info.value


# --- organisations ---------------------------------------------------------------------------------------------------


def test_organisation_create_makes_the_user_its_first_admin(clock):
    user = UserFactory(organisation=None, role=Role.MEMBER)
    organisation = organisation_create(name="  NewCo  ", admin=user, timezone="Europe/London", language="fr")
    organisation.refresh_from_db()
    user.refresh_from_db()
    assert (organisation.name, organisation.slug) == ("NewCo", "newco")
    assert (organisation.timezone, organisation.language) == ("Europe/London", "fr")
    assert (user.organisation, user.role, user.is_organisation_admin) == (organisation, Role.ADMIN, True)
    assert organisation.created_at == NOW


SLUG_ROWS = [
    # id, names created in turn, the slugs they get
    ("same name thrice", ["Rent & Go", "Rent & Go", "Rent & Go"], ["rent-go", "rent-go-2", "rent-go-3"]),
    ("names that slugify alike", ["BuildCo", "buildco", "Build Co!"], ["buildco", "buildco-2", "build-co"]),
    ("nothing to slugify", ["!!!", "???"], ["organisation", "organisation-2"]),
    ("accents", ["Équipements Léon", "Equipements Leon"], ["equipements-leon", "equipements-leon-2"]),
    ("long names are cut", ["x" * 200, "x" * 200], ["x" * 70, "x" * 70 + "-2"]),
]


@pytest.mark.parametrize(("names", "slugs"), [row[1:] for row in SLUG_ROWS], ids=[row[0] for row in SLUG_ROWS])
def test_organisation_create_slugs_are_unique(clock, names, slugs):
    created = [organisation_create(name=name, admin=UserFactory(organisation=None)) for name in names]
    assert [organisation.slug for organisation in created] == slugs


ORGANISATION_REFUSAL_ROWS = [
    ("blank name", {"name": "   "}, "name_required"),
    ("name too long", {"name": "n" * 201}, "name_too_long"),
    ("unknown time zone", {"timezone": "Mars/Olympus_Mons"}, "invalid_timezone"),
    ("unknown language", {"language": "xx"}, "invalid_language"),
]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [row[1:] for row in ORGANISATION_REFUSAL_ROWS],
    ids=[row[0] for row in ORGANISATION_REFUSAL_ROWS],
)
def test_organisation_create_refusals(clock, overrides, code):
    user = UserFactory(organisation=None)
    refused(InvalidInput, code, organisation_create, **{"name": "NewCo", "admin": user, **overrides})
    user.refresh_from_db()
    assert user.organisation is None
    assert not Organisation.objects.exists()


def test_organisation_create_refuses_a_user_who_already_has_one(clock, owner_member, owner_org):
    refused(InvalidInput, "already_in_organisation", organisation_create, name="Breakaway", admin=owner_member)
    owner_member.refresh_from_db()
    assert (owner_member.organisation, owner_member.role) == (owner_org, Role.MEMBER)
    assert list(Organisation.objects.all()) == [owner_org]


# --- workspaces ------------------------------------------------------------------------------------------------------


def test_workspace_create(actors, owner_org):
    workspace = workspace_create(actor=actors["admin"], name="  Lyon depot ")
    assert (workspace.organisation, workspace.name) == (owner_org, "Lyon depot")


@pytest.mark.parametrize(
    ("name", "code"),
    [("", "name_required"), ("   ", "name_required"), ("w" * 121, "name_too_long"), ("Lyon depot", "name_taken")],
    ids=["empty", "blank", "too long", "taken"],
)
def test_workspace_create_refusals(actors, owner_org, name, code):
    WorkspaceFactory(organisation=owner_org, name="Lyon depot")
    error = refused(InvalidInput, code, workspace_create, actor=actors["admin"], name=name)
    assert error.field == "name"
    assert Workspace.objects.count() == 1


def test_workspace_names_are_unique_per_organisation_only(actors, outsider_org):
    WorkspaceFactory(organisation=outsider_org, name="Lyon depot")
    assert workspace_create(actor=actors["admin"], name="Lyon depot").name == "Lyon depot"


def test_workspace_create_is_for_admins(actors):
    refused(NotAllowed, "admin_required", workspace_create, actor=actors["member"], name="Lyon depot")
    assert not Workspace.objects.exists()


def test_workspace_rename(actors, owner_org):
    workspace = WorkspaceFactory(organisation=owner_org, name="Lyon")
    workspace_rename(actor=actors["admin"], workspace=workspace, name=" Lyon depot ")
    workspace.refresh_from_db()
    assert workspace.name == "Lyon depot"
    # Keeping its own name is not a clash.
    workspace_rename(actor=actors["admin"], workspace=workspace, name="Lyon depot")


@pytest.mark.parametrize(
    ("name", "code"),
    [("Paris", "name_taken"), ("  ", "name_required"), ("w" * 121, "name_too_long")],
    ids=["another workspace's name", "blank", "too long"],
)
def test_workspace_rename_refusals(actors, owner_org, name, code):
    WorkspaceFactory(organisation=owner_org, name="Paris")
    workspace = WorkspaceFactory(organisation=owner_org, name="Lyon")
    refused(InvalidInput, code, workspace_rename, actor=actors["admin"], workspace=workspace, name=name)
    workspace.refresh_from_db()
    assert workspace.name == "Lyon"


def test_workspace_delete_keeps_the_machines(actors, owner_org):
    workspace = WorkspaceFactory(organisation=owner_org)
    machine = MachineFactory(organisation=owner_org)
    machine.workspaces.add(workspace)
    workspace_delete(actor=actors["admin"], workspace=workspace)
    assert not Workspace.objects.exists()
    machine.refresh_from_db()
    assert list(machine.workspaces.all()) == []


WORKSPACE_ACTOR_ROWS = [
    # id, actor, action, code
    ("member renames", "member", "rename", "admin_required"),
    ("member deletes", "member", "delete", "admin_required"),
    ("another organisation's admin renames", "outsider admin", "rename", "not_your_organisation"),
    ("another organisation's admin deletes", "outsider admin", "delete", "not_your_organisation"),
]


@pytest.mark.parametrize(
    ("actor", "action", "code"), [row[1:] for row in WORKSPACE_ACTOR_ROWS], ids=[row[0] for row in WORKSPACE_ACTOR_ROWS]
)
def test_workspace_changes_are_for_the_organisation_s_admins(actors, owner_org, actor, action, code):
    workspace = WorkspaceFactory(organisation=owner_org, name="Lyon")
    if action == "rename":
        refused(NotAllowed, code, workspace_rename, actor=actors[actor], workspace=workspace, name="Mine")
    else:
        refused(NotAllowed, code, workspace_delete, actor=actors[actor], workspace=workspace)
    assert list(Workspace.objects.values_list("name", flat=True)) == ["Lyon"]


# --- contacts --------------------------------------------------------------------------------------------------------


def test_contact_record_creates_an_entry(clock, owner_org, beneficiary_org):
    contact = contact_record(
        organisation=owner_org,
        email="admin@buildco.example",
        organisation_name="BuildCo",
        known_organisation=beneficiary_org,
    )
    assert (contact.organisation, contact.email, contact.organisation_name, contact.known_organisation) == (
        owner_org,
        "admin@buildco.example",
        "BuildCo",
        beneficiary_org,
    )


CONTACT_UPDATE_ROWS = [
    # id, existing (organisation name, known?), recorded (organisation name, known?), result (organisation name, known?)
    ("learns the organisation", ("NewCo", False), ("", True), ("NewCo", True)),
    ("fills an empty organisation name", ("", False), ("NewCo", False), ("NewCo", False)),
    ("keeps the name an admin typed", ("NewCo (Lyon)", False), ("NewCo", False), ("NewCo (Lyon)", False)),
    ("never forgets the organisation", ("NewCo", True), ("", False), ("NewCo", True)),
]


@pytest.mark.parametrize(
    ("existing", "recorded", "result"),
    [row[1:] for row in CONTACT_UPDATE_ROWS],
    ids=[row[0] for row in CONTACT_UPDATE_ROWS],
)
def test_contact_record_brings_an_entry_up_to_date(clock, owner_org, existing, recorded, result):
    newco = OrganisationFactory(name="NewCo")
    ContactFactory(
        organisation=owner_org,
        email="ann@newco.example",
        name="Ann",
        organisation_name=existing[0],
        known_organisation=newco if existing[1] else None,
    )
    contact_record(
        organisation=owner_org,
        email="ann@newco.example",
        organisation_name=recorded[0],
        known_organisation=newco if recorded[1] else None,
    )
    contact = Contact.objects.get()
    assert (contact.name, contact.organisation_name, contact.known_organisation) == (
        "Ann",
        result[0],
        newco if result[1] else None,
    )


def test_contact_record_keeps_one_entry_per_address_book(clock, owner_org, outsider_org):
    contact_record(organisation=owner_org, email="ann@newco.example", organisation_name="NewCo")
    contact_record(organisation=owner_org, email="ann@newco.example", organisation_name="NewCo")
    contact_record(organisation=outsider_org, email="ann@newco.example", organisation_name="NewCo")
    assert sorted(Contact.objects.values_list("organisation__name", flat=True)) == ["Quarry Ltd", "Rent & Go"]


def test_contact_update(actors, owner_org):
    contact = ContactFactory(organisation=owner_org, email="ann@newco.example", organisation_name="NewCo")
    contact_update(actor=actors["admin"], contact=contact, name="  Ann Smith ", organisation_name=" NewCo Group ")
    contact.refresh_from_db()
    assert (contact.email, contact.name, contact.organisation_name) == ("ann@newco.example", "Ann Smith", "NewCo Group")
    assert contact.updated_at == NOW


@pytest.mark.parametrize(
    ("actor", "code"),
    [("member", "admin_required"), ("outsider admin", "not_your_organisation")],
    ids=["member", "another organisation's admin"],
)
def test_contact_update_is_for_the_organisation_s_admins(actors, owner_org, actor, code):
    contact = ContactFactory(organisation=owner_org, email="ann@newco.example", name="Ann")
    refused(
        NotAllowed, code, contact_update, actor=actors[actor], contact=contact, name="Mallory", organisation_name="X"
    )
    contact.refresh_from_db()
    assert contact.name == "Ann"


def test_workspace_changes_are_audited(actors, owner_org):
    """Created, renamed (a rename to the same name is no change) and deleted, each an audit event of the owner's, at
    the frozen time, by the admin; the deletion keeps which machines the workspace held."""
    workspace = workspace_create(actor=actors["admin"], name="Lyon")
    workspace_rename(actor=actors["admin"], workspace=workspace, name="Lyon depot")
    workspace_rename(actor=actors["admin"], workspace=workspace, name="Lyon depot")
    machine = MachineFactory(organisation=owner_org)
    machine.workspaces.add(workspace)
    workspace_id = workspace.pk
    workspace_delete(actor=actors["admin"], workspace=workspace)
    events = AuditEvent.objects.filter(target_type="workspace", target_id=workspace_id).order_by("id")
    assert [(event.action, event.changes) for event in events] == [
        ("created", [{"field": "name", "before": None, "after": "Lyon"}]),
        ("renamed", [{"field": "name", "before": "Lyon", "after": "Lyon depot"}]),
        (
            "deleted",
            [
                {"field": "name", "before": "Lyon depot", "after": None},
                {"field": "machines", "before": [str(machine.pk)], "after": None},
            ],
        ),
    ]
    assert {(event.organisation, event.occurred_at, event.actor_label) for event in events} == {
        (owner_org, NOW, actors["admin"].label)
    }
