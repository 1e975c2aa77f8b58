"""Every endpoint against the owner's admin key, its viewer key, a revoked key, another organisation's key and no key;
and the error shape of every refusal."""

import pytest
from django.test import Client

from tests.api.conftest import ApiClient

CALLERS = ("admin", "viewer", "revoked", "outsider", "anonymous")

# (name, method, path, body, expected status per caller)
ENDPOINTS = [
    ("list sharings", "get", "sharings", None, (200, 200, 401, 200, 401)),
    ("create a sharing", "post", "sharings", "create", (201, 403, 401, 400, 401)),
    ("get a sharing", "get", "sharings/{sharing}", None, (200, 200, 401, 404, 401)),
    ("change a sharing", "patch", "sharings/{sharing}", {"reference": "CONTRACT-1b"}, (200, 403, 401, 404, 401)),
    ("delete a sharing", "delete", "sharings/{sharing}", None, (204, 403, 401, 404, 401)),
    ("stop a sharing", "post", "sharings/{sharing}/stop", None, (200, 403, 401, 404, 401)),
    ("list assets", "get", "assets", None, (200, 200, 401, 200, 401)),
    ("readings of an own asset", "get", "assets/{machine}/readings", None, (200, 200, 401, 404, 401)),
    ("readings of a received asset", "get", "assets/{partner_machine}/readings", None, (200, 200, 401, 404, 401)),
    ("list received assets", "get", "received-assets", None, (200, 200, 401, 200, 401)),
    ("get a received asset", "get", "received-assets/{partner_machine}", None, (200, 200, 401, 404, 401)),
    (
        "change a received asset",
        "patch",
        "received-assets/{partner_machine}",
        {"name": "TH 12"},
        (200, 403, 401, 404, 401),
    ),
    ("list workspaces", "get", "workspaces", None, (200, 200, 401, 200, 401)),
]


@pytest.fixture
def callers(admin_api, viewer_api, revoked_api, outsider_api, anonymous_api):
    return dict(zip(CALLERS, (admin_api, viewer_api, revoked_api, outsider_api, anonymous_api), strict=True))


def _call(api: ApiClient, method, path, body, world):
    path = path.format(sharing=world.sharing.pk, machine=world.machine.pk, partner_machine=world.partner_machine.pk)
    if body == "create":
        body = {
            "assetIds": [str(world.machine.pk)],
            "recipient": "new.person@elsewhere.example",
            "recipientOrganisationName": "Elsewhere",
            "startDate": "2026-09-01T08:00:00+02:00",
        }
    if method in ("get", "delete"):
        return getattr(api, method)(path)
    return getattr(api, method)(path, body)


@pytest.mark.parametrize(("caller_index", "caller"), list(enumerate(CALLERS)), ids=CALLERS)
@pytest.mark.parametrize(
    ("name", "method", "path", "body", "expected"), ENDPOINTS, ids=[endpoint[0] for endpoint in ENDPOINTS]
)
def test_endpoint_access(world, callers, caller_index, caller, name, method, path, body, expected):
    response = _call(callers[caller], method, path, body, world)

    assert response.status_code == expected[caller_index], response.content
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "fields"}
        assert error["message"]
    if caller == "outsider" and response.status_code == 200:
        assert response.json() == {"data": {"total": 0, "rows": []}}, "an outsider sees nothing of the owner's"


def test_a_bearer_token_is_accepted(world, admin_api):
    response = Client().get("/api/v1/sharings", headers={"Authorization": f"Bearer {admin_api.key}"})

    assert response.status_code == 200
    assert response.json()["data"]["total"] == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"x-access-token": "hck_nothing_here"},
        {"x-access-token": "not-a-key"},
        {"Authorization": "Bearer hck_00000000_wrong"},
    ],
)
def test_a_wrong_key_is_refused_with_401(world, headers):
    response = Client().get("/api/v1/sharings", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_key_with_a_right_prefix_and_a_wrong_secret_is_refused(world, admin_api):
    prefix = admin_api.key.split("_")[1]

    response = Client().get("/api/v1/sharings", headers={"x-access-token": f"hck_{prefix}_guessed"})

    assert response.status_code == 401


def test_the_beneficiary_sees_the_sharing_but_cannot_change_it(world, beneficiary_api):
    listed = beneficiary_api.get("sharings", {"direction": "incoming"}).json()["data"]
    refused = beneficiary_api.patch(f"sharings/{world.sharing.pk}", {"reference": "mine now"})

    assert [row["id"] for row in listed["rows"]] == [str(world.sharing.pk)]
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_your_organisation"


def test_unknown_routes_under_api_answer_json_404(db, admin_api):
    # A line break in the path too: schemathesis found that "^.*$" stops at it and Django answered in HTML.
    paths = (
        "/api/v1/nothing",
        "/api/v2/sharings",
        "/api/",
        "/api/v1/sharings/not-a-uuid",
        "/api/v1/received-assets/%0A",
    )
    for path in paths:
        response = Client().get(path, headers={"x-access-token": admin_api.key})

        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_a_method_the_endpoint_does_not_have_answers_405_in_json(world, admin_api):
    response = admin_api.delete(f"sharings/{world.sharing.pk}/stop")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
