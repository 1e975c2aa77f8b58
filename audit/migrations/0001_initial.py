"""The audit trail, taken over from the sharing app: sharing's migration 0005 renamed its table to
audit_auditevent (rows kept), so this one only declares the model in the migration state. On a new database the
same two steps create the table under its new name. Its content type moves along, and the admin permissions with it.
Targets and actions are plain strings here; the apps register their labels (audit/vocabulary.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import audit.vocabulary


def move_content_type(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
    if not content_types.filter(app_label="audit", model="auditevent").exists():
        content_types.filter(app_label="sharing", model="auditevent").update(app_label="audit")


def move_content_type_back(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
    if not content_types.filter(app_label="sharing", model="auditevent").exists():
        content_types.filter(app_label="audit", model="auditevent").update(app_label="sharing")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0003_colleague_invitations"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("sharing", "0005_auditevent_to_audit_app"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("occurred_at", models.DateTimeField(db_index=True, verbose_name="when")),
                        (
                            "actor_kind",
                            models.CharField(
                                choices=[("user", "User"), ("api_key", "API key"), ("system", "System")],
                                max_length=10,
                                verbose_name="actor kind",
                            ),
                        ),
                        ("actor_label", models.CharField(max_length=255, verbose_name="actor")),
                        (
                            "target_type",
                            models.CharField(
                                choices=audit.vocabulary.target_choices, max_length=20, verbose_name="target type"
                            ),
                        ),
                        ("target_id", models.UUIDField(verbose_name="target id")),
                        (
                            "action",
                            models.CharField(
                                choices=audit.vocabulary.action_choices, max_length=30, verbose_name="action"
                            ),
                        ),
                        (
                            "changes",
                            models.JSONField(
                                blank=True,
                                default=list,
                                help_text="[{field, before, after}, ...]",
                                verbose_name="changes",
                            ),
                        ),
                        (
                            "actor_user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="user",
                            ),
                        ),
                        (
                            "organisation",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="audit_events",
                                to="accounts.organisation",
                                verbose_name="organisation",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "audit event",
                        "verbose_name_plural": "audit events",
                        "ordering": ["occurred_at", "id"],
                        "indexes": [
                            models.Index(fields=["target_type", "target_id", "occurred_at"], name="audit_by_target")
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=True),
    ]
