"""Webhook endpoints through the API (/api/v1/webhooks) and the portal page: admins register, change, rotate and
delete them; the secret is shown once; viewers read, members are refused, outsiders see nothing."""

import datetime as dt

import pytest
from django.test import override_settings

from accounts.actors import Actor
from audit.models import AuditEvent
from events.models import DisabledReason, WebhookAttempt, WebhookEndpoint
from events.services import webhook_endpoint_create
from events.webhooks import DELIVERY_KIND, endpoint_disable
from outbox.models import Message, MessageStatus

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
URL = "https://127.0.0.1:9/hooks"


def test_an_admin_key_registers_an_endpoint_and_sees_its_secret_once(admin_api, viewer_api, owner_org):
    response = admin_api.post(
        "webhooks", {"url": URL, "eventTypes": ["sharing.ended", "sharing.started"], "description": "ERP"}
    )

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["secret"].startswith("whsec_")
    assert data["eventTypes"] == ["sharing.started", "sharing.ended"]  # in the catalogue's order
    assert (data["enabled"], data["disabledReason"], data["description"]) == (True, None, "ERP")
    listed = viewer_api.get("webhooks").json()["data"]
    assert listed["total"] == 1
    assert "secret" not in listed["rows"][0]
    assert "secret" not in admin_api.get(f"webhooks/{data['id']}").json()["data"]
    assert AuditEvent.objects.filter(target_type="webhook_endpoint", action="created").count() == 1


def test_change_rotate_and_delete(admin_api, owner_org):
    endpoint_id = admin_api.post("webhooks", {"url": URL, "eventTypes": ["sharing.started"]}).json()["data"]["id"]

    changed = admin_api.patch(f"webhooks/{endpoint_id}", {"enabled": False, "description": "paused"}).json()["data"]
    assert (changed["enabled"], changed["disabledReason"], changed["description"]) == (False, "by_admin", "paused")
    enabled = admin_api.patch(f"webhooks/{endpoint_id}", {"enabled": True}).json()["data"]
    assert (enabled["enabled"], enabled["disabledReason"]) == (True, None)
    assert admin_api.patch(f"webhooks/{endpoint_id}", {"enabled": True}).status_code == 200  # nothing to change

    old = WebhookEndpoint.objects.get().secret
    rotated = admin_api.post(f"webhooks/{endpoint_id}/rotate-secret")
    assert rotated.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.secret, endpoint.previous_secret) == (rotated.json()["data"]["secret"], old)

    assert admin_api.delete(f"webhooks/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://127.0.0.1/x", "eventTypes": ["sharing.started"]}, "url"),
        ({"url": "", "eventTypes": ["sharing.started"]}, "url"),
        ({"url": URL, "eventTypes": []}, "eventTypes"),
        ({"url": URL, "eventTypes": ["sharing.exploded"]}, "eventTypes.0"),
        ({"url": URL, "eventTypes": "sharing.started"}, "eventTypes"),
        ({"url": URL, "eventTypes": ["sharing.started"], "secret": "mine"}, "secret"),
        ({"url": URL, "eventTypes": ["sharing.started"], "description": "x" * 201}, "description"),
    ],
)
def test_bad_input_is_refused_with_the_field(admin_api, body, field):
    response = admin_api.post("webhooks", body)

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


@override_settings(OUTBOUND_ALLOW_PRIVATE_TARGETS=False)
def test_private_and_loopback_targets_are_refused_unless_the_deployment_allows_them(admin_api):
    response = admin_api.post("webhooks", {"url": "http://127.0.0.1:8000/hooks", "eventTypes": ["sharing.started"]})

    assert response.status_code == 400
    assert "url" in response.json()["error"]["fields"]


def test_viewers_read_but_do_not_write_and_others_see_nothing(viewer_api, outsider_api, admin_actor):
    endpoint, _secret = webhook_endpoint_create(actor=admin_actor, url=URL, event_types=["sharing.started"])

    assert viewer_api.get(f"webhooks/{endpoint.pk}").status_code == 200
    assert viewer_api.post("webhooks", {"url": URL, "eventTypes": ["sharing.started"]}).status_code == 403
    assert outsider_api.get(f"webhooks/{endpoint.pk}").status_code == 404
    assert outsider_api.get("webhooks").json()["data"]["total"] == 0


