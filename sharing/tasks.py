"""Celery tasks of the sharing app: thin wrappers around services and the notification outbox."""

from celery import shared_task
from django.utils import timezone

from . import notifications
from .services import sharing_lifecycle_run


@shared_task
def sharing_lifecycle_run_task():
    return sharing_lifecycle_run()


@shared_task(
    time_limit=notifications.SEND_TIME_LIMIT,
    soft_time_limit=notifications.SEND_TIME_LIMIT - 30,
)
def notification_deliver_task(notification_id):
    """Deliver one outbox row; after a transient failure, come back when its backoff has passed."""
    retry_at = notifications.notification_deliver(notification_id)
    if retry_at is not None:
        countdown = max((retry_at - timezone.now()).total_seconds(), 0)
        notifications.notification_dispatch(notification_id, countdown=countdown)


@shared_task
def notifications_redispatch_task():
    return notifications.notifications_redispatch()
