"""Inserting many rows fast, for the writes that come by the thousand (a batch import of orders).

`insert_objects` writes unsaved model instances with one `executemany` per table: what
`bulk_create` does minus its per-value work (measured on a batch of 1,000 orders: bulk_create's
SQL compilation took ten times the inserts themselves). Values are prepared once per field type,
as the database backend does (aware datetimes as UTC text on SQLite, JSON through the field), and
the instances get their ids first (`allocate_ids`), so that rows that point at them (lines, audit
entries, events' deliveries) can be written next.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone


def allocate_ids(model: type[models.Model], n: int) -> list[int]:
    """`n` primary keys for rows about to be inserted with explicit ids. Call inside the
    transaction that inserts them: on SQLite it holds the write lock (BEGIN IMMEDIATE), so no
    one else can take the same ids; on PostgreSQL the sequence hands them out."""
    if n <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + n))


class _SqliteDatetime:
    """What Django's SQLite backend stores for an aware datetime: naive UTC, as text. Remembers
    the last value: the rows of a batch share their timestamps."""

    def __init__(self) -> None:
        self.last: tuple[Any, Any] = (None, None)

    def __call__(self, value: Any) -> Any:
        if value is self.last[0]:
            return self.last[1]
        text = value
        if isinstance(value, dt.datetime):
            moment = value.astimezone(dt.UTC).replace(tzinfo=None) if timezone.is_aware(value) else value
            text = moment.isoformat(" ")
        self.last = (value, text)
        return text


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    if isinstance(field, models.DateTimeField):
        return _SqliteDatetime() if connection.vendor == "sqlite" else None
    if isinstance(field, models.DateField):
        return lambda value: None if value is None else value.isoformat()
    if isinstance(field, models.JSONField):
        if connection.vendor == "sqlite":
            encoder = field.encoder
            return lambda value: None if value is None else json.dumps(value, cls=encoder)
        return lambda value: field.get_db_prep_save(value, connection)
    return None


def insert_objects(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """INSERT unsaved `objects` of `model` with one executemany, giving each its id (set on the
    instance). Defaults and `auto_now` timestamps are filled as `save()` would."""
    if not objects:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    auto_now = [f.attname for f in fields if getattr(f, "auto_now", False)]
    auto_now_add = [f.attname for f in fields if getattr(f, "auto_now_add", False)]
    for obj, pk in zip(objects, allocate_ids(model, len(objects)), strict=True):
        obj.pk = pk
        for name in auto_now:
            setattr(obj, name, now)
        for name in auto_now_add:
            if getattr(obj, name) is None:
                setattr(obj, name, now)
        obj._state.adding = False
        obj._state.db = connection.alias
    converters = [(f.attname, _converter(f)) for f in fields]
    rows = [
        [
            obj.pk,
            *(getattr(obj, name) if convert is None else convert(getattr(obj, name)) for name, convert in converters),
        ]
        for obj in objects
    ]
    quote = connection.ops.quote_name
    columns = ", ".join([quote(model._meta.pk.column or "id"), *(quote(f.column or f.attname) for f in fields)])
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * (len(fields) + 1))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _same(value: Any) -> Any:
    return value


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """INSERT rows given as {attname: value} (no model instances to build: the cheapest way to
    write thousands), with one executemany; fields left out take their default. Their new ids."""
    if not rows:
        return []
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    default_at: dict[int, Callable[[], Any]] = {}
    for position, f in enumerate(fields, start=1):
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            default_at[position] = functools.partial(_same, now)
        elif f.has_default():
            default_at[position] = f.get_default if callable(f.default) else functools.partial(_same, f.get_default())
        elif f.null:
            default_at[position] = functools.partial(_same, None)
    converters = [(position, convert) for position, f in enumerate(fields, start=1) if (convert := _converter(f))]
    names = [f.attname for f in fields]
    ids = allocate_ids(model, len(rows))
    prepared = []
    for pk, values in zip(ids, rows, strict=True):
        row = [pk]
        for position, name in enumerate(names, start=1):
            if name in values:
                row.append(values[name])
            elif position in default_at:
                row.append(default_at[position]())
            else:
                raise ValueError(f"{model._meta.label}.{name} needs a value")
        for position, convert in converters:
            row[position] = convert(row[position])
        prepared.append(row)
    quote = connection.ops.quote_name
    columns = ", ".join([quote(model._meta.pk.column or "id"), *(quote(f.column or f.attname) for f in fields)])
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * (len(fields) + 1))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)
    return ids
