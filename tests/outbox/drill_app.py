"""The project's Celery app for the SMTP kill drill (test_kill_drill.py): a real worker that SIGKILLs itself — no
clean-up, no finally, as the kernel's OOM killer or a lost machine would — at the step DRILL_STEP names:

- claimed:  the row is claimed (its lease committed), the e-mail not yet rendered
- rendered: rendered, the SMTP connection not yet opened
- accepted: the server has answered 250 to the message, the row is not yet marked sent
- marked:   the mark is committed, the connection not yet closed (QUIT)

(The kill during the SMTP exchange, before the server accepts, is done by the test's SMTP server.)"""

import os
import signal

from celery.signals import worker_ready

from hiboo_connect.celery import app

__all__ = ["app"]

STEP = os.environ.get("DRILL_STEP", "")


def _die(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


@worker_ready.connect
def _arm(**_kwargs):
    from outbox import delivery

    get_connection = delivery.get_connection

    def connection_dying_at_close(*args, **kwargs):
        connection = get_connection(*args, **kwargs)
        connection.close = _die
        return connection

    if STEP == "claimed":
        delivery.message_email = _die
    elif STEP == "rendered":
        delivery.get_connection = _die
    elif STEP == "accepted":
        delivery._mark_sent = _die
    elif STEP == "marked":
        delivery.get_connection = connection_dying_at_close
