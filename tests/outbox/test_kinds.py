"""The outbox's kind registry: every app's messages are registered kinds, a kind is registered once, and a kind that
finds its subject gone at send time drops the message unsent."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts.emails import COLLEAGUE_INVITATION, notify_colleague_invited
from accounts.models import ColleagueInvitation, Role
from contracts.messages import ContractMessage
from events.webhooks import DELIVERY_KIND, DISABLED_KIND
from outbox.delivery import message_deliver
from outbox.kinds import MessageKind, kind_choices, message_kind, message_kinds_register
from outbox.models import Message
from outbox.services import message_build, messages_queue_many
from sharing.messages import SharingMessage
from sharing.reminders import KIND as ENDING_SOON_KIND

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)


def test_every_app_registers_its_kinds():
    kinds = dict(kind_choices())
    expected = {
        COLLEAGUE_INVITATION,
        DELIVERY_KIND,
        DISABLED_KIND,
        ENDING_SOON_KIND,
        *SharingMessage.values,
        *ContractMessage.values,
    }
    assert expected == set(kinds)
    assert message_kind(DELIVERY_KIND).channel == "webhook"
    assert kinds[COLLEAGUE_INVITATION] == "Invitation to join the organisation"
    assert message_kind(SharingMessage.CREATED).subject_type == "sharing"
    assert message_kind(SharingMessage.CREATED).template_folder == "emails/sharing_created"


def test_a_kind_is_registered_once():
    with pytest.raises(ImproperlyConfigured):
        message_kinds_register(
            MessageKind(name=COLLEAGUE_INVITATION, label="Other", subject_type="x", render_context=lambda _m: {})
        )
    with pytest.raises(ImproperlyConfigured):
        message_kind("no_such_kind")


def test_a_message_whose_subject_is_gone_is_dropped_unsent(frozen, owner_org, mailoutbox):
    frozen(NOW)
    invitation = ColleagueInvitation.objects.create(
        organisation=owner_org, email="colleague@rentandgo.example", role=Role.MEMBER, expires_at=NOW + dt.timedelta(1)
    )
    message = notify_colleague_invited(invitation)
    ColleagueInvitation.objects.filter(pk=invitation.pk).delete()  # not through the services: nobody dropped it
    assert message_deliver(message.pk) is None
    assert not Message.objects.exists()
    assert mailoutbox == []


def test_a_message_queued_in_bulk_saves_as_the_row_it_is(db, owner_org):
    """objects_insert marks what it wrote as saved: a later save() updates the row (it inserted it again, and failed
    on the key, when the instance still looked new)."""
    (queued,) = messages_queue_many(
        [
            message_build(
                key="test:bulk-save",
                kind=COLLEAGUE_INVITATION,
                organisation=owner_org,
                subject_id=owner_org.pk,
                recipient="someone@example.com",
                language="en",
                time_zone="Europe/Paris",
                context={"a": 1},
            )
        ]
    )
    queued.context = {"a": 2}
    queued.save(update_fields=["context"])
    assert list(Message.objects.values_list("key", "context")) == [("test:bulk-save", {"a": 2})]
