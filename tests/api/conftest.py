"""Fixtures of the API tests: a JSON client per API key of the standing actors (the owner's admin and viewer keys, a
revoked key, the beneficiary's and an outsider's keys) and a client with no key."""

import datetime as dt
import json
from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.actors import Actor
from accounts.models import ApiKeyRole
from accounts.services import api_key_create, api_key_revoke
from sharing.models import ReceivedMachine
from sharing.services import sharing_create
from tests.factories import AdminFactory, MachineFactory, ReadingFactory


@dataclass
class ApiClient:
    """Sends JSON to /api/v1/ with one API key (or none)."""

    key: str | None
    client: Client

    def _headers(self, headers):
        headers = dict(headers or {})
        if self.key is not None:
            headers.setdefault("x-access-token", self.key)
        return headers

    def get(self, path, params=None, headers=None):
        return self.client.get(f"/api/v1/{path}", params or {}, headers=self._headers(headers))

    def _send(self, method, path, body, headers, raw):
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return getattr(self.client, method)(
            f"/api/v1/{path}", data=data, content_type="application/json", headers=self._headers(headers)
        )

    def post(self, path, body=None, headers=None, raw=None):
        return self._send("post", path, body, headers, raw)

    def patch(self, path, body=None, headers=None, raw=None):
        return self._send("patch", path, body, headers, raw)

    def delete(self, path, headers=None):
        return self.client.delete(f"/api/v1/{path}", headers=self._headers(headers))


def new_api_key(organisation, name, role=ApiKeyRole.ADMIN):
    """A new key of `organisation`: (ApiKey, clear text)."""
    return api_key_create(actor=Actor.system(), organisation=organisation, name=name, role=role)


@pytest.fixture
def admin_api(owner_org):
    return ApiClient(new_api_key(owner_org, "ERP sync")[1], Client())


@pytest.fixture
def viewer_api(owner_org):
    return ApiClient(new_api_key(owner_org, "BI export", ApiKeyRole.VIEWER)[1], Client())


@pytest.fixture
def revoked_api(owner_org):
    api_key, clear = new_api_key(owner_org, "Old integration")
    api_key_revoke(actor=Actor.system(), api_key=api_key)
    return ApiClient(clear, Client())


@pytest.fixture
def beneficiary_api(beneficiary_org):
    return ApiClient(new_api_key(beneficiary_org, "BuildCo ERP")[1], Client())


@pytest.fixture
def outsider_api(outsider_org):
    return ApiClient(new_api_key(outsider_org, "Quarry ERP")[1], Client())


@pytest.fixture
def anonymous_api(db):
    return ApiClient(None, Client())


NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)


@dataclass
class World:
    """The owner organisation's API view of things on 12 July 2026, 09:00 UTC: its machine, a sharing of it to the
    beneficiary starting on 1 August, and a machine a partner shares with it since 1 July (a received asset, with a
    reading inside the shared period and one before it)."""

    machine: object
    sharing: object
    partner_machine: object
    received: object


@pytest.fixture
def world(frozen, owner_admin, beneficiary_admin, machine):
    frozen(NOW)
    (sharing,) = sharing_create(
        actor=Actor.for_user(owner_admin),
        machine_ids=[machine.pk],
        recipient_email=beneficiary_admin.email,
        reference="CONTRACT-1",
        start_at=dt.datetime(2026, 8, 1, tzinfo=dt.UTC),
        end_at=dt.datetime(2026, 8, 31, tzinfo=dt.UTC),
    )
    partner_admin = AdminFactory(email="admin@partner.example")
    partner_machine = MachineFactory(organisation=partner_admin.organisation, model="TH 35", serial_number="TH35-1")
    sharing_create(
        actor=Actor.for_user(partner_admin),
        machine_ids=[partner_machine.pk],
        recipient_email=owner_admin.email,
        reference="PARTNER-9",
        start_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
    )
    ReadingFactory(machine=partner_machine, metric="operating_hours", timestamp=dt.datetime(2026, 6, 30, tzinfo=dt.UTC))
    ReadingFactory(
        machine=partner_machine, metric="operating_hours", timestamp=dt.datetime(2026, 7, 5, tzinfo=dt.UTC), value=42.5
    )
    received = ReceivedMachine.objects.get(organisation=owner_admin.organisation, machine=partner_machine)
    return World(machine=machine, sharing=sharing, partner_machine=partner_machine, received=received)
