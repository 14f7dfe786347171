"""What the sales app does when domain events happen: its consumers of the event log
(vinculo.core.consumers; delivered durably and exactly once, docs/adr/0005).

`register()` is called once from SalesConfig.ready(). The consumer names are stored in the outbox
rows: do not rename them.
"""

from __future__ import annotations

from vinculo.core.consumers import register_consumer
from vinculo.core.models import Event
from vinculo.sales.services.assignment import new_lead_assign
from vinculo.sales.services.follow_ups import STAGE_EVENTS, follow_ups_for_event


def create_follow_ups(event: Event) -> None:
    """A deal entering a stage (created in its first stage, or moved) gets that stage's follow-ups."""
    follow_ups_for_event(event_id=event.pk)


def assign_new_lead(event: Event) -> None:
    """A new lead without an owner is routed by the assignment rules."""
    new_lead_assign(event_id=event.pk)


def register() -> None:
    register_consumer(name="sales.follow_ups", patterns=STAGE_EVENTS, handler=create_follow_ups)
    register_consumer(name="sales.lead_assignment", patterns=["contact.created"], handler=assign_new_lead)
