"""The Celery application; the beat schedule is declared here, in one place."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiboo_connect.settings")

app = Celery("hiboo_connect")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "sharing-lifecycle": {"task": "sharing.tasks.sharing_lifecycle_run_task", "schedule": 60.0},
    # Expiry reminders (sharing/reminders.py): a run catches up whatever the runs before it missed.
    "sharing-reminders": {"task": "sharing.tasks.sharing_reminders_send_task", "schedule": 900.0},
    # Outbox messages left pending (broker down at commit, worker killed while sending) are queued again.
    "outbox-redispatch": {"task": "outbox.tasks.messages_redispatch_task", "schedule": 60.0},
    # API idempotency keys are kept 24 hours; older ones are forgotten.
    # Telematics sources due for a poll are polled, one task each (telematics/poller.py).
    "telematics-poll-due": {"task": "telematics.tasks.telematics_poll_due_task", "schedule": 60.0},
    "idempotency-records-purge": {"task": "accounts.tasks.idempotency_records_purge_task", "schedule": 3600.0},
    # Events are kept 90 days (DESIGN §9); older ones are deleted.
    "events-purge": {"task": "events.tasks.events_purge_task", "schedule": 3600.0},
}
