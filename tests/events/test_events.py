"""Events of sharings (DESIGN §9): one row per organisation that may see the change, written in the change's
transaction, each holding the sharing exactly as the API shows it to that organisation at that moment."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.actors import Actor
from events.models import Event
from events.services import events_purge
from hiboo_connect.errors import RuleConflict
from sharing.changes import Change, changes_announce
from sharing.services import (
    sharing_create,
    sharing_delete,
    sharing_lifecycle_run,
    sharing_stop,
    sharing_update,
    sharings_attach_beneficiary,
)
from tests.api.conftest import ApiClient, new_api_key
from tests.factories import AdminFactory, MachineFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)


def create(actor, recipient_email, *, start=NOW + DAY, end=NOW + 10 * DAY, now=NOW, **extra):
    return sharing_create(
        actor=actor,
        machine_ids=[MachineFactory(organisation=actor.organisation).pk],
        recipient_email=recipient_email,
        start_at=start,
        end_at=end,
        now=now,
        **extra,
    )


def events_of(organisation):
    return list(Event.objects.filter(organisation=organisation).order_by("sequence"))


def api_view(organisation, sharing_id):
    """The sharing as the organisation's API key reads it (time is frozen by the caller)."""
    from django.test import Client

    client = ApiClient(new_api_key(organisation, "reader")[1], Client())
    response = client.get(f"sharings/{sharing_id}")
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_a_sharing_created_for_a_known_beneficiary_is_an_event_for_both_sides(
    frozen, admin_actor, owner_org, beneficiary_admin, beneficiary_org, outsider_org
):
    frozen(NOW)
    (sharing,) = create(admin_actor, beneficiary_admin.email, reference="C-1", properties={"site": "Lyon"})

    (owner_event,) = events_of(owner_org)
    (beneficiary_event,) = events_of(beneficiary_org)
    assert events_of(outsider_org) == []
    for event, organisation in ((owner_event, owner_org), (beneficiary_event, beneficiary_org)):
        assert (event.type, event.occurred_at, event.subject_id) == ("sharing.created", NOW, sharing.pk)
        assert event.data == api_view(organisation, sharing.pk)
    assert owner_event.event_id != beneficiary_event.event_id


def test_a_pending_sharing_is_the_owners_alone_until_the_invitation_is_accepted(
    frozen, admin_actor, owner_org, owner_admin
):
    frozen(NOW)
    create(admin_actor, "newcomer@site.example", recipient_organisation_name="Site Co")
    assert [event.type for event in Event.objects.all()] == ["sharing.created"]
    assert Event.objects.get().organisation == owner_org

    newcomer_org = OrganisationFactory(name="Site Co")
    newcomer = AdminFactory(organisation=newcomer_org, email="newcomer@site.example")
    sharings_attach_beneficiary(actor=Actor.for_user(newcomer), user=newcomer, now=NOW + dt.timedelta(hours=1))

    accepted = Event.objects.filter(type="invitation.accepted")
    assert sorted(str(event.organisation_id) for event in accepted) == sorted([str(owner_org.pk), str(newcomer_org.pk)])
    data = accepted.get(organisation=newcomer_org).data
    assert data["beneficiary"] == {"id": str(newcomer_org.pk), "name": "Site Co"}
    assert data["status"] == "scheduled"
    assert events_of(newcomer_org)[0].type == "invitation.accepted"  # nothing of before it received the sharing


def test_updates_stops_and_deletions_are_events_with_the_sharing_as_it_then_is(
    frozen, admin_actor, owner_org, beneficiary_admin, beneficiary_org
):
    frozen(NOW)
    kept, deleted = create(admin_actor, beneficiary_admin.email)[0], create(admin_actor, beneficiary_admin.email)[0]
    later = NOW + dt.timedelta(hours=2)
    frozen(later)
    sharing_update(actor=admin_actor, sharing=kept, changes={"reference": "PO-77"}, now=later)
    sharing_update(actor=admin_actor, sharing=kept, changes={"reference": "PO-77"}, now=later)  # no change: no event
    sharing_stop(actor=admin_actor, sharing=kept, now=later)
    sharing_delete(actor=admin_actor, sharing=deleted, now=later)

    for organisation in (owner_org, beneficiary_org):
        events = events_of(organisation)
        assert [event.type for event in events] == [
            "sharing.created",
            "sharing.created",
            "sharing.updated",
            "sharing.stopped",
            "sharing.deleted",
        ]
        updated, stopped, gone = events[2:]
        assert updated.data["reference"] == "PO-77"
        assert updated.data["updatedAt"] == "2026-07-12T11:00:00Z"
        assert (stopped.data["status"], stopped.data["stoppedAt"]) == ("stopped", "2026-07-12T11:00:00Z")
        assert (gone.subject_id, gone.data["id"], gone.data["status"]) == (deleted.pk, str(deleted.pk), "scheduled")
        assert len(gone.data["assetIds"]) == 1


class SurroundingWorkFailed(Exception):
    pass


