"""Celery tasks of the telematics app: thin wrappers around the poller. The beat schedule (hiboo_connect/celery.py)
runs telematics_poll_due_task every minute."""

import logging

from celery import shared_task
from django.utils import timezone

from .poller import sources_due, telematics_source_poll

logger = logging.getLogger(__name__)


@shared_task
def telematics_source_poll_task(source_id, run_id=None, due_only=False):
    run = telematics_source_poll(source_id=source_id, run_id=run_id, due_only=due_only)
    return str(run.pk) if run is not None else None


@shared_task
def telematics_poll_due_task():
    """Queue one poll task per due source: a slow or failing feed holds only its own task. A source whose task could
    not be queued stays due and is queued at the next tick; its poll claims it, so a source queued twice is polled
    once."""
    queued = 0
    for source_id in sources_due(now=timezone.now()):
        try:
            telematics_source_poll_task.apply_async(args=[str(source_id)], kwargs={"due_only": True}, retry=False)
        except Exception:
            logger.warning("Could not queue the poll of source %s; the next tick will.", source_id, exc_info=True)
            break
        queued += 1
    return queued
