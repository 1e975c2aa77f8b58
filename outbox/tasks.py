"""The outbox's tasks: deliver one message, and re-dispatch what was left pending. Queueing the delivery task lives
here too, beside the task it queues."""

import logging

from celery import shared_task
from django.utils import timezone

from . import delivery

logger = logging.getLogger(__name__)


def message_dispatch(message_id, *, countdown: float | None = None, expires: float | None = None) -> bool:
    """Queue the delivery task. A broker outage must never fail the change that caused the message: the row stays
    pending and the re-dispatch job queues it again later."""
    try:
        message_deliver_task.apply_async(args=[str(message_id)], countdown=countdown, expires=expires, retry=False)
    except Exception:
        logger.warning("Could not queue message %s; the re-dispatch job will.", message_id, exc_info=True)
        return False
    return True


def messages_redispatch(*, now=None) -> int:
    """Queue again the rows still pending well after they were due. Safe while workers send: a second task for one
    row finds nothing to claim. Returns how many were queued."""
    dispatched = 0
    for message_id in delivery.messages_due(now=now or timezone.now()):
        if not message_dispatch(message_id, expires=delivery.REDISPATCH_EXPIRES):
            break  # the broker is still down: the next run tries again
        dispatched += 1
    return dispatched


@shared_task(time_limit=delivery.SEND_TIME_LIMIT, soft_time_limit=delivery.SEND_TIME_LIMIT - 30)
def message_deliver_task(message_id):
    """Deliver one outbox row; after a transient failure, come back when its backoff has passed."""
    retry_at = delivery.message_deliver(message_id)
    if retry_at is not None:
        message_dispatch(message_id, countdown=max((retry_at - timezone.now()).total_seconds(), 0))


@shared_task
def messages_redispatch_task():
    return messages_redispatch()
