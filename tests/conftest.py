"""Shared fixtures: the three standing actors (an owner organisation with an admin and a member, a beneficiary, an
outsider) and a helper to freeze time."""

import datetime as dt
import os

import pytest
import time_machine
from django.utils import translation

from accounts.actors import Actor
from outbox.tasks import broker_cooling
from tests.factories import AdminFactory, MachineFactory, OrganisationFactory, UserFactory

UTC = dt.UTC


def pytest_sessionstart(session):
    """CI runs on PostgreSQL: a CI run that would silently fall back to SQLite fails instead."""
    from django.db import connection

    if os.environ.get("CI") and connection.vendor != "postgresql":
        pytest.exit(f"CI must run the tests on PostgreSQL (DATABASE_URL), not {connection.vendor}.", returncode=1)


@pytest.fixture(autouse=True)
def _broker_warm():
    """A broker outage one test simulates never makes the next test's messages wait for the re-dispatch job."""
    broker_cooling.end()
    yield
    broker_cooling.end()


@pytest.fixture(autouse=True)
def _default_language():
    """A request in French leaves French active in the thread (LocaleMiddleware activates a language and nothing
    resets it): the next test on this worker would get French messages where it expects the default language."""
    yield
    translation.deactivate()


@pytest.fixture
def frozen():
    """Freeze time at a given instant: `frozen(datetime)`; returns the traveller so a test can move it on."""
    travellers = []

    def freeze(moment):
        traveller = time_machine.travel(moment, tick=False)
        travellers.append(traveller)
        return traveller.start()

    yield freeze
    for traveller in reversed(travellers):
        traveller.stop()


@pytest.fixture
def owner_org(db):
    return OrganisationFactory(name="Rent & Go")


@pytest.fixture
def owner_admin(owner_org):
    return AdminFactory(organisation=owner_org, email="admin@rentandgo.example")


@pytest.fixture
def owner_member(owner_org):
    return UserFactory(organisation=owner_org, email="member@rentandgo.example")


@pytest.fixture
def beneficiary_org(db):
    return OrganisationFactory(name="BuildCo")


@pytest.fixture
def beneficiary_admin(beneficiary_org):
    return AdminFactory(organisation=beneficiary_org, email="admin@buildco.example")


@pytest.fixture
def outsider_org(db):
    return OrganisationFactory(name="Quarry Ltd")


@pytest.fixture
def outsider_admin(outsider_org):
    return AdminFactory(organisation=outsider_org, email="admin@quarry.example")


@pytest.fixture
def admin_actor(owner_admin):
    return Actor.for_user(owner_admin)


@pytest.fixture
def member_actor(owner_member):
    return Actor.for_user(owner_member)


@pytest.fixture
def machine(owner_org):
    return MachineFactory(organisation=owner_org)
