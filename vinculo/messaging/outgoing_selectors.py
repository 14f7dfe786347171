"""Reads of outgoing e-mail for the pages that show what was sent (the e-mail threads)."""

from __future__ import annotations

from collections.abc import Iterable

from django_scopes import scope

from vinculo.accounts.models import Organization
from vinculo.messaging.models import OutgoingMessage


def outgoing_by_message_id(*, organization: Organization, message_ids: Iterable[str]) -> dict[str, OutgoingMessage]:
    """The organisation's outgoing rows with these Message-IDs (one query), by Message-ID: how a
    thread's message learns whether it has really gone out."""
    wanted = [m for m in set(message_ids) if m]
    if not wanted:
        return {}
    with scope(organization=organization):
        rows = OutgoingMessage.objects.filter(organization=organization, message_id__in=wanted).only(
            "message_id", "state", "last_error", "attempts", "next_attempt_at", "suppressed_reason"
        )
        return {row.message_id: row for row in rows}
