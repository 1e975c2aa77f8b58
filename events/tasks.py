"""Celery tasks of the events app: thin wrappers around services."""

from celery import shared_task

from .services import events_purge


@shared_task
def events_purge_task():
    return events_purge()