def test_an_organisation_has_at_most_twenty_endpoints(admin_api, admin_actor):
    for _index in range(20):
        webhook_endpoint_create(actor=admin_actor, url=URL, event_types=["sharing.started"])

    response = admin_api.post("webhooks", {"url": URL, "eventTypes": ["sharing.started"]})

    assert response.status_code == 409


# --- the portal page -------------------------------------------------------------------------------------------------


def test_the_page_registers_an_endpoint_and_shows_its_secret_once(client, owner_admin):
    client.force_login(owner_admin)

    created = client.post("/webhooks/", {"url": URL, "event_types": ["sharing.started"], "description": "ERP"})

    assert created.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in created.content.decode()
    listed = client.get("/webhooks/").content.decode()
    assert URL in listed
    assert endpoint.secret not in listed


def test_the_page_shows_a_refused_url_next_to_the_field(client, owner_admin):
    client.force_login(owner_admin)

    response = client.post("/webhooks/", {"url": "ftp://127.0.0.1/x", "event_types": ["sharing.started"]})

    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_members_are_refused(client, owner_member):
    client.force_login(owner_member)
    assert client.get("/webhooks/").status_code == 403


@pytest.fixture
def endpoint_with_deliveries(frozen, owner_admin):
    frozen(NOW)
    endpoint, _secret = webhook_endpoint_create(
        actor=Actor.for_user(owner_admin), url=URL, event_types=["sharing.started"]
    )
    for index, status in enumerate([MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.FAILED]):
        message = Message.objects.create(
            key=f"webhook:{endpoint.pk}:{index}",
            kind=DELIVERY_KIND,
            channel="webhook",
            organisation=endpoint.organisation,
            subject_type="webhook_endpoint",
            subject_id=endpoint.pk,
            recipient=str(endpoint.pk),
            language="en",
            time_zone="Europe/Paris",
            context={"event_id": f"00000000-0000-4000-8000-00000000000{index}", "event_type": "sharing.started"},
            status=status,
            attempts=1,
            next_attempt_at=NOW,
            created_at=NOW,
        )
        WebhookAttempt.objects.create(
            endpoint=endpoint,
            message_id=message.pk,
            event_id=message.context["event_id"],
            event_type="sharing.started",
            attempted_at=NOW,
            status_code=200 if status == MessageStatus.SENT else 500,
            duration_ms=42,
            succeeded=status == MessageStatus.SENT,
        )
    return endpoint


def test_the_endpoint_page_lists_recent_deliveries_and_sends_the_failed_again(
    client, owner_admin, endpoint_with_deliveries
):
    client.force_login(owner_admin)
    endpoint = endpoint_with_deliveries

    page = client.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert page.count("42 ms") == 3
    assert "500" in page
    assert "Send the 2 failed deliveries again" in page

    one = Message.objects.filter(status=MessageStatus.FAILED).first()
    assert client.post(f"/webhooks/{endpoint.pk}/redeliver/", {"delivery": one.pk}).status_code == 302
    assert Message.objects.filter(status=MessageStatus.FAILED).count() == 1
    assert client.post(f"/webhooks/{endpoint.pk}/redeliver/").status_code == 302
    assert Message.objects.filter(status=MessageStatus.FAILED).count() == 0


