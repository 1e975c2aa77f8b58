"""The migrations that move tables between apps keep their rows: a database at the old head, with data, migrates
forward (and back) on SQLite and PostgreSQL alike."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD_HEAD = [("audit", None), ("sharing", "0003_notification_colleague_invitations_and_machine_audit")]
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([target for target in targets if target[1] is not None]).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_the_audit_trail_moves_to_the_audit_app_with_its_rows():
    old = migrate(OLD_HEAD)
    organisation = old.get_model("accounts", "Organisation").objects.create(name="Rent & Go", slug="rent-and-go")
    target_id = uuid.uuid4()
    old.get_model("sharing", "AuditEvent").objects.create(
        occurred_at=NOW,
        organisation_id=organisation.pk,
        actor_kind="system",
        actor_label="system",
        target_type="sharing",
        target_id=target_id,
        action="status_changed",
        changes=[{"field": "status", "before": "scheduled", "after": "in_progress"}],
    )
    content_types = old.get_model("contenttypes", "ContentType").objects
    content_types.get_or_create(app_label="sharing", model="auditevent")

    new = migrate(latest())
    (event,) = new.get_model("audit", "AuditEvent").objects.all()
    assert (event.organisation_id, event.target_type, event.target_id, event.action) == (
        organisation.pk,
        "sharing",
        target_id,
        "status_changed",
    )
    assert event.changes == [{"field": "status", "before": "scheduled", "after": "in_progress"}]
    content_types = new.get_model("contenttypes", "ContentType").objects
    assert content_types.filter(app_label="audit", model="auditevent").exists()
    assert not content_types.filter(app_label="sharing", model="auditevent").exists()

    back = migrate(OLD_HEAD)
    assert back.get_model("sharing", "AuditEvent").objects.get().target_id == target_id
    migrate(latest())
