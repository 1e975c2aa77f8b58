"""The notification outbox of DESIGN §3 and §5. Services write each e-mail as a Notification row in the transaction of
the change that causes it; after commit a task delivers the row, exactly once, and a periodic job re-dispatches whatever
a broker outage or a killed worker left pending. The sharing e-mails and the accounts app's colleague invitations both
go through it.

Exactly once rests on three things: a unique key per subject, event and occurrence (a re-run writes nothing new); a
claim by conditional update that pushes `next_attempt_at` a lease ahead (two tasks for one row never both send); and a
task time limit shorter than the lease (a live worker never still sends when the lease runs out). A worker killed
between the SMTP hand-off and marking the row sent is the one case that can repeat a message; its Message-ID is derived
from the key, so the duplicate carries the same identity."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import smtplib
import zoneinfo
from functools import partial
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.emails import colleague_invitation_context
from accounts.models import ColleagueInvitation, Language, Organisation, User
from audit.models import AuditEvent

from .lifecycle import OPEN_STATUSES, SharingStatus
from .models import Notification, NotificationMessage, NotificationStatus, Sharing

logger = logging.getLogger(__name__)

#: Attempts before a notification is marked failed; the waits between them double from BACKOFF_BASE up to BACKOFF_MAX
#: (1, 2, 4, 8, 16, 32, 60 minutes: about two hours of SMTP trouble before an admin is asked to retry).
MAX_ATTEMPTS = 8
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=1)
#: How long a claim holds a row. The delivery task's hard time limit is well below it, so a claim only runs out when
#: its worker is gone.
LEASE = dt.timedelta(minutes=10)
SEND_TIME_LIMIT = 300
#: The re-dispatch job leaves a due row alone this long, time for the task queued at commit to deliver it.
REDISPATCH_GRACE = dt.timedelta(minutes=1)
REDISPATCH_BATCH = 500
#: A re-dispatched message that waits longer than this in the queue (worker down) is dropped on arrival: the next run
#: of the job sends a fresh one, so an outage never piles up thousands of copies.
REDISPATCH_EXPIRES = 600
MACHINES_LISTED = 20


# --- queueing: called by the services, inside their transaction ------------------------------------------------------


def notify_sharing_created(sharing: Sharing, *, occurrence: str = "created") -> Notification | None:
    """Tell the recipient of a new sharing: an invitation with a sign-up link while pending, a summary otherwise.
    A sharing created already in progress gets only this summary (it says the data is available now), no "started"."""
    message = NotificationMessage.INVITATION if sharing.beneficiary_id is None else NotificationMessage.CREATED
    return _queue_for_recipient(sharing, message=message, key=f"sharing:{sharing.pk}:{occurrence}")


def notify_recipient_changed(sharing: Sharing, *, audit_event: AuditEvent) -> Notification | None:
    """The sharing now goes to another person: they get what a new recipient gets (the invitation moves with it)."""
    return notify_sharing_created(sharing, occurrence=f"recipient_changed:{audit_event.pk}")


def notify_dates_changed(
    sharing: Sharing, *, previous_start_at: dt.datetime, previous_end_at: dt.datetime | None, audit_event: AuditEvent
) -> Notification | None:
    return _queue_for_recipient(
        sharing,
        message=NotificationMessage.DATES_CHANGED,
        key=f"sharing:{sharing.pk}:dates_changed:{audit_event.pk}",
        extra={"previous_start_at": _iso(previous_start_at), "previous_end_at": _iso(previous_end_at)},
    )


def notify_stopped(sharing: Sharing) -> Notification | None:
    return _queue_for_recipient(sharing, message=NotificationMessage.STOPPED, key=f"sharing:{sharing.pk}:stopped")


def notify_status_changed(sharing: Sharing, *, old_status: str, new_status: str) -> Notification | None:
    """A status reached by the calendar: scheduled → in progress is "started", any open status → terminated is "ended"
    (straight from scheduled when the sharing both started and ended while the scheduler was down: a "started" after
    the end would mislead). Pending → in progress happens when the recipient accepts (they are on the portal already)
    or when the recipient is changed to someone with an account (who gets the full summary): no "started" then."""
    if new_status == SharingStatus.IN_PROGRESS and old_status == SharingStatus.SCHEDULED:
        message, event = NotificationMessage.STARTED, "started"
    elif new_status == SharingStatus.TERMINATED and old_status in OPEN_STATUSES:
        message, event = NotificationMessage.ENDED, "ended"
    else:
        return None
    return _queue_for_recipient(
        sharing, message=message, key=f"sharing:{sharing.pk}:{event}", extra={"status": new_status}
    )


def notify_invitation_accepted(sharing: Sharing, *, invitee: User) -> Notification | None:
    """Tell the sender that the recipient signed up and the sharing attached. The switch concerns the recipient only,
    so this goes regardless. A sharing sent by an API key, or by a user who has left the owner organisation, has no
    one to tell."""
    sender = sharing.sender
    if sender is None or sender.organisation_id != sharing.owner_id or not sender.is_active:
        return None
    return notification_queue(
        key=f"sharing:{sharing.pk}:accepted",
        organisation=sharing.owner,
        sharing=sharing,
        message=NotificationMessage.INVITATION_ACCEPTED,
        to_email=sender.email,
        language=_supported_language(sender.preferred_language),
        time_zone=sharing.owner.timezone,
        context={**_sharing_context(sharing), "invitee_email": invitee.email},
    )


def _queue_for_recipient(sharing: Sharing, *, message: str, key: str, extra: dict | None = None) -> Notification | None:
    if not sharing.notification_enabled:
        return None
    recipient = User.objects.filter(email=sharing.recipient_email).select_related("organisation").first()
    language = recipient.preferred_language if recipient is not None else sharing.owner.language
    time_zone = sharing.beneficiary.timezone if sharing.beneficiary_id is not None else sharing.owner.timezone
    return notification_queue(
        key=key,
        organisation=sharing.owner,
        sharing=sharing,
        message=message,
        to_email=sharing.recipient_email,
        language=_supported_language(language),
        time_zone=time_zone,
        context={**_sharing_context(sharing), **(extra or {})},
    )


def notify_colleague_invited(invitation: ColleagueInvitation) -> Notification | None:
    """E-mail a colleague invitation that was just created or refreshed. Each refresh gives the invitation a new token,
    so the token names the occurrence: "Send again" queues a new message, a re-run of the same one nothing. The key
    holds a digest of the token only, since the key travels in the Message-ID and shows in the admin."""
    digest = hashlib.sha256(invitation.token.encode()).hexdigest()[:16]
    organisation = invitation.organisation
    return notification_queue(
        key=f"colleague_invitation:{invitation.pk}:{digest}",
        organisation=organisation,
        colleague_invitation=invitation,
        message=NotificationMessage.COLLEAGUE_INVITATION,
        to_email=invitation.email,
        language=_supported_language(organisation.language),
        time_zone=organisation.timezone,
        context={"organisation": organisation.name, "role": invitation.role},
    )


def notifications_withdraw_colleague_invitation(invitation: ColleagueInvitation) -> int:
    """Drop the invitation's e-mails not yet sent (pending or failed): it was accepted and they have nothing left to
    say, or it is being sent again and they would repeat the new one. A revoked invitation takes its e-mails with it
    (the foreign key cascades). Returns how many were withdrawn."""
    deleted, _counts = (
        Notification.objects.filter(colleague_invitation=invitation).exclude(status=NotificationStatus.SENT).delete()
    )
    return deleted


def notification_queue(
    *,
    key: str,
    organisation: Organisation,
    message: str,
    to_email: str,
    language: str,
    time_zone: str,
    context: dict,
    sharing: Sharing | None = None,
    colleague_invitation: ColleagueInvitation | None = None,
) -> Notification | None:
    """Write one outbox row about a sharing or a colleague invitation, and deliver it once the surrounding transaction
    commits (a rollback sends nothing). A key already written means this occurrence was queued before: nothing new is
    written or sent."""
    if Notification.objects.filter(key=key).exists():
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                key=key,
                organisation=organisation,
                sharing=sharing,
                colleague_invitation=colleague_invitation,
                message=message,
                to_email=to_email,
                language=language,
                time_zone=time_zone,
                context=context,
                next_attempt_at=now,
                created_at=now,
            )
    except IntegrityError:
        if Notification.objects.filter(key=key).exists():
            return None  # a concurrent run wrote it first
        raise
    transaction.on_commit(partial(notification_dispatch, notification.pk), robust=True)
    return notification


def notification_requeue(notification: Notification) -> Notification:
    """Put a failed notification back in line for a fresh series of attempts (the retry service checks who may)."""
    notification.status = NotificationStatus.PENDING
    notification.attempts = 0
    notification.next_attempt_at = timezone.now()
    notification.save(update_fields=["status", "attempts", "next_attempt_at"])
    transaction.on_commit(partial(notification_dispatch, notification.pk), robust=True)
    return notification


def _supported_language(language: str | None) -> str:
    return language if language in Language.values else Language.ENGLISH


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment is not None else None


def _sharing_context(sharing: Sharing) -> dict:
    """What the message says, as it is at the moment of the change (a later change gets its own message)."""
    machine_count = sharing.sharing_machines.count()
    machines = [str(machine) for machine in sharing.machines.all()[:MACHINES_LISTED]]
    return {
        "sharing_id": str(sharing.pk),
        "reference": sharing.reference,
        "owner": sharing.owner.name,
        "beneficiary": sharing.beneficiary.name if sharing.beneficiary_id else sharing.recipient_organisation_name,
        "beneficiary_known": sharing.beneficiary_id is not None,
        "recipient_email": sharing.recipient_email,
        "sender": sharing.sender_label,
        "machines": machines,
        "machine_count": machine_count,
        "start_at": _iso(sharing.start_at),
        "end_at": _iso(sharing.end_at),
        "stopped_at": _iso(sharing.stopped_at),
        "status": sharing.status,
    }


# --- delivery: the task, the re-dispatch job and the rendering --------------------------------------------------------


def notification_dispatch(notification_id, *, countdown: float | None = None, expires: float | None = None) -> bool:
    """Queue the delivery task. A broker outage must never fail the change that caused the message: the row stays
    pending and the re-dispatch job queues it again later."""
    from .tasks import notification_deliver_task

    try:
        notification_deliver_task.apply_async(
            args=[str(notification_id)], countdown=countdown, expires=expires, retry=False
        )
    except Exception:
        logger.warning("Could not queue notification %s; the re-dispatch job will.", notification_id, exc_info=True)
        return False
    return True


def notification_deliver(notification_id) -> dt.datetime | None:
    """Claim the row, send its e-mail and mark it sent. Returns when to try again after a transient failure, else
    None (sent, failed for good, or not this task's to send: already sent, claimed elsewhere, not yet due)."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, status=NotificationStatus.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + LEASE)
    if not claimed:
        return None
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return None  # its sharing was deleted, or its invitation revoked or accepted, meanwhile
    attempt = notification.attempts
    mine = Notification.objects.filter(pk=notification.pk, status=NotificationStatus.PENDING, attempts=attempt)
    try:
        notification_email(notification).send(fail_silently=False)
    except Exception as error:
        return _record_failure(mine, notification=notification, attempt=attempt, error=error)
    mine.update(status=NotificationStatus.SENT, sent_at=timezone.now(), last_error="")
    return None


def _record_failure(mine, *, notification: Notification, attempt: int, error: Exception) -> dt.datetime | None:
    description = f"{type(error).__name__}: {error}"[:2000]
    if _is_permanent(error) or attempt >= MAX_ATTEMPTS:
        logger.warning("Notification %s failed after %d attempt(s): %s", notification.key, attempt, description)
        mine.update(status=NotificationStatus.FAILED, last_error=description)
        return None
    retry_at = timezone.now() + backoff(attempt)
    logger.info("Notification %s: attempt %d failed (%s); next at %s", notification.key, attempt, description, retry_at)
    mine.update(next_attempt_at=retry_at, last_error=description)
    return retry_at


def backoff(attempt: int) -> dt.timedelta:
    """The wait after the given failed attempt: 1, 2, 4... minutes, at most BACKOFF_MAX."""
    return min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_MAX)


