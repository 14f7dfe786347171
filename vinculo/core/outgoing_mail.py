"""A port through which the apps below `messaging` (accounts) queue e-mail.

`messaging` owns the one way to send e-mail (docs/adr/0004), but `accounts` sits below it and may
not import it. `messaging` fills this port when the app registry is ready (the pattern of a
registry filled by the higher layer, ARCHITECTURE.md), and `accounts` calls `queue_mail()` with the
keyword arguments of `vinculo.messaging.services.outgoing.message_queue`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_queue: Callable[..., Any] | None = None


def register_mail_queue(queue: Callable[..., Any]) -> None:
    global _queue
    _queue = queue


def queue_mail(**kwargs: Any) -> Any:
    """Queue one e-mail (see `message_queue`); returns the outgoing-message row."""
    if _queue is None:
        raise ImproperlyConfigured("vinculo.messaging is not installed: no way to send e-mail")
    return _queue(**kwargs)
