"""`GET /api/v1/event-types`: the event-type catalogue, for integrations that read the event log
(webhooks, exports) and for the pickers of the coming trigger and segment builders."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from vinculo.core.api import READ_ERRORS
from vinculo.core.event_types import EventType, all_event_types

router = Router(tags=["event-types"])


class EventTypeOut(Schema):
    name: str = Field(description="`object.verb`, e.g. `order.placed`; `web.*` stands for a website's own events.")
    label: str = Field(description="How the type reads, in the request's language.")
    sentence: str = Field(
        description="A template of what happened, in the request's language: `%(name)s` placeholders "
        "name properties, `actor` (who did it) or `contact`."
    )
    icon: str = Field(description="A Bootstrap icon name.")
    kind: str = Field(description="The timeline section: note, email, web, sales, service or record.")
    properties: dict[str, str] = Field(description="Each property and its JSON type.")
    emitted_by: str = Field(description="The app that writes events of this type.")
    delivered: bool = Field(description="Whether the event log's consumers (automation, webhooks) receive it.")
    high_volume: bool = Field(description="Many per visitor (page views): filter them early.")


class EventTypeList(Schema):
    items: list[EventTypeOut]


def event_type_out(event_type: EventType) -> dict[str, Any]:
    """A declaration as the API shows it, translated into the active language."""
    return {
        "name": event_type.name,
        "label": str(event_type.label),
        "sentence": str(event_type.sentence),
        "icon": event_type.icon,
        "kind": event_type.kind,
        "properties": dict(event_type.properties),
        "emitted_by": event_type.emitted_by,
        "delivered": event_type.delivered,
        "high_volume": event_type.high_volume,
    }


@router.get("/event-types", response={200: EventTypeList, **READ_ERRORS})
def event_type_list(request: HttpRequest) -> dict[str, Any]:
    """Every type of event Vínculo writes, by name (the patterns last), in the language of the
    request's `Accept-Language`."""
    return {"items": [event_type_out(t) for t in all_event_types()]}
