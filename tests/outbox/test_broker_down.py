"""The broker really down (a redis-server of the test's own, stopped) never slows a request: creating ten sharings
tries the broker once, the process then leaves it alone for a cooling period, and the re-dispatch job queues every
waiting message once the broker is back.

Time is not measured (a loaded machine would make that flaky): the test counts the TCP connection attempts to Redis,
which is where the time went (kombu retried each message for 4 s and more)."""

import datetime as dt

import pytest
import redis.connection
from django.test import Client
from kombu import pools

from hiboo_connect.celery import app
from outbox.models import Message, MessageStatus
from outbox.tasks import broker_cooling, messages_redispatch
from tests.api.conftest import ApiClient, new_api_key
from tests.factories import MachineFactory
from tests.services import private_redis, production_settings

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
QUEUE = "broker-down-test"


def reset_celery_connections() -> None:
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


@pytest.fixture
def broker(monkeypatch):
    """Celery on a Redis of this test's own, with the production broker settings, tasks really sent."""
    with private_redis() as server:
        production = production_settings(monkeypatch, REDIS_URL=server.url)
        saved = {name: app.conf[name] for name in ("broker_url", "broker_transport_options", "task_always_eager")}
        app.conf.update(
            broker_url=production.CELERY_BROKER_URL,
            broker_transport_options=production.CELERY_BROKER_TRANSPORT_OPTIONS,
            task_always_eager=False,
            task_default_queue=QUEUE,
        )
        reset_celery_connections()
        try:
            yield server
        finally:
            app.conf.update(**saved, task_default_queue=production.CELERY_TASK_DEFAULT_QUEUE)
            reset_celery_connections()


@pytest.fixture
def connection_attempts(monkeypatch):
    """The TCP connections opened (or tried) to any Redis from now on."""
    attempts = []
    connect = redis.connection.Connection._connect

    def counting(self, *args, **kwargs):
        attempts.append((self.host, self.port))
        return connect(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "_connect", counting)
    return attempts


@pytest.fixture
def clock(frozen):
    return frozen(NOW)


@pytest.fixture
def create_ten_sharings(owner_org, beneficiary_admin, django_capture_on_commit_callbacks):
    api = ApiClient(new_api_key(owner_org, "ERP sync")[1], Client())

    def create():
        # Ten creations, each its own e-mail (one creation of ten machines would be one e-mail listing them).
        for machine in MachineFactory.create_batch(10, organisation=owner_org):
            body = {
                "assetIds": [str(machine.pk)],
                "recipient": beneficiary_admin.email,
                "startDate": "2026-08-01T08:00:00Z",
            }
            with django_capture_on_commit_callbacks(execute=True):
                response = api.post("sharings", body)
            assert response.status_code == 201, response.content

    return create


def test_with_the_broker_up_each_message_is_queued(broker, clock, create_ten_sharings):
    create_ten_sharings()
    assert broker.client().llen(QUEUE) == 10


def test_ten_messages_with_the_broker_down_cost_one_connection_attempt(
    broker, clock, create_ten_sharings, connection_attempts
):
    broker.stop()
    create_ten_sharings()
    assert connection_attempts == [("127.0.0.1", broker.port)]


def test_the_messages_wait_in_the_outbox(broker, clock, create_ten_sharings):
    broker.stop()
    create_ten_sharings()
    assert Message.objects.filter(status=MessageStatus.PENDING).count() == 10


def test_later_requests_do_not_try_the_broker_while_it_cools_down(
    broker, clock, create_ten_sharings, connection_attempts
):
    broker.stop()
    create_ten_sharings()
    clock.shift(dt.timedelta(seconds=broker_cooling.seconds - 1))
    create_ten_sharings()
    assert len(connection_attempts) == 1


def test_the_broker_is_tried_again_once_the_cooling_period_is_over(
    broker, clock, create_ten_sharings, connection_attempts
):
    broker.stop()
    create_ten_sharings()
    clock.shift(dt.timedelta(seconds=broker_cooling.seconds + 1))
    create_ten_sharings()
    assert len(connection_attempts) == 2


def test_the_redispatch_job_queues_everything_once_the_broker_is_back(broker, clock, create_ten_sharings):
    broker.stop()
    create_ten_sharings()
    clock.shift(dt.timedelta(minutes=5))
    assert messages_redispatch() == 0  # still down: the next run tries again
    with private_redis(port=broker.port) as back:
        clock.shift(dt.timedelta(minutes=1))
        assert messages_redispatch() == 10
        assert back.client().llen(QUEUE) == 10


def test_the_redispatch_job_tries_the_broker_even_while_it_cools_down(
    broker, clock, create_ten_sharings, connection_attempts
):
    broker.stop()
    create_ten_sharings()
    clock.shift(dt.timedelta(minutes=2))
    broker_cooling.start()  # another request just failed
    messages_redispatch()
    assert len(connection_attempts) == 2
