"""Writes on telematics sources: admins only, validated, audited in the same transaction, secrets kept when other fields
change and never written to the audit trail."""

import datetime as dt

import pytest
from django.test import override_settings

from accounts.actors import Actor
from audit.models import AuditEvent
from hiboo_connect.errors import InvalidInput, NotAllowed
from telematics.models import AuthType, TelematicsRun, TelematicsSource
from telematics.services import (
    SourceAuth,
    telematics_poll_request,
    telematics_source_create,
    telematics_source_delete,
    telematics_source_update,
)

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
BASIC = SourceAuth(type=AuthType.BASIC, username="fleet@rentandgo.example", secret="s3cret")


def _create(actor, **overrides):
    values = {"name": "VisionLink", "base_url": "https://127.0.0.1:9/aemp/v2/", "auth": BASIC, "now": NOW}
    return telematics_source_create(actor=actor, **(values | overrides))


def test_an_admin_creates_a_source_due_at_once_and_audited(admin_actor, frozen):
    frozen(NOW)
    source = _create(admin_actor, poll_minutes=30, create_machines=True)
    source.refresh_from_db()
    assert (source.base_url, source.next_poll_at, source.poll_minutes, source.create_machines) == (
        "https://127.0.0.1:9/aemp/v2",
        NOW,
        30,
        True,
    )
    assert source.secret == "s3cret"
    event = AuditEvent.objects.get(target_id=source.pk)
    assert event.action == "created"
    assert "s3cret" not in str(event.changes)


def test_members_and_other_organisations_are_refused(admin_actor, member_actor, outsider_admin):
    with pytest.raises(NotAllowed):
        _create(member_actor)
    source = _create(admin_actor)
    outsider = Actor.for_user(outsider_admin)
    with pytest.raises(NotAllowed):
        telematics_source_update(actor=outsider, source=source, changes={"name": "Mine"})
    with pytest.raises(NotAllowed):
        telematics_source_delete(actor=outsider, source=source)
    with pytest.raises(NotAllowed):
        telematics_poll_request(actor=member_actor, source=source)
    with pytest.raises(NotAllowed):
        _create(Actor.system())


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"name": "  "}, "name_required", "name"),
        ({"name": "x" * 121}, "name_too_long", "name"),
        ({"base_url": ""}, "url_required", "base_url"),
        ({"base_url": "ftp://feed.example/aemp"}, "url_refused", "base_url"),
        ({"base_url": "https://user:pw@127.0.0.1/aemp"}, "url_refused", "base_url"),
        ({"base_url": "https://127.0.0.1/" + "a" * 500}, "url_too_long", "base_url"),
        ({"poll_minutes": 4}, "poll_minutes_invalid", "poll_minutes"),
        ({"poll_minutes": 1441}, "poll_minutes_invalid", "poll_minutes"),
        ({"poll_minutes": True}, "poll_minutes_invalid", "poll_minutes"),
        ({"auth": SourceAuth(type="kerberos", secret="x")}, "auth_type_invalid", "auth_type"),
        ({"auth": SourceAuth(type=AuthType.BASIC, secret="x")}, "username_required", "username"),
        ({"auth": SourceAuth(type=AuthType.BASIC, username="u" * 201, secret="x")}, "too_long", "username"),
        ({"auth": SourceAuth(type=AuthType.BASIC, username="u")}, "secret_required", "secret"),
        ({"auth": SourceAuth(type=AuthType.BASIC, username="u", secret="a\nb")}, "secret_invalid", "secret"),
        (
            {"auth": SourceAuth(type=AuthType.OAUTH2, token_url="", client_id="c", secret="x")},
            "url_required",
            "token_url",
        ),
        (
            {"auth": SourceAuth(type=AuthType.OAUTH2, token_url="https://127.0.0.1/token", secret="x")},
            "client_id_required",
            "client_id",
        ),
        (
            {"auth": SourceAuth(type=AuthType.HEADER, header_name="Host", secret="x")},
            "header_name_invalid",
            "header_name",
        ),
        (
            {"auth": SourceAuth(type=AuthType.HEADER, header_name="X Key", secret="x")},
            "header_name_invalid",
            "header_name",
        ),
    ],
)
def test_invalid_input_names_its_field(admin_actor, overrides, code, field):
    with pytest.raises(InvalidInput) as raised:
        _create(admin_actor, **overrides)
    assert (raised.value.code, raised.value.field) == (code, field)


