"""What the sales app does when domain events happen (vinculo.core.events).

`register()` is called once from SalesConfig.ready(). Each subscriber is a task, enqueued after
the event's transaction commits, and idempotent (an event may be delivered again).
"""

from __future__ import annotations

from vinculo.core.events import subscribe


def register() -> None:
    """A deal entering a stage (created in its first stage, or moved) gets that stage's follow-ups;
    a new lead without an owner is routed by the assignment rules."""
    from vinculo.sales.services.follow_ups import STAGE_EVENTS
    from vinculo.sales.tasks import assign_new_lead, create_follow_ups

    for pattern in STAGE_EVENTS:
        subscribe(pattern, create_follow_ups)  # type: ignore[arg-type]  # a Task is enqueued
    subscribe("contact.created", assign_new_lead)  # type: ignore[arg-type]
