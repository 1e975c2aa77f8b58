# Workspaces belong to fleet now (fleet 0002): accounts forgets the model; its table and rows stay for fleet.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_colleague_invitations"),
        ("fleet", "0002_workspace_moves_from_accounts"),
        ("sharing", "0006_received_machine_workspaces_in_fleet"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Workspace")],
            database_operations=[],
        ),
    ]
