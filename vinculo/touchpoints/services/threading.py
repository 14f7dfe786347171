"""Which conversation an e-mail belongs to.

By the headers first, as mail clients do: a message whose In-Reply-To or References names a message
already stored joins that message's thread (the most recent reference first), and so does a message
that an already stored reply names in its In-Reply-To (the reply arrived first). Without a header
match, the subject is the fallback: the same subject once the "Re:", "Fwd:", "RV:", "AW:"… prefixes
are removed, between the same people (the sender took part in the thread and so did at least one
of the recipients), within 30 days of the thread's last message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from django.db.models import Max

from vinculo.accounts.models import Organization
from vinculo.touchpoints.models import EmailMessage, EmailThread

SUBJECT_WINDOW = dt.timedelta(days=30)
SUBJECT_CANDIDATES = 20
# reply and forward prefixes of the common mail clients and languages: Re (most), Fwd/Fw, RV
# (Spanish reenviado), Res (Portuguese), AW/WG (German), SV/VS (Nordic), Antw (Dutch), TR (French
# transféré), ENC (Portuguese encaminhado), RIF (Italian), R (Outlook's one-letter Italian "R:");
# with an optional counter ("Re[2]:", "Re(2):") and the full-width colon of CJK clients
_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|rv|res|aw|wg|sv|vs|antw|tr|enc|rif|r)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*", re.IGNORECASE
)
_SPACES = re.compile(r"\s+")


def normalize_subject(subject: str) -> str:
    """The subject without reply/forward prefixes, in lower case with single spaces."""
    text = _SPACES.sub(" ", subject or "").strip()
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped.strip()
    return text.casefold()[:500]


def thread_by_headers(message_id: str, in_reply_to: str, references: Sequence[str]) -> EmailThread | None:
    wanted = [i for i in [in_reply_to, *reversed(list(references))] if i]
    if wanted:
        found = dict(EmailMessage.objects.filter(message_id__in=wanted).values_list("message_id", "thread_id"))
        for candidate in wanted:
            if candidate in found:
                return EmailThread.objects.get(pk=found[candidate])
    if message_id:
        reply = EmailMessage.objects.filter(in_reply_to=message_id).select_related("thread").order_by("id").first()
        if reply is not None:
            return reply.thread
    return None


def _by_subject(normalized: str, participants: Iterable[str], sender: str, sent_at: dt.datetime) -> EmailThread | None:
    if not normalized:
        return None
    others = {p for p in participants if p and p != sender}
    candidates = list(
        EmailThread.objects.filter(
            normalized_subject=normalized,
            last_message_at__gte=sent_at - SUBJECT_WINDOW,
            last_message_at__lte=sent_at + SUBJECT_WINDOW,
        ).order_by("-last_message_at", "-id")[:SUBJECT_CANDIDATES]
    )
    if not candidates:
        return None
    people: dict[int, set[str]] = {thread.pk: set() for thread in candidates}
    for thread_id, from_address, to, cc in EmailMessage.objects.filter(thread__in=candidates).values_list(
        "thread_id", "from_address", "to", "cc"
    ):
        people[thread_id].update([from_address, *to, *cc])
    for thread in candidates:
        if sender in people[thread.pk] and others & people[thread.pk]:
            return thread
    return None


def thread_for(
    *,
    organization: Organization,
    message_id: str,
    in_reply_to: str,
    references: Sequence[str],
    subject: str,
    sender: str,
    participants: Iterable[str],
    sent_at: dt.datetime,
) -> EmailThread:
    """The thread the message joins, or a new one (saved). Runs inside the organisation's scope."""
    thread = thread_by_headers(message_id, in_reply_to, references)
    normalized = normalize_subject(subject)
    if thread is None:
        thread = _by_subject(normalized, participants, sender, sent_at)
    if thread is None:
        thread = EmailThread.objects.create(
            organization=organization,
            subject=subject[:500],
            normalized_subject=normalized,
            last_message_at=sent_at,
        )
    return thread


def thread_refresh(thread: EmailThread) -> None:
    """Recount the thread's messages and its last message time after adding one."""
    stats = EmailMessage.objects.filter(thread=thread).aggregate(last=Max("sent_at"))
    thread.message_count = EmailMessage.objects.filter(thread=thread).count()
    thread.last_message_at = stats["last"]
    thread.save(update_fields=["message_count", "last_message_at", "updated_at"])
