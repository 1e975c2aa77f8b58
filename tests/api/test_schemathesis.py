"""Property-based run over the whole OpenAPI schema: whatever schemathesis sends to any operation, the API never
answers with a server error, and every answer matches the schema (status codes, content types, bodies, headers).

The schema is loaded from the app itself at import time (schemathesis.openapi.from_wsgi; its pytest fixture
integration does not work with pytest 9). Examples per operation are few so the suite stays fast."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings

from tests.api.conftest import NOW

HOSTS = ["localhost", "testserver"]

with override_settings(ALLOWED_HOSTS=HOSTS):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture
def api_key(world, admin_api, settings):
    """The owner's admin key, in the world of conftest. Requests go straight to the WSGI app, not through Django's
    test client, so the handler that closes the database connection after each request is unplugged as the test
    client does: the test's transaction must survive every request."""
    settings.ALLOWED_HOSTS = HOSTS
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield admin_api.key
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_keeps_its_schema_and_never_fails(case, api_key, world, frozen):
    frozen(NOW)
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if positive and "id" in (case.path_parameters or {}):
        # Random UUIDs would only ever meet a 404: aim at the world's real sharing and assets instead, so that the
        # generated bodies and parameters reach the services.
        path = case.operation.path
        target = world.sharing if path.startswith("/api/v1/sharings") else world.partner_machine
        case.path_parameters["id"] = str(target.pk)
    # Every operation declares an Authorization header beside the key header (Bearer; HTTP Basic too on the feed). A
    # case that carries one of its own (made up, so not a key) is sent with it alone and must be refused: beside our
    # key, one of another scheme is rightly left to the key, and schemathesis took that 200 for credentials ignored.
    own_authorization = any(name.lower() == "authorization" for name in case.headers or {})
    headers = {} if own_authorization else {"x-access-token": api_key}
    # Positive data acceptance is left out: schema-valid input is often refused by the rules, rightly (an asset
    # that is not yours, a start more than a year ago, an Idempotency-Key used for another body).
    excluded = [schemathesis.checks.positive_data_acceptance]
    if case.operation.path == "/api/v1/readings":
        # A push stores the good items and reports each refused one in a 200 (DESIGN §8): an item that breaks the
        # documented constraints is an error line in the answer, not a 400 for the whole batch.
        excluded.append(schemathesis.checks.negative_data_rejection)
    case.call_and_validate(headers=headers, excluded_checks=excluded)
