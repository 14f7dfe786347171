"""Inbound e-mail: read new messages of a mailbox over IMAP, parse them, thread them, and put them
on the timelines of the contacts whose addresses appear in From, To or Cc.

- New messages are those with a UID above the mailbox's `last_uid`, in a folder opened read-only
  (nothing is marked as read). When the folder's UIDVALIDITY changes, its UIDs mean other messages:
  the folder is read again from the start, and what was already stored is recognised by its
  Message-ID (unique per organisation) and not stored twice.
- Each message is stored in its own transaction. A message that cannot be read (parse error, too
  large) is skipped and noted on the mailbox, and the others go on; a failure of the connection or
  the database stops the run where it is, is recorded in `last_error`, and the next run resumes
  from the last message stored.
- A message with no known contact is not stored (a personal inbox is not the CRM's business), unless
  it answers a conversation already stored, or its sender becomes a lead (`create_leads`; never
  for the organisation's own addresses, automatic or no-reply senders, or mailing lists).
- Each contact gets one timeline event, `email.received` (or `email.sent` when the mailbox's own
  address sent it, e.g. a Sent folder), whose `message_id` is the e-mail's Message-ID (for the
  first contact; `<Message-ID>#<contact id>` for the others, hashed when longer than the column).
- A message Vínculo sent itself (an outgoing message with the same Message-ID: an e-mail written
  from a contact's page, a quote) is already on the timeline: read back from the Sent folder, it
  is recognised and not stored again.
- Attachments (inline images of HTML mail too) are kept as files under the organisation, within
  the install's limits of size and type (vinculo/messaging/attachments.py); a file that is not kept
  (a program, too large) is listed with the reason. The event lists them (`attachments`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import email.utils
import hashlib
import html
import imaplib
import logging
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from typing import Any

import nh3
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope

from vinculo.accounts.models import Membership
from vinculo.accounts.system_actor import make_via, system_actor
from vinculo.contacts.models import Contact, ContactEmail, LifecycleStage, SourceChannel
from vinculo.contacts.services import contact_create
from vinculo.core.events import emit
from vinculo.messaging import attachments as attachment_files
from vinculo.messaging.outgoing_selectors import outgoing_by_message_id
from vinculo.touchpoints.models import EmailAttachment, EmailMessage, EmailThread, Mailbox
from vinculo.touchpoints.services.mailboxes import ImapFailure, imap_connect, imap_select
from vinculo.touchpoints.services.threading import thread_by_headers, thread_for, thread_refresh

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 40 * 1024 * 1024  # larger messages are skipped (base64 makes files a third larger)
MAX_ATTACHMENTS = 100  # parts past this many are not looked at
MAX_PER_RUN = 500  # the rest waits for the next run
MAX_TEXT = 100_000
MAX_HTML = 200_000
MAX_REFERENCES = 50
SNIPPET_LENGTH = 200
EVENT_ID_LENGTH = 128  # core.Event.message_id
_MSG_ID = re.compile(r"<[^<>\s]{1,990}>")
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_SPACES = re.compile(r"\s+")
# local parts of senders that are machines, not people: never a lead
_MACHINE_SENDER = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]daemon|postmaster|bounces?|notifications?|"
    r"automailer|auto[-_.]?confirm|daemon|listserv|majordomo)(?:[-+_.].*)?$",
    re.IGNORECASE,
)
HTML_TAGS = nh3.ALLOWED_TAGS - {"img"}  # no remote images: they track who reads the message


class SkipMessage(Exception):
    """This one message cannot be stored; the others go on."""


@dataclass
class ParsedAttachment:
    """A file of a message: a part with a file name, sent as an attachment, or an inline image."""

    filename: str
    content_type: str
    content: bytes
    content_id: str = ""


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: str
    references: list[str]
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    text_body: str
    html_body: str
    sent_at: dt.datetime
    automatic: bool = False  # auto-replies, bulk mail, mailing lists
    attachments: list[ParsedAttachment] = field(default_factory=list)

    @property
    def participants(self) -> list[str]:
        seen: list[str] = []
        for address in [self.from_address, *self.to, *self.cc]:
            if address and address not in seen:
                seen.append(address)
        return seen


@dataclass
class FetchResult:
    stored: int = 0
    duplicates: int = 0
    ignored: int = 0
    skipped: list[str] = field(default_factory=list)
    error: str = ""


# --- parsing ---------------------------------------------------------------------------------------


def _unescape(text: str) -> str:
    """Raw 8-bit header bytes (UTF-8 as RFC 6532 allows, or Latin-1 from old clients) come out of
    the parser as lone surrogates: turn them back into the characters they were."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _header(message: MimeMessage, name: str) -> str:
    """A header's decoded text (RFC 2047 words decoded), or "" when missing or unreadable."""
    try:
        value = message[name]
    except Exception:
        raw = message.get_all(name, failobj=[]) if hasattr(message, "get_all") else []
        value = raw[0] if raw else None
    return _SPACES.sub(" ", _unescape(str(value))).strip() if value is not None else ""