def create_then_fail(actor, recipient_email):
    with transaction.atomic():
        create(actor, recipient_email)
        assert Event.objects.count() == 2  # written in the change's transaction...
        raise SurroundingWorkFailed


def test_a_change_that_rolls_back_leaves_no_event(admin_actor, beneficiary_admin):
    with pytest.raises(SurroundingWorkFailed):
        create_then_fail(admin_actor, beneficiary_admin.email)
    assert Event.objects.count() == 0  # ...so they go with it


def test_a_refused_change_writes_no_event(frozen, admin_actor, beneficiary_admin):
    frozen(NOW)
    (sharing,) = create(admin_actor, beneficiary_admin.email, start=NOW - DAY)
    before = Event.objects.count()
    with pytest.raises(RuleConflict, match="start"):
        sharing_update(actor=admin_actor, sharing=sharing, changes={"start_at": NOW + DAY}, now=NOW)
    assert Event.objects.count() == before


def test_the_lifecycle_job_writes_started_and_ended_for_both_sides(
    frozen, admin_actor, owner_org, beneficiary_admin, beneficiary_org
):
    frozen(NOW)
    (sharing,) = create(admin_actor, beneficiary_admin.email, start=NOW + DAY, end=NOW + 3 * DAY)
    frozen(NOW + 2 * DAY)
    sharing_lifecycle_run(now=NOW + 2 * DAY)
    frozen(NOW + 4 * DAY)
    sharing_lifecycle_run(now=NOW + 4 * DAY)
    sharing_lifecycle_run(now=NOW + 4 * DAY)  # nothing left to move: nothing new

    for organisation in (owner_org, beneficiary_org):
        events = events_of(organisation)
        assert [event.type for event in events] == ["sharing.created", "sharing.started", "sharing.ended"]
        assert [event.data["status"] for event in events] == ["scheduled", "in_progress", "terminated"]
        assert events[2].data == api_view(organisation, sharing.pk)


@pytest.mark.parametrize("count", [1, 12])
def test_a_lifecycle_batch_writes_its_events_in_one_insert(admin_actor, beneficiary_admin, count):
    for _index in range(count):
        create(admin_actor, beneficiary_admin.email)
    with CaptureQueriesContext(connection) as queries:
        assert sharing_lifecycle_run(now=NOW + 2 * DAY) == count
    inserts = [query["sql"] for query in queries if query["sql"].startswith('INSERT INTO "events_event"')]
    assert len(inserts) == 1
    assert Event.objects.filter(type="sharing.started").count() == 2 * count


def test_the_beneficiary_hears_nothing_of_the_owners_other_sharings(
    frozen, admin_actor, owner_org, beneficiary_admin, beneficiary_org
):
    frozen(NOW)
    other = UserFactory(organisation=OrganisationFactory(name="Other renter"), email="someone@other.example")
    create(admin_actor, other.email)
    create(admin_actor, "nobody-yet@else.example", recipient_organisation_name="Else")
    (mine,) = create(admin_actor, beneficiary_admin.email)

    assert [event.subject_id for event in events_of(beneficiary_org)] == [mine.pk]
    assert len(events_of(owner_org)) == 3


def test_an_other_subject_is_shown_to_whom_its_views_name(owner_org, beneficiary_org):
    changes_announce(
        [
            Change(
                type="contract.applied",
                occurred_at=NOW,
                subject_type="contract",
                subject_id=owner_org.pk,
                views={owner_org.pk: {"reference": "RC-1"}},
            )
        ]
    )
    changes_announce([])

    (event,) = Event.objects.all()
    assert (event.organisation, event.type, event.data) == (owner_org, "contract.applied", {"reference": "RC-1"})


def test_events_older_than_ninety_days_are_purged(frozen, admin_actor, beneficiary_admin):
    frozen(NOW)
    create(admin_actor, beneficiary_admin.email)
    frozen(NOW + 50 * DAY)
    create(admin_actor, beneficiary_admin.email, start=NOW + 51 * DAY, end=None, now=NOW + 50 * DAY)

    assert events_purge(now=NOW + 90 * DAY) == 0
    assert events_purge(now=NOW + 91 * DAY) == 2
    assert Event.objects.count() == 2


def statements_of_a_lifecycle_run() -> int:
    with CaptureQueriesContext(connection) as queries:
        sharing_lifecycle_run(now=NOW + 2 * DAY)
    return len(queries)


def test_a_lifecycle_batch_queues_its_webhook_deliveries_in_fixed_statements(admin_actor, beneficiary_admin):
    from events.services import webhook_endpoint_create
    from outbox.models import Message

    webhook_endpoint_create(actor=admin_actor, url="https://127.0.0.1:9/hooks", event_types=["sharing.started"])
    create(admin_actor, beneficiary_admin.email)
    one = statements_of_a_lifecycle_run()
    for _index in range(12):
        create(admin_actor, beneficiary_admin.email, start=NOW + 3 * DAY)
    with CaptureQueriesContext(connection) as queries:
        sharing_lifecycle_run(now=NOW + 4 * DAY)

    assert len(queries) == one
    assert Message.objects.filter(kind="webhook_delivery").count() == 13