@override_settings(OUTBOUND_ALLOW_PRIVATE_TARGETS=False)
def test_private_and_loopback_targets_are_refused_unless_the_deployment_allows_them(admin_actor):
    for url in ("https://127.0.0.1/aemp", "http://10.0.0.8/aemp", "http://[::1]/aemp", "http://169.254.169.254/"):
        with pytest.raises(InvalidInput) as raised:
            _create(admin_actor, base_url=url)
        assert raised.value.code == "url_refused"
    oauth = SourceAuth(type=AuthType.OAUTH2, token_url="http://192.168.1.1/token", client_id="c", secret="x")
    with pytest.raises(InvalidInput) as raised:
        _create(admin_actor, base_url="https://93.184.215.14/aemp", auth=oauth)
    assert raised.value.field == "token_url"


def test_names_are_unique_per_organisation(admin_actor, outsider_admin):
    _create(admin_actor)
    with pytest.raises(InvalidInput) as raised:
        _create(admin_actor)
    assert raised.value.code == "name_taken"
    _create(Actor.for_user(outsider_admin))  # another organisation may use the name
    other = _create(admin_actor, name="JDLink")
    with pytest.raises(InvalidInput):
        telematics_source_update(actor=admin_actor, source=other, changes={"name": "VisionLink"})


def test_changing_other_fields_keeps_the_secret_and_a_new_kind_of_auth_needs_one(admin_actor, frozen):
    frozen(NOW)
    source = _create(admin_actor)
    telematics_source_update(
        actor=admin_actor,
        source=source,
        changes={"name": "CAT", "auth": SourceAuth(type=AuthType.BASIC, username="other")},
        now=NOW,
    )
    source.refresh_from_db()
    assert (source.name, source.username, source.secret) == ("CAT", "other", "s3cret")
    with pytest.raises(InvalidInput) as raised:
        telematics_source_update(
            actor=admin_actor, source=source, changes={"auth": SourceAuth(type=AuthType.HEADER, header_name="X-Key")}
        )
    assert raised.value.code == "secret_required"
    telematics_source_update(
        actor=admin_actor,
        source=source,
        changes={"auth": SourceAuth(type=AuthType.HEADER, header_name="X-Key", secret="k3y")},
    )
    source.refresh_from_db()
    assert (source.auth_type, source.header_name, source.username, source.secret) == ("header", "X-Key", "", "k3y")
    updates = AuditEvent.objects.filter(target_id=source.pk, action="updated").order_by("occurred_at", "id")
    assert [sorted(change["field"] for change in event.changes) for event in updates] == [
        ["name", "username"],
        ["auth_type", "header_name", "secret", "username"],
    ]
    assert all("k3y" not in str(event.changes) for event in updates)


def test_an_update_that_changes_nothing_writes_nothing(admin_actor):
    source = _create(admin_actor)
    telematics_source_update(actor=admin_actor, source=source, changes={"name": "VisionLink", "poll_minutes": 60})
    assert AuditEvent.objects.filter(target_id=source.pk).count() == 1
    with pytest.raises(ValueError, match="secret"):
        telematics_source_update(actor=admin_actor, source=source, changes={"secret": "x"})


def test_a_shorter_interval_brings_the_next_poll_forward(admin_actor, frozen):
    frozen(NOW)
    source = _create(admin_actor)
    TelematicsSource.objects.filter(pk=source.pk).update(next_poll_at=NOW + dt.timedelta(hours=1))
    source.refresh_from_db()
    telematics_source_update(actor=admin_actor, source=source, changes={"poll_minutes": 10}, now=NOW)
    source.refresh_from_db()
    assert source.next_poll_at == NOW + dt.timedelta(minutes=10)


def test_delete_forgets_the_source_and_its_runs_and_is_audited(admin_actor):
    source = _create(admin_actor)
    source_id = source.pk
    TelematicsRun.objects.create(source=source)
    telematics_source_delete(actor=admin_actor, source=source)
    assert not TelematicsSource.objects.exists()
    assert not TelematicsRun.objects.exists()
    assert AuditEvent.objects.filter(target_id=source_id, action="deleted").exists()


def test_the_database_refuses_incomplete_auth_and_odd_intervals(owner_org):
    from django.db import IntegrityError, transaction

    for values in (
        {"auth_type": "basic", "username": "", "secret": "x"},
        {"auth_type": "oauth2", "token_url": "https://t.example", "client_id": "", "secret": "x"},
        {"auth_type": "header", "header_name": "X-Key", "secret": ""},
        {"auth_type": "header", "header_name": "X-Key", "secret": "x", "poll_minutes": 2},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            TelematicsSource.objects.create(organisation=owner_org, name="x", base_url="https://f.example", **values)
