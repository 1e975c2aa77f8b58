"""The SMTP kill drill: a real Celery worker delivering a real e-mail to an SMTP server of the test's own is killed
(SIGKILL) at each step of the delivery; a second worker then runs the re-dispatch job once the claim's lease has run
out, and the server counts what it received.

Every step delivers exactly once except one: between the server's acceptance (250) and the commit of the mark, where
the protocol itself leaves a window; there the copy carries the same Message-ID, so mail clients fold it. Nothing
else lies in that window: the mark is committed before QUIT.

The lease is run out by moving the row's next attempt into the past, as ten minutes would (the workers read the wall
clock, which no test can freeze in another process)."""

import email
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from celery import Celery
from django.conf import settings
from django.utils import timezone

from outbox import delivery
from outbox.models import Message, MessageStatus
from sharing.messages import notify_sharing_created
from tests.factories import AdminFactory, MachineFactory, OrganisationFactory, SharingFactory
from tests.services import free_port
from tests.sharing.test_celery_worker import REDIS_URL, database_url, queue, redis_client  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 90


class SmtpServer:
    """Records the Message-ID of every message it accepts. Armed with a worker's pid, it kills that worker once the
    message's data has arrived, before answering, and accepts nothing: the kill during the SMTP exchange."""

    def __init__(self):
        self.accepted: list[str] = []
        self.kill_before_answering: int | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.kill_before_answering is not None:
            os.kill(self.kill_before_answering, signal.SIGKILL)
            self.kill_before_answering = None
            return "451 4.3.0 The client went away before the message was accepted"
        self.accepted.append(email.message_from_bytes(envelope.content)["Message-ID"])
        return "250 2.0.0 Accepted"


@dataclass
class Worker:
    process: subprocess.Popen
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text()


@pytest.fixture
def smtp_server():
    recorder = SmtpServer()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    recorder.port = controller.port
    yield recorder
    controller.stop()


@pytest.fixture
def start_worker(transactional_db, queue, smtp_server, tmp_path):  # noqa: F811
    processes = []

    def start(step: str = "") -> Worker:
        name = f"{queue}-{len(processes)}"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "hiboo_connect.settings",
            "SECRET_KEY": "kill-drill-secret-key",
            "DEBUG": "false",
            "DATABASE_URL": database_url(),
            "REDIS_URL": REDIS_URL,
            "CELERY_QUEUE": queue,
            "VAR_DIR": str(tmp_path / "var"),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_server.port),
            "EMAIL_USE_TLS": "false",
            "SITE_URL": settings.SITE_URL,
            "DRILL_STEP": step,
        }
        environment.pop("TEST_DATABASE_NAME", None)
        log_path = tmp_path / f"{name}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.outbox.drill_app",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            f"--queues={queue}",
            f"--hostname={name}@%h",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        processes.append(process)
        return Worker(process=process, log_path=log_path)

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def send_task(name: str, queue: str, *args) -> None:  # noqa: F811
    probe = Celery("probe", broker=REDIS_URL)
    try:
        probe.send_task(name, args=list(args), queue=queue)
    finally:
        probe.close()


def wait_for(condition, *, what: str, worker: Worker):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"No {what} within {WAIT_SECONDS} s. Worker log:\n{worker.log}")


@pytest.fixture
def message():
    """A pending notification, written as a service writes it, and not dispatched: the drill sends the task."""
    owner = OrganisationFactory(name="Rent & Go")
    AdminFactory(organisation=owner, email="admin@rentandgo.example")
    beneficiary = OrganisationFactory(name="BuildCo")
    recipient = AdminFactory(organisation=beneficiary, email="site@buildco.example")
    sharing = SharingFactory(
        owner=owner,
        beneficiary=beneficiary,
        recipient_email=recipient.email,
        machines=[MachineFactory(organisation=owner)],
    )
    # The writers queue the delivery after commit, one message or a batch; neither may run here (the test settings
    # run tasks eagerly, in this process): the drill's worker must find the row as the commit left it.
    with mock.patch("outbox.services.message_dispatch"), mock.patch("outbox.services.messages_dispatch"):
        message = notify_sharing_created(sharing)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 0)
    return message


def drill(step, *, message, start_worker, smtp_server, queue) -> list[str]:  # noqa: F811
    """Kill a worker at `step`, let the lease run out, let a second worker's re-dispatch job finish the work; return
    the Message-IDs the SMTP server accepted."""
    doomed = start_worker("" if step == "exchange" else step)
    if step == "exchange":
        smtp_server.kill_before_answering = doomed.process.pid
    send_task("outbox.tasks.message_deliver_task", queue, str(message.pk))
    try:
        doomed.process.wait(timeout=WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"The worker was not killed at {step}. Log:\n{doomed.log}")
    assert doomed.process.returncode == -signal.SIGKILL

    # The lease runs out (ten minutes in production), then the periodic job runs on a healthy worker.
    expired = timezone.now() - delivery.REDISPATCH_GRACE - delivery.LEASE
    Message.objects.filter(pk=message.pk, status=MessageStatus.PENDING).update(next_attempt_at=expired)
    healthy = start_worker()
    send_task("outbox.tasks.messages_redispatch_task", queue)
    wait_for(
        lambda: (
            Message.objects.filter(pk=message.pk, status=MessageStatus.SENT).exists()
            and "succeeded" in healthy.log.partition("messages_redispatch_task")[2]
        ),
        what="message marked sent after the re-dispatch",
        worker=healthy,
    )
    time.sleep(1)  # a duplicate would be on its way now
    return list(smtp_server.accepted)


def message_id(message) -> str:
    """The Message-ID every copy of this message carries: derived from its key, on SITE_URL's host."""
    return f"<{message.key.replace(':', '.')}@127.0.0.1>"


@pytest.mark.parametrize("step", ["claimed", "rendered", "exchange", "marked"])
def test_a_worker_killed_at_this_step_delivers_exactly_once(step, message, start_worker, smtp_server, queue):  # noqa: F811
    accepted = drill(step, message=message, start_worker=start_worker, smtp_server=smtp_server, queue=queue)
    assert accepted == [message_id(message)]


def test_a_worker_killed_between_acceptance_and_the_mark_repeats_it_with_the_same_message_id(
    message,
    start_worker,
    smtp_server,
    queue,  # noqa: F811
):
    accepted = drill("accepted", message=message, start_worker=start_worker, smtp_server=smtp_server, queue=queue)
    assert accepted == [message_id(message)] * 2