def _is_permanent(error: Exception) -> bool:
    """A 5xx answer will not change by waiting (unknown mailbox, refused sender, bad credentials); anything else —
    a dropped connection, a timeout, a 4xx, a database hiccup — may pass."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _message in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def notifications_redispatch(*, now: dt.datetime | None = None) -> int:
    """Queue again the rows still pending well after they were due: the broker was down at commit, or a worker died
    holding a claim. Safe while workers send: a row being sent is not due (its claim pushed it ahead), and a second
    task for one row finds nothing to claim. Returns how many were queued."""
    now = now or timezone.now()
    due = (
        Notification.objects.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=now - REDISPATCH_GRACE)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:REDISPATCH_BATCH]
    )
    dispatched = 0
    for notification_id in due:
        if not notification_dispatch(notification_id, expires=REDISPATCH_EXPIRES):
            break  # the broker is still down: the next run tries again
        dispatched += 1
    return dispatched


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def sharing_url(sharing_id) -> str:
    return absolute_url(reverse("sharing:detail", args=[sharing_id]))


def signup_url(email: str) -> str:
    return absolute_url(f"{reverse('account_signup')}?{urlencode({'email': email})}")


def _moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _sharing_email_context(notification: Notification) -> dict:
    data = notification.context
    return {
        **data,
        **{
            name: _moment(data.get(name))
            for name in ("start_at", "end_at", "stopped_at", "previous_start_at", "previous_end_at")
        },
        "more_machines": max(data.get("machine_count", 0) - len(data.get("machines", [])), 0),
        "sharing_url": sharing_url(data["sharing_id"]),
        "signup_url": signup_url(notification.to_email),
    }


def notification_email(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail of a notification, rendered from templates/emails/<message>/ in its language, with dates in its
    time zone and absolute links to the portal. A colleague invitation always carries the invitation's current link,
    role and expiry: a "Send again" replaced the token of any earlier message, so a retried one must not revive it."""
    if notification.colleague_invitation_id is not None:
        context = colleague_invitation_context(notification.colleague_invitation)
    else:
        context = _sharing_email_context(notification)
    context |= {"time_zone": notification.time_zone, "portal_url": absolute_url("/")}
    folder = f"emails/{notification.message}"
    with translation.override(notification.language), timezone.override(zoneinfo.ZoneInfo(notification.time_zone)):
        # Fold line breaks and runs of ASCII blanks only: French subjects keep their non-breaking spaces.
        subject = " ".join(re.split(r"[ \t\r\n]+", render_to_string(f"{folder}/subject.txt", context).strip()))
        text = render_to_string(f"{folder}/body.txt", context)
        html = render_to_string(f"{folder}/body.html", context)
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[notification.to_email],
        headers={"Message-ID": f"<{notification.key.replace(':', '.')}@{domain}>"},
    )
    email.attach_alternative(html, "text/html")
    return email
