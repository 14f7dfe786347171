"""E-mail over the API: connected mailboxes (the passwords are write-only: accepted, never
returned), testing a mailbox's connection and its sending, conversations and their messages with
their attachments (downloaded as files), and sending to a contact.

The schemas check the shape of the input; the services the pages use check the rest (422).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from vinculo.accounts.api import UserRef, request_actor
from vinculo.contacts.selectors import contact_get
from vinculo.core.api import GET_ERRORS, READ_ERRORS, WRITE_ERRORS, InSchema, PageOut, PageQuery, page_out
from vinculo.core.pagination import paginate
from vinculo.messaging.attachments import attachment_response
from vinculo.touchpoints.models import EmailAttachment, EmailMessage, EmailThread, Mailbox
from vinculo.touchpoints.selectors.mail import (
    email_attachment_download,
    email_attachment_get,
    email_message_get,
    email_thread_get,
    email_thread_list,
    mailbox_get,
    mailbox_queryset,
)
from vinculo.touchpoints.services import mail_out, mail_send, mailboxes

router = Router(tags=["e-mail"])

Name = Annotated[str, Field(max_length=100)]
Address = Annotated[str, Field(max_length=254)]
Host = Annotated[
    str,
    Field(
        max_length=253,
        description="e.g. imap.example.com. A host that is, or resolves to, a local, private, link-local, "
        "reserved or cloud-metadata address is refused (422), when saved and at every connection.",
    ),
]
Password = Annotated[str, Field(max_length=mailboxes.MAX_PASSWORD, description="Write-only: never returned.")]
Folder = Annotated[str, Field(max_length=100)]
SmtpHost = Annotated[
    str,
    Field(
        max_length=253,
        description="e.g. smtp.example.com; empty: the mailbox does not send (the install's server sends "
        "instead). The same address rules as `host`.",
    ),
]
SmtpSecurity = Annotated[
    str, Field(max_length=16, description='"ssl" (TLS from the start), "starttls", or "none" (this machine only).')
]
SmtpPassword = Annotated[
    str,
    Field(max_length=mailboxes.MAX_PASSWORD, description="Write-only; empty: the IMAP password is used."),
]
SentFolder = Annotated[
    str, Field(max_length=100, description="Where copies of sent mail go; empty: the folder the server marks \\Sent.")
]


# --- mailboxes ------------------------------------------------------------------------------------


class MailboxOut(Schema):
    id: int
    name: str
    shared: bool
    owner: UserRef | None = Field(description="The member whose own mailbox it is; null when shared.")
    email_address: str
    host: str
    port: int
    use_ssl: bool
    username: str
    folder: str
    create_leads: bool
    is_active: bool
    has_password: bool
    last_uid: int
    last_fetched_at: datetime | None
    last_error: str
    sends: bool = Field(description="Whether what is written through it leaves by its own SMTP server.")
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str = Field(description="Empty: the IMAP user name is used.")
    has_smtp_password: bool = Field(description="False: the IMAP password is used.")
    save_sent_copy: bool
    sent_folder: str
    is_default_sender: bool
    outgoing_error: str = Field(description="What needs attention on the sending side (a refused login); or empty.")
    created_at: datetime

    @staticmethod
    def resolve_shared(obj: Mailbox) -> bool:
        return obj.user_id is None

    @staticmethod
    def resolve_sends(obj: Mailbox) -> bool:
        return obj.sends

    @staticmethod
    def resolve_has_smtp_password(obj: Mailbox) -> bool:
        return bool(obj.smtp_password_encrypted)

    @staticmethod
    def resolve_owner(obj: Mailbox) -> Any:
        return obj.user

    @staticmethod
    def resolve_has_password(obj: Mailbox) -> bool:
        return bool(obj.password_encrypted)


class MailboxPage(PageOut):
    items: list[MailboxOut]


class MailboxIn(InSchema):
    name: Name
    email_address: Address
    host: Host
    port: StrictInt = Field(993, description="993 with SSL/TLS, 143 with STARTTLS.")
    use_ssl: StrictBool = Field(True, description="False: STARTTLS is required before the password is sent.")
    username: Address
    password: Password
    folder: Folder = "INBOX"
    create_leads: StrictBool = False
    is_active: StrictBool = True
    shared: StrictBool = Field(False, description="The organisation's (owners and admins only).")
    smtp_host: SmtpHost = ""
    smtp_port: StrictInt | None = Field(None, description="Default: 465 with ssl, 587 with starttls, 25 with none.")
    smtp_security: SmtpSecurity = "starttls"
    smtp_username: Address = Field("", description="Empty: the IMAP user name.")
    smtp_password: SmtpPassword = ""
    save_sent_copy: StrictBool = Field(
        True, description="Off for servers that keep a copy of what they send themselves (Gmail does)."
    )
    sent_folder: SentFolder = ""
    is_default_sender: StrictBool = Field(
        False, description="A shared mailbox that sends: members without one of their own write through it."
    )


class MailboxPatch(InSchema):
    name: Name | None = None
    email_address: Address | None = None
    host: Host | None = None
    port: StrictInt | None = None
    use_ssl: StrictBool | None = None
    username: Address | None = None
    password: Password | None = Field(None, description="Write-only; omit to keep the stored one.")
    folder: Folder | None = None
    create_leads: StrictBool | None = None
    is_active: StrictBool | None = None
    smtp_host: SmtpHost | None = None
    smtp_port: StrictInt | None = None
    smtp_security: SmtpSecurity | None = None
    smtp_username: Address | None = None
    smtp_password: SmtpPassword | None = Field(None, description="Write-only; omit to keep the stored one.")
    save_sent_copy: StrictBool | None = None
    sent_folder: SentFolder | None = None
    is_default_sender: StrictBool | None = None


class ConnectionOut(Schema):
    ok: bool
    message: str


@router.get("/mailboxes", response={200: MailboxPage, **READ_ERRORS})
def mailbox_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    """The shared mailboxes and the caller's own."""
    queryset = mailbox_queryset(actor=request_actor(request)).order_by("name", "id")
    return page_out(request, paginate(queryset, page=paging.page, per_page=paging.per_page))


