# The workspaces a beneficiary places received machines in are fleet's now (fleet 0002); the table is the same.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0002_workspace_moves_from_accounts"),
        ("sharing", "0005_auditevent_to_audit_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="receivedmachine",
                    name="workspaces",
                    field=models.ManyToManyField(
                        blank=True, related_name="received_machines", to="fleet.workspace", verbose_name="workspaces"
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
