# The moved workspace table takes fleet's name, and its unique name constraint too.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_workspace_moves_to_fleet"),
        ("fleet", "0002_workspace_moves_from_accounts"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="workspace", name="accounts_workspace_unique_name"),
        migrations.AlterModelTable(name="workspace", table=None),
        migrations.AddConstraint(
            model_name="workspace",
            constraint=models.UniqueConstraint(fields=("organisation", "name"), name="fleet_workspace_unique_name"),
        ),
    ]
