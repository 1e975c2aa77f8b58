"""The notification outbox: each e-mail written in the transaction of its change, delivered after commit exactly once,
retried with backoff on transient SMTP errors, re-dispatched after a broker outage, and retried by an owner admin.

Celery runs eagerly in tests (test_settings), so a task queued at commit runs in the test; e-mails land in the locmem
outbox. `django_capture_on_commit_callbacks(execute=True)` plays the commit of the test's transaction."""

import datetime as dt
import smtplib
from unittest import mock

import pytest
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import transaction
from kombu.exceptions import OperationalError

from accounts.actors import Actor
from accounts.models import Role
from accounts.services import colleague_invitation_revoke, colleague_invite, organisation_create
from hiboo_connect.errors import NotAllowed, NotFound, RuleConflict
from outbox import delivery
from outbox import tasks as outbox_tasks
from outbox.email import message_email
from outbox.models import Message, MessageStatus
from outbox.services import message_queue
from outbox.tasks import message_deliver_task, messages_redispatch_task
from sharing import messages as sharing_messages
from sharing.lifecycle import SharingStatus
from sharing.messages import SharingMessage
from sharing.selectors import notification_get, notifications_failed
from sharing.services import (
    notification_retry,
    sharing_create,
    sharing_delete,
    sharing_lifecycle_run,
    sharing_stop,
    sharing_update,
    sharings_attach_beneficiary,
)
from tests.factories import MachineFactory, UserFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


@pytest.fixture
def clock(frozen):
    return frozen(NOW)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a block and then what it queued for after commit, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def share(actor, machine, recipient_email, *, start_at, end_at=None, **extra):
    (sharing,) = sharing_create(
        actor=actor,
        machine_ids=[machine.pk],
        recipient_email=recipient_email,
        start_at=start_at,
        end_at=end_at,
        **extra,
    )
    return sharing


def sent_to(mailoutbox, email):
    return [message for message in mailoutbox if message.to == [email]]


class DisconnectingBackend(BaseEmailBackend):
    """An SMTP server that drops the connection: the transient failure the outbox must ride out."""

    calls = 0

    def send_messages(self, email_messages):
        DisconnectingBackend.calls += 1
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that refuses the recipient for good (5xx)."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({email_messages[0].to[0]: (550, b"5.1.1 No such user")})


# --- written in the transaction of the change -------------------------------------------------------------------------


def test_creation_writes_the_summary_and_sends_it_after_commit(
    clock, commit, admin_actor, machine, beneficiary_admin, mailoutbox
):
    with commit() as callbacks:
        sharing = share(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY, reference="C-42")
        (notification,) = Message.objects.all()
        assert notification.status == MessageStatus.PENDING
        assert mailoutbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    notification.refresh_from_db()
    assert notification.key == f"sharing:{sharing.pk}:created"
    assert notification.kind == SharingMessage.CREATED
    assert notification.status == MessageStatus.SENT
    assert notification.sent_at == NOW
    assert notification.attempts == 1
    assert [message.to for message in mailoutbox] == [[beneficiary_admin.email]]


def test_a_rolled_back_change_queues_and_sends_nothing(
    clock, commit, admin_actor, machine, beneficiary_admin, mailoutbox
):
    def failing_request():
        with transaction.atomic():
            share(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY)
            assert Message.objects.count() == 1
            raise RuntimeError("the request failed after the service")

    with commit() as callbacks, pytest.raises(RuntimeError):
        failing_request()
    assert callbacks == []
    assert Message.objects.count() == 0
    assert mailoutbox == []


def test_pending_sharing_sends_an_invitation_with_a_sign_up_link(clock, commit, admin_actor, machine, mailoutbox):
    with commit():
        share(admin_actor, machine, "Site.Manager@newco.example", recipient_organisation_name="NewCo", start_at=NOW)
    (notification,) = Message.objects.all()
    assert notification.kind == SharingMessage.INVITATION
    (email,) = mailoutbox
    link = f"{settings.SITE_URL}/accounts/signup/?email=site.manager%40newco.example"
    assert link in email.body
    assert f'href="{link}"' in email.alternatives[0].content


