"""The notification outbox became the outbox app (generic over subjects); its rows were copied there by
outbox/migrations/0001_initial.py. Going back, that migration copies them back into the table recreated here."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('sharing', '0007_sharing_timestamps_from_the_services'),
        ('outbox', '0001_initial'),
    ]

    operations = [
        migrations.DeleteModel(
            name='Notification',
        ),
    ]
