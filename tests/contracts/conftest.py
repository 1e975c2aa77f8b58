"""Fixtures of the contract tests: a rental firm (the owner) with machines, its customer (the beneficiary) and a way
to PUT a contract's desired state, with time frozen at NOW."""

import datetime as dt
import json
from urllib.parse import quote, urlencode

import pytest

from tests.api.conftest import admin_api, beneficiary_api, outsider_api, viewer_api  # noqa: F401
from tests.factories import MachineFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)


def instant(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def now(frozen):
    frozen(NOW)
    return NOW


@pytest.fixture
def machines(owner_org):
    return [MachineFactory(organisation=owner_org) for _ in range(4)]


def contract_body(machines, *, lines=None, **fields):
    """A desired state: the customer's site manager, a month from tomorrow, one line per machine."""
    body = {
        "recipient": "admin@buildco.example",
        "status": "active",
        "startDate": instant(NOW + DAY),
        "endDate": instant(NOW + 31 * DAY),
        "dataPacksCodes": ["essential", "usage_hours"],
        "properties": {"customer": "BuildCo", "site": "Lyon"},
        "lines": lines
        if lines is not None
        else [{"assetId": str(machine.pk), "lineReference": f"L{index}"} for index, machine in enumerate(machines, 1)],
    }
    return {**body, **fields}


def put(api, reference, body=None, *, params=None, headers=None, raw=None):
    path = f"/api/v1/contracts/{quote(reference)}"
    if params:
        path += "?" + urlencode(params)
    data = raw if raw is not None else json.dumps(body)
    return api.client.put(path, data=data, content_type="application/json", headers=api._headers(headers))
