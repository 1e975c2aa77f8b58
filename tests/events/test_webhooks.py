"""Webhook deliveries against a real receiver on a local port (pytest-httpserver), each verified as receivers do, with
the standardwebhooks library: the signature, the same webhook-id on every retry, the backoff, the rotation's two
signatures, and disabling after a 410 or a day of failures (time frozen; the outbox's own delivery path)."""

import datetime as dt
import itertools
import json

import pytest
import standardwebhooks
from werkzeug import Response

from accounts.actors import Actor
from events import webhooks
from events.models import DisabledReason, Event, WebhookAttempt, WebhookEndpoint
from events.services import (
    webhook_deliveries_retry,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from hiboo_connect.errors import RuleConflict
from outbox import delivery
from outbox.email import message_email
from outbox.models import Message, MessageStatus
from sharing.services import sharing_create
from tests.factories import AdminFactory, MachineFactory
from tests.services import free_port

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


class Receiver:
    """Answers each POST with the next of `statuses` (the last one repeats) and keeps what it received."""

    def __init__(self, httpserver, statuses=(204,)):
        self.statuses, self.received = list(statuses), []
        self.url = httpserver.url_for("/hooks")
        httpserver.expect_request("/hooks", method="POST").respond_with_handler(self.answer)

    def answer(self, request):
        self.received.append((dict(request.headers), request.get_data()))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return Response("", status=status)

    def verified(self, secret, index=-1):
        """The payload of a received delivery, verified with the secret as a receiver would."""
        headers, body = self.received[index]
        return standardwebhooks.Webhook(secret).verify(body, {name.lower(): value for name, value in headers.items()})


@pytest.fixture
def endpoint_for(admin_actor):
    def register(url, event_types=("sharing.created", "sharing.started")):
        return webhook_endpoint_create(actor=admin_actor, url=url, event_types=list(event_types), now=NOW)

    return register


def share(admin_actor, recipient, *, now=NOW):
    return sharing_create(
        actor=admin_actor,
        machine_ids=[MachineFactory(organisation=admin_actor.organisation).pk],
        recipient_email=recipient.email,
        reference="C-9",
        start_at=now + DAY,
        now=now,
    )[0]


def the_delivery():
    return Message.objects.get(kind=webhooks.DELIVERY_KIND)


def test_a_delivery_is_signed_as_standard_webhooks_say(
    frozen, httpserver, endpoint_for, admin_actor, owner_org, beneficiary_admin
):
    frozen(NOW)
    receiver = Receiver(httpserver)
    _endpoint, secret = endpoint_for(receiver.url)
    assert secret.startswith("whsec_")
    sharing = share(admin_actor, beneficiary_admin)
    message = the_delivery()

    assert delivery.message_deliver(message.pk) is None

    event = Event.objects.get(organisation=owner_org)
    payload = receiver.verified(secret)
    assert payload == event.body()
    assert payload["data"]["id"] == str(sharing.pk)
    headers, _body = receiver.received[0]
    assert headers["Webhook-Id"] == str(event.event_id)
    assert headers["Webhook-Timestamp"] == str(int(NOW.timestamp()))
    assert headers["Content-Type"] == "application/json"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.succeeded, attempt.event_id) == (204, True, event.event_id)
    assert attempt.duration_ms >= 0
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        receiver.verified(webhooks.new_secret())  # another secret does not verify it


def test_only_subscribed_types_of_the_endpoints_organisation_are_delivered(
    httpserver, endpoint_for, admin_actor, beneficiary_admin
):
    receiver = Receiver(httpserver)
    endpoint_for(receiver.url, event_types=["sharing.stopped"])
    share(admin_actor, beneficiary_admin)
    assert not Message.objects.filter(kind=webhooks.DELIVERY_KIND).exists()  # created is not subscribed
    # The beneficiary has an event of the creation too, and no endpoint: nothing for it either.
    assert Event.objects.count() == 2


