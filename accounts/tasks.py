"""Celery tasks of the accounts app: thin wrappers around services. Colleague invitation e-mails go through the
outbox and its tasks (outbox/tasks.py)."""

from celery import shared_task

from .services import idempotency_records_purge


@shared_task
def idempotency_records_purge_task():
    """Forget API idempotency keys past their 24 hours (scheduled hourly in hiboo_connect/celery.py)."""
    return idempotency_records_purge()
