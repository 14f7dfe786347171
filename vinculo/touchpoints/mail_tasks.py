"""Background work of the e-mail integration: reading every active mailbox (enqueued every two
minutes by `manage.py scheduler`, PERIODIC_TASKS["fetch-mailboxes"]). Thin and idempotent: a message
is stored once however often this runs (Message-ID unique per organisation)."""

from __future__ import annotations

import logging

from django_tasks import task

from vinculo.touchpoints.services.mail_in import active_mailbox_ids, mailbox_fetch

logger = logging.getLogger(__name__)


@task()
def fetch_mailbox(mailbox_id: int) -> int:
    """Read one mailbox's new messages; returns how many were stored."""
    return mailbox_fetch(mailbox_id=mailbox_id).stored


@task()
def fetch_mailboxes() -> int:
    """Enqueue the reading of every active mailbox, one task each (a slow server delays only its
    own mailbox). Returns how many were enqueued."""
    ids = active_mailbox_ids()
    for mailbox_id in ids:
        fetch_mailbox.enqueue(mailbox_id)
    return len(ids)
