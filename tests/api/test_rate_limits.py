"""Each API key may make API_RATE_LIMIT requests; beyond that the API answers 429 in its error shape with
Retry-After, per key, and the schema says so."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from hiboo_connect.environment import env_rate
from tests.api.conftest import ApiClient, new_api_key

START = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def three_a_minute(frozen):
    cache.clear()
    traveller = frozen(START)
    with override_settings(API_RATE_LIMIT="3/minute"):
        yield traveller
    cache.clear()


def use_up(api: ApiClient, requests: int = 3) -> None:
    for _request in range(requests):
        assert api.get("sharings").status_code == 200


def test_a_key_within_its_limit_is_served(admin_api):
    use_up(admin_api)


def test_a_key_over_its_limit_gets_429(admin_api):
    use_up(admin_api)
    assert admin_api.get("sharings").status_code == 429


def test_the_429_says_when_to_retry(admin_api):
    use_up(admin_api)
    assert admin_api.get("sharings")["Retry-After"] == "60"


def test_the_429_has_the_api_error_shape(admin_api):
    use_up(admin_api)
    error = admin_api.get("sharings").json()["error"]
    assert error == {
        "code": "throttled",
        "message": "This API key has made too many requests. Try again in 60 seconds.",
        "fields": {},
    }


def test_the_429_speaks_french(admin_api):
    use_up(admin_api)
    response = admin_api.get("sharings", headers={"Accept-Language": "fr"})
    assert response.json()["error"]["message"] == (
        "Cette clé d’API a fait trop de requêtes. Réessayez dans 60 secondes."
    )


def test_writes_count_too(admin_api):
    use_up(admin_api)
    assert admin_api.post("sharings", {}).status_code == 429


def test_the_limit_is_per_key(admin_api, owner_org):
    use_up(admin_api)
    other = ApiClient(new_api_key(owner_org, "BI export")[1], Client())
    assert other.get("sharings").status_code == 200


def test_the_key_is_served_again_once_the_period_has_passed(admin_api, three_a_minute):
    use_up(admin_api)
    three_a_minute.shift(dt.timedelta(seconds=61))
    assert admin_api.get("sharings").status_code == 200


def test_requests_without_a_key_are_refused_not_counted(anonymous_api):
    for _request in range(5):
        assert anonymous_api.get("sharings").status_code == 401


def test_the_schema_documents_429_with_retry_after(client):
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    too_many = schema["paths"]["/api/v1/sharings"]["post"]["responses"]["429"]
    assert "Retry-After" in too_many["headers"]
    assert "3/minute" in too_many["description"]


def test_the_schema_documents_429_on_every_operation_that_takes_a_key(client):
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    missing = [
        f"{method} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") and "429" not in operation["responses"]
    ]
    assert missing == []


@pytest.mark.parametrize(("raw", "rate"), [("1200/minute", "1200/minute"), ("10/s", "10/second"), ("5/h", "5/hour")])
def test_the_rate_is_read_from_the_environment(monkeypatch, raw, rate):
    monkeypatch.setenv("API_RATE_LIMIT", raw)
    assert env_rate("API_RATE_LIMIT", "1/minute") == rate


@pytest.mark.parametrize("raw", ["1200", "many/minute", "0/minute", "10/week"])
def test_a_malformed_rate_stops_the_start(monkeypatch, raw):
    monkeypatch.setenv("API_RATE_LIMIT", raw)
    with pytest.raises(ImproperlyConfigured, match="API_RATE_LIMIT"):
        env_rate("API_RATE_LIMIT", "1/minute")
