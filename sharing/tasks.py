"""Celery tasks of the sharing app: thin wrappers around services. Its e-mails go through the outbox's tasks."""

from celery import shared_task

from .services import sharing_lifecycle_run


@shared_task
def sharing_lifecycle_run_task():
    return sharing_lifecycle_run()
