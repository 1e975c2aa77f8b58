"""GET /api/v1/events: the organisation's events oldest first, paged by a cursor, filtered by type; viewer keys read
it; the beneficiary and outsiders read only their own."""

import datetime as dt

import pytest

from accounts.models import ApiKeyRole
from events.models import Event
from sharing.services import sharing_create, sharing_stop
from tests.api.conftest import ApiClient, new_api_key
from tests.factories import MachineFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def five_sharings(frozen, admin_actor, beneficiary_admin):
    frozen(NOW)
    sharings = [
        sharing_create(
            actor=admin_actor,
            machine_ids=[MachineFactory(organisation=admin_actor.organisation).pk],
            recipient_email=beneficiary_admin.email,
            reference=f"C-{index}",
            start_at=NOW + DAY,
            now=NOW,
        )[0]
        for index in range(5)
    ]
    sharing_stop(actor=admin_actor, sharing=sharings[0], now=NOW)
    return sharings


def read_all(api, limit, **params):
    rows, after, pages = [], None, 0
    while True:
        query = {"limit": limit, **params, **({"after": after} if after else {})}
        response = api.get("events", query)
        assert response.status_code == 200, response.content
        page = response.json()["data"]
        pages += 1
        if not page["rows"]:
            assert page["nextCursor"] == after  # nothing new: read again from the same place later
            return rows, pages
        rows += page["rows"]
        after = page["nextCursor"]
        assert after == page["rows"][-1]["cursor"]


def test_a_viewer_key_pages_through_every_event_once_oldest_first(five_sharings, owner_org, client):
    viewer = ApiClient(new_api_key(owner_org, "BI", ApiKeyRole.VIEWER)[1], client)

    rows, pages = read_all(viewer, limit=2)

    assert pages == 4  # 2 + 2 + 2 rows, then an empty page
    assert [row["type"] for row in rows] == ["sharing.created"] * 5 + ["sharing.stopped"]
    assert [row["data"]["reference"] for row in rows] == ["C-0", "C-1", "C-2", "C-3", "C-4", "C-0"]
    expected = Event.objects.filter(organisation=owner_org).order_by("sequence")
    assert [row["id"] for row in rows] == [str(event.event_id) for event in expected]
    assert set(rows[0]) == {"id", "type", "occurredAt", "cursor", "data"}
    assert rows[0]["occurredAt"] == "2026-07-12T09:00:00Z"


def test_the_feed_filters_by_type(five_sharings, admin_api):
    stopped = admin_api.get("events", {"type": "sharing.stopped"}).json()["data"]["rows"]
    both = admin_api.get("events?type=sharing.stopped&type=sharing.created").json()["data"]["rows"]

    assert [row["data"]["reference"] for row in stopped] == ["C-0"]
    assert len(both) == 6


def test_an_empty_feed_has_no_cursor_yet(admin_api):
    assert admin_api.get("events").json() == {"data": {"rows": [], "nextCursor": None}}


def test_each_side_reads_its_own_events_only(five_sharings, beneficiary_api, outsider_api, beneficiary_org):
    rows, _pages = read_all(beneficiary_api, limit=100)
    assert len(rows) == 6
    assert {row["id"] for row in rows} == {
        str(event_id)
        for event_id in Event.objects.filter(organisation=beneficiary_org).values_list("event_id", flat=True)
    }
    assert outsider_api.get("events").json()["data"]["rows"] == []
    # Another organisation's cursor reveals nothing either.
    assert outsider_api.get("events", {"after": "0.0"}).json()["data"]["rows"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "nonsense"}, "after"),
        ({"after": "1.2.3"}, "after"),
        ({"after": "99999999999999999999.1"}, "after"),
        ({"after": "9223372036854775808.1"}, "after"),
        ({"after": "-1.5"}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"type": "sharing.exploded"}, "type"),
        ({"type": "x" * 5000}, "type"),
    ],
)
def test_bad_parameters_are_refused_with_the_field(admin_api, params, field):
    response = admin_api.get("events", params)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