def _addresses(message: MimeMessage, name: str) -> list[tuple[str, str]]:
    """(lower-case address, display name) of every address in the headers called `name`."""
    found: list[tuple[str, str]] = []
    try:
        headers = message.get_all(name, failobj=[])
    except Exception:
        headers = []
    for header in headers:
        try:
            pairs = [(a.display_name, a.addr_spec) for a in header.addresses]
        except Exception:
            pairs = email.utils.getaddresses([str(header)])
        for display, address in pairs:
            address = _unescape(address or "").strip().strip("<>").lower()
            if "@" in address and len(address) <= 254 and not _SPACES.search(address):
                found.append((address, _unescape(display or "").strip()[:200]))
    return found


def _content(part: Any) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError):  # unknown charset, bad encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return str(content)


def html_to_text(markup: str) -> str:
    text = nh3.clean(re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", markup), tags=set())
    return "\n".join(line.strip() for line in html.unescape(text).splitlines()).strip()


def sanitize_html(markup: str) -> str:
    """Only harmless markup: no scripts, styles, event handlers, forms or images; links open apart."""
    return nh3.clean(markup[:MAX_HTML], tags=HTML_TAGS, link_rel="noopener noreferrer nofollow")


def _message_id(value: str, raw: bytes) -> str:
    match = _MSG_ID.search(value)
    if match:
        return match.group(0)
    # no usable Message-ID: one derived from the content, so fetching it again finds it
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@vinculo.invalid>"


def _date(message: MimeMessage, fallback: dt.datetime) -> dt.datetime:
    try:
        header = message["date"]
        value = header.datetime if header is not None else None  # type: ignore[union-attr]
    except Exception:
        value = None
    if value is None:
        return fallback
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    if value > fallback + dt.timedelta(days=1) or value.year < 1990:  # a wrong clock: trust the server
        return fallback
    return value


def _automatic(message: MimeMessage) -> bool:
    auto = _header(message, "Auto-Submitted").lower()
    precedence = _header(message, "Precedence").lower()
    return (
        (bool(auto) and auto != "no")
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or bool(_header(message, "List-Id") or _header(message, "List-Unsubscribe"))
    )


def _filename(part: Any, content_type: str, number: int) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # a malformed RFC 2231 parameter
        name = ""
    name = _unescape(str(name))
    if name.strip():
        return attachment_files.clean_filename(name)
    extension = mimetypes.guess_extension(content_type) or (".eml" if content_type == "message/rfc822" else "")
    stem = "image" if content_type.startswith("image/") else "attachment"
    return f"{stem}-{number}{extension}"


def _payload(part: Any) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        try:
            return bytes(inner.as_bytes()) if hasattr(inner, "as_bytes") else str(inner).encode()
        except Exception:
            return b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def attachment_parts(message: MimeMessage, bodies: Iterable[Any] = ()) -> list[ParsedAttachment]:
    """The message's files, in order: every leaf part except the bodies shown (`bodies`) and
    other text parts without a file name (alternative versions of the body); a forwarded message
    (message/rfc822) is one file."""
    skip = {id(part) for part in bodies if part is not None}
    found: list[ParsedAttachment] = []

    def visit(part: Any) -> None:
        if len(found) >= MAX_ATTACHMENTS or id(part) in skip:
            return
        content_type = attachment_files.clean_content_type(part.get_content_type())
        if content_type != "message/rfc822" and part.is_multipart():
            for child in part.iter_parts():
                visit(child)
            return
        try:
            has_name = bool(part.get_filename())
        except Exception:
            has_name = True
        disposition = part.get_content_disposition()
        if content_type.startswith("text/") and not has_name and disposition != "attachment":
            return
        content_id = _MSG_ID.search(_SPACES.sub("", str(part.get("Content-ID", ""))))
        found.append(
            ParsedAttachment(
                filename=_filename(part, content_type, len(found) + 1),
                content_type=content_type,
                content=_payload(part),
                content_id=content_id.group(0)[1:-1][:255] if content_id else "",
            )
        )

    visit(message)
    return found


def parse_email(raw: bytes, *, received_at: dt.datetime | None = None) -> ParsedEmail:
    """An RFC 5322 message as the fields stored (stdlib email, policy.default)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, MimeMessage)
    senders = _addresses(message, "From") or _addresses(message, "Sender")
    if not senders:
        raise SkipMessage(_("no sender address"))
    from_address, from_name = senders[0]
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    html_body = sanitize_html(_content(rich)) if rich is not None else ""
    if plain is not None:
        text_body = _content(plain)
    elif rich is not None:
        text_body = html_to_text(_content(rich)[:MAX_HTML])
    else:
        text_body = ""
    in_reply_to = _MSG_ID.search(_header(message, "In-Reply-To"))
    return ParsedEmail(
        message_id=_message_id(_header(message, "Message-ID"), raw),
        in_reply_to=in_reply_to.group(0) if in_reply_to else "",
        references=_MSG_ID.findall(_header(message, "References"))[-MAX_REFERENCES:],
        from_address=from_address,
        from_name=from_name,
        to=list(dict.fromkeys(a for a, _n in _addresses(message, "To"))),
        cc=list(dict.fromkeys(a for a, _n in _addresses(message, "Cc"))),
        subject=_header(message, "Subject")[:500],
        text_body=text_body.replace("\r\n", "\n").replace("\x00", "")[:MAX_TEXT],
        html_body=html_body,
        sent_at=_date(message, received_at or timezone.now()),
        automatic=_automatic(message),
        attachments=attachment_parts(message, (plain, rich)),
    )


def snippet(text: str) -> str:
    """The start of what the sender wrote: quoted lines ("> …") and the "On … wrote:" line left out."""
    lines = [
        line
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith(">") and not re.match(r"^(On|El) .+(wrote|escribió):$", line)
    ]
    return _SPACES.sub(" ", " ".join(lines)).strip()[:SNIPPET_LENGTH]


# --- storing ---------------------------------------------------------------------------------------


def event_message_id(message_id: str, contact: Contact, first: bool) -> str:
    """The timeline event's idempotency key: the Message-ID itself for the first contact."""
    key = message_id if first else f"{message_id}#{contact.pk}"
    if len(key) > EVENT_ID_LENGTH:
        key = f"email:{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def own_addresses(mailbox: Mailbox) -> set[str]:
    """The organisation's own addresses: every mailbox's, and its members' (never leads)."""
    addresses = {a.lower() for a in Mailbox.objects.values_list("email_address", flat=True)}
    addresses.update(
        e.lower()
        for e in Membership.objects.filter(organization_id=mailbox.organization_id).values_list(
            "user__email", flat=True
        )
    )
    return addresses


def may_become_lead(parsed: ParsedEmail, own: set[str]) -> bool:
    local = parsed.from_address.split("@", 1)[0]
    return not (parsed.automatic or parsed.from_address in own or _MACHINE_SENDER.match(local))


def _lead_actor(mailbox: Mailbox) -> Membership | None:
    """Who creates a lead: the mailbox's member, or for a shared one the system actor ("by the
    mailbox “Sales”")."""
    if mailbox.user_id is not None:
        members = Membership.objects.select_related("user", "organization")
        return members.filter(organization_id=mailbox.organization_id, user_id=mailbox.user_id).first()
    return system_actor(mailbox.organization, via=make_via("mailbox", mailbox.name))


def _create_lead(mailbox: Mailbox, parsed: ParsedEmail) -> Contact | None:
    actor = _lead_actor(mailbox)
    if actor is None:
        return None
    first, _sep, last = parsed.from_name.partition(" ")
    data = {
        "first_name": first[:100],
        "last_name": last[:100],
        "emails": [parsed.from_address],
        "source": SourceChannel.EMAIL,
        "lifecycle_stage": LifecycleStage.LEAD,
        "owner": mailbox.user_id,  # shared mailbox: nobody, so the assignment rules route the lead
    }
    try:
        with transaction.atomic():
            return contact_create(actor=actor, data=data)
    except ValidationError as exc:
        logger.info("mailbox %s: sender not made a lead: %s", mailbox.pk, exc.messages)
        return None


def _contacts_by_address(addresses: Iterable[str]) -> dict[str, Contact]:
    rows = ContactEmail.objects.filter(email__in=list(addresses)).select_related("contact")
    return {row.email: row.contact for row in rows}


def attachments_store(message: EmailMessage, files: list[ParsedAttachment], written: list[str]) -> list[dict[str, Any]]:
    """Keep the message's files (vinculo/messaging/attachments.py) and note those not kept; returns
    them as the timeline event lists them. The names of the files written are added to `written`
    (removed again by the caller if the transaction does not commit)."""
    rows: list[EmailAttachment] = []
    kept_bytes = 0
    for index, item in enumerate(files, start=1):
        refusal = attachment_files.attachment_refusal(
            filename=item.filename, content_type=item.content_type, content=item.content, kept_bytes=kept_bytes
        )
        row = EmailAttachment(
            organization_id=message.organization_id,
            message=message,
            filename=item.filename,
            content_type=item.content_type,
            size=len(item.content),
            content_id=item.content_id,
            skipped_reason=refusal,
        )
        if not refusal:
            path = attachment_files.attachment_path(
                organization_id=message.organization_id, area="email", key=str(message.pk), index=index
            )
            written.append(attachment_files.attachment_store(path, item.content))
            row.file.name = written[-1]
            kept_bytes += len(item.content)
        rows.append(row)
    created = EmailAttachment.objects.bulk_create(rows)
    return [attachment_item(row) for row in created]


def attachment_item(row: EmailAttachment) -> dict[str, Any]:
    """One file as a timeline entry lists it (vinculo/contacts/timeline_files.py)."""
    item: dict[str, Any] = {
        "source": "email",
        "id": row.pk,
        "name": row.filename,
        "type": row.content_type,
        "size": row.size,
    }
    if row.skipped_reason:
        item["note"] = row.skipped_reason
    return item


def sent_by_vinculo(mailbox: Mailbox, message_id: str) -> bool:
    """Whether the organisation sent this message itself (it is on the timeline already)."""
    return bool(outgoing_by_message_id(organization=mailbox.organization, message_ids=[message_id]))


def message_store(*, mailbox: Mailbox, parsed: ParsedEmail, uid: int | None = None) -> str:
    """Store one parsed message (inside the organisation's scope): "stored", "duplicate" or
    "ignored". Idempotent by Message-ID; a message Vínculo sent itself is a "duplicate" too."""
    if EmailMessage.objects.filter(message_id=parsed.message_id).exists():
        return "duplicate"
    if sent_by_vinculo(mailbox, parsed.message_id):
        return "duplicate"
    written: list[str] = []
    try:
        return _message_store(mailbox, parsed, uid, written)
    except BaseException:
        attachment_files.attachments_delete(written)
        raise


def _message_store(mailbox: Mailbox, parsed: ParsedEmail, uid: int | None, written: list[str]) -> str:
    own = own_addresses(mailbox)
    mine = {mailbox.email_address.lower()}
    if mailbox.user_id is not None and mailbox.user is not None:
        mine.add(mailbox.user.email.lower())
    outbound = parsed.from_address in mine
    try:
        with transaction.atomic():
            by_address = _contacts_by_address(parsed.participants)
            contacts = list(dict.fromkeys(by_address[a] for a in parsed.participants if a in by_address))
            if (
                not contacts
                and not outbound
                and mailbox.create_leads
                and may_become_lead(parsed, own)
                and thread_by_headers(parsed.message_id, parsed.in_reply_to, parsed.references) is None
            ):
                lead = _create_lead(mailbox, parsed)
                if lead is not None:
                    contacts = [lead]
            if contacts:
                thread = thread_for(
                    organization=mailbox.organization,
                    message_id=parsed.message_id,
                    in_reply_to=parsed.in_reply_to,
                    references=parsed.references,
                    subject=parsed.subject,
                    sender=parsed.from_address,
                    participants=parsed.participants,
                    sent_at=parsed.sent_at,
                )
            else:
                found = thread_by_headers(parsed.message_id, parsed.in_reply_to, parsed.references)
                if found is None:
                    return "ignored"
                thread = found
            message = EmailMessage.objects.create(
                organization=mailbox.organization,
                thread=thread,
                mailbox=mailbox,
                direction=EmailMessage.Direction.OUTBOUND if outbound else EmailMessage.Direction.INBOUND,
                message_id=parsed.message_id,
                in_reply_to=parsed.in_reply_to,
                references=parsed.references,
                from_address=parsed.from_address,
                from_name=parsed.from_name,
                to=parsed.to,
                cc=parsed.cc,
                subject=parsed.subject,
                text_body=parsed.text_body,
                html_body=parsed.html_body,
                sent_at=parsed.sent_at,
                imap_uid=uid,
            )
            if contacts:
                message.contacts.set(contacts)
                thread.contacts.add(*contacts)
            thread_refresh(thread)
            files = attachments_store(message, parsed.attachments, written) if parsed.attachments else []
            properties: dict[str, Any] = {
                "subject": parsed.subject,
                "from": parsed.from_address,
                "snippet": snippet(parsed.text_body),
                "thread_id": thread.pk,
                "email_message_id": message.pk,
            }
            if files:
                properties["attachments"] = files
            for index, contact in enumerate(contacts):
                emit(
                    organization=mailbox.organization,
                    type="email.sent" if outbound else "email.received",
                    contact=contact,
                    properties=properties,
                    source="email",
                    occurred_at=parsed.sent_at,
                    message_id=event_message_id(parsed.message_id, contact, index == 0),
                )
            if contacts:
                Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(last_activity_at=timezone.now())
    except IntegrityError:
        # the same message stored meanwhile (another mailbox of the organisation received it too)
        attachment_files.attachments_delete(written)
        written.clear()
        if EmailMessage.objects.filter(message_id=parsed.message_id).exists():
            return "duplicate"
        raise
    return "stored"


# --- fetching --------------------------------------------------------------------------------------


def _new_uids(imap: imaplib.IMAP4, last_uid: int) -> list[int]:
    status, data = imap.uid("SEARCH", None, f"UID {last_uid + 1}:*")  # type: ignore[arg-type]
    if status != "OK":
        raise ImapFailure(_("The server refused to list the messages."))
    uids = sorted({int(u) for chunk in data if chunk for u in chunk.split()})
    return [u for u in uids if u > last_uid]  # "n:*" always includes the last message, even below n


def _sizes(imap: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    status, data = imap.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)")
    if status != "OK":
        raise ImapFailure(_("The server refused to read the messages."))
    sizes: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        uid, size = _UID.search(line), _SIZE.search(line)
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _body(imap: imaplib.IMAP4, uid: int) -> bytes | None:
    status, data = imap.uid("FETCH", str(uid), "(UID BODY.PEEK[])")
    if status != "OK":
        raise ImapFailure(_("The server refused to read the messages."))
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and _UID.search(item[0] or b""):
            return bytes(item[1])
    return None  # expunged meanwhile


def _record(mailbox: Mailbox, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(mailbox, name, value)
    Mailbox.dangerously_unscoped.filter(pk=mailbox.pk).update(**fields, updated_at=timezone.now())


def mailbox_fetch(*, mailbox_id: int) -> FetchResult:
    """Read and store the mailbox's new messages (system work: no actor). Never raises for what
    the server or a message does; the outcome is recorded on the mailbox."""
    result = FetchResult()
    mailbox = Mailbox.dangerously_unscoped.select_related("organization", "user").filter(pk=mailbox_id).first()
    if mailbox is None:  # disconnected after the run was enqueued
        return result
    with scope(organization=mailbox.organization):
        try:
            imap = imap_connect(mailbox)
        except ImapFailure as exc:
            result.error = str(exc)
            _record(mailbox, last_error=result.error, last_fetched_at=timezone.now())
            return result
        try:
            _fetch_new(imap, mailbox, result)
        except ImapFailure as exc:
            result.error = str(exc)
        except (OSError, imaplib.IMAP4.error) as exc:
            logger.warning("mailbox %s: connection lost: %s: %s", mailbox.pk, type(exc).__name__, exc)
            result.error = _("The connection to the server was lost; the next run reads on from there.")
        except DatabaseError as exc:
            logger.exception("mailbox %s: database error while storing messages", mailbox.pk)
            result.error = _("Messages could not be stored (%(reason)s); they will be read again.") % {
                "reason": type(exc).__name__
            }
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                imap.logout()
    notes = [result.error] if result.error else []
    if result.skipped:
        notes.append(_("Skipped: %(list)s") % {"list": "; ".join(result.skipped)[:2000]})
    _record(mailbox, last_error="\n".join(notes), last_fetched_at=timezone.now())
    return result


def _fetch_new(imap: imaplib.IMAP4, mailbox: Mailbox, result: FetchResult) -> None:
    uid_validity = imap_select(imap, mailbox.folder)
    if uid_validity is not None and mailbox.uid_validity not in (None, uid_validity):
        logger.info("mailbox %s: UIDVALIDITY changed, reading the folder again", mailbox.pk)
        _record(mailbox, last_uid=0)
    if uid_validity != mailbox.uid_validity:
        _record(mailbox, uid_validity=uid_validity)
    uids = _new_uids(imap, mailbox.last_uid)[:MAX_PER_RUN]
    if not uids:
        return
    sizes = _sizes(imap, uids)
    for uid in uids:
        size = sizes.get(uid, 0)
        if size > MAX_MESSAGE_BYTES:
            result.skipped.append(_("message %(uid)s is too large (%(mb)s MB)") % {"uid": uid, "mb": size // 2**20})
        else:
            raw = _body(imap, uid)
            if raw is not None:
                _ingest_one(mailbox, uid, raw, result)
        # only forwards: a slower run of the same mailbox at the same time must not move it back
        Mailbox.dangerously_unscoped.filter(pk=mailbox.pk, last_uid__lt=uid).update(last_uid=uid)
        mailbox.last_uid = max(mailbox.last_uid, uid)


def _ingest_one(mailbox: Mailbox, uid: int, raw: bytes, result: FetchResult) -> None:
    try:
        parsed = parse_email(raw)
        outcome = message_store(mailbox=mailbox, parsed=parsed, uid=uid)
    except DatabaseError:
        raise  # stop here; the next run reads this message again
    except Exception as exc:
        logger.warning("mailbox %s: message %s skipped: %s", mailbox.pk, uid, type(exc).__name__)
        reason = str(exc) if isinstance(exc, SkipMessage) else type(exc).__name__
        result.skipped.append(_("message %(uid)s cannot be read (%(reason)s)") % {"uid": uid, "reason": reason})
        return
    if outcome == "stored":
        result.stored += 1
    elif outcome == "duplicate":
        result.duplicates += 1
    else:
        result.ignored += 1


def active_mailbox_ids() -> list[int]:
    """Every active mailbox of every organisation (the periodic task's work list); a member's own
    mailbox only while they are still a member there."""
    still_member = Membership.objects.filter(organization_id=OuterRef("organization_id"), user_id=OuterRef("user_id"))
    return list(
        Mailbox.dangerously_unscoped.filter(is_active=True)
        .filter(Q(user__isnull=True) | Exists(still_member))
        .order_by("id")
        .values_list("id", flat=True)
    )


__all__ = ["EmailThread", "FetchResult", "ParsedEmail", "mailbox_fetch", "message_store", "parse_email"]
