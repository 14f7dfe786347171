"""The registry of event consumers: who reacts to which event types (docs/adr/0005).

Each app registers its consumers from its `AppConfig.ready()`. The name is stored in the outbox
rows (`EventDelivery.consumer`): rename a consumer only with a data migration.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from vinculo.core.models import Event

Handler = Callable[[Event], Any]


@dataclass(frozen=True)
class Consumer:
    """Something that reacts to stored events: `handler(event)` runs inside the event's
    organisation scope and a savepoint; it raises to have the delivery retried later."""

    name: str
    patterns: tuple[str, ...]
    handler: Handler


_consumers: dict[str, Consumer] = {}
_matching: dict[str, tuple[str, ...]] = {}  # event type -> names of the consumers it reaches


def register_consumer(*, name: str, patterns: Iterable[str], handler: Handler) -> Consumer:
    """Declare a consumer of the event types matching `patterns` (shell-style: ``"order.*"``).
    Registering the same name again with another handler replaces it (module reloads in tests)."""
    consumer = Consumer(name=name, patterns=tuple(patterns), handler=handler)
    if not consumer.patterns:
        raise ValueError(f"consumer {name!r} listens to no event type")
    _consumers[name] = consumer
    _matching.clear()
    return consumer


def unregister_consumer(name: str) -> None:
    """Forget a consumer (tests). Its delivery rows left in the outbox are dropped when met."""
    _consumers.pop(name, None)
    _matching.clear()


def consumer_named(name: str) -> Consumer | None:
    return _consumers.get(name)


def consumers_for(event_type: str) -> tuple[str, ...]:
    """Names of the consumers an event of this type reaches (cached per type)."""
    names = _matching.get(event_type)
    if names is None:
        names = tuple(
            sorted(
                c.name
                for c in _consumers.values()
                if any(fnmatch.fnmatchcase(event_type, pattern) for pattern in c.patterns)
            )
        )
        _matching[event_type] = names
    return names
