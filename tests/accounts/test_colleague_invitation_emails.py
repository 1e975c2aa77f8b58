"""Colleague invitation e-mails go through the notification outbox (DESIGN §5), like the sharing e-mails: written in
the transaction of the invitation, sent after commit exactly once, retried with backoff, re-dispatched after a broker
outage, listed for the organisation's admins when they fail, and sent again by them.

Celery runs eagerly in tests, so a task queued at commit runs in the test; e-mails land in the locmem outbox. Time is
frozen at NOW by the `clock` fixture."""

import datetime as dt
import smtplib
from unittest import mock

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from kombu.exceptions import OperationalError

from accounts.emails import COLLEAGUE_INVITATION, notify_colleague_invited
from accounts.models import ColleagueInvitation, Role
from accounts.services import colleague_invitation_accept, colleague_invitation_revoke, colleague_invite
from hiboo_connect.errors import NotAllowed, RuleConflict
from outbox import delivery
from outbox import tasks as outbox_tasks
from outbox.email import message_email
from outbox.models import Message, MessageStatus
from outbox.tasks import message_deliver_task
from sharing.selectors import notifications_failed
from sharing.services import notification_retry
from tests.factories import UserFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
NEWCOMER = "new.person@newco.example"


@pytest.fixture
def clock(frozen):
    return frozen(NOW)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a block and then what it queued for after commit, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def broker_down():
    return mock.patch.object(
        message_deliver_task, "apply_async", side_effect=OperationalError("Error 111 connecting to redis")
    )


def invite(actor, email=NEWCOMER, role=Role.MEMBER):
    return colleague_invite(actor=actor, email=email, role=role)


class DisconnectingBackend(BaseEmailBackend):
    """An SMTP server that drops the connection: a transient failure."""

    calls = 0

    def send_messages(self, email_messages):
        DisconnectingBackend.calls += 1
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that refuses the recipient for good (5xx): failed at once."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({email_messages[0].to[0]: (550, b"5.1.1 No such user")})


def test_the_invitation_is_written_to_the_outbox_and_sent_after_commit_once(
    clock, commit, admin_actor, owner_org, mailoutbox
):
    with commit() as callbacks:
        invitation = invite(admin_actor)
        (notification,) = Message.objects.all()
        assert notification.status == MessageStatus.PENDING
        assert mailoutbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    notification.refresh_from_db()
    assert notification.kind == COLLEAGUE_INVITATION
    assert (notification.organisation, notification.subject_type, notification.subject_id) == (
        owner_org,
        "colleague_invitation",
        invitation.pk,
    )
    assert notification.key.startswith(f"colleague_invitation:{invitation.pk}:")
    assert invitation.token not in notification.key  # the key shows in the admin and the Message-ID: no secret in it
    assert (notification.recipient, notification.language, notification.time_zone) == (NEWCOMER, "en", "Europe/Paris")
    assert (notification.status, notification.attempts, notification.sent_at) == (MessageStatus.SENT, 1, NOW)
    (message,) = mailoutbox
    assert message.to == [NEWCOMER]
    assert f"/accounts/invitations/{invitation.token}/" in message.body
    assert message.extra_headers["Message-ID"].startswith(f"<colleague_invitation.{invitation.pk}.")

    # The same occurrence queued again, or its task run again, writes and sends nothing more.
    assert notify_colleague_invited(invitation) is None
    message_deliver_task.delay(str(notification.pk))
    assert Message.objects.count() == 1
    assert len(mailoutbox) == 1


def test_a_rolled_back_invitation_queues_and_sends_nothing(clock, commit, admin_actor, mailoutbox):
    def failing_request():
        with transaction.atomic():
            invite(admin_actor)
            assert Message.objects.count() == 1
            raise RuntimeError("the request failed after the service")

    with commit() as callbacks, pytest.raises(RuntimeError):
        failing_request()
    assert callbacks == []
    assert not ColleagueInvitation.objects.exists()
    assert not Message.objects.exists()
    assert mailoutbox == []


def test_broker_down_at_commit_then_back_the_invitation_is_sent_once(clock, commit, admin_actor, mailoutbox):
    with broker_down() as broker:
        with commit():
            invitation = invite(admin_actor)  # the request does not fail
        clock.move_to(NOW + 5 * MINUTE)
        assert outbox_tasks.messages_redispatch() == 0  # still down: left for the next run
        assert broker.call_count == 2
    (notification,) = Message.objects.all()
    assert (notification.status, notification.attempts) == (MessageStatus.PENDING, 0)
    assert mailoutbox == []

    assert outbox_tasks.messages_redispatch() == 1  # the broker is back
    assert outbox_tasks.messages_redispatch() == 0
    message_deliver_task.delay(str(notification.pk))
    (message,) = mailoutbox
    assert invitation.token in message.body
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (MessageStatus.SENT, 1)