def test_every_event_of_the_lifecycle_reaches_the_recipient_once(
    clock, commit, admin_actor, machine, beneficiary_admin, mailoutbox
):
    with commit():
        sharing = share(admin_actor, machine, beneficiary_admin.email, start_at=NOW + DAY, end_at=NOW + 10 * DAY)
    with commit():
        sharing_update(actor=admin_actor, sharing=sharing, changes={"end_at": NOW + 20 * DAY})
    clock.move_to(NOW + 2 * DAY)
    with commit():
        sharing_lifecycle_run()
    clock.move_to(NOW + 3 * DAY)
    with commit():
        sharing_stop(actor=admin_actor, sharing=sharing)
    messages = list(Message.objects.order_by("created_at").values_list("kind", "status"))
    assert messages == [
        (SharingMessage.CREATED, MessageStatus.SENT),
        (SharingMessage.DATES_CHANGED, MessageStatus.SENT),
        (SharingMessage.STARTED, MessageStatus.SENT),
        (SharingMessage.STOPPED, MessageStatus.SENT),
    ]
    assert len(sent_to(mailoutbox, beneficiary_admin.email)) == 4


def test_a_sharing_created_in_progress_gets_the_summary_only(
    clock, commit, admin_actor, machine, beneficiary_admin, mailoutbox
):
    with commit():
        share(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY)
    with commit():
        sharing_lifecycle_run()
    assert list(Message.objects.values_list("kind", flat=True)) == [SharingMessage.CREATED]
    assert "The data is available now." in mailoutbox[0].body


def test_the_lifecycle_job_run_twice_sends_started_and_ended_once(
    clock, commit, admin_actor, machine, beneficiary_admin, mailoutbox
):
    with commit():
        sharing = share(admin_actor, machine, beneficiary_admin.email, start_at=NOW + DAY, end_at=NOW + 5 * DAY)
    clock.move_to(NOW + 2 * DAY)
    for _run in range(2):
        with commit():
            sharing_lifecycle_run()
    clock.move_to(NOW + 6 * DAY)
    for _run in range(2):
        with commit():
            sharing_lifecycle_run()
    keys = sorted(Message.objects.values_list("key", flat=True))
    assert keys == [f"sharing:{sharing.pk}:{event}" for event in ("created", "ended", "started")]
    subjects = [message.subject for message in sent_to(mailoutbox, beneficiary_admin.email)]
    assert len(subjects) == 3
    assert subjects[1:] == ["A sharing from Rent & Go has started", "A sharing from Rent & Go has ended"]


def test_a_sharing_that_started_and_ended_while_beat_was_down_sends_ended_only(
    clock, commit, admin_actor, machine, beneficiary_admin, mailoutbox
):
    with commit():
        share(admin_actor, machine, beneficiary_admin.email, start_at=NOW + DAY, end_at=NOW + 2 * DAY)
    clock.move_to(NOW + 3 * DAY)
    with commit():
        assert sharing_lifecycle_run() == 1
    messages = list(Message.objects.order_by("created_at").values_list("kind", flat=True))
    assert messages == [SharingMessage.CREATED, SharingMessage.ENDED]


def test_the_delivery_task_run_twice_for_one_row_sends_once(clock, admin_actor, machine, beneficiary_admin, mailoutbox):
    share(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY)  # never committed: nothing dispatched
    (notification,) = Message.objects.all()
    message_deliver_task.delay(str(notification.pk))
    message_deliver_task.delay(str(notification.pk))
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (MessageStatus.SENT, 1)


def test_a_recipient_change_while_pending_moves_the_invitation(clock, commit, admin_actor, machine, mailoutbox):
    with commit():
        sharing = share(admin_actor, machine, "first@newco.example", recipient_organisation_name="NewCo", start_at=NOW)
    with commit():
        sharing_update(actor=admin_actor, sharing=sharing, changes={"recipient_email": "second@newco.example"})
    assert [message.to for message in mailoutbox] == [["first@newco.example"], ["second@newco.example"]]
    assert "email=second%40newco.example" in mailoutbox[1].body


