"""Machine identity (issue 12, item 7): the owner's machine page says which telematics sources bring its data and when
data last arrived; a beneficiary learns nothing of the owner's feeds. The fleet list finds the owner's machines that
have sent nothing for a day or more."""

import datetime as dt

from django.test import Client
from django.urls import reverse

from accounts.actors import Actor
from fleet.models import Position, Reading
from telematics.models import SourceMachine
from telematics.services import SourceAuth, telematics_source_create
from tests.factories import MachineFactory, SharingFactory

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _page(user, machine):
    return _client(user).get(reverse("fleet:machine", args=[machine.pk])).content.decode()


def test_the_owner_sees_where_the_data_comes_from_and_when_it_last_arrived(
    owner_admin, beneficiary_admin, machine, frozen
):
    frozen(NOW)
    source = telematics_source_create(
        actor=Actor.for_user(owner_admin),
        name="VisionLink",
        base_url="https://127.0.0.1:9/aemp/v2",
        auth=SourceAuth(type="header", header_name="X-Key", secret="k"),
    )
    assert "No telematics source lists this machine" in _page(owner_admin, machine)
    assert "no data received yet" in _page(owner_admin, machine)

    SourceMachine.objects.create(source=source, machine=machine, equipment_id="CAT-1", last_listed_at=NOW)
    Reading.objects.create(machine=machine, metric="operating_hours", timestamp=NOW - dt.timedelta(hours=3), value=1)
    page = _page(owner_admin, machine)
    assert f'href="{reverse("telematics:source_edit", args=[source.pk])}">VisionLink</a>' in page
    assert "last listed" in page
    assert "last data received" in page

    SharingFactory(
        owner=machine.organisation,
        beneficiary=beneficiary_admin.organisation,
        recipient_email=beneficiary_admin.email,
        machines=[machine],
        start_at=NOW - dt.timedelta(days=1),
        end_at=None,
    )
    shared = _page(beneficiary_admin, machine)
    assert "VisionLink" not in shared
    assert "last data received" not in shared


def test_the_fleet_list_finds_our_machines_silent_for_a_day(owner_admin, owner_org, frozen):
    frozen(NOW)
    reporting = MachineFactory(organisation=owner_org, model="Reporting")
    Position.objects.create(machine=reporting, timestamp=NOW - dt.timedelta(hours=2), latitude=45, longitude=4)
    running = MachineFactory(organisation=owner_org, model="Running")
    Reading.objects.create(machine=running, metric="engine_running", timestamp=NOW - dt.timedelta(hours=23), value=1)
    quiet = MachineFactory(organisation=owner_org, model="Quiet")
    Reading.objects.create(machine=quiet, metric="operating_hours", timestamp=NOW - dt.timedelta(days=2), value=1)
    # A reading of another metric today does not count: "last seen" reads positions, engine status and hours.
    Reading.objects.create(machine=quiet, metric="fuel_remaining", timestamp=NOW - dt.timedelta(hours=1), value=50)
    MachineFactory(organisation=owner_org, model="Never")
    partner = MachineFactory(model="Partner")
    SharingFactory(
        owner=partner.organisation,
        beneficiary=owner_org,
        recipient_email=owner_admin.email,
        machines=[partner],
        start_at=NOW - dt.timedelta(days=5),
        end_at=None,
    )
    client = _client(owner_admin)
    page = client.get(reverse("fleet:machines"), {"data": "silent"}).content.decode()
    assert "Quiet" in page
    assert "Never" in page
    assert "Reporting" not in page
    assert "Running" not in page
    assert "Partner" not in page
    everything = client.get(reverse("fleet:machines")).content.decode()
    assert all(model in everything for model in ("Reporting", "Running", "Quiet", "Never", "Partner"))
    french = client.get(reverse("fleet:machines"), headers={"Accept-Language": "fr"}).content.decode()
    assert "Nos machines sans données depuis un jour ou plus" in french