def test_send_again_is_a_new_occurrence_with_the_new_link(clock, commit, admin_actor, mailoutbox):
    with commit():
        first = invite(admin_actor)
    first_token = first.token
    clock.move_to(NOW + DAY)
    with commit():
        again = invite(admin_actor, role=Role.ADMIN)
    assert again.pk == first.pk
    earlier, latest = Message.objects.order_by("created_at")
    assert earlier.key != latest.key
    assert (earlier.status, latest.status) == (MessageStatus.SENT, MessageStatus.SENT)
    assert len(mailoutbox) == 2
    assert again.token in mailoutbox[1].body
    assert first_token not in mailoutbox[1].body


def test_send_again_while_the_first_is_unsent_sends_one_email_with_the_live_link(
    clock, commit, admin_actor, mailoutbox
):
    with broker_down():
        with commit():
            invite(admin_actor)
        clock.move_to(NOW + 2 * MINUTE)
        with commit():
            again = invite(admin_actor)
    (notification,) = Message.objects.all()  # the first, still unsent, was withdrawn: it would only repeat
    clock.move_to(NOW + 5 * MINUTE)
    assert outbox_tasks.messages_redispatch() == 1
    (message,) = mailoutbox
    assert again.token in message.body
    notification.refresh_from_db()
    assert notification.status == MessageStatus.SENT


def test_transient_smtp_failures_are_retried_with_backoff_then_an_admin_sends_it_again(
    clock, commit, admin_actor, member_actor, outsider_admin, owner_org, settings, mailoutbox
):
    settings.EMAIL_BACKEND = f"{__name__}.DisconnectingBackend"
    DisconnectingBackend.calls = 0
    with commit():
        invitation = invite(admin_actor)
    (notification,) = Message.objects.all()
    waits = []
    for attempt in range(1, delivery.MAX_ATTEMPTS):
        notification.refresh_from_db()
        assert (notification.status, notification.attempts) == (MessageStatus.PENDING, attempt)
        waits.append(notification.next_attempt_at - dt.datetime.now(UTC))
        clock.move_to(notification.next_attempt_at)
        message_deliver_task.delay(str(notification.pk))
    assert waits == [dt.timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16, 32, 60)]
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (MessageStatus.FAILED, delivery.MAX_ATTEMPTS)
    assert notification.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert list(notifications_failed(owner_org)) == [notification]
    assert list(notifications_failed(outsider_admin.organisation)) == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with pytest.raises(NotAllowed):
        notification_retry(actor=member_actor, notification=notification)
    with commit():
        notification_retry(actor=admin_actor, notification=notification)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (MessageStatus.SENT, 1)
    (message,) = mailoutbox
    assert invitation.token in message.body
    assert list(notifications_failed(owner_org)) == []


def test_a_failed_email_of_an_expired_invitation_is_not_retried_its_link_is_dead(
    clock, commit, admin_actor, settings, mailoutbox
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with commit():
        invite(admin_actor)
    notification = Message.objects.get(status=MessageStatus.FAILED)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clock.move_to(NOW + ColleagueInvitation.VALIDITY)
    with commit(), pytest.raises(RuleConflict) as refusal:
        notification_retry(actor=admin_actor, notification=notification)
    assert refusal.value.code == "invitation_expired"
    notification.refresh_from_db()
    assert notification.status == MessageStatus.FAILED
    assert mailoutbox == []


def test_an_accepted_invitation_withdraws_its_unsent_emails(clock, commit, admin_actor, mailoutbox):
    with broker_down(), commit():
        invitation = invite(admin_actor)
    colleague_invitation_accept(invitation=invitation, user=UserFactory(email=NEWCOMER, organisation=None))
    assert not Message.objects.exists()
    clock.move_to(NOW + 5 * MINUTE)
    assert outbox_tasks.messages_redispatch() == 0
    assert mailoutbox == []


def test_a_revoked_invitation_takes_its_unsent_emails_with_it(clock, commit, admin_actor, mailoutbox):
    with broker_down(), commit():
        invitation = invite(admin_actor)
    colleague_invitation_revoke(actor=admin_actor, invitation=invitation)
    assert not Message.objects.exists()
    clock.move_to(NOW + 5 * MINUTE)
    assert outbox_tasks.messages_redispatch() == 0
    assert mailoutbox == []


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_email_is_in_the_organisations_language_and_time_zone(clock, commit, admin_actor, owner_org, language):
    owner_org.language, owner_org.timezone = language, "Pacific/Honolulu"
    owner_org.save()
    with commit():
        invitation = invite(admin_actor, role=Role.ADMIN)
    notification = Message.objects.get()
    assert (notification.language, notification.time_zone) == (language, "Pacific/Honolulu")
    email = message_email(notification)
    html = email.alternatives[0].content
    assert f'<html lang="{language}">' in html
    assert "{%" not in email.body + html
    assert "{{" not in email.body + html
    # Expires on 26 July 09:00 UTC, which is still the 25th in Honolulu.
    assert ("25 juil. 2026" if language == "fr" else "25 Jul 2026") in email.body
    assert ("avec le rôle administrateur." if language == "fr" else "as admin.") in email.body
    assert invitation.token in email.body
