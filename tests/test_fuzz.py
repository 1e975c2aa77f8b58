"""No input can break a page (issue 9, item 6): a property-based walk that drives every portal route with random query
strings and random form bodies, and every API endpoint with random JSON bodies, as every actor (a visitor, a member and
an admin of the owner, the beneficiary, another organisation; for the API, their keys), and asserts no answer is a 5xx.

The routes come from the URL walk of tests/test_url_access.py, so a new page or endpoint is fuzzed without anyone
remembering to. The values mix what a crafted request sends (dates past 2099 or before year 1, NUL characters, ids
that are not UUIDs, wrong JSON types, deep nesting, long texts) with valid ones (the world's ids, known choices), so
requests get past the first check. Bounded in time: FUZZ_EXAMPLES examples per test (40 by default), no deadline,
no shrinking (a failure is reported as found, each example being a walk of every route)."""

import datetime as dt
import json
import os

import pytest
from django import forms
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from accounts import forms as accounts_forms
from fleet import forms as fleet_forms
from hiboo_connect.api.serializers import StrictSerializer
from sharing import forms as sharing_forms
from sharing.lifecycle import SharingStatus
from tests.test_url_access import ROUTES, URLS, Api, Portal, Public, _argument, path_of
from tests.test_url_access import world as world

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written under .hypothesis/ in CI
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: The world's object of each kind, by kind (filled by the actors fixture).
WORLD_PKS: dict = {}
PAGE_ROUTES = [
    route
    for route in ROUTES
    if route.namespace != "admin"
    and isinstance(URLS.get(route.key), Portal | Public)
    and not route.key.startswith("api")
]
API_ROUTES = [route for route in ROUTES if isinstance(URLS.get(route.key), Api)]


def _form_fields() -> list[str]:
    classes = [
        value
        for module in (sharing_forms, fleet_forms, accounts_forms)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, forms.BaseForm)
    ]
    return sorted({name for form in classes for name in getattr(form, "base_fields", {})})


def _api_fields() -> list[str]:
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return sorted({name for serializer in subclasses(StrictSerializer) for name in serializer().fields})


QUERY_KEYS = [
    *_form_fields(),
    *("q", "status", "direction", "period", "date_from", "date_to", "workspace", "reference", "asset_id"),
    *("recipient", "ordering", "page", "view", "first", "last", "offset", "limit", "assetId", "from", "to", "metric"),
]
CRAFTED = [
    "",
    "9999-12-31",
    "0001-01-01",
    "2099-12-31",
    "2100-01-01",
    "2026-07-12",
    "2026-07-13T08:00",
    "9999-12-31T23:30",
    "9999-12-31T23:30:00Z",
    "2026-07-13T08:00:00.123456789Z",
    "not-a-uuid",
    "00000000-0000-4000-8000-000000000000",
    "\x00",
    "a\x00b",
    "=1+2",
    "-1",
    "0",
    "99999999999999999999",
    "1e309",
    "x" * 5000,
    "on",
    "true",
    *SharingStatus.values,
    "incoming",
    "outgoing",
    "timeline",
    "-start",
    "essential",
    "admin",
    "member",
    "Europe/Paris",
]
CRAFTED_DATES = [value for value in CRAFTED if value[:1].isdigit() and "-" in value]
texts = st.text(max_size=40)


def values(ids):
    return st.one_of(st.sampled_from(CRAFTED), st.sampled_from(CRAFTED_DATES), st.sampled_from(ids), texts)


def query(ids):
    """Any of the known parameters (each present or not), and a few unknown ones."""
    value = st.one_of(values(ids), st.lists(values(ids), max_size=3))
    known = st.fixed_dictionaries({}, optional=dict.fromkeys(QUERY_KEYS, value))
    unknown = st.dictionaries(texts, value, max_size=2)
    return st.builds(lambda known, unknown: {**unknown, **known}, known, unknown)


def json_values(ids):
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False),
        values(ids),
    )
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3))


def json_body(ids):
    keys = st.one_of(st.sampled_from(_api_fields()), texts)
    return st.one_of(
        st.dictionaries(keys, json_values(ids), max_size=8),
        json_values(ids),
        st.just("[" * 3000 + "]" * 3000),  # raw text: nesting past the parser's stack
        st.just("{not json"),
    )