# --- the notification switch ------------------------------------------------------------------------------------------


def test_switch_off_the_recipient_gets_nothing_and_the_sender_is_still_told(
    clock, commit, admin_actor, owner_admin, machine, mailoutbox
):
    with commit():
        sharing = share(
            admin_actor,
            machine,
            "boss@newco.example",
            recipient_organisation_name="NewCo",
            start_at=NOW + DAY,
            end_at=NOW + 9 * DAY,
            notification_enabled=False,
        )
        sharing_update(actor=admin_actor, sharing=sharing, changes={"end_at": NOW + 10 * DAY})
    invitee = UserFactory(email="boss@newco.example", organisation=None)
    organisation_create(name="NewCo", admin=invitee)
    with commit():
        (attached,) = sharings_attach_beneficiary(actor=Actor.for_user(invitee), user=invitee)
    clock.move_to(NOW + 2 * DAY)
    with commit():
        sharing_lifecycle_run()
    with commit():
        sharing_stop(actor=admin_actor, sharing=attached)
    assert list(Message.objects.values_list("kind", "recipient")) == [
        (SharingMessage.INVITATION_ACCEPTED, owner_admin.email)
    ]
    (email,) = mailoutbox
    assert email.to == [owner_admin.email]
    assert email.subject == "boss@newco.example accepted your sharing invitation"


def test_a_sharing_sent_by_an_api_key_has_nobody_to_tell_of_the_acceptance(clock, commit, owner_org, machine):
    api_actor = Actor(organisation=owner_org, api_key=mock.Mock(name="key", is_admin=True), is_admin=True)
    with commit():
        share(api_actor, machine, "boss@newco.example", recipient_organisation_name="NewCo", start_at=NOW)
    invitee = UserFactory(email="boss@newco.example", organisation=None)
    organisation_create(name="NewCo", admin=invitee)
    with commit():
        sharings_attach_beneficiary(actor=Actor.for_user(invitee), user=invitee)
    assert list(Message.objects.values_list("kind", flat=True)) == [SharingMessage.INVITATION]


# --- the broker down, then back ---------------------------------------------------------------------------------------


def test_broker_down_at_commit_then_back_nothing_lost_nothing_doubled(
    clock, commit, admin_actor, machine, beneficiary_admin, mailoutbox
):
    with mock.patch.object(
        message_deliver_task, "apply_async", side_effect=OperationalError("Error 111 connecting to redis")
    ) as broker:
        with commit():
            share(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY)  # the request does not fail
        clock.move_to(NOW + 5 * MINUTE)
        assert messages_redispatch_task.delay().get() == 0  # still down: left for the next run
        assert broker.call_count == 2
    (notification,) = Message.objects.all()
    assert notification.status == MessageStatus.PENDING
    assert mailoutbox == []

    assert messages_redispatch_task.delay().get() == 1  # the broker is back
    assert messages_redispatch_task.delay().get() == 0
    message_deliver_task.delay(str(notification.pk))
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (MessageStatus.SENT, 1)


def test_redispatch_leaves_a_fresh_row_to_the_task_queued_at_commit(clock, admin_actor, machine, beneficiary_admin):
    share(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY)
    with mock.patch.object(message_deliver_task, "apply_async") as broker:
        assert outbox_tasks.messages_redispatch() == 0
        clock.move_to(NOW + delivery.REDISPATCH_GRACE)
        assert outbox_tasks.messages_redispatch() == 1
    assert broker.call_args.kwargs["expires"] == delivery.REDISPATCH_EXPIRES


