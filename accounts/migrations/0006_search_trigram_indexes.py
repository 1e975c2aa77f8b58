"""Substring search served by trigram indexes on PostgreSQL (hiboo_connect/trigram.py says how)."""

from django.db import migrations

from hiboo_connect.trigram import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_organisation_created_at_from_the_service")]

    operations = [
        trigram_indexes("accounts_organisation", ["name"]),
    ]
