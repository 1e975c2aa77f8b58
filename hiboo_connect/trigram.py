"""Trigram indexes for the lists' substring search (PostgreSQL's pg_trgm): what a migration adds so that
`icontains` — which Django writes as `UPPER(column::text) LIKE UPPER('%…%')` — is served by an index instead of a
scan of every row. SQLite has no such index and searches by scanning, which is fine at its size."""

from django.db import migrations


def _index_name(table: str, column: str) -> str:
    return f"{table}_{column}_trgm"[:63]


def trigram_indexes(table: str, columns: list[str]) -> migrations.RunPython:
    """A migration operation: the pg_trgm extension (kept when migrating back: other apps' indexes may use it), then
    one GIN index on UPPER(column) per column (the expression icontains compares), on PostgreSQL only. Not in the
    models' Meta: SQLite could not build them. pg_trgm is a trusted extension: the database's owner may create it."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in columns:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{_index_name(table, column)}" ON "{table}" '
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in columns:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{_index_name(table, column)}"')

    return migrations.RunPython(create, drop, elidable=False)