@router.post("/mailboxes", response={201: MailboxOut, **WRITE_ERRORS})
def mailbox_create(request: HttpRequest, payload: MailboxIn) -> Status[Mailbox]:
    mailbox = mailboxes.mailbox_create(actor=request_actor(request), data=payload.model_dump())
    return Status(201, mailbox)


@router.get("/mailboxes/{mailbox_id}", response={200: MailboxOut, **GET_ERRORS})
def mailbox_detail(request: HttpRequest, mailbox_id: int) -> Mailbox:
    return mailbox_get(actor=request_actor(request), pk=mailbox_id)


@router.patch("/mailboxes/{mailbox_id}", response={200: MailboxOut, **WRITE_ERRORS})
def mailbox_update(request: HttpRequest, mailbox_id: int, payload: MailboxPatch) -> Mailbox:
    actor = request_actor(request)
    mailbox = mailbox_get(actor=actor, pk=mailbox_id)
    sent = payload.model_dump(exclude_unset=True)
    data = {k: v for k, v in sent.items() if v is not None}
    if "smtp_host" in sent and sent["smtp_host"] is None:
        data["smtp_host"] = ""  # null stops sending through this mailbox, as "" does
    return mailboxes.mailbox_update(actor=actor, mailbox=mailbox, data=data)


@router.delete("/mailboxes/{mailbox_id}", response={204: None, **WRITE_ERRORS})
def mailbox_delete(request: HttpRequest, mailbox_id: int) -> Status[None]:
    actor = request_actor(request)
    mailboxes.mailbox_delete(actor=actor, mailbox=mailbox_get(actor=actor, pk=mailbox_id))
    return Status(204, None)


@router.post("/mailboxes/{mailbox_id}/test", response={200: ConnectionOut, **WRITE_ERRORS})
def mailbox_test(request: HttpRequest, mailbox_id: int) -> mailboxes.ConnectionCheck:
    """Connect, log in and open the folder now; otherwise `ok` is false and the message says "could
    not connect", "could not log in" or that the folder cannot be opened (the details are in the
    server log). Only whoever may change the mailbox tests it: owners and admins for a shared one."""
    actor = request_actor(request)
    return mailboxes.mailbox_test_connection(actor=actor, mailbox=mailbox_get(actor=actor, pk=mailbox_id))


@router.post("/mailboxes/{mailbox_id}/send-test", response={200: ConnectionOut, **WRITE_ERRORS})
def mailbox_send_test(request: HttpRequest, mailbox_id: int) -> mailboxes.ConnectionCheck:
    """Send a short e-mail to the caller through the mailbox's SMTP server now, and save its copy
    in Sent; otherwise `ok` is false and the message says "could not connect", "could not log in",
    what the server answered when it refused the message, or why the copy was not saved."""
    actor = request_actor(request)
    return mail_send.mailbox_send_test(actor=actor, mailbox=mailbox_get(actor=actor, pk=mailbox_id))


# --- conversations --------------------------------------------------------------------------------


class EmailAttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int = Field(description="In bytes.")
    kept: bool = Field(description="False: the file was not kept (see `skipped_reason`); nothing to download.")
    skipped_reason: str
    content_id: str = Field(description="The cid: of an inline image of the HTML version, or empty.")
    download_url: str | None = Field(description="GET it for the file, always as an attachment.")

    @staticmethod
    def resolve_kept(obj: EmailAttachment) -> bool:
        return obj.kept

    @staticmethod
    def resolve_download_url(obj: EmailAttachment) -> str | None:
        return f"/api/v1/email-attachments/{obj.pk}" if obj.kept else None


