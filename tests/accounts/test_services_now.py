"""An organisation is created at the `now` it is given (the demo seed sets its world up in the past); the wall clock
is frozen years away so a service that read it would stamp the wrong moment."""

import datetime as dt

from accounts.services import organisation_create
from tests.factories import UserFactory

SET_UP = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_an_organisation_created_at_a_past_moment(db, frozen):
    frozen(dt.datetime(2031, 1, 1, tzinfo=dt.UTC))
    organisation = organisation_create(name="Rent & Go", admin=UserFactory(organisation=None), now=SET_UP)
    organisation.refresh_from_db()
    assert organisation.created_at == SET_UP


def test_an_organisation_created_now_by_default(db, frozen):
    frozen(SET_UP)
    organisation = organisation_create(name="Rent & Go", admin=UserFactory(organisation=None))
    assert organisation.created_at == SET_UP