def test_redispatch_and_a_second_task_while_a_worker_sends_never_send_twice(
    clock, admin_actor, machine, beneficiary_admin, settings
):
    sends = []

    class SlowBackend(LocmemBackend):
        """While this worker is in the middle of sending, the periodic job and a duplicate task both run."""

        def send_messages(self, email_messages):
            sends.append(email_messages[0].to)
            clock.move_to(NOW + 5 * MINUTE)
            outbox_tasks.messages_redispatch()
            message_deliver_task.delay(str(notification.pk))
            return super().send_messages(email_messages)

    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    globals()["SlowBackend"] = SlowBackend
    share(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY)
    (notification,) = Message.objects.all()
    message_deliver_task.delay(str(notification.pk))
    assert sends == [[beneficiary_admin.email]]
    notification.refresh_from_db()
    assert notification.status == MessageStatus.SENT


def test_a_worker_killed_while_sending_is_taken_over_after_the_lease(
    clock, admin_actor, machine, beneficiary_admin, mailoutbox
):
    share(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY)
    (notification,) = Message.objects.all()
    # A worker claimed the row and died before sending: the claim holds for the lease, then the job takes over.
    Message.objects.filter(pk=notification.pk).update(attempts=1, next_attempt_at=NOW + delivery.LEASE)
    clock.move_to(NOW + delivery.LEASE - MINUTE)
    assert outbox_tasks.messages_redispatch() == 0
    clock.move_to(NOW + delivery.LEASE + delivery.REDISPATCH_GRACE)
    assert outbox_tasks.messages_redispatch() == 1
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (MessageStatus.SENT, 2)


# --- SMTP failures: retried with backoff, then failed; an admin retries -----------------------------------------------


def test_transient_smtp_failures_are_retried_with_backoff_then_failed(
    clock, commit, admin_actor, machine, beneficiary_admin, settings, mailoutbox
):
    settings.EMAIL_BACKEND = f"{__name__}.DisconnectingBackend"
    DisconnectingBackend.calls = 0
    with commit():
        share(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY)
    (notification,) = Message.objects.all()
    waits = []
    now = NOW
    for attempt in range(1, delivery.MAX_ATTEMPTS):
        notification.refresh_from_db()
        assert (notification.status, notification.attempts) == (MessageStatus.PENDING, attempt)
        assert notification.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
        waits.append(notification.next_attempt_at - now)
        clock.move_to(now + waits[-1] - dt.timedelta(seconds=1))
        message_deliver_task.delay(str(notification.pk))  # too early: not claimed
        assert DisconnectingBackend.calls == attempt
        now = notification.next_attempt_at
        clock.move_to(now)
        message_deliver_task.delay(str(notification.pk))
    assert waits == [dt.timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16, 32, 60)]
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (MessageStatus.FAILED, delivery.MAX_ATTEMPTS)
    assert DisconnectingBackend.calls == delivery.MAX_ATTEMPTS
    clock.move_to(now + DAY)
    assert outbox_tasks.messages_redispatch() == 0  # failed rows wait for an admin
    assert list(notifications_failed(notification.organisation)) == [notification]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with commit():
        notification_retry(actor=admin_actor, notification=notification)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (MessageStatus.SENT, 1)
    assert len(mailoutbox) == 1
    assert list(notifications_failed(notification.organisation)) == []


