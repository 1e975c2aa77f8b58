"""Celery tasks of the accounts app: thin wrappers around services."""

from celery import shared_task

from .emails import colleague_invitation_send
from .services import idempotency_records_purge


@shared_task
def idempotency_records_purge_task():
    """Forget API idempotency keys past their 24 hours (scheduled hourly in hiboo_connect/celery.py)."""
    return idempotency_records_purge()


@shared_task(
    autoretry_for=(OSError,),  # SMTP and network errors (smtplib's are OSErrors too)
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=6,
)
def colleague_invitation_send_task(invitation_id):
    """E-mail a colleague invitation; transient SMTP failures are retried with exponential backoff. An invitation
    whose e-mail never left stays listed as pending, and its admins can send it again."""
    colleague_invitation_send(invitation_id=invitation_id)