class EmailMessageOut(Schema):
    id: int
    thread_id: int
    direction: str = Field(description='"in" received, "out" sent.')
    message_id: str
    in_reply_to: str
    references: list[str]
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    text_body: str
    html_body: str = Field(description="Sanitised HTML (no scripts, styles, forms or images), or empty.")
    sent_at: datetime
    sent_by: UserRef | None
    contact_ids: list[int]
    attachments: list[EmailAttachmentOut]

    @staticmethod
    def resolve_contact_ids(obj: EmailMessage) -> list[int]:
        return [c.pk for c in obj.contacts.all()]

    @staticmethod
    def resolve_attachments(obj: EmailMessage) -> list[EmailAttachment]:
        return list(obj.attachments.all())


class EmailThreadOut(Schema):
    id: int
    subject: str
    contact_ids: list[int]
    message_count: int
    last_message_at: datetime | None

    @staticmethod
    def resolve_contact_ids(obj: EmailThread) -> list[int]:
        return [c.pk for c in obj.contacts.all()]


class EmailThreadDetailOut(EmailThreadOut):
    messages: list[EmailMessageOut]

    @staticmethod
    def resolve_messages(obj: EmailThread) -> list[EmailMessage]:
        return list(obj.messages.all())


class EmailThreadPage(PageOut):
    items: list[EmailThreadOut]


class EmailThreadQuery(PageQuery):
    contact: int | None = Field(None, ge=1, le=2**62, description="Only this contact's conversations.")


class EmailSendIn(InSchema):
    # required, but checked by the service (after the contact is found: a foreign contact is 404)
    subject: Annotated[str, Field(max_length=mail_out.MAX_SUBJECT, description="Required.")] = ""
    body: Annotated[str, Field(max_length=mail_out.MAX_BODY, description="Required. Plain text.")] = ""
    thread: StrictInt | None = Field(None, description="Answer this conversation of the contact.")


@router.get("/email-threads", response={200: EmailThreadPage, **READ_ERRORS})
def email_thread_list_api(request: HttpRequest, query: Query[EmailThreadQuery]) -> dict[str, Any]:
    """A filter by a contact that does not exist, belongs elsewhere or is not visible to the caller
    selects nothing: an empty page (200, as documented), the same in all three cases."""
    actor = request_actor(request)
    threads = email_thread_list(actor=actor)
    if query.contact is not None:
        try:
            threads = email_thread_list(actor=actor, contact=contact_get(actor=actor, pk=query.contact))
        except Http404:
            threads = threads.none()
    return page_out(request, paginate(threads, page=query.page, per_page=query.per_page))


@router.get("/email-threads/{email_thread_id}", response={200: EmailThreadDetailOut, **GET_ERRORS})
def email_thread_detail(request: HttpRequest, email_thread_id: int) -> EmailThread:
    thread = email_thread_get(actor=request_actor(request), pk=email_thread_id)
    prefetch_related_objects(list(thread.messages.all()), "contacts", "attachments")  # one query each
    return thread


@router.get("/email-messages/{email_message_id}", response={200: EmailMessageOut, **GET_ERRORS})
def email_message_detail(request: HttpRequest, email_message_id: int) -> EmailMessage:
    return email_message_get(actor=request_actor(request), pk=email_message_id)


@router.get(
    "/email-attachments/{email_attachment_id}",
    response={200: None, **GET_ERRORS},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file, as an attachment (never to be shown inline).",
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def email_attachment_file(request: HttpRequest, email_attachment_id: int) -> FileResponse:
    """The file of an e-mail's attachment, for whoever may see one of the e-mail's contacts (else
    404, as for a file not kept). Served as `Content-Disposition: attachment`, with
    `X-Content-Type-Options: nosniff`; HTML, SVG, XML and scripts as `application/octet-stream`."""
    attachment = email_attachment_get(actor=request_actor(request), pk=email_attachment_id)
    return attachment_response(email_attachment_download(attachment))


@router.post("/contacts/{contact_id}/emails", response={201: EmailMessageOut, **WRITE_ERRORS})
def contact_email_send(request: HttpRequest, contact_id: int, payload: EmailSendIn) -> Status[EmailMessage]:
    """Send a plain-text e-mail to the contact (SMTP) and store it on its thread and timeline."""
    actor = request_actor(request)
    contact = contact_get(actor=actor, pk=contact_id)
    sent = mail_out.email_send(
        actor=actor, contact=contact, subject=payload.subject, body=payload.body, thread=payload.thread
    )
    return Status(201, sent)
