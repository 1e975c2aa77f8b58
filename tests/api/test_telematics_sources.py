"""/api/v1/telematics-sources: admin keys write, viewer keys read, secrets never come back, DESIGN §8's shapes with
the last run, the error shape of §6, and "poll now" answering 202 with the queued run."""

import datetime as dt

import pytest

from accounts.actors import Actor
from telematics.models import TelematicsRun, TelematicsSource
from telematics.services import SourceAuth, telematics_source_create

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
BODY = {
    "name": "VisionLink",
    "baseUrl": "https://127.0.0.1:9/aemp/v2/",
    "auth": {"type": "oauth2", "tokenUrl": "https://127.0.0.1:9/token", "clientId": "cc", "clientSecret": "sh!"},
    "pollMinutes": 30,
}


@pytest.fixture
def source(owner_admin, frozen):
    frozen(NOW)
    return telematics_source_create(
        actor=Actor.for_user(owner_admin),
        name="JDLink",
        base_url="https://127.0.0.1:9/jd",
        auth=SourceAuth(type="basic", username="fleet", secret="pa55"),
    )


def test_create_answers_the_source_without_its_secret(admin_api, frozen):
    frozen(NOW)
    response = admin_api.post("telematics-sources", BODY)
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data == {
        "id": data["id"],
        "name": "VisionLink",
        "baseUrl": "https://127.0.0.1:9/aemp/v2",
        "auth": {"type": "oauth2", "tokenUrl": "https://127.0.0.1:9/token", "clientId": "cc", "clientSecretSet": True},
        "pollMinutes": 30,
        "createMachines": False,
        "nextPollAt": "2026-07-12T09:00:00Z",
        "failures": 0,
        "createdAt": "2026-07-12T09:00:00Z",
        "updatedAt": "2026-07-12T09:00:00Z",
        "lastRun": None,
    }
    assert "sh!" not in response.content.decode()
    assert TelematicsSource.objects.get().secret == "sh!"


