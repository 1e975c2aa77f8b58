"""Retries with an Idempotency-Key: the same request returns the stored response and changes nothing; another request
with the same key is refused; keys belong to one API key and are kept 24 hours."""

import datetime as dt
import json

import pytest

from accounts import idempotency
from accounts.models import IdempotencyRecord, IdempotencyState
from accounts.services import idempotency_records_purge
from accounts.tasks import idempotency_records_purge_task
from audit.models import AuditEvent
from sharing.models import Sharing
from tests.api.conftest import NOW, ApiClient, new_api_key


def _body(world, **overrides):
    return {
        "assetIds": [str(world.machine.pk)],
        "recipient": "admin@buildco.example",
        "reference": "RETRY-1",
        "startDate": "2026-07-20T08:00:00Z",
        **overrides,
    }


def _key(value="7d4c2b9e-retry-0001"):
    return {"Idempotency-Key": value}


def test_a_retried_create_returns_the_first_response_and_creates_nothing(world, admin_api):
    first = admin_api.post("sharings", _body(world), headers=_key())
    retry = admin_api.post("sharings", _body(world), headers=_key())

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Sharing.objects.filter(reference="RETRY-1").count() == 1


def test_the_same_body_with_other_spacing_and_key_order_is_the_same_request(world, admin_api):
    body = _body(world)
    admin_api.post("sharings", body, headers=_key())
    reordered = json.dumps(dict(reversed(body.items())), indent=4)

    retry = admin_api.post("sharings", raw=reordered, headers=_key())

    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_refused(world, admin_api):
    admin_api.post("sharings", _body(world), headers=_key())

    response = admin_api.post("sharings", _body(world, reference="RETRY-2"), headers=_key())

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert not Sharing.objects.filter(reference="RETRY-2").exists()


def test_the_same_key_on_another_endpoint_is_refused(world, admin_api):
    admin_api.post("sharings", _body(world), headers=_key())

    response = admin_api.post(f"sharings/{world.sharing.pk}/stop", headers=_key())

    assert response.status_code == 422
    assert Sharing.objects.get(pk=world.sharing.pk).stopped_at is None


def test_keys_belong_to_the_api_key_that_used_them(world, admin_api, owner_org):
    other = ApiClient(new_api_key(owner_org, "CRM")[1], admin_api.client)

    admin_api.post("sharings", _body(world), headers=_key())
    second = other.post("sharings", _body(world), headers=_key())

    assert second.status_code == 201
    assert not second.has_header("Idempotent-Replayed")
    assert Sharing.objects.filter(reference="RETRY-1").count() == 2


def test_a_refusal_is_replayed_too(world, admin_api):
    body = _body(world, assetIds=[str(world.partner_machine.pk)])

    first = admin_api.post("sharings", body, headers=_key())
    retry = admin_api.post("sharings", body, headers=_key())

    assert first.status_code == retry.status_code == 409
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"


def test_a_key_is_kept_24_hours_then_forgotten(world, admin_api, frozen):
    admin_api.post("sharings", _body(world), headers=_key())

    frozen(NOW + dt.timedelta(hours=23, minutes=59))
    within = admin_api.post("sharings", _body(world), headers=_key())
    frozen(NOW + dt.timedelta(hours=24, minutes=1))
    after = admin_api.post("sharings", _body(world), headers=_key())

    assert within["Idempotent-Replayed"] == "true"
    assert after.status_code == 201
    assert not after.has_header("Idempotent-Replayed")
    assert Sharing.objects.filter(reference="RETRY-1").count() == 2


def test_a_retried_patch_changes_nothing_more(world, admin_api):
    path = f"sharings/{world.sharing.pk}"

    first = admin_api.patch(path, {"endDate": "2026-09-30T00:00:00Z"}, headers=_key("extend-1"))
    retry = admin_api.patch(path, {"endDate": "2026-09-30T00:00:00Z"}, headers=_key("extend-1"))

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert AuditEvent.objects.filter(target_id=world.sharing.pk, action="updated").count() == 1


def test_a_retried_stop_answers_like_the_first_stop(world, admin_api):
    path = f"sharings/{world.sharing.pk}/stop"

    first = admin_api.post(path, headers=_key("stop-1"))
    retry = admin_api.post(path, headers=_key("stop-1"))
    without_key = admin_api.post(path)

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert without_key.status_code == 409


def test_a_retried_delete_answers_like_the_first_delete(world, admin_api):
    path = f"sharings/{world.sharing.pk}"

    first = admin_api.delete(path, headers=_key("delete-1"))
    retry = admin_api.delete(path, headers=_key("delete-1"))

    assert first.status_code == retry.status_code == 204


def test_a_request_that_fails_unexpectedly_can_be_retried(world, admin_api, monkeypatch):
    from sharing import services

    real_create = services.sharing_create

    def failing_create(**kwargs):
        real_create(**kwargs)
        raise RuntimeError("the worker died half-way")

    monkeypatch.setattr(services, "sharing_create", failing_create)
    admin_api.client.raise_request_exception = False
    failed = admin_api.post("sharings", _body(world), headers=_key())
    monkeypatch.setattr(services, "sharing_create", real_create)
    retry = admin_api.post("sharings", _body(world), headers=_key())

    assert failed.status_code == 500
    assert retry.status_code == 201
    assert not retry.has_header("Idempotent-Replayed")
    assert Sharing.objects.filter(reference="RETRY-1").count() == 1, "the failed attempt wrote nothing"


def test_a_request_still_in_progress_answers_409(world, admin_api, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_FOR_CONCURRENT", 0.1)
    admin_api.post("sharings", _body(world), headers=_key())
    IdempotencyRecord.objects.update(state=IdempotencyState.IN_PROGRESS)

    response = admin_api.post("sharings", _body(world), headers=_key())

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_progress"
    assert response["Retry-After"] == "1"


def test_a_claim_abandoned_by_a_dead_worker_is_taken_over(world, admin_api, frozen):
    admin_api.post("sharings", _body(world), headers=_key())
    Sharing.objects.filter(reference="RETRY-1").delete()  # as if the transaction had rolled back with the worker
    IdempotencyRecord.objects.update(state=IdempotencyState.IN_PROGRESS)
    frozen(NOW + dt.timedelta(minutes=10))

    response = admin_api.post("sharings", _body(world), headers=_key())

    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert Sharing.objects.filter(reference="RETRY-1").count() == 1


@pytest.mark.parametrize("value", ["", "x" * 256, "clé-non-ascii"])
def test_an_invalid_key_is_refused(world, admin_api, value):
    response = admin_api.post("sharings", _body(world), headers=_key(value))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert not Sharing.objects.filter(reference="RETRY-1").exists()


def test_a_viewer_key_is_refused_before_any_key_is_claimed(world, viewer_api):
    response = viewer_api.post("sharings", _body(world), headers=_key())

    assert response.status_code == 403
    assert not IdempotencyRecord.objects.exists()


def test_old_records_are_purged(world, admin_api, frozen):
    admin_api.post("sharings", _body(world), headers=_key("old"))
    frozen(NOW + dt.timedelta(hours=20))
    admin_api.post("sharings", _body(world, reference="RETRY-NEW"), headers=_key("recent"))
    frozen(NOW + dt.timedelta(hours=25))

    assert idempotency_records_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
    frozen(NOW + dt.timedelta(hours=50))
    assert idempotency_records_purge_task() == 1
