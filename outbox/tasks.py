"""The outbox's tasks: deliver one message, and re-dispatch what was left pending. Queueing the delivery task lives
here too, beside the task it queues."""

import logging
import time

from celery import shared_task
from django.utils import timezone

from . import delivery

logger = logging.getLogger(__name__)


class BrokerCooling:
    """After the broker refused a task, this process queues nothing for a while: the rows wait in the outbox, where the
    re-dispatch job (every minute) finds them. A broker outage so costs a request at most one failed attempt, however
    many messages it writes (settings make that attempt fail fast), and a busy process one attempt per period."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.until = 0.0

    def active(self) -> bool:
        return time.time() < self.until

    def start(self) -> None:
        self.until = time.time() + self.seconds

    def end(self) -> None:
        self.until = 0.0


#: Shorter than the re-dispatch job's period, so the job's next run tries the broker again.
broker_cooling = BrokerCooling(seconds=30)


def message_dispatch(
    message_id, *, countdown: float | None = None, expires: float | None = None, while_cooling: bool = False
) -> bool:
    """Queue the delivery task. A broker outage must never fail or slow the change that caused the message: the row
    stays pending and the re-dispatch job queues it again later. While the broker cools down nothing is tried, unless
    `while_cooling` (the re-dispatch job, which is there to find out whether the broker is back)."""
    if broker_cooling.active() and not while_cooling:
        return False
    try:
        message_deliver_task.apply_async(args=[str(message_id)], countdown=countdown, expires=expires, retry=False)
    except Exception:
        broker_cooling.start()
        logger.warning(
            "Could not queue message %s; the re-dispatch job will. Nothing is queued from this process for %d s.",
            message_id,
            broker_cooling.seconds,
            exc_info=True,
        )
        return False
    broker_cooling.end()
    return True


def messages_dispatch(message_ids: list) -> bool:
    """Queue the delivery of a batch of messages (the lifecycle job writes a thousand at a time) with one task that
    fans out in a worker, instead of one publish per message in the writer. Same guarantee as message_dispatch: if
    the broker is down, the rows stay pending and the re-dispatch job queues them later."""
    if len(message_ids) == 1:
        return message_dispatch(message_ids[0])
    try:
        messages_dispatch_task.apply_async(args=[[str(message_id) for message_id in message_ids]], retry=False)
    except Exception:
        logger.warning("Could not queue %s messages; the re-dispatch job will.", len(message_ids), exc_info=True)
        return False
    return True


@shared_task
def messages_dispatch_task(message_ids):
    for message_id in message_ids:
        if not message_dispatch(message_id):
            return  # the broker went down: the re-dispatch job queues the rest


def messages_redispatch(*, now=None) -> int:
    """Queue again the rows still pending well after they were due. Safe while workers send: a second task for one
    row finds nothing to claim. Returns how many were queued."""
    dispatched = 0
    for message_id in delivery.messages_due(now=now or timezone.now()):
        if not message_dispatch(message_id, expires=delivery.REDISPATCH_EXPIRES, while_cooling=True):
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