def test_retries_back_off_under_the_same_webhook_id_until_delivered(
    frozen, httpserver, endpoint_for, admin_actor, beneficiary_admin
):
    traveller = frozen(NOW)
    receiver = Receiver(httpserver, statuses=(500, 502, 429, 200))
    _endpoint, secret = endpoint_for(receiver.url)
    share(admin_actor, beneficiary_admin)
    message = the_delivery()

    moments = [NOW]
    while (retry_at := delivery.message_deliver(message.pk)) is not None:
        traveller.move_to(retry_at)
        moments.append(retry_at)

    assert [later - earlier for earlier, later in itertools.pairwise(moments)] == [
        dt.timedelta(seconds=30),
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=2),
    ]
    assert len({headers["Webhook-Id"] for headers, _body in receiver.received}) == 1
    assert len({body for _headers, body in receiver.received}) == 1  # the same body, signed afresh each time
    assert receiver.verified(secret)["type"] == "sharing.created"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 4)
    assert list(WebhookAttempt.objects.order_by("attempted_at").values_list("status_code", flat=True)) == [
        500,
        502,
        429,
        200,
    ]
    assert WebhookEndpoint.objects.get().failing_since is None  # a success forgets the failures


def test_the_backoff_starts_under_a_minute_and_spans_a_day():
    waits = [webhooks.backoff(attempt) for attempt in range(1, webhooks.MAX_ATTEMPTS)]
    assert waits[0] == dt.timedelta(seconds=30)
    assert max(waits) == dt.timedelta(hours=4)
    assert dt.timedelta(days=1) <= sum(waits, dt.timedelta()) < dt.timedelta(days=1, hours=1)


def test_a_day_of_failures_disables_the_endpoint_and_tells_its_admins_in_their_language(
    frozen, httpserver, endpoint_for, admin_actor, owner_org, beneficiary_admin, django_capture_on_commit_callbacks
):
    traveller = frozen(NOW)
    french_admin = AdminFactory(organisation=owner_org, email="chef@rentandgo.example", language="fr")
    receiver = Receiver(httpserver, statuses=(503,))
    endpoint, _secret = endpoint_for(receiver.url)
    share(admin_actor, beneficiary_admin)
    message = the_delivery()

    with django_capture_on_commit_callbacks(execute=False):
        while (retry_at := delivery.message_deliver(message.pk)) is not None:
            traveller.move_to(retry_at)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == webhooks.MAX_ATTEMPTS == len(receiver.received)
    assert timezone_now() - NOW >= DAY
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, DisabledReason.FAILING)
    told = Message.objects.filter(kind=webhooks.DISABLED_KIND)
    assert sorted(told.values_list("recipient", flat=True)) == sorted([admin_actor.user.email, french_admin.email])
    english = message_email(told.get(recipient=admin_actor.user.email))
    french = message_email(told.get(recipient=french_admin.email))
    assert english.subject == "A webhook endpoint was disabled"
    assert "Every delivery failed for a day" in english.body
    assert french.subject == "Un point de réception de webhooks a été désactivé"
    assert "/webhooks/" in french.body


def timezone_now():
    from django.utils import timezone

    return timezone.now()


def test_a_410_disables_the_endpoint_at_once(frozen, httpserver, endpoint_for, admin_actor, beneficiary_admin):
    frozen(NOW)
    receiver = Receiver(httpserver, statuses=(410,))
    endpoint, _secret = endpoint_for(receiver.url)
    share(admin_actor, beneficiary_admin)
    message = the_delivery()

    assert delivery.message_deliver(message.pk) is None

    message.refresh_from_db()
    endpoint.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, DisabledReason.GONE)
    assert Message.objects.filter(kind=webhooks.DISABLED_KIND).count() == 1
    # Nothing more is sent to it: a new event writes no delivery, a pending one fails without a request.
    share(admin_actor, beneficiary_admin)
    assert Message.objects.filter(kind=webhooks.DELIVERY_KIND).count() == 1
    assert len(receiver.received) == 1


def test_no_answer_is_a_failure_to_retry(frozen, endpoint_for, admin_actor, beneficiary_admin):
    frozen(NOW)
    endpoint_for(f"http://127.0.0.1:{free_port()}/hooks")  # nobody listens there
    share(admin_actor, beneficiary_admin)
    message = the_delivery()

    assert delivery.message_deliver(message.pk) == NOW + dt.timedelta(seconds=30)

    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.succeeded) == (None, False)
    assert attempt.error
    assert WebhookEndpoint.objects.get().failing_since == NOW


