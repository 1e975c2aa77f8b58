"""Crafted input on the portal (issue 9, item 2): each answers a 4xx or a message on its field, never a 500, and
loses nothing typed."""

import datetime as dt

import pytest
from django.urls import reverse

from sharing.models import Sharing
from tests.factories import MachineFactory, SharingFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)


@pytest.fixture
def now(frozen):
    frozen(NOW)
    return NOW


@pytest.fixture
def shared(now, owner_org, beneficiary_org, machine):
    return SharingFactory(owner=owner_org, beneficiary=beneficiary_org, machines=[machine], start_at=NOW)


@pytest.mark.parametrize("field", ["date_to", "date_from"])
@pytest.mark.parametrize("view", ["", "timeline"])
def test_a_filter_date_after_2099_is_refused_next_to_the_field(client, owner_admin, shared, field, view):
    client.force_login(owner_admin)
    response = client.get("/", {field: "9999-12-31", "view": view, "reference": "kept"})
    assert response.status_code == 200
    assert list(response.context["filterset"].form.errors) == [field]
    content = response.content.decode()
    assert "31 December 2099" in content
    assert 'value="9999-12-31"' in content  # what was typed stays in the field


def test_the_last_day_of_2099_is_a_valid_filter(client, owner_admin, shared):
    client.force_login(owner_admin)
    response = client.get("/", {"date_to": "2099-12-31"})
    assert response.context["filterset"].form.errors == {}


@pytest.mark.parametrize("field", ["date_to", "date_from"])
def test_the_csv_export_refuses_a_filter_date_after_2099(client, owner_admin, shared, field):
    client.force_login(owner_admin)
    response = client.get("/sharings/export.csv", {field: "9999-12-31"})
    assert response.status_code == 400
    assert "31 December 2099" in response.content.decode()


@pytest.mark.parametrize(
    ("first", "last"),
    [("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-01"), ("9999-12-31", ""), ("0001-01-01", "2026-07-01")],
)
def test_the_machine_page_refuses_an_impossible_period_on_the_field(client, owner_admin, machine, now, first, last):
    client.force_login(owner_admin)
    url = reverse("fleet:machine", args=[machine.pk])
    response = client.get(url, {"first": first, "last": last})
    assert response.status_code == 200
    assert response.context["period_form"].errors
    assert f'value="{first}"' in response.content.decode()


@pytest.mark.parametrize(("first", "last"), [("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-01")])
def test_the_machine_export_refuses_an_impossible_period(client, owner_admin, machine, now, first, last):
    client.force_login(owner_admin)
    response = client.get(reverse("fleet:machine_export", args=[machine.pk]), {"first": first, "last": last})
    assert response.status_code == 400


def test_a_nul_character_in_the_contacts_typeahead(client, owner_admin, now):
    client.force_login(owner_admin)
    response = client.get(reverse("sharing:contact_suggestions"), {"recipient_email": "a\x00b"})
    assert response.status_code == 200


def test_a_nul_character_in_the_share_centre_search(client, owner_admin, shared):
    client.force_login(owner_admin)
    response = client.get("/", {"q": "a\x00b", "recipient": "\x00", "reference": "\x00"})
    assert response.status_code in (200, 400)


def test_a_nul_character_in_an_invitation_link_anonymous(client, db):
    assert client.get("/accounts/invitations/%00/").status_code == 404


def test_the_machine_picker_ignores_an_id_that_is_not_a_uuid(client, owner_admin, machine, now):
    client.force_login(owner_admin)
    response = client.get(reverse("sharing:create_machines"), {"machines": ["not-a-uuid", str(machine.pk)]})
    assert response.status_code == 200
    assert str(machine.pk) in response.content.decode()


def test_the_overlaps_fragment_ignores_an_id_that_is_not_a_uuid(client, owner_admin, now):
    client.force_login(owner_admin)
    response = client.get(
        reverse("sharing:create_overlaps"), {"machines": "not-a-uuid", "start_at": "2026-07-13T08:00"}
    )
    assert response.status_code == 200


def test_creating_with_an_invalid_machine_id_is_refused_on_the_field(
    client, owner_admin, owner_org, beneficiary_admin, now
):
    machine = MachineFactory(organisation=owner_org)
    client.force_login(owner_admin)
    response = client.post(
        reverse("sharing:create"),
        {
            "recipient_email": beneficiary_admin.email,
            "start_at": "2026-07-13T08:00",
            "reference": "TYPED-REF",
            "machines": ["not-a-uuid", str(machine.pk)],
            "data_packs": ["essential"],
        },
    )
    assert response.status_code == 400
    assert "machines" in response.context["form"].errors
    content = response.content.decode()
    assert 'value="TYPED-REF"' in content
    assert f'value="{machine.pk}" checked' in content
    assert not Sharing.objects.exists()
