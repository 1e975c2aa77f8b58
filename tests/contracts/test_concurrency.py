"""Two PUTs of one contract at the same moment, each in its own thread with its own connection: the applies are
serialised on the contract's row, so they never interleave — no line is shared twice and the generations follow
each other. PostgreSQL (CI).

The threads share the real clock (nothing is frozen), so the dates lie a year ahead; the first apply is slowed down
inside its transaction (the lock held) so that the second surely arrives while it runs."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from contracts import services
from contracts.models import Contract, ContractApply
from sharing.models import Sharing
from tests.api.conftest import new_api_key
from tests.factories import AdminFactory, MachineFactory, OrganisationFactory

from .conftest import contract_body, instant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def setting():
    owner = OrganisationFactory(name="Rent & Go")
    machines = [MachineFactory(organisation=owner) for _ in range(3)]
    AdminFactory(email="admin@buildco.example")
    return machines, new_api_key(owner, "ERP sync")[1]


def _slowed(real, seconds):
    def execute(*args, **kwargs):
        done = real(*args, **kwargs)
        time.sleep(seconds)  # inside the apply's transaction, the contract's row locked
        return done

    return execute


def _race(bodies, key):
    barrier = threading.Barrier(len(bodies))
    responses = [None] * len(bodies)

    def send(index, body):
        try:
            barrier.wait(timeout=10)
            responses[index] = Client().put(
                "/api/v1/contracts/CTR-42", body, content_type="application/json", headers={"x-access-token": key}
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(index, body)) for index, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def _body(machines):
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=365)
    return contract_body(machines, startDate=instant(start), endDate=instant(start + dt.timedelta(days=30)))


def test_two_first_puts_of_one_contract_share_each_line_once(setting, monkeypatch):
    machines, key = setting
    monkeypatch.setattr(services, "_execute", _slowed(services._execute, 0.5))
    responses = _race([_body(machines), _body(machines)], key)
    assert sorted(response.status_code for response in responses) == [200, 201]
    plans = sorted(sorted(step["action"] for step in response.json()["data"]["plan"]) for response in responses)
    assert plans == [["create"] * 3, ["noop"] * 3]
    assert Sharing.objects.count() == 3
    assert Contract.objects.get().generation == 1


def test_two_different_puts_apply_one_after_the_other(setting, monkeypatch):
    machines, key = setting
    monkeypatch.setattr(services, "_execute", _slowed(services._execute, 0.5))
    responses = _race([_body(machines[:2]), _body(machines)], key)
    assert all(response.status_code in (200, 201) for response in responses), [r.json() for r in responses]
    assert sorted(response.json()["data"]["generation"] for response in responses) == [1, 2]
    assert sorted(ContractApply.objects.values_list("generation", flat=True)) == [1, 2]
    # Whichever came second planned from what the first had committed: never a line shared twice.
    open_sharings = Sharing.objects.filter(stopped_at__isnull=True)
    per_machine = {machine.pk: open_sharings.filter(machines=machine).count() for machine in machines}
    assert set(per_machine.values()) <= {0, 1}
    last = max(responses, key=lambda response: response.json()["data"]["generation"])
    assert len(last.json()["data"]["sharings"]) == Sharing.objects.count()
