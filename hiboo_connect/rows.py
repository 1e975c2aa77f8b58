"""Model instances from plain SQL, for the few reads that every API request makes (its API key, the recipient's
account, a contract and its sharings). Django builds a queryset's SQL anew on every call, and on these small reads
that costs several times the query itself (measured in docs/benchmarks.md). Here each model's column list and
converters are worked out once per process; a row becomes an instance through Model.from_db, as the ORM's own
iterator makes it, after the same converters (the database's and the field's: JSON, UUIDs and dates on SQLite)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.db import connection
from django.db.models import Field, ForeignKey, Model

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Columns(Generic[M]):
    """Every concrete column of `model`, in the order Model.from_db takes them, and each one's converters."""

    model: type[M]
    fields: tuple[Field, ...]
    #: Each column's expression (what a converter is handed) and its converters.
    converters: tuple[tuple[Any, tuple[Callable, ...]], ...]

    def __len__(self) -> int:
        return len(self.fields)

    def select(self, alias: str) -> str:
        """The columns as a SELECT lists them, read from the table under `alias`."""
        quote = connection.ops.quote_name
        return ", ".join(f"{quote(alias)}.{quote(field.column)}" for field in self.fields)

    def instance(self, values: Sequence[Any]) -> M:
        """The instance of a row's values (its own slice of a wider row)."""
        converted = list(values)
        for index, (expression, converters) in enumerate(self.converters):
            if converters:
                value = converted[index]
                for converter in converters:
                    value = converter(value, expression, connection)
                converted[index] = value
        return self.model.from_db(connection.alias, self.attnames, converted)

    @functools.cached_property
    def attnames(self) -> list[str]:
        return [field.attname for field in self.fields]

    def optional(self, values: Sequence[Any]) -> M | None:
        """The instance of a LEFT JOINed row, None when it joined nothing (its primary key is null)."""
        return None if values[self.pk_index] is None else self.instance(values)

    @functools.cached_property
    def pk_index(self) -> int:
        return self.fields.index(self.model._meta.pk)


@functools.cache
def _columns(model: type[Model], vendor: str) -> Columns:
    fields = tuple(model._meta.concrete_fields)
    return Columns(model, fields, tuple(_converters(field.get_col(model._meta.db_table)) for field in fields))


def _converters(column) -> tuple[Any, tuple[Callable, ...]]:
    """A column's converters, as the ORM's compiler finds them: the database's, then the field's."""
    return column, tuple(connection.ops.get_db_converters(column) + column.get_db_converters(connection))


def reader(model: type[Model], name: str) -> Callable[[Any], Any]:
    """What turns a value of the field `name` as the database gives it into the Python value (a UUID from its 32 hex
    digits on SQLite, say), for a plain query's single columns."""
    return _reader(model, name, connection.vendor)


@functools.cache
def _reader(model: type[Model], name: str, vendor: str) -> Callable[[Any], Any]:
    column, converters = _converters(_field(model, name).get_col(model._meta.db_table))

    def read(value: Any) -> Any:
        for converter in converters:
            value = converter(value, column, connection)
        return value

    return read


def columns(model: type[M]) -> Columns[M]:
    return _columns(model, connection.vendor)


def select(model: type[Model], alias: str) -> str:
    """columns(model).select(alias), worked out once per process."""
    return _select(model, alias, connection.vendor)


@functools.cache
def _select(model: type[Model], alias: str, vendor: str) -> str:
    return columns(model).select(alias)


def param(model: type[Model], name: str, value: Any) -> Any:
    """A value as the database stores the field (a UUID as 32 hex digits on SQLite, say)."""
    return _field(model, name).get_db_prep_value(value, connection)


def joined(model: type[M], relation: str, sql: str, params: Sequence[Any]) -> list[M]:
    """Instances of `model` each with the object its foreign key `relation` names, from rows that list the model's
    columns then the related model's (`columns(...).select(alias)` twice); the related object is None where the LEFT
    JOIN found none."""
    return joined_many(model, (relation,), fetch(sql, params))


def joined_many(model: type[M], relations: Sequence[str], found_rows: Iterable[Sequence[Any]]) -> list[M]:
    """joined for several foreign keys: rows list the model's columns, then each related model's in the order of
    `relations`. Each related object is made once per primary key and shared by the instances that name it (a batch
    of a thousand sharings of one owner makes one organisation, not a thousand)."""
    fields = [cast(ForeignKey, _field(model, relation)) for relation in relations]
    own = columns(model)
    related = [columns(cast(type[Model], field.related_model)) for field in fields]
    made: list[dict] = [{} for _field in fields]
    found = []
    for row in found_rows:
        instance = own.instance(row[: len(own)])
        start = len(own)
        for field, their_columns, known in zip(fields, related, made, strict=True):
            values = row[start : start + len(their_columns)]
            start += len(their_columns)
            key = values[their_columns.pk_index]
            if key is None:
                field.set_cached_value(instance, None)
                continue
            if (other := known.get(key)) is None:
                other = known[key] = their_columns.instance(values)
            field.set_cached_value(instance, other)
        found.append(instance)
    return found


def _field(model: type[Model], name: str) -> Field:
    return cast(Field, model._meta.get_field(name))


def fetch(sql: str, params: Sequence[Any]) -> Iterator[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        yield from cursor.fetchall()
