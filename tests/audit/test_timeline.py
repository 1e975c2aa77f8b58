"""The one renderer of audit changes and the vocabulary the apps register with it."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import TextChoices

from audit.models import AuditEvent
from audit.timeline import audit_timeline, readable_value
from audit.vocabulary import action_choices, audit_vocabulary_register, target_choices

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)


def event(organisation, target_type, action, changes):
    return AuditEvent(
        occurred_at=NOW,
        organisation=organisation,
        actor_kind="system",
        actor_label="system",
        target_type=target_type,
        target_id=uuid.uuid4(),
        action=action,
        changes=changes,
    )


def test_every_app_registers_its_targets_and_actions():
    assert {"sharing", "received_machine", "machine"} <= dict(target_choices()).keys()
    assert dict(action_choices())["workspaces_changed"] == "Workspaces changed"


def test_a_value_registered_twice_must_mean_the_same():
    class Clashing(TextChoices):
        CREATED = "created", "Made"

    with pytest.raises(ImproperlyConfigured):
        audit_vocabulary_register(actions=Clashing)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        ("", "—"),
        ([], "—"),
        ({}, "—"),
        (True, "yes"),
        (["a", "b"], "a, b"),
        ({"customer": "ACME"}, "customer: ACME"),
        (3, "3"),
    ],
)
def test_fields_no_app_describes_read_plainly(value, text):
    assert readable_value(value) == text


def test_each_target_reads_its_own_fields(owner_org):
    items = audit_timeline(
        [
            event(owner_org, "sharing", "updated", [{"field": "notification_enabled", "before": True, "after": False}]),
            event(owner_org, "sharing", "created", [{"field": "reference", "before": None, "after": "C-1"}]),
            event(owner_org, "machine", "workspaces_changed", [{"field": "workspaces", "before": [], "after": None}]),
        ],
        organisation=owner_org,
        without_changes=["created"],
    )
    assert [item["changes"] for item in items] == [
        [{"label": "Notifications", "before": "on", "after": "off"}],
        [],
        [{"label": "Workspaces", "before": "no workspace", "after": "no workspace"}],
    ]
