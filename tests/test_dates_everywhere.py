"""Every date a client or a user sets is bounded to 1900–2200, and a new one cannot slip in unbounded.

- The API: every input (request body property or query parameter) that is a date or a date-time,
  by its OpenAPI format or by its name (`*_at`, `*_on`, `*_date`, `from`, `start`, …), carries the
  range (`x-date-range`), which only the bounded types and parameters of `vinculo.core.api` add.
- The models: every DateField and DateTimeField is listed below as set by people or clients (and
  where that input is bounded) or as set by Vínculo itself; a new field fails until it is listed.
"""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.db import models

from config.api import api

DATE_NAME = re.compile(r"(_at|_on|_date|_after|_before|_until|_from|_month)$")
DATE_PARAMETERS = {"from", "to", "start", "end", "date"}  # query parameters only (a body's `to` is an address)

# model field → where a person or a client sets it, and the check that bounds it
SET_FROM_OUTSIDE = {
    "sales.Deal.expected_close_date": "deal services, clean_date (API: BoundedDate)",
    "sales.ExchangeRate.valid_from": "rate services, clean_date (API: BoundedDate)",
    "sales.Quote.valid_until": "document services, clean_date (API: BoundedDate)",
    "sales.Order.placed_at": "document services (_clean_placed_at) and the shop webhooks (orders_in)",
    "sales.Refund.refunded_at": "refund services (refund_clean: check_date_range, not in the future), shop webhooks",
    "sales.Activity.due_at": "activity services, clean_datetime",
    "sales.OutOfOffice.starts_on": "assignment services, clean_date",
    "sales.OutOfOffice.ends_on": "assignment services, clean_date",
    "sales.Quota.starts_on": "quota services, clean_date",
    "core.Event.occurred_at": "tracker (BoundedDateTime, sent_at), lead ads (in_date_range), mail (its own clamp)",
}
# set by Vínculo (now, or computed from bounded input): nothing to bound
SET_BY_VINCULO = {
    "touchpoints.Integration.token_error_at",
    "touchpoints.LeadFetch.done_at",
    "touchpoints.LeadFetch.next_attempt_at",
    "sales.Order.deleted_at_source",  # now, when a shop says the order was deleted
    "accounts.ApiToken.last_used_at",
    "accounts.ApiToken.revoked_at",
    "accounts.Invitation.accepted_at",
    "accounts.Invitation.expires_at",
    "accounts.Invitation.revoked_at",
    "accounts.Membership.checklist_dismissed_at",
    "accounts.LoginAttempt.attempted_at",
    "accounts.User.date_joined",
    "accounts.User.last_login",
    "contacts.Contact.last_activity_at",
    "core.Event.received_at",
    "core.EventDelivery.available_at",
    "core.EventDelivery.failed_at",
    "core.WorkerHeartbeat.started_at",
    "core.WorkerHeartbeat.beat_at",
    "messaging.Consent.confirmed_at",
    "messaging.OutgoingMessage.next_attempt_at",
    "messaging.OutgoingMessage.sent_at",
    "messaging.Notification.read_at",  # now, when the member reads it
    "sales.Activity.done_at",
    "sales.Activity.reminded_at",
    "sales.CalendarFeed.last_fetched_at",
    "sales.Deal.closed_at",
    "sales.Deal.last_activity_at",
    "sales.Deal.stage_entered_at",
    "sales.Quote.accepted_at",
    "touchpoints.EmailMessage.sent_at",
    "touchpoints.EmailThread.last_message_at",
    "touchpoints.FormSubmission.confirmed_at",
    "touchpoints.IngestBatch.processed_at",
    "touchpoints.IngestBatch.received_at",
    "touchpoints.Integration.last_received_at",
    "touchpoints.Mailbox.last_fetched_at",
    "touchpoints.Visitor.first_seen_at",
    "touchpoints.Visitor.identified_at",
    "touchpoints.Visitor.last_seen_at",
    "touchpoints.WebSession.last_event_at",
    "touchpoints.WebSession.started_at",
    "touchpoints.WebhookDelivery.processed_at",
}
ALWAYS_NOW = {"created_at", "updated_at"}  # BaseModel's: default now / auto_now, never input


def _date_fields() -> set[str]:
    found = set()
    for model in apps.get_models():
        if not model.__module__.startswith("vinculo."):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateField) and field.name not in ALWAYS_NOW:
                found.add(f"{model._meta.app_label}.{model.__name__}.{field.name}")
    return found


def test_every_date_field_of_the_models_is_known_to_be_bounded_or_set_by_vinculo():
    fields = _date_fields()
    unlisted = sorted(fields - set(SET_FROM_OUTSIDE) - SET_BY_VINCULO)
    assert unlisted == [], (
        "New date fields: if people or clients set them, bound their input with clean_date / "
        "clean_datetime / BoundedDate (vinculo.core) and list them in SET_FROM_OUTSIDE; else in SET_BY_VINCULO."
    )
    assert sorted((set(SET_FROM_OUTSIDE) | SET_BY_VINCULO) - fields) == []  # no stale entries


def _inputs(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(where, name, schema) of every query parameter and request body property, $refs followed."""
    components = document["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    found: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[int] = set()

    def walk(schema: dict[str, Any], where: str) -> None:
        schema = resolve(schema)
        if id(schema) in seen:
            return
        seen.add(id(schema))
        for key in ("anyOf", "oneOf", "allOf"):
            for option in schema.get(key, []):
                walk(option, where)
        if "items" in schema:
            walk(schema["items"], where + ".*")
        for name, prop in schema.get("properties", {}).items():
            found.append((f"{where}.{name}", name, prop))
            walk(prop, f"{where}.{name}")

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                name = parameter["name"]
                found.append((f"{method.upper()} {path}?{name}", name, parameter["schema"]))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                seen.clear()
                walk(content["schema"], f"{method.upper()} {path} body")
    return found


def _options(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema, or each non-null option of an anyOf (a field that may be null)."""
    return [o for o in schema.get("anyOf", [schema]) if o.get("type") != "null"]


def test_every_date_the_api_takes_is_bounded_to_1900_2200():
    unbounded = []
    checked = set()
    for where, name, schema in _inputs(api.get_openapi_schema()):
        for option in _options(schema):
            is_date = option.get("format") in ("date", "date-time")
            is_parameter = "?" in where
            named_like_a_date = DATE_NAME.search(name) or (is_parameter and name in DATE_PARAMETERS)
            if is_date or (option.get("type") == "string" and named_like_a_date):
                checked.add(name)
                documented = option.get("x-date-range") or schema.get("x-date-range")  # on the field or its type
                if documented != ["1900-01-01", "2200-12-31"]:
                    unbounded.append(where)
    assert unbounded == []
    # the walk does reach the date inputs (a broken walk would pass vacuously)
    assert {"expected_close_date", "valid_from", "valid_until", "placed_at", "due_at", "ends_at"} <= checked
    assert {"starts_on", "ends_on", "created_after", "close_before", "close_month", "from", "start"} <= checked
