# Workspaces belong to fleet (DESIGN §5). The model moves from accounts without touching its rows: the state moves
# here first with the old table, every relation is pointed at it, accounts forgets it, then the table is renamed.

import uuid

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_colleague_invitations"),
        ("fleet", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Workspace",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("name", models.CharField(max_length=120, verbose_name="name")),
                        (
                            "organisation",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="workspaces",
                                to="accounts.organisation",
                                verbose_name="organisation",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "workspace",
                        "verbose_name_plural": "workspaces",
                        "ordering": ["name"],
                        "db_table": "accounts_workspace",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("organisation", "name"), name="accounts_workspace_unique_name"
                            )
                        ],
                    },
                ),
                migrations.AlterField(
                    model_name="machine",
                    name="workspaces",
                    field=models.ManyToManyField(
                        blank=True, related_name="machines", to="fleet.workspace", verbose_name="workspaces"
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
