"""Redis down never reaches the user: log-in and the pages work on the production cache settings with the shared
cache's server really stopped; only the rate limits it holds lapse until it is back."""

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from tests.api.conftest import ApiClient, new_api_key
from tests.factories import AdminFactory
from tests.services import private_redis, production_settings

PASSWORD = "a-Long-pass-phrase-42"


@pytest.fixture
def redis_cache(monkeypatch):
    """The production cache on a Redis server of this test's own, with allauth's rate limits on (the test settings
    turn them off)."""
    with private_redis() as server:
        caches = production_settings(monkeypatch, REDIS_URL=server.url).CACHES
        with override_settings(CACHES=caches, ACCOUNT_RATE_LIMITS={}):
            yield server


@pytest.fixture
def admin(owner_org):
    user = AdminFactory(organisation=owner_org, email="admin@rentandgo.example", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def log_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_the_rate_limits_live_in_redis_while_it_runs(client, admin, redis_cache):
    assert log_in(client, admin.email).status_code == 302
    assert redis_cache.client().dbsize() > 0  # allauth's rate-limit counters


def test_log_in_works_with_redis_stopped(client, admin, redis_cache):
    redis_cache.stop()
    response = log_in(client, admin.email)
    assert response.status_code == 302
    assert response.url == "/"


def test_pages_work_with_redis_stopped(client, admin, redis_cache):
    redis_cache.stop()
    log_in(client, admin.email)
    assert client.get("/").status_code == 200


def test_a_wrong_password_is_refused_on_the_form_with_redis_stopped(client, admin, redis_cache):
    redis_cache.stop()
    response = log_in(client, admin.email, "wrong-password")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_the_cache_answers_misses_with_redis_stopped(redis_cache):
    redis_cache.stop()
    cache.set("key", "value")
    assert cache.get("key") is None


def test_the_api_serves_a_key_with_redis_stopped(client, owner_org, redis_cache):
    """The rate limit per key counts in the shared cache: with Redis down nobody is limited, nobody refused."""
    api = ApiClient(new_api_key(owner_org, "ERP sync")[1], client)
    redis_cache.stop()
    assert api.get("sharings").status_code == 200