def test_a_refused_recipient_fails_at_once(clock, commit, admin_actor, machine, beneficiary_admin, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with commit():
        share(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY)
    (notification,) = Message.objects.all()
    assert (notification.status, notification.attempts) == (MessageStatus.FAILED, 1)
    assert "550" in notification.last_error


@pytest.fixture
def failed_notification(clock, admin_actor, machine, beneficiary_admin):
    share(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY)
    Message.objects.update(status=MessageStatus.FAILED, attempts=delivery.MAX_ATTEMPTS)
    return Message.objects.get()


def test_only_an_admin_of_the_owner_organisation_retries(
    failed_notification, member_actor, beneficiary_admin, outsider_admin
):
    for actor in (member_actor, Actor.for_user(beneficiary_admin), Actor.for_user(outsider_admin)):
        with pytest.raises(NotAllowed):
            notification_retry(actor=actor, notification=failed_notification)
    failed_notification.refresh_from_db()
    assert failed_notification.status == MessageStatus.FAILED


def test_a_notification_that_has_not_failed_cannot_be_retried(clock, admin_actor, failed_notification):
    Message.objects.update(status=MessageStatus.SENT)
    with pytest.raises(RuleConflict):
        notification_retry(actor=admin_actor, notification=failed_notification)


def test_failed_notifications_are_listed_for_their_owner_organisation_only(
    failed_notification, owner_org, beneficiary_org, outsider_org
):
    assert list(notifications_failed(owner_org)) == [failed_notification]
    assert list(notifications_failed(beneficiary_org)) == []
    assert notification_get(organisation=owner_org, notification_id=failed_notification.pk) == failed_notification
    for organisation in (beneficiary_org, outsider_org):
        with pytest.raises(NotFound):
            notification_get(organisation=organisation, notification_id=failed_notification.pk)
    with pytest.raises(NotFound):
        notification_get(organisation=owner_org, notification_id="not-a-uuid")


# --- one outbox for every e-mail ------------------------------------------------------------------------------------


def test_a_row_is_about_one_subject_a_sharing_or_a_colleague_invitation(
    clock, admin_actor, owner_org, machine, beneficiary_admin
):
    """Colleague invitations share this outbox (their behaviour: tests/accounts/test_colleague_invitation_emails.py).
    The outbox keeps each row's subject by type and id, with no foreign key per app (it replaced a check that a row
    had exactly one of two foreign keys); the subject's own service drops its rows when it goes."""
    sharing = share(admin_actor, machine, beneficiary_admin.email, start_at=NOW + DAY)
    invitation = colleague_invite(actor=admin_actor, email="new.person@newco.example", role=Role.MEMBER)
    assert list(Message.objects.order_by("created_at", "subject_type").values_list("subject_type", "subject_id")) == [
        ("colleague_invitation", invitation.pk),
        ("sharing", sharing.pk),
    ]
    sharing_delete(actor=admin_actor, sharing=sharing)
    assert list(Message.objects.values_list("subject_type", flat=True)) == ["colleague_invitation"]
    colleague_invitation_revoke(actor=admin_actor, invitation=invitation)
    assert not Message.objects.exists()


# --- the e-mails' content ---------------------------------------------------------------------------------------------


def test_the_started_email_in_english(clock, commit, admin_actor, machine, beneficiary_admin, mailoutbox):
    with commit():
        sharing = share(
            admin_actor, machine, beneficiary_admin.email, start_at=NOW + DAY, end_at=NOW + 30 * DAY, reference="C-42"
        )
    mailoutbox.clear()
    clock.move_to(NOW + 2 * DAY)
    with commit():
        sharing_lifecycle_run()
    (email,) = mailoutbox
    html = email.alternatives[0].content
    assert email.alternatives[0].mimetype == "text/html"
    assert email.subject == "The sharing “C-42” from Rent & Go has started"
    assert email.from_email == settings.DEFAULT_FROM_EMAIL
    assert email.extra_headers["Message-ID"] == f"<sharing.{sharing.pk}.started@127.0.0.1>"
    # Plain text is not HTML-escaped; dates are in the beneficiary's time zone (Europe/Paris, UTC+2 in July).
    assert "The sharing from Rent & Go has started: the data of its machines is now available to BuildCo." in email.body
    assert "Reference: C-42" in email.body
    assert f"  - {machine}" in email.body
    assert "Period: from 13 Jul 2026, 11:00 to 11 Aug 2026, 11:00 (Europe/Paris)" in email.body
    assert f"{settings.SITE_URL}/" in email.body
    assert sharing_messages.sharing_url(sharing.pk) in email.body
    assert '<html lang="en">' in html
    assert "Rent &amp; Go" in html
    assert f'href="{sharing_messages.sharing_url(sharing.pk)}"' in html
    assert "from 13 Jul 2026, 11:00 to 11 Aug 2026, 11:00 (Europe/Paris)" in html


@pytest.mark.parametrize(
    ("language", "text", "html"),
    [
        ("en", "Data shared: Essential, Usage hours", "<dt>Data shared</dt><dd>Essential, Usage hours</dd>"),
        ("fr", "Données partagées\xa0: Essentiel, Heures d’utilisation", "<dt>Données partagées</dt>"),
    ],
)
def test_the_emails_name_the_shared_data_packs(
    clock, commit, admin_actor, machine, beneficiary_admin, mailoutbox, language, text, html
):
    beneficiary_admin.language = language
    beneficiary_admin.save()
    with commit():
        share(
            admin_actor,
            machine,
            beneficiary_admin.email,
            start_at=NOW + DAY,
            data_packs=["usage_hours", "essential"],
        )
    (email,) = mailoutbox
    assert text in email.body
    assert html in email.alternatives[0].content


def test_the_email_is_in_the_recipients_language_and_time_zone(
    clock, commit, admin_actor, machine, beneficiary_admin, mailoutbox
):
    beneficiary_admin.language = "fr"
    beneficiary_admin.save()
    beneficiary_admin.organisation.timezone = "America/Montreal"
    beneficiary_admin.organisation.save()
    with commit():
        sharing = share(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY, end_at=NOW + 30 * DAY)
    (notification,) = Message.objects.all()
    assert (notification.language, notification.time_zone) == ("fr", "America/Montreal")
    (email,) = mailoutbox
    html = email.alternatives[0].content
    assert '<html lang="fr">' in html
    # Dates in French and in Montreal time (UTC-4 in July), whatever our own catalogue holds.
    assert "11 juil. 2026, 05:00" in email.body
    assert "11 août 2026, 05:00" in email.body
    assert "11 juil. 2026, 05:00" in html
    assert sharing_messages.sharing_url(sharing.pk) in email.body
    assert f'href="{sharing_messages.sharing_url(sharing.pk)}"' in html


@pytest.mark.parametrize(
    ("user_language", "owner_language", "expected"),
    [("fr", "en", "fr"), ("", "fr", "en"), (None, "fr", "fr"), (None, "en", "en")],
    ids=["user-choice", "user-organisation", "no-account-owner", "no-account-default"],
)
def test_the_language_is_the_recipients_then_the_owners(
    clock, admin_actor, owner_org, machine, beneficiary_admin, user_language, owner_language, expected
):
    owner_org.language = owner_language
    owner_org.save()
    if user_language is None:
        share(admin_actor, machine, "new@newco.example", recipient_organisation_name="NewCo", start_at=NOW)
    else:
        beneficiary_admin.language = user_language
        beneficiary_admin.save()
        share(admin_actor, machine, beneficiary_admin.email, start_at=NOW)
    assert Message.objects.get().language == expected


MESSAGES = [
    SharingMessage.INVITATION,
    SharingMessage.CREATED,
    SharingMessage.STARTED,
    SharingMessage.DATES_CHANGED,
    SharingMessage.STOPPED,
    SharingMessage.ENDED,
    SharingMessage.INVITATION_ACCEPTED,
]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("message", MESSAGES)
def test_every_message_renders_in_both_languages(clock, admin_actor, machine, beneficiary_admin, message, language):
    sharing = share(admin_actor, machine, beneficiary_admin.email, start_at=NOW + DAY, end_at=NOW + 9 * DAY)
    sharing.stopped_at = NOW
    notification = message_queue(
        key=f"test:{message}:{language}",
        kind=message,
        organisation=sharing.owner,
        subject_id=sharing.pk,
        recipient=beneficiary_admin.email,
        language=language,
        time_zone="Europe/Paris",
        context={
            **sharing_messages.sharing_context(sharing),
            "reference": "Contract <7> & co",
            "previous_start_at": (NOW + 2 * DAY).isoformat(),
            "previous_end_at": None,
            "invitee_email": "boss@newco.example",
        },
    )
    email = message_email(notification)
    html = email.alternatives[0].content
    assert email.subject
    assert "\n" not in email.subject
    assert "&amp;" not in email.subject + email.body  # text parts are never HTML-escaped
    assert "Contract &lt;7&gt; &amp; co" in html
    assert "{%" not in email.body + html
    assert "{{" not in email.body + html
    month = "juil." if language == "fr" else "Jul"
    assert month in email.body
    assert month in html
    assert f'<html lang="{language}">' in html


REF_FR = "«\u00a0Contract <7> & co\u00a0»"  # French quotes, with the non-breaking spaces of French typography
FRENCH = {
    SharingMessage.INVITATION: (
        f"Rent & Go partage avec vous des données de machines sur le centre de partage\u00a0: {REF_FR}",
        "Rent & Go partage les données de ses machines avec BuildCo sur le centre de partage et vous a adressé ce "
        "partage.",
    ),
    SharingMessage.CREATED: (
        f"Rent & Go partage avec vous des données de machines\u00a0: {REF_FR}",
        "Rent & Go partage les données de ses machines avec BuildCo. "
        "Les données seront disponibles à partir du début de la période.",
    ),
    SharingMessage.STARTED: (
        f"Le partage {REF_FR} de Rent & Go a commencé",
        "Le partage de Rent & Go a commencé\u00a0: les données de ses machines sont désormais disponibles pour "
        "BuildCo.",
    ),
    SharingMessage.DATES_CHANGED: (
        f"Nouvelles dates pour le partage {REF_FR} de Rent & Go",
        "Rent & Go a modifié les dates d’un partage avec BuildCo.",
    ),
    SharingMessage.STOPPED: (
        f"Rent & Go a arrêté le partage {REF_FR}",
        "Rent & Go a arrêté ce partage le 12 juil. 2026, 11:00 (Europe/Paris). Il ne commencera pas.",
    ),
    SharingMessage.ENDED: (
        f"Le partage {REF_FR} de Rent & Go est terminé",
        "Le partage de Rent & Go s’est terminé le 21 juil. 2026, 11:00 (Europe/Paris).",
    ),
    SharingMessage.INVITATION_ACCEPTED: (
        "boss@newco.example a accepté votre invitation au partage",
        "boss@newco.example a créé un compte pour BuildCo et accepté votre invitation.",
    ),
}


@pytest.mark.parametrize("message", MESSAGES)
def test_every_message_is_translated_into_french(clock, admin_actor, machine, beneficiary_admin, message):
    sharing = share(admin_actor, machine, beneficiary_admin.email, start_at=NOW + DAY, end_at=NOW + 9 * DAY)
    sharing.stopped_at = NOW
    notification = message_queue(
        key=f"test:{message}:fr-text",
        kind=message,
        organisation=sharing.owner,
        subject_id=sharing.pk,
        recipient=beneficiary_admin.email,
        language="fr",
        time_zone="Europe/Paris",
        context={
            **sharing_messages.sharing_context(sharing),
            "reference": "Contract <7> & co",
            "previous_start_at": (NOW + 2 * DAY).isoformat(),
            "previous_end_at": None,
            "invitee_email": "boss@newco.example",
        },
    )
    email = message_email(notification)
    subject, line = FRENCH[message]
    assert email.subject.split() == subject.split()  # the subject is put on one line, spaces collapsed
    assert email.body.startswith("Bonjour,\n")
    assert line in email.body
    assert "du 13 juil. 2026, 11:00 au 21 juil. 2026, 11:00 (Europe/Paris)" in email.body  # the summary's period


def test_status_moves_through_an_edit_still_notify(clock, commit, admin_actor, machine, beneficiary_admin, mailoutbox):
    """An edit after the start but before the job ran moves the cached status itself: "started" must still go."""
    with commit():
        sharing = share(admin_actor, machine, beneficiary_admin.email, start_at=NOW + DAY)
    clock.move_to(NOW + 2 * DAY)
    with commit():
        sharing_update(actor=admin_actor, sharing=sharing, changes={"reference": "late"})
    sharing.refresh_from_db()
    assert sharing.status == SharingStatus.IN_PROGRESS
    with commit():
        sharing_lifecycle_run()
    assert sorted(Message.objects.values_list("kind", flat=True)) == sorted(
        [SharingMessage.CREATED, SharingMessage.STARTED]
    )
    assert len(mailoutbox) == 2


def test_site_staff_see_the_outbox_and_retry_failed_notifications_from_the_django_admin(
    client, commit, failed_notification, mailoutbox
):
    staff = UserFactory(email="staff@sharecentre.example", organisation=None, is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.get("/admin/outbox/message/?status__exact=failed")
    assert response.status_code == 200
    assert failed_notification.recipient in response.content.decode()
    with commit():
        response = client.post(
            "/admin/outbox/message/",
            {"action": "retry_failed", "_selected_action": [str(failed_notification.pk)]},
        )
    assert response.status_code == 302
    failed_notification.refresh_from_db()
    assert failed_notification.status == MessageStatus.SENT
    assert len(mailoutbox) == 1


# --- one e-mail per creation ------------------------------------------------------------------------------------------


def _three_machines(owner_org):
    return [MachineFactory(organisation=owner_org) for _ in range(3)]


def test_one_sharing_per_machine_is_one_e_mail_listing_the_machines(
    clock, commit, admin_actor, owner_org, beneficiary_admin, mailoutbox
):
    machines = _three_machines(owner_org)
    with commit():
        sharings = sharing_create(
            actor=admin_actor,
            machine_ids=[machine.pk for machine in machines],
            recipient_email=beneficiary_admin.email,
            reference="CTR-77",
            start_at=NOW + DAY,
            end_at=NOW + 9 * DAY,
            one_per_machine=True,
        )
    assert len(sharings) == 3
    assert Message.objects.filter(kind=SharingMessage.CREATED).count() == 1
    (email,) = sent_to(mailoutbox, beneficiary_admin.email)
    assert "CTR-77" in email.subject
    body = email.body
    assert "Machines (3):" in body
    for machine in machines:
        assert str(machine) in body
    assert "See these sharings in the share centre:" in body
    assert "/?direction=incoming&q=CTR-77" in body


def test_an_invitation_for_one_sharing_per_machine_is_one_e_mail_with_the_reference(
    clock, commit, admin_actor, owner_org, mailoutbox
):
    machines = _three_machines(owner_org)
    with commit():
        sharing_create(
            actor=admin_actor,
            machine_ids=[machine.pk for machine in machines],
            recipient_email="site@newco.example",
            recipient_organisation_name="NewCo",
            reference="CTR-78",
            start_at=NOW + DAY,
            one_per_machine=True,
        )
    (email,) = sent_to(mailoutbox, "site@newco.example")
    assert email.subject.endswith("on the share centre: “CTR-78”")
    assert "Machines (3):" in email.body


def test_the_sender_hears_once_per_creation_when_the_invitation_is_accepted(
    clock, commit, admin_actor, owner_admin, owner_org, machine, mailoutbox
):
    machines = _three_machines(owner_org)
    with commit():
        sharing_create(
            actor=admin_actor,
            machine_ids=[machine.pk for machine in machines],
            recipient_email="boss@newco.example",
            recipient_organisation_name="NewCo",
            reference="CTR-79",
            start_at=NOW + DAY,
            one_per_machine=True,
        )
        share(admin_actor, machine, "boss@newco.example", recipient_organisation_name="NewCo", start_at=NOW + DAY)
    invitee = UserFactory(email="boss@newco.example", organisation=None)
    organisation_create(name="NewCo", admin=invitee)
    mailoutbox.clear()
    with commit():
        attached = sharings_attach_beneficiary(actor=Actor.for_user(invitee), user=invitee)
    assert len(attached) == 4
    # Two creations (three machines one per machine, then one more): two e-mails, not four.
    accepted = sent_to(mailoutbox, owner_admin.email)
    assert len(accepted) == 2
    (grouped,) = [email for email in accepted if "CTR-79" in email.body]
    assert "Machines (3):" in grouped.body
    assert "/?direction=outgoing&q=CTR-79" in grouped.body
    (single,) = [email for email in accepted if "CTR-79" not in email.body]
    assert "/sharings/" in single.body