def test_the_endpoint_page_rotates_disables_enables_and_deletes(client, owner_admin, endpoint_with_deliveries):
    client.force_login(owner_admin)
    endpoint = endpoint_with_deliveries

    rotated = client.post(f"/webhooks/{endpoint.pk}/rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret in rotated.content.decode()

    client.post(f"/webhooks/{endpoint.pk}/toggle/")
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, DisabledReason.BY_ADMIN)
    refused = client.post(f"/webhooks/{endpoint.pk}/redeliver/")
    assert refused.status_code == 409
    client.post(f"/webhooks/{endpoint.pk}/toggle/")
    endpoint.refresh_from_db()
    assert endpoint.enabled

    assert client.post(f"/webhooks/{endpoint.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_the_page_says_why_an_endpoint_was_disabled_in_french(client, owner_admin, endpoint_with_deliveries):
    owner_admin.language = "fr"
    owner_admin.save()
    client.force_login(owner_admin)
    endpoint_disable(endpoint=endpoint_with_deliveries, reason=DisabledReason.GONE, now=NOW)

    page = client.get(f"/webhooks/{endpoint_with_deliveries.pk}/", headers={"accept-language": "fr"})

    assert "Le point de réception a répondu 410 Gone" in page.content.decode()


def test_the_api_lists_deliveries_and_sends_one_or_every_failed_one_again(
    admin_api, viewer_api, endpoint_with_deliveries
):
    endpoint = endpoint_with_deliveries
    listed = viewer_api.get(f"webhooks/{endpoint.pk}/deliveries").json()["data"]
    assert listed["total"] == 3
    assert {row["status"] for row in listed["rows"]} == {"sent", "failed"}
    assert listed["rows"][0]["attempts"][0]["durationMs"] == 42
    failed = viewer_api.get(f"webhooks/{endpoint.pk}/deliveries", {"status": "failed"}).json()["data"]["rows"]
    assert len(failed) == 2
    assert all(row["attempts"][0]["statusCode"] == 500 for row in failed)

    assert viewer_api.post(f"webhooks/{endpoint.pk}/redeliver").status_code == 403
    one = admin_api.post(f"webhooks/{endpoint.pk}/redeliver", {"deliveryId": failed[0]["id"]})
    assert one.json() == {"data": {"redelivered": 1}}
    assert Message.objects.get(pk=failed[0]["id"]).status == MessageStatus.PENDING
    again = admin_api.post(f"webhooks/{endpoint.pk}/redeliver", {"deliveryId": failed[0]["id"]})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "delivery_not_failed")
    every = admin_api.post(f"webhooks/{endpoint.pk}/redeliver")
    assert every.json() == {"data": {"redelivered": 1}}
    assert not Message.objects.filter(status=MessageStatus.FAILED).exists()


@pytest.mark.parametrize(
    ("call", "status", "code"),
    [
        (lambda api, endpoint: api.get(f"webhooks/{endpoint.pk}/deliveries", {"status": "lost"}), 400, None),
        (lambda api, endpoint: api.post(f"webhooks/{endpoint.pk}/redeliver", {"deliveryId": "x"}), 400, None),
        (lambda api, endpoint: api.post(f"webhooks/{endpoint.pk}/redeliver", {"other": 1}), 400, None),
        (
            lambda api, endpoint: api.post(
                f"webhooks/{endpoint.pk}/redeliver", {"deliveryId": "00000000-0000-4000-8000-000000000000"}
            ),
            404,
            "delivery_not_found",
        ),
    ],
)
def test_the_redelivery_api_refuses_bad_input(admin_api, endpoint_with_deliveries, call, status, code):
    response = call(admin_api, endpoint_with_deliveries)

    assert response.status_code == status, response.content
    if code:
        assert response.json()["error"]["code"] == code
    assert Message.objects.filter(status=MessageStatus.FAILED).count() == 2


def test_the_api_refuses_to_redeliver_to_a_disabled_endpoint(admin_api, endpoint_with_deliveries):
    endpoint = endpoint_with_deliveries
    admin_api.patch(f"webhooks/{endpoint.pk}", {"enabled": False})

    response = admin_api.post(f"webhooks/{endpoint.pk}/redeliver")

    assert (response.status_code, response.json()["error"]["code"]) == (409, "endpoint_disabled")


def test_another_organisation_never_sees_or_redelivers_the_deliveries(
    beneficiary_api, outsider_api, endpoint_with_deliveries
):
    endpoint = endpoint_with_deliveries
    for api in (beneficiary_api, outsider_api):
        assert api.get(f"webhooks/{endpoint.pk}/deliveries").status_code == 404
        assert api.post(f"webhooks/{endpoint.pk}/redeliver").status_code == 404
    assert Message.objects.filter(status=MessageStatus.FAILED).count() == 2
