"""The outbox of DESIGN §5: services write each message (an e-mail today, a webhook delivery later) as a Message row
in the transaction of the change that causes it; after commit a task delivers the row, exactly once, and a periodic
job re-dispatches whatever a broker outage or a killed worker left pending. Every app's messages go through it; each
app registers its kinds (kinds.py).

Exactly once rests on three things: a unique key per subject, event and occurrence (a re-run writes nothing new); a
claim by conditional update that pushes `next_attempt_at` a lease ahead (two tasks for one row never both send); and a
task time limit shorter than the lease (a live worker never still sends when the lease runs out).

It holds for every step but the SMTP exchange itself, which no protocol can make atomic with our commit: a worker
killed after the server's 250 and before the mark is committed leaves the row to the lease, and the message goes out
twice. The row is marked the moment the server accepts, before QUIT, so that one autocommitted UPDATE is all the
window holds, and the copy carries the same Message-ID (derived from the key), which mail clients fold. The kill drill
(tests/outbox/test_kill_drill.py, a real worker SIGKILLed at each step) counts one delivery at every step but that
one, two there; docs/architecture.md has the table."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass

from django.core.mail import get_connection
from django.db.models import F
from django.utils import timezone

from .email import message_email
from .models import MAX_ATTEMPTS, Channel, Message, MessageStatus

logger = logging.getLogger(__name__)

#: After MAX_ATTEMPTS (models.py) a message is marked failed; the waits between attempts double from BACKOFF_BASE up
#: to BACKOFF_MAX (1, 2, 4, 8, 16, 32, 60 minutes: about two hours of SMTP trouble before an admin is asked to retry).
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


def _send_email(message: Message, accepted: Callable[[], None]) -> bool:
    """Render, connect, hand the e-mail over, and call `accepted` as soon as the server has taken it: before QUIT,
    so nothing but the mark lies between the server's acceptance and its commit (a worker killed while closing the
    connection no longer sends the message twice)."""
    email = message_email(message)
    if email is None:
        return False
    connection = get_connection(fail_silently=False)
    connection.open()
    try:
        email.connection = connection
        email.send(fail_silently=False)
        accepted()
    finally:
        try:
            connection.close()
        except Exception:
            logger.warning("Message %s: closing the SMTP connection failed", message.key, exc_info=True)
    return True


class PermanentFailure(Exception):
    """Raised by a sender when waiting will not help (a webhook endpoint answered 410 Gone, or was disabled): the
    message is marked failed at once."""


@dataclass(frozen=True)
class Retries:
    """How a channel's failed attempts are spaced: `backoff(attempt)` is the wait after that failed attempt, and the
    message is marked failed after `max_attempts`."""

    backoff: Callable[[int], dt.timedelta]
    max_attempts: int


#: How each channel sends a message, calling `accepted` the moment the far end has it; False means the subject is
#: gone. The upper layers add their channels with channel_register (the webhooks, from the events app).
SENDERS: dict[str, Callable[[Message, Callable[[], None]], bool]] = {Channel.EMAIL: _send_email}


def channel_register(channel: str, *, send: Callable[[Message, Callable[[], None]], bool], retries: Retries) -> None:
    """Add a channel's sender and its retry schedule. Call it from AppConfig.ready()."""
    SENDERS[channel] = send
    RETRIES[channel] = retries


def _mark_sent(mine) -> None:
    """One UPDATE in autocommit: committed when it returns."""
    mine.update(status=MessageStatus.SENT, sent_at=timezone.now(), last_error="")


def message_deliver(message_id) -> dt.datetime | None:
    """Claim the row, send it and mark it sent. Returns when to try again after a transient failure, else None (sent,
    failed for good, dropped, or not this task's to send: already sent, claimed elsewhere, not yet due)."""
    now = timezone.now()
    claimed = Message.objects.filter(pk=message_id, status=MessageStatus.PENDING, next_attempt_at__lte=now).update(
        attempts=F("attempts") + 1, next_attempt_at=now + LEASE
    )
    if not claimed:
        return None
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        return None  # its subject went meanwhile (a sharing deleted, an invitation revoked or accepted)
    attempt = message.attempts
    mine = Message.objects.filter(pk=message.pk, status=MessageStatus.PENDING, attempts=attempt)
    try:
        if not SENDERS[message.channel](message, lambda: _mark_sent(mine)):
            mine.delete()  # its kind found the subject gone: nothing left to say
            return None
    except Exception as error:
        return _record_failure(mine, message=message, attempt=attempt, error=error)
    return None


def _record_failure(mine, *, message: Message, attempt: int, error: Exception) -> dt.datetime | None:
    description = describe_error(error)[:2000]
    retries = RETRIES[message.channel]
    if _is_permanent(error) or attempt >= retries.max_attempts:
        logger.warning("Message %s failed after %d attempt(s): %s", message.key, attempt, description)
        mine.update(status=MessageStatus.FAILED, last_error=description)
        return None
    retry_at = timezone.now() + retries.backoff(attempt)
    logger.info("Message %s: attempt %d failed (%s); next at %s", message.key, attempt, description, retry_at)
    mine.update(next_attempt_at=retry_at, last_error=description)
    return retry_at


def _server_text(message) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def describe_error(error: Exception) -> str:
    """One readable line for `last_error`: the exception's name and the mail server's answer as it wrote it (its
    code and text, decoded), never Python's repr of the bytes it sent."""
    name = type(error).__name__
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refusals = "; ".join(
            f"{address}: {code} {_server_text(text)}" for address, (code, text) in error.recipients.items()
        )
        return f"{name}: {refusals}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{name}: {error.smtp_code} {_server_text(error.smtp_error)}"
    return f"{name}: {error}"


def backoff(attempt: int) -> dt.timedelta:
    """The wait after the given failed attempt: 1, 2, 4... minutes, at most BACKOFF_MAX."""
    return min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_MAX)


RETRIES: dict[str, Retries] = {Channel.EMAIL: Retries(backoff=backoff, max_attempts=MAX_ATTEMPTS)}


def _is_permanent(error: Exception) -> bool:
    """A 5xx answer will not change by waiting (unknown mailbox, refused sender, bad credentials); anything else —
    a dropped connection, a timeout, a 4xx, a database hiccup — may pass. A sender may say so itself."""
    if isinstance(error, PermanentFailure):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _message in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def messages_due(*, now: dt.datetime) -> list:
    """The ids of rows still pending well after they were due: the broker was down at commit, or a worker died
    holding a claim. A row being sent is not due (its claim pushed it ahead)."""
    return list(
        Message.objects.filter(status=MessageStatus.PENDING, next_attempt_at__lte=now - REDISPATCH_GRACE)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:REDISPATCH_BATCH]
    )
