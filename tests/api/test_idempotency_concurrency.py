"""Two requests with the same Idempotency-Key at the same moment, each in its own thread with its own database
connection: only one executes. Runs on PostgreSQL (CI) and on SQLite.

Each thread has its own connection and transaction, so the data is committed (transactional_db), and the write is
slowed down so that the second request surely arrives while the first is still executing."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from sharing import services
from sharing.models import Sharing
from tests.api.conftest import new_api_key
from tests.factories import AdminFactory, MachineFactory, OrganisationFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def setting():
    owner = OrganisationFactory(name="Rent & Go")
    machine = MachineFactory(organisation=owner)
    recipient = AdminFactory(email="admin@buildco.example")
    _, key = new_api_key(owner, "ERP sync")
    return machine, recipient, key


def _slow_create(real_create, seconds):
    def create(**kwargs):
        created = real_create(**kwargs)
        time.sleep(seconds)  # still inside the request's transaction: the claim is held, nothing is committed yet
        return created

    return create


def _race(bodies, key):
    barrier = threading.Barrier(len(bodies))
    responses = [None] * len(bodies)

    def send(index, body):
        try:
            barrier.wait(timeout=10)
            responses[index] = Client().post(
                "/api/v1/sharings",
                body,
                content_type="application/json",
                headers={"x-access-token": key, "Idempotency-Key": "contract-42-start"},
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(index, body)) for index, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return responses


def _body(machine, recipient, reference="CONTRACT-42"):
    # A start in the future whatever the day the suite runs (the threads share the real clock: nothing is frozen);
    # midnight, so that two bodies built a moment apart are the same.
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=365)
    return {
        "assetIds": [str(machine.pk)],
        "recipient": recipient.email,
        "reference": reference,
        "startDate": start.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    }


def test_concurrent_requests_with_one_key_execute_once(setting, monkeypatch):
    machine, recipient, key = setting
    monkeypatch.setattr(services, "sharing_create", _slow_create(services.sharing_create, 0.5))

    responses = _race([_body(machine, recipient)] * 2, key)

    assert Sharing.objects.filter(reference="CONTRACT-42").count() == 1
    statuses = sorted(response.status_code for response in responses)
    # The loser waits for the winner and answers its response; 409 "in progress" only if the winner takes too long.
    assert statuses in ([201, 201], [201, 409]), [response.content for response in responses]
    replayed = [response for response in responses if response.has_header("Idempotent-Replayed")]
    if statuses == [201, 201]:
        assert len(replayed) == 1
        assert responses[0].json() == responses[1].json()


def test_concurrent_requests_with_one_key_and_different_bodies_execute_once(setting, monkeypatch):
    machine, recipient, key = setting
    monkeypatch.setattr(services, "sharing_create", _slow_create(services.sharing_create, 0.5))

    responses = _race([_body(machine, recipient, "A"), _body(machine, recipient, "B")], key)

    assert Sharing.objects.filter(reference__in=["A", "B"]).count() == 1
    assert sorted(response.status_code for response in responses) == [201, 422]
