"""The contacts page (DESIGN §2: admins list, edit and remove contacts): search, the sharings sent to each, editing a
name and an organisation, removing one (its sharings stay), audited; admins only, in English and French, a pinned
number of queries."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import Contact
from audit.models import AuditEvent
from sharing.models import Sharing
from sharing.services import sharing_create
from tests.factories import ContactFactory, MachineFactory

UTC = dt.UTC
CONTACTS = reverse("sharing:contacts")


@pytest.fixture
def sent(db, admin_actor, owner_org, beneficiary_admin, frozen):
    """Four sharings to BuildCo's admin (which made it a contact), one to a newcomer without an account."""
    frozen(dt.datetime(2026, 7, 1, 9, tzinfo=UTC))
    sharings = sharing_create(
        actor=admin_actor,
        machine_ids=[MachineFactory(organisation=owner_org).pk for _ in range(4)],
        recipient_email=beneficiary_admin.email,
        start_at=dt.datetime(2026, 8, 1, tzinfo=UTC),
        reference="CTR-42",
        one_per_machine=True,
    )
    sharing_create(
        actor=admin_actor,
        machine_ids=[MachineFactory(organisation=owner_org).pk],
        recipient_email="site@newco.example",
        recipient_organisation_name="NewCo",
        start_at=dt.datetime(2026, 8, 1, tzinfo=UTC),
        reference="PO-7",
    )
    return sharings


def test_the_contacts_page_lists_each_contact_with_its_sharings(client, owner_admin, sent, beneficiary_admin):
    client.force_login(owner_admin)

    response = client.get(CONTACTS)

    page = response.content.decode()
    assert response.status_code == 200
    assert [row["contact"].email for row in response.context["rows"]] == [beneficiary_admin.email, "site@newco.example"]
    assert "BuildCo" in page
    assert "NewCo" in page
    buildco = response.context["rows"][0]["sharings"]
    assert (buildco.total, len(buildco.newest)) == (4, 3)
    assert f'href="{reverse("sharing:detail", args=[buildco.newest[0].pk])}"' in page
    assert "All 4 sharings" in page
    assert 'aria-current="page">Contacts</a>' in page  # in the navigation


def test_the_search_matches_e_mail_name_and_organisation(client, owner_admin, sent):
    client.force_login(owner_admin)
    assert [row["contact"].email for row in client.get(CONTACTS, {"q": "newco"}).context["rows"]] == [
        "site@newco.example"
    ]
    empty = client.get(CONTACTS, {"q": "nobody\x00"})
    assert empty.status_code == 200
    assert "No contact matches this search" in empty.content.decode()


def test_the_page_costs_the_same_queries_for_one_contact_or_many(
    client, owner_admin, owner_org, sent, django_assert_num_queries
):
    client.force_login(owner_admin)
    client.get(CONTACTS)  # sessions and caches warm
    with django_assert_num_queries(6) as one_page:
        client.get(CONTACTS)
    ContactFactory.create_batch(30, organisation=owner_org)
    with django_assert_num_queries(len(one_page.captured_queries)):
        client.get(CONTACTS)


def test_editing_a_contact_changes_its_name_and_organisation_and_is_audited(client, owner_admin, sent):
    contact = Contact.objects.get(email="site@newco.example")
    client.force_login(owner_admin)
    url = reverse("sharing:contact_edit", args=[contact.pk])
    assert 'value="NewCo"' in client.get(url).content.decode()

    response = client.post(url, {"name": "Site\nManager", "organisation_name": "NewCo Lyon"})

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.organisation_name) == ("Site Manager", "NewCo Lyon")
    event = AuditEvent.objects.get(target_id=contact.pk, action="updated")
    assert event.actor_user == owner_admin
    too_long = client.post(url, {"name": "x" * 201, "organisation_name": ""})
    assert too_long.status_code == 400
    assert 'aria-invalid="true"' in too_long.content.decode()


def test_removing_a_contact_keeps_its_sharings_and_says_so(client, owner_admin, sent, beneficiary_admin):
    contact = Contact.objects.get(email=beneficiary_admin.email)
    client.force_login(owner_admin)
    url = reverse("sharing:contact_remove", args=[contact.pk])

    question = client.get(url).content.decode()
    response = client.post(url)

    assert "The 4 sharings sent to this address stay as they are" in question
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert Sharing.objects.filter(recipient_email=beneficiary_admin.email).count() == 4
    assert AuditEvent.objects.filter(target_id=contact.pk, action="removed").count() == 1
    assert [row["contact"].email for row in client.get(CONTACTS).context["rows"]] == ["site@newco.example"]


def test_members_and_other_organisations_cannot_reach_contacts(client, owner_member, outsider_admin, sent):
    contact = Contact.objects.get(email="site@newco.example")
    client.force_login(owner_member)
    assert client.get(CONTACTS).status_code == 403
    assert "sharing:contacts" not in client.get("/").content.decode()
    client.force_login(outsider_admin)
    assert client.get(reverse("sharing:contact_edit", args=[contact.pk])).status_code == 404
    assert client.post(reverse("sharing:contact_remove", args=[contact.pk])).status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_the_contacts_page_in_french(client, owner_admin, sent):
    client.force_login(owner_admin)
    client.cookies["django_language"] = "fr"
    page = client.get(CONTACTS).content.decode()
    assert "Les 4 partages" in page
    assert "<h1>Contacts</h1>" in page