@pytest.fixture
def actors(frozen, world, owner_admin, owner_member, beneficiary_admin):
    """Every actor of the portal and of the API, and the ids of the world's objects (used in paths and values)."""
    frozen(NOW)
    pages = {
        "visitor": None,
        "owner admin": owner_admin,
        "owner member": owner_member,
        "beneficiary": beneficiary_admin,
        "another organisation": world.outsider,
    }
    keys = {"no key": None, "another organisation": world.outsider_key}
    for _pk, holder, key in world.objects.values():
        keys[f"key of {holder.email}"] = key
    ids = sorted({str(pk) for pk, _holder, _key in world.objects.values()} | {"00000000-0000-4000-8000-000000000000"})
    WORLD_PKS.clear()
    WORLD_PKS.update({kind: pk for kind, (pk, _holder, _key) in world.objects.items()})
    return pages, keys, ids


def _client(user=None, key=None) -> Client:
    client = Client(headers={"x-access-token": key} if key else {})
    if user is not None:
        client.force_login(user)
    return client


def _path(route, data, ids):
    """A path to the route: its argument is the world's object of that kind, or another id (someone else's object,
    an id of another kind, an unknown one), or, when that does not fit the pattern, the object of its kind."""
    rule = URLS[route.key]
    if isinstance(rule, Public):
        return path_of(route, {})  # a token, a key: the URL walk's samples
    argument = _argument(route)
    if argument is None:
        return path_of(route, {})
    kind = rule.kind
    own = str(WORLD_PKS[kind]) if kind in WORLD_PKS else None
    chosen = data.draw(st.sampled_from([value for value in (own, *ids) if value]), label="object id")
    try:
        return path_of(route, {argument: chosen})
    except AssertionError:
        return path_of(route, {argument: own or ids[0]})


def _assert_no_5xx(response, description):
    assert response.status_code < 500, f"{description}: {response.status_code}"


# Each example sends one query (or body) to every route, as one actor: a crafted value then reaches every page that
# reads it, instead of waiting for the draw of the one route it breaks.


@FUZZ
@given(data=st.data())
def test_no_portal_page_answers_5xx_to_any_query(actors, data):
    pages, _keys, ids = actors
    actor = data.draw(st.sampled_from(sorted(pages)), label="actor")
    params = data.draw(query(ids), label="query")
    client = _client(pages[actor])
    for route in PAGE_ROUTES:
        path = _path(route, data, ids)
        _assert_no_5xx(client.get(path, params), f"GET {path} {params!r} as {actor}")


@FUZZ
@given(data=st.data())
def test_no_portal_form_answers_5xx_to_any_body(actors, data):
    pages, _keys, ids = actors
    actor = data.draw(st.sampled_from(sorted(pages)), label="actor")
    body = data.draw(query(ids), label="body")
    headers = data.draw(st.sampled_from([{}, {"HX-Request": "true"}]), label="headers")
    client = _client(pages[actor])
    for route in PAGE_ROUTES:
        path = _path(route, data, ids)
        _assert_no_5xx(client.post(path, body, headers=headers), f"POST {path} {body!r} as {actor}")


@FUZZ
@given(data=st.data())
def test_no_api_endpoint_answers_5xx_to_any_body(actors, data):
    _pages, keys, ids = actors
    actor = data.draw(st.sampled_from(sorted(keys)), label="actor")
    method = data.draw(st.sampled_from(["get", "post", "patch", "delete", "put"]), label="method")
    client = _client(key=keys[actor])
    if method == "get":
        params = data.draw(query(ids), label="query")
        for route in API_ROUTES:
            path = _path(route, data, ids)
            _assert_no_5xx(client.get(path, params), f"GET {path} {params!r} as {actor}")
        return
    body = data.draw(json_body(ids), label="body")
    raw = body if isinstance(body, str) and body[:1] in "[{" else json.dumps(body)
    headers = data.draw(st.sampled_from([{}, {"Idempotency-Key": "fuzz-1"}, {"If-Match": '"x"'}]), label="headers")
    for route in API_ROUTES:
        path = _path(route, data, ids)
        response = getattr(client, method)(path, raw, content_type="application/json", headers=headers)
        _assert_no_5xx(response, f"{method.upper()} {path} {raw[:200]!r} as {actor}")
