"""The audit trail moves to the audit app with its rows: the table is renamed, nothing is copied. The audit app's
first migration takes the model over in the migration state (audit/migrations/0001_initial.py)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0004_sharing_due_indexes_from_lifecycle"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name="auditevent", table="audit_auditevent")],
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
        ),
    ]
