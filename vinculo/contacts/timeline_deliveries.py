"""How far a message on the timeline got: "failed: <reason>" with a Retry, "kept in the outbox".

An e-mail written to a contact is an event on the timeline (`email.sent`), but whether it really
left is known by the app that sends mail, above contacts (layering). That app registers an
annotator (`register_delivery_annotator`, from its AppConfig.ready()): given the member and the
events of a timeline page, it answers, in one query, the delivery of those that have not simply
gone out; the timeline shows each next to its entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TimelineDelivery:
    """`state`: failed, outbox, queued or suppressed; `label` and `reason` in the member's language;
    `retry_url` (a POST) when the member may send it again; `url`, the message's page."""

    state: str
    label: str
    reason: str = ""
    retry_url: str = ""
    url: str = ""


# (member, org slug, events) -> {event id: delivery}
DeliveryAnnotator = Callable[[Any, str, Sequence[Any]], dict[int, TimelineDelivery]]
_annotators: list[DeliveryAnnotator] = []


def register_delivery_annotator(annotator: DeliveryAnnotator) -> None:
    if annotator not in _annotators:
        _annotators.append(annotator)


def annotate_deliveries(actor: Any, org_slug: str, entries: Sequence[Any]) -> None:
    """Set `delivery` on the events of a timeline page that have one worth showing."""
    events = [entry.item for entry in entries if entry.kind == "event"]
    if not events:
        return
    for annotator in _annotators:
        found = annotator(actor, org_slug, events)
        for event in events:
            if event.pk in found:
                event.delivery = found[event.pk]
