"""System checks of Vínculo's own settings (`vinculo check`; `--deploy` adds the deployment ones)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning


@register(Tags.security, deploy=True)
def private_targets_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Private targets are for development: in production they let any member make the server
    connect to its own network (vinculo/core/outbound.py)."""
    if not getattr(settings, "VINCULO_ALLOW_PRIVATE_TARGETS", False):
        return []
    return [
        CheckWarning(
            "VINCULO_ALLOW_PRIVATE_TARGETS is on: mailbox servers and other hosts users type may be "
            "this machine or a private network.",
            hint="Unset it (or set it to 0) outside development.",
            id="vinculo.W001",
        )
    ]
