"""The outbox's writers: queue a message in the writer's transaction, drop the messages of a subject that goes, put
a failed one back in line. The delivery and its guarantees are in delivery.py."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hiboo_connect.bulk import objects_insert
from hiboo_connect.errors import RuleConflict

from .kinds import message_kind
from .models import Message, MessageStatus
from .tasks import message_dispatch, messages_dispatch


def message_queue(
    *,
    key: str,
    kind: str,
    organisation: models.Model,
    subject_id,
    recipient: str,
    language: str,
    time_zone: str,
    context: dict,
) -> Message | None:
    """Write one outbox row about a subject, and deliver it once the surrounding transaction commits (a rollback
    sends nothing). A key already written means this occurrence was queued before: nothing new is written or sent."""
    if Message.objects.filter(key=key).exists():
        return None
    message = message_build(
        key=key,
        kind=kind,
        organisation=organisation,
        subject_id=subject_id,
        recipient=recipient,
        language=language,
        time_zone=time_zone,
        context=context,
    )
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        if Message.objects.filter(key=key).exists():
            return None  # a concurrent run wrote it first
        raise
    transaction.on_commit(partial(message_dispatch, message.pk), robust=True)
    return message


def message_build(
    *,
    key: str,
    kind: str,
    organisation: models.Model,
    subject_id,
    recipient: str,
    language: str,
    time_zone: str,
    context: dict,
) -> Message:
    """One outbox row, not yet written: message_queue writes one, messages_queue_many a batch."""
    message_kind_ = message_kind(kind)
    now = timezone.now()
    return Message(
        key=key,
        kind=kind,
        channel=message_kind_.channel,
        organisation_id=organisation.pk,
        subject_type=message_kind_.subject_type,
        subject_id=subject_id,
        recipient=recipient,
        language=language,
        time_zone=time_zone,
        context=context,
        next_attempt_at=now,
        created_at=now,
    )


def messages_queue_many(messages: Iterable[Message]) -> list[Message]:
    """message_queue for a batch (built by message_build), with the same guarantees in one statement:
    written in the caller's transaction, delivered after its commit, and a key already written (before, or by a
    concurrent writer) writes and sends nothing new. Returns the rows written by this call."""
    fresh = list({message.key: message for message in messages}.values())
    if not fresh:
        return []
    # ON CONFLICT DO NOTHING … RETURNING: a key written before, or by a concurrent writer (whose commit the insert
    # waits for), keeps its row; only the rows this statement wrote are ours and go out.
    ours = set(objects_insert(fresh, ignore_conflicts=True, returning="id"))
    queued = [message for message in fresh if message.pk in ours]
    if queued:
        transaction.on_commit(partial(messages_dispatch, [message.pk for message in queued]), robust=True)
    return queued


def messages_drop(*, subject_type: str, subject_ids: Iterable, unsent_only: bool = False) -> int:
    """Delete the messages about these subjects: every one when the subject itself goes (a deleted sharing, a
    revoked invitation), or only those not sent yet (pending or failed) when they have nothing left to say. Returns
    how many were dropped."""
    messages = Message.objects.filter(subject_type=subject_type, subject_id__in=list(subject_ids))
    if unsent_only:
        messages = messages.exclude(status=MessageStatus.SENT)
    deleted, _counts = messages.delete()
    return deleted


def message_requeue(message: Message) -> Message:
    """Put a message back in line for a fresh series of attempts."""
    message.status = MessageStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = timezone.now()
    message.save(update_fields=["status", "attempts", "next_attempt_at"])
    transaction.on_commit(partial(message_dispatch, message.pk), robust=True)
    return message


@transaction.atomic
def message_retry(*, message: Message) -> Message:
    """Send a failed message again, with a fresh series of attempts, unless its kind refuses (an expired invitation).
    The caller checks who may. The row is locked, and its status read again under the lock."""
    status = Message.objects.select_for_update().filter(pk=message.pk).values_list("status", flat=True).get()
    if status != MessageStatus.FAILED:
        raise RuleConflict("notification_not_failed", _("Only a failed notification can be sent again."))
    refusal = message_kind(message.kind).retry_refusal
    error = refusal(message, timezone.now()) if refusal is not None else None
    if error is not None:
        raise error
    return message_requeue(message)
