"""Many events written at once into the event log (core.Event), for the tracker's batches.

`core.events.emit` writes one event per call (a savepoint and an INSERT each); a batch of 100
tracker events is one INSERT … ON CONFLICT DO NOTHING RETURNING here: the database says which
message ids were new, so two workers can never both count one event, and the outbox rows of the
new events are written in the same transaction, exactly like emit() does (docs/adr/0005).
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from vinculo.core.delivery import deliveries_write
from vinculo.core.models import Event

EVENT_COLUMNS = (
    "organization_id",
    "contact_id",
    "company_id",
    "anonymous_id",
    "type",
    "source",
    "properties",
    "actor_id",
    "occurred_at",
    "received_at",
    "message_id",
    "created_at",
    "updated_at",
)
RELATIONS = {"organization_id", "contact_id", "company_id", "actor_id"}
TIME_COLUMNS = {"occurred_at", "received_at", "created_at", "updated_at"}


def insert_events_returning(rows: list[dict[str, Any]]) -> dict[str, int]:
    """INSERT the rows (dicts with EVENT_COLUMNS), skipping message ids already stored for the
    organisation; returns {message_id: id} of the rows really inserted, whose outbox rows (one per
    consumer of their type) are written in the same transaction."""
    if not rows:
        return {}
    meta = Event._meta
    fields: list[Any] = [meta.get_field(c.removesuffix("_id") if c in RELATIONS else c) for c in EVENT_COLUMNS]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    properties_field = meta.get_field("properties")
    adapt_time = connection.ops.adapt_datetimefield_value
    times: dict[Any, Any] = {}  # created_at, updated_at, received_at are the same for a whole batch
    params: list[Any] = []
    for row in rows:
        for name in EVENT_COLUMNS:
            value = row.get(name)
            if name == "properties":
                value = properties_field.get_db_prep_save(value, connection)
            elif name in TIME_COLUMNS:
                adapted = times.get(value)
                if adapted is None:
                    adapted = times[value] = adapt_time(value)
                value = adapted
            params.append(value)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES "
        + ", ".join([placeholder] * len(rows))
        + ' ON CONFLICT ("organization_id", "message_id") DO NOTHING RETURNING "id", "message_id"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = {message_id: pk for pk, message_id in cursor.fetchall()}
    by_message = {row["message_id"]: row for row in rows}
    deliveries_write(
        (by_message[message_id]["organization_id"], pk, by_message[message_id]["type"])
        for message_id, pk in inserted.items()
    )
    return inserted


def update_rows(model: Any, objects: list[Any], field_names: list[str]) -> None:
    """One `UPDATE … WHERE id = ?` per object, sent with executemany: Django's bulk_update builds a
    CASE expression per field and row, which costs more than the statements it saves here."""
    if not objects:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {assignments} WHERE {connection.ops.quote_name(meta.pk.column)} = %s"
    params = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk] for obj in objects]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
