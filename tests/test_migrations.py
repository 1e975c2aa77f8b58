"""The migrations that move tables between apps keep their rows (the audit trail to the audit app, the notification
outbox to the outbox app): a database at the old head, with data, migrates
forward (and back) on SQLite and PostgreSQL alike."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD_HEAD = [
    ("outbox", None),
    ("audit", None),
    ("sharing", "0003_notification_colleague_invitations_and_machine_audit"),
]
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


def notification(old, **fields):
    return old.get_model("sharing", "Notification").objects.create(
        language="fr",
        time_zone="Europe/Paris",
        context={"reference": "C-42"},
        status="failed",
        attempts=8,
        last_error="SMTPRecipientsRefused: 550",
        next_attempt_at=NOW,
        created_at=NOW,
        **fields,
    )


@pytest.mark.django_db(transaction=True)
def test_the_notification_outbox_moves_to_the_outbox_app_with_its_subjects():
    old = migrate(OLD_HEAD)
    organisation = old.get_model("accounts", "Organisation").objects.create(name="Rent & Go", slug="rent-and-go")
    sharing = old.get_model("sharing", "Sharing").objects.create(
        owner_id=organisation.pk,
        sender_label="admin@rentandgo.example",
        recipient_email="site@buildco.example",
        start_at=NOW,
        status="pending",
        data_packs=["essential"],
    )
    invitation = old.get_model("accounts", "ColleagueInvitation").objects.create(
        organisation_id=organisation.pk, email="colleague@rentandgo.example", token="token", expires_at=NOW
    )
    about_sharing = notification(
        old,
        key=f"sharing:{sharing.pk}:created",
        organisation_id=organisation.pk,
        sharing_id=sharing.pk,
        message="sharing_invitation",
        to_email="site@buildco.example",
    )
    about_invitation = notification(
        old,
        key=f"colleague_invitation:{invitation.pk}:abc",
        organisation_id=organisation.pk,
        colleague_invitation_id=invitation.pk,
        message="colleague_invitation",
        to_email="colleague@rentandgo.example",
    )

    new = migrate(latest())
    rows = new.get_model("outbox", "Message").objects.order_by("kind")
    assert [
        (row.pk, row.key, row.kind, row.channel, row.subject_type, row.subject_id, row.recipient) for row in rows
    ] == [
        (
            about_invitation.pk,
            about_invitation.key,
            "colleague_invitation",
            "email",
            "colleague_invitation",
            invitation.pk,
            "colleague@rentandgo.example",
        ),
        (
            about_sharing.pk,
            about_sharing.key,
            "sharing_invitation",
            "email",
            "sharing",
            sharing.pk,
            "site@buildco.example",
        ),
    ]
    for row in rows:
        assert (row.organisation_id, row.language, row.time_zone, row.context) == (
            organisation.pk,
            "fr",
            "Europe/Paris",
            {"reference": "C-42"},
        )
        assert (row.status, row.attempts, row.last_error, row.next_attempt_at, row.sent_at, row.created_at) == (
            "failed",
            8,
            "SMTPRecipientsRefused: 550",
            NOW,
            None,
            NOW,
        )

    back = migrate(OLD_HEAD)
    restored = back.get_model("sharing", "Notification").objects.order_by("message")
    assert [(row.pk, row.sharing_id, row.colleague_invitation_id, row.to_email) for row in restored] == [
        (about_invitation.pk, None, invitation.pk, "colleague@rentandgo.example"),
        (about_sharing.pk, sharing.pk, None, "site@buildco.example"),
    ]
    migrate(latest())
