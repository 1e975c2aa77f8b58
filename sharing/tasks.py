"""Celery tasks of the sharing app: thin wrappers around services. Its e-mails go through the outbox's tasks."""

from celery import shared_task

from .reminders import sharing_reminders_send
from .services import sharing_lifecycle_run


@shared_task
def sharing_lifecycle_run_task():
    return sharing_lifecycle_run()


@shared_task
def sharing_reminders_send_task():
    return sharing_reminders_send()
