"""Substring search served by trigram indexes on PostgreSQL (hiboo_connect/trigram.py says how)."""

from django.db import migrations

from hiboo_connect.trigram import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("sharing", "0009_list_order_indexes")]

    operations = [
        trigram_indexes("sharing_sharing", ["reference", "recipient_email", "recipient_organisation_name"]),
        trigram_indexes("sharing_receivedmachine", ["name"]),
    ]