def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(
    frozen, httpserver, endpoint_for, admin_actor, beneficiary_admin
):
    traveller = frozen(NOW)
    receiver = Receiver(httpserver)
    endpoint, old = endpoint_for(receiver.url)
    endpoint, new = webhook_endpoint_rotate_secret(actor=admin_actor, endpoint=endpoint, now=NOW)
    share(admin_actor, beneficiary_admin)
    delivery.message_deliver(the_delivery().pk)

    assert receiver.verified(old) == receiver.verified(new)
    assert len(receiver.received[-1][0]["Webhook-Signature"].split(" ")) == 2

    traveller.move_to(NOW + DAY + dt.timedelta(seconds=1))
    share(admin_actor, beneficiary_admin, now=NOW + DAY + dt.timedelta(seconds=1))
    delivery.message_deliver(Message.objects.filter(status=MessageStatus.PENDING).get(kind=webhooks.DELIVERY_KIND).pk)
    assert receiver.verified(new)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        receiver.verified(old)


def test_failed_deliveries_are_sent_again_under_the_same_id_once_the_endpoint_is_enabled(
    frozen, httpserver, endpoint_for, admin_actor, beneficiary_admin
):
    frozen(NOW)
    receiver = Receiver(httpserver, statuses=(410, 200))
    endpoint, secret = endpoint_for(receiver.url)
    share(admin_actor, beneficiary_admin)
    message = the_delivery()
    delivery.message_deliver(message.pk)

    with pytest.raises(RuleConflict, match="Enable the endpoint first"):
        webhook_deliveries_retry(actor=admin_actor, endpoint=endpoint)
    endpoint = webhook_endpoint_update(actor=admin_actor, endpoint=endpoint, changes={"enabled": True})
    assert webhook_deliveries_retry(actor=admin_actor, endpoint=endpoint, delivery=message) == 1
    with pytest.raises(RuleConflict, match="Only a failed delivery"):
        webhook_deliveries_retry(actor=admin_actor, endpoint=endpoint, delivery=message)
    assert delivery.message_deliver(message.pk) is None

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    first, second = receiver.received
    assert first[0]["Webhook-Id"] == second[0]["Webhook-Id"]
    assert receiver.verified(secret)["type"] == "sharing.created"


def test_a_deleted_endpoint_takes_its_waiting_deliveries_with_it(
    httpserver, endpoint_for, admin_actor, beneficiary_admin
):
    receiver = Receiver(httpserver)
    endpoint, _secret = endpoint_for(receiver.url)
    share(admin_actor, beneficiary_admin)

    webhook_endpoint_delete(actor=admin_actor, endpoint=endpoint)

    assert not Message.objects.filter(kind=webhooks.DELIVERY_KIND).exists()
    assert Event.objects.count() == 2  # the events stay in the feed


def test_a_delivery_whose_event_was_purged_is_dropped(httpserver, endpoint_for, admin_actor, beneficiary_admin):
    receiver = Receiver(httpserver)
    endpoint_for(receiver.url)
    share(admin_actor, beneficiary_admin)
    message = the_delivery()
    Event.objects.all().delete()

    assert delivery.message_deliver(message.pk) is None
    assert not Message.objects.filter(pk=message.pk).exists()
    assert receiver.received == []


def test_the_disabled_endpoint_email_body(owner_org, owner_admin):
    """Rendering reads the reason's words at send time, in the message's language."""
    endpoint, _secret = webhook_endpoint_create(
        actor=Actor.for_user(owner_admin), url="https://127.0.0.1:9/hooks", event_types=["sharing.started"]
    )
    webhooks.endpoint_disable(endpoint=endpoint, reason=DisabledReason.GONE, now=NOW)
    assert not webhooks.endpoint_disable(endpoint=endpoint, reason=DisabledReason.GONE, now=NOW)  # once
    email = message_email(Message.objects.get(kind=webhooks.DISABLED_KIND))
    assert "The endpoint answered 410 Gone" in email.body
    assert json.loads(json.dumps(email.subject))
