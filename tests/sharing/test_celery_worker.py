"""A real Celery worker process on Redis performs a lifecycle transition and delivers its e-mail.

The worker (`celery -A hiboo_connect worker`) runs with the production settings, the test database (passed as
DATABASE_URL), its own queue on the local Redis (REDIS_URL, default redis://127.0.0.1:6379/0) and the file e-mail
backend in a temporary folder, which the test reads. Redis missing is a failure, never a skip.

The worker reads the wall clock, which no test can freeze in another process: the sharing is therefore due by a wide
margin (started an hour ago, still cached as scheduled), so the outcome does not depend on when the test runs."""

import datetime as dt
import email
import email.policy
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from outbox.models import Message, MessageStatus
from sharing.audit import AuditAction
from sharing.lifecycle import SharingStatus
from sharing.messages import SharingMessage
from tests.factories import AdminFactory, MachineFactory, OrganisationFactory, SharingFactory

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
WAIT_SECONDS = 90


def database_url() -> str:
    """The test database, as the worker's DATABASE_URL."""
    database = connection.settings_dict
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = str(database["NAME"])
        if "memory" in name or not name.startswith("/"):
            pytest.fail(f"The test database {name!r} is in memory: a worker process cannot share it (test_settings).")
        return f"sqlite:///{name}"
    if database["ENGINE"] == "django.db.backends.postgresql":
        credentials = quote(database["USER"] or "", safe="")
        if database["PASSWORD"]:
            credentials += ":" + quote(database["PASSWORD"], safe="")
        host = database["HOST"] or "127.0.0.1"
        port = database["PORT"] or 5432
        return f"postgres://{credentials}@{host}:{port}/{quote(database['NAME'], safe='')}"
    pytest.fail(f"No DATABASE_URL for the engine {database['ENGINE']}.")


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({error}). This test needs a real broker: start Redis "
            '(redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no) '
            "or point REDIS_URL at one."
        )
    yield client
    client.close()


@pytest.fixture
def queue(redis_client):
    """A queue of this run's own, so parallel runs on one Redis never take each other's tasks; removed afterwards."""
    name = f"test-worker-{uuid.uuid4().hex[:12]}"
    yield name
    for key in redis_client.scan_iter(match=f"*{name}*"):
        redis_client.delete(key)
    for binding in redis_client.scan_iter(match="_kombu.binding.*"):
        for member in redis_client.smembers(binding):
            if name.encode() in member:
                redis_client.srem(binding, member)


@pytest.fixture
def worker(transactional_db, queue, tmp_path):
    """Start the worker on the test database and this run's queue; stop it (and wait for it) whatever happens."""
    var_dir = tmp_path / "var"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hiboo_connect.settings",
        "SECRET_KEY": "celery-worker-test-secret-key",
        "DEBUG": "false",
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "CELERY_QUEUE": queue,
        "VAR_DIR": str(var_dir),
        "EMAIL_HOST": "",
        "SITE_URL": settings.SITE_URL,
    }
    environment.pop("TEST_DATABASE_NAME", None)
    log_path = tmp_path / "worker.log"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "hiboo_connect",
        "worker",
        "--pool=solo",
        "--loglevel=INFO",
        f"--queues={queue}",
        f"--hostname={queue}@%h",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    process.mail_dir = var_dir / "mail"
    process.log_path = log_path
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for(condition, *, process, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        if process.poll() is not None:
            pytest.fail(f"The worker exited ({process.returncode}) before {what}:\n{process.log_path.read_text()}")
        time.sleep(0.5)
    pytest.fail(f"No {what} within {WAIT_SECONDS} s. Worker log:\n{process.log_path.read_text()}")


def mail_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.log")) if folder.exists() else []


def test_a_real_worker_moves_a_sharing_and_delivers_its_email(worker, queue):
    owner = OrganisationFactory(name="Rent & Go")
    AdminFactory(organisation=owner, email="admin@rentandgo.example")
    beneficiary = OrganisationFactory(name="BuildCo", timezone="Europe/Paris")
    recipient = AdminFactory(organisation=beneficiary, email="site@buildco.example")
    machine = MachineFactory(organisation=owner)
    sharing = SharingFactory(
        owner=owner,
        beneficiary=beneficiary,
        recipient_email=recipient.email,
        start_at=timezone.now() - dt.timedelta(hours=1),
        status=SharingStatus.SCHEDULED,  # the cache the job has to bring up to date
        machines=[machine],
    )

    probe = Celery("probe", broker=REDIS_URL)
    try:
        for _run in range(2):  # the job twice: one move, one e-mail
            probe.send_task("sharing.tasks.sharing_lifecycle_run_task", queue=queue)
    finally:
        probe.close()

    (mail_file,) = wait_for(lambda: mail_files(worker.mail_dir), process=worker, what="e-mail written by the worker")
    sharing.refresh_from_db()
    assert sharing.status == SharingStatus.IN_PROGRESS
    assert AuditEvent.objects.filter(
        target_id=sharing.pk, action=AuditAction.STATUS_CHANGED, actor_kind="system"
    ).exists()
    notification = wait_for(
        lambda: Message.objects.filter(subject_id=sharing.pk, status=MessageStatus.SENT).first(),
        process=worker,
        what="notification marked sent",
    )
    assert notification.key == f"sharing:{sharing.pk}:started"
    assert notification.kind == SharingMessage.STARTED

    raw = mail_file.read_bytes().split(b"\n" + b"-" * 79 + b"\n")[0]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == recipient.email
    assert message["Subject"] == "A sharing from Rent & Go has started"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    link = f"{settings.SITE_URL}/sharings/{sharing.pk}/"
    assert "The sharing from Rent & Go has started" in text
    assert link in text
    assert f'href="{link}"' in html
    assert AuditEvent.objects.filter(target_id=sharing.pk, action=AuditAction.STATUS_CHANGED).count() == 1
    assert len(mail_files(worker.mail_dir)) == 1
    assert raw.count(b"Subject:") == 1
    assert mail_file.read_bytes().count(b"\nSubject:") == 1
