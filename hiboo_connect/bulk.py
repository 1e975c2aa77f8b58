"""Writing a batch of model instances in one statement, without bulk_create's field-by-field preparation of every
value (a tenth of a millisecond a row, most of the lifecycle job's time in a batch of a thousand sharings).

On PostgreSQL the batch travels as one JSON parameter and is inserted by one `INSERT … SELECT … FROM
json_populate_recordset(…)`, whatever its size; the values are taken as the instances hold them (uuid, datetime, str,
bool, int, and what JSON columns hold). Elsewhere (SQLite) each value goes through its field's get_db_prep_save and
the rows are inserted in chunks that fit the database's limit on parameters.

Only for plain rows: no auto_now or other pre_save logic, no signals (bulk_create sends none either). An auto-
increment primary key and a column left to its database default (db_default) are not written; they are filled in by
the database and not read back, unless `returning` asks for a column."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.db import connection, models
from django.db.models.expressions import DatabaseDefault


def _written_fields(model: type[models.Model], sample: models.Model) -> list[models.Field]:
    fields = []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.AutoField | models.BigAutoField | models.SmallAutoField):
            continue
        if isinstance(getattr(sample, field.attname), DatabaseDefault):
            continue
        fields.append(field)
    return fields


def objects_insert(
    objects: Sequence[models.Model], *, ignore_conflicts: bool = False, returning: str | None = None
) -> list:
    """Insert these instances of one model. With `ignore_conflicts`, a row that breaks a unique constraint is
    skipped (ON CONFLICT DO NOTHING). Returns the `returning` column of the rows written, in no particular order, or
    [] when it is not given. The instances written are marked as saved, as bulk_create does, so that a later
    save() of one updates its row instead of inserting it again."""
    if not objects:
        return []
    model = type(objects[0])
    fields = _written_fields(model, objects[0])
    insert = _insert_json if connection.vendor == "postgresql" else _insert_chunks
    written = insert(model, fields, objects, ignore_conflicts=ignore_conflicts, returning=returning)
    if not ignore_conflicts or returning == model._meta.pk.name:
        kept = set(written) if ignore_conflicts else None
        for instance in objects:
            if kept is None or instance.pk in kept:
                instance._state.adding = False
                instance._state.db = connection.alias
    return written


def _plain(value):
    """What json cannot encode by itself, as PostgreSQL reads it back for the column's type."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be written by objects_insert")


def _insert_json(model, fields, objects, *, ignore_conflicts: bool, returning: str | None) -> list:
    # The whole batch is one JSON parameter, read back as rows of the table's type: one C-encoded string to send
    # (a text array per column would be quoted element by element in Python, slowly for JSON values).
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = [(field.column, field.attname) for field in fields]
    rows = [{name: getattr(instance, attname) for name, attname in names} for instance in objects]
    columns = ", ".join(quote(name) for name, _attname in names)
    sql = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM json_populate_recordset(NULL::{table}, %s::json)"
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {quote(model._meta.get_field(returning).column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(rows, default=_plain, ensure_ascii=False, separators=(",", ":"))])
        return [row[0] for row in cursor.fetchall()] if returning else []


def _insert_chunks(model, fields, objects, *, ignore_conflicts: bool, returning: str | None) -> list:
    quote = connection.ops.quote_name
    per_row = len(fields)
    rows_per_statement = max(1, (connection.features.max_query_params or 999) // per_row)
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) VALUES "
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    returned_field = model._meta.get_field(returning) if returning else None
    if returned_field is not None:
        tail += f" RETURNING {quote(returned_field.column)}"
    row_sql = "(" + ", ".join(["%s"] * per_row) + ")"
    written = []
    with connection.cursor() as cursor:
        for first in range(0, len(objects), rows_per_statement):
            chunk = objects[first : first + rows_per_statement]
            params = [
                field.get_db_prep_save(getattr(instance, field.attname), connection)
                for instance in chunk
                for field in fields
            ]
            cursor.execute(head + ", ".join([row_sql] * len(chunk)) + tail, params)
            if returned_field is not None:
                written += [returned_field.to_python(row[0]) for row in cursor.fetchall()]
    return written