def test_viewers_read_but_never_write(viewer_api, source):
    listed = viewer_api.get("telematics-sources")
    assert listed.status_code == 200
    assert listed.json()["data"]["total"] == 1
    assert listed.json()["data"]["rows"][0]["auth"] == {"type": "basic", "username": "fleet", "passwordSet": True}
    assert "pa55" not in listed.content.decode()
    for response in (
        viewer_api.post("telematics-sources", BODY),
        viewer_api.patch(f"telematics-sources/{source.pk}", {"name": "x"}),
        viewer_api.delete(f"telematics-sources/{source.pk}"),
        viewer_api.post(f"telematics-sources/{source.pk}/poll"),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "read_only_key"


def test_other_organisations_get_404(beneficiary_api, source):
    for response in (
        beneficiary_api.get(f"telematics-sources/{source.pk}"),
        beneficiary_api.patch(f"telematics-sources/{source.pk}", {"name": "x"}),
        beneficiary_api.delete(f"telematics-sources/{source.pk}"),
        beneficiary_api.post(f"telematics-sources/{source.pk}/poll"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "telematics_source_not_found"
    assert beneficiary_api.get("telematics-sources").json()["data"] == {"total": 0, "rows": []}


def test_patch_keeps_the_secret_and_shows_the_last_run(admin_api, source):
    run = TelematicsRun.objects.create(
        source=source,
        requested_at=NOW,
        started_at=NOW,
        finished_at=NOW + dt.timedelta(seconds=6),
        machines_seen=3,
        machines_matched=2,
        readings_seen=16,
        readings_stored=14,
        error="one problem",
    )
    response = admin_api.patch(
        f"telematics-sources/{source.pk}",
        {"name": "JDLink EU", "auth": {"type": "basic", "username": "fleet-eu"}, "createMachines": True},
    )
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert (data["name"], data["auth"], data["createMachines"]) == (
        "JDLink EU",
        {"type": "basic", "username": "fleet-eu", "passwordSet": True},
        True,
    )
    assert data["lastRun"] == {
        "id": str(run.pk),
        "requestedAt": "2026-07-12T09:00:00Z",
        "startedAt": "2026-07-12T09:00:00Z",
        "finishedAt": "2026-07-12T09:00:06Z",
        "durationSeconds": 6.0,
        "machines": {"seen": 3, "matched": 2, "created": 0},
        "readings": {"seen": 16, "stored": 14},
        "stored": 14,
        "error": "one problem",
    }
    source.refresh_from_db()
    assert source.secret == "pa55"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (
            {**BODY, "auth": {"type": "basic", "username": "u", "clientSecret": "x"}},
            "auth.clientSecret",
            "invalid_input",
        ),
        ({**BODY, "auth": {"type": "magic"}}, "auth.type", "invalid_input"),
        ({**BODY, "auth": "basic"}, "auth", "invalid_input"),
        ({**BODY, "auth": {"type": "header", "name": 3, "value": "v"}}, "auth.name", "invalid_input"),
        ({**BODY, "auth": {"type": "header", "name": "X-Key"}}, "auth", "secret_required"),
        ({**BODY, "auth": {"type": "header", "name": "Host", "value": "v"}}, "auth.name", "header_name_invalid"),
        ({**BODY, "baseUrl": "file:///etc/passwd"}, "baseUrl", "url_refused"),
        ({**BODY, "pollMinutes": 1}, "pollMinutes", "invalid_input"),
        ({**BODY, "pollMinutes": "60"}, "pollMinutes", "invalid_input"),
        ({**BODY, "pollMinutes": 60.5}, "pollMinutes", "invalid_input"),
        ({**BODY, "createMachines": "yes"}, "createMachines", "invalid_input"),
        ({**BODY, "secret": "x"}, "secret", "invalid_input"),
        ({k: v for k, v in BODY.items() if k != "name"}, "name", "invalid_input"),
    ],
)
def test_invalid_input_answers_400_naming_the_field(admin_api, body, field, code):
    response = admin_api.post("telematics-sources", body)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == code
    assert field in error["fields"]


def test_a_name_taken_and_odd_bodies_are_400s(admin_api, source):
    taken = admin_api.patch(f"telematics-sources/{source.pk}", {"name": "JDLink"})
    assert taken.status_code == 200
    assert admin_api.post("telematics-sources", {**BODY, "name": "JDLink"}).json()["error"]["code"] == "name_taken"
    for raw in ("[]", "null", '"x"', "{"):
        assert admin_api.post("telematics-sources", raw=raw).status_code == 400
        assert admin_api.patch(f"telematics-sources/{source.pk}", raw=raw).status_code == 400


def test_delete(admin_api, source):
    assert admin_api.delete(f"telematics-sources/{source.pk}").status_code == 204
    assert admin_api.get(f"telematics-sources/{source.pk}").status_code == 404


def test_poll_now_answers_202_with_the_queued_run(admin_api, source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_api.post(f"telematics-sources/{source.pk}/poll")
    assert response.status_code == 202
    run = response.json()["data"]
    assert (run["requestedAt"], run["startedAt"], run["finishedAt"], run["error"]) == (
        "2026-07-12T09:00:00Z",
        None,
        None,
        "",
    )
    assert len(callbacks) == 1
    again = admin_api.post(f"telematics-sources/{source.pk}/poll")
    assert again.json()["data"]["id"] == run["id"]
    assert admin_api.get(f"telematics-sources/{source.pk}").json()["data"]["lastRun"]["id"] == run["id"]


def test_the_list_costs_the_same_queries_however_many_sources(admin_api, owner_admin, django_assert_num_queries):
    actor = Actor.for_user(owner_admin)
    for index in range(2):
        created = telematics_source_create(
            actor=actor,
            name=f"Feed {index}",
            base_url="https://127.0.0.1:9/aemp",
            auth=SourceAuth(type="header", header_name="X-Key", secret="k"),
        )
        TelematicsRun.objects.create(source=created)
    admin_api.get("telematics-sources")  # the key's first use is stamped once
    # The key's look-up, the count, the page, its runs.
    with django_assert_num_queries(4):
        assert admin_api.get("telematics-sources").json()["data"]["total"] == 2
    for index in range(2, 6):
        created = telematics_source_create(
            actor=actor,
            name=f"Feed {index}",
            base_url="https://127.0.0.1:9/aemp",
            auth=SourceAuth(type="header", header_name="X-Key", secret="k"),
        )
        TelematicsRun.objects.create(source=created)
    with django_assert_num_queries(4):
        rows = admin_api.get("telematics-sources").json()["data"]["rows"]
    assert len(rows) == 6
    assert all(row["lastRun"] is not None for row in rows)


def test_the_schema_describes_the_endpoints(anonymous_api):
    schema = anonymous_api.get("schema/", headers={"Accept": "application/json"})
    paths = schema.json()["paths"] if schema["Content-Type"].startswith("application/json") else None
    if paths is None:
        import yaml

        paths = yaml.safe_load(schema.content)["paths"]
    assert set(paths["/api/v1/telematics-sources"]) >= {"get", "post"}
    assert set(paths["/api/v1/telematics-sources/{id}"]) >= {"get", "patch", "delete"}
    assert "202" in paths["/api/v1/telematics-sources/{id}/poll"]["post"]["responses"]


def test_a_retried_create_with_the_same_idempotency_key_creates_one_source(admin_api, frozen):
    frozen(NOW)
    first = admin_api.post("telematics-sources", BODY, headers={"Idempotency-Key": "create-visionlink"})
    again = admin_api.post("telematics-sources", BODY, headers={"Idempotency-Key": "create-visionlink"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert TelematicsSource.objects.count() == 1
