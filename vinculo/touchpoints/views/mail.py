"""E-mail pages under /o/<org_slug>/: connected mailboxes (list, connect, edit, disconnect, test the
connection, send a test e-mail, read now), the conversations (list and thread) and their
attachments (downloads), and writing to a contact.

Mailboxes are a member's own or shared (only owners and admins are offered "shared"; anyone else
sending it is refused with 403, as on the API); another member's own mailbox answers 404 like a
missing one. The password field is never filled back in.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.permissions import can_manage_org, can_write, require_write
from vinculo.contacts.selectors import contact_get
from vinculo.contacts.timeline_files import register_file_source
from vinculo.core.forms import ServiceErrorsMixin, StyledFormMixin
from vinculo.core.pagination import paginate
from vinculo.core.views import org_view, render_page
from vinculo.messaging.attachments import attachment_response
from vinculo.messaging.models import MessageState
from vinculo.messaging.outgoing_selectors import outgoing_by_message_id
from vinculo.messaging.transports import member_route
from vinculo.touchpoints.mail_tasks import fetch_mailbox
from vinculo.touchpoints.models import EmailMessage, EmailThread, Mailbox, SmtpSecurity
from vinculo.touchpoints.selectors.mail import (
    email_attachment_download,
    email_attachment_get,
    email_thread_get,
    email_thread_list,
    email_thread_queryset,
    mailbox_get,
    mailbox_queryset,
    sending_mailbox,
)
from vinculo.touchpoints.services import mail_out, mail_send, mailboxes
from vinculo.touchpoints.services.mailboxes import can_change_mailbox, require_change_mailbox

THREADS_PER_PAGE = 50

# --- forms ----------------------------------------------------------------------------------------


def _text(label: Any, max_length: int, **kwargs: Any) -> forms.CharField:
    """Keeps what was typed; the service checks it (the length is a hint for the browser)."""
    widget = kwargs.pop("widget", None) or forms.TextInput()
    widget.attrs.setdefault("maxlength", str(max_length))
    return forms.CharField(label=label, required=False, strip=False, widget=widget, **kwargs)


class MailboxForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    name = _text(gettext_lazy("Name"), 100, help_text=gettext_lazy("e.g. Sales inbox"))
    email_address = _text(gettext_lazy("E-mail address"), 254, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    host = _text(
        gettext_lazy("IMAP server"),
        253,
        help_text=gettext_lazy("e.g. imap.example.com"),
        widget=forms.TextInput(attrs={"autocapitalize": "off", "spellcheck": "false"}),
    )
    port = forms.CharField(
        label=gettext_lazy("Port"),
        required=False,
        help_text=gettext_lazy("993 with SSL/TLS; 143 with STARTTLS."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": "5"}),
    )
    use_ssl = forms.BooleanField(
        label=gettext_lazy("SSL/TLS"),
        required=False,
        help_text=gettext_lazy("Off: the connection is upgraded with STARTTLS before the password is sent."),
    )
    username = _text(
        gettext_lazy("User name"), 254, widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "off"})
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "maxlength": "500"}, render_value=False),
    )
    folder = _text(gettext_lazy("Folder"), 100, help_text=gettext_lazy("Usually INBOX."))
    create_leads = forms.BooleanField(label=gettext_lazy("Unknown senders become leads"), required=False)
    is_active = forms.BooleanField(label=gettext_lazy("Active (read every two minutes)"), required=False)
    shared = forms.BooleanField(
        label=gettext_lazy("Shared with the whole organisation"),
        required=False,
        help_text=gettext_lazy("Otherwise it is yours: only you see it."),
    )
    # sending (the service checks every value: a typed one is kept when refused)
    smtp_host = _text(
        gettext_lazy("SMTP server"),
        253,
        help_text=gettext_lazy(
            "e.g. smtp.example.com. What you write from Vínculo then leaves through it, from this address; "
            "empty: through Vínculo's own server."
        ),
        widget=forms.TextInput(attrs={"autocapitalize": "off", "spellcheck": "false"}),
    )
    smtp_port = forms.CharField(
        label=gettext_lazy("SMTP port"),
        required=False,
        help_text=gettext_lazy("Empty: 465 with SSL/TLS, 587 with STARTTLS."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": "5"}),
    )
    smtp_security = forms.CharField(
        label=gettext_lazy("SMTP security"),
        required=False,
        widget=forms.Select(choices=SmtpSecurity.choices),
    )
    smtp_username = _text(
        gettext_lazy("SMTP user name"),
        254,
        help_text=gettext_lazy("Empty: the IMAP user name."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "off"}),
    )
    smtp_password = forms.CharField(
        label=gettext_lazy("SMTP password"),
        required=False,
        strip=False,
        help_text=gettext_lazy("Empty: the IMAP password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "maxlength": "500"}, render_value=False),
    )
    save_sent_copy = forms.BooleanField(
        label=gettext_lazy("Save a copy of what is sent in the Sent folder"),
        required=False,
        help_text=gettext_lazy(
            "Turn it off when the server keeps a copy of what it sends by itself (Gmail does), "
            "or the copies would be there twice."
        ),
    )
    sent_folder = _text(
        gettext_lazy("Sent folder"),
        100,
        help_text=gettext_lazy("Empty: the folder the server marks as Sent."),
    )
    is_default_sender = forms.BooleanField(
        label=gettext_lazy("The organisation's sender"),
        required=False,
        help_text=gettext_lazy("Members without a mailbox of their own that sends write through this one."),
    )

    SENDING = ("smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password", "save_sent_copy")

    def __init__(
        self,
        *args: Any,
        editing: bool = False,
        can_share: bool = False,
        shared_mailbox: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["password"].help_text = _("Leave it empty to keep the stored password.")
            self.fields["smtp_password"].help_text = _(
                "Leave it empty to keep the stored one (or, if none was stored, to use the IMAP password)."
            )
        if editing or not can_share:
            del self.fields["shared"]
        if not (shared_mailbox or (can_share and not editing)):
            del self.fields["is_default_sender"]

    @staticmethod
    def initial_for(mailbox: Mailbox) -> dict[str, Any]:
        names = (
            "name",
            "email_address",
            "host",
            "port",
            "use_ssl",
            "username",
            "folder",
            "create_leads",
            "is_active",
            "smtp_host",
            "smtp_security",
            "smtp_username",
            "save_sent_copy",
            "sent_folder",
            "is_default_sender",
        )
        initial = {name: getattr(mailbox, name) for name in names}
        initial["smtp_port"] = mailbox.smtp_port if mailbox.smtp_host else ""
        return initial

    def service_data(self, *, editing: bool) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in self.fields}
        if editing and not data.get("password"):
            data.pop("password", None)
        if not data.get("smtp_password"):
            data.pop("smtp_password", None)
        for name in ("use_ssl", "create_leads", "is_active", "shared", "save_sent_copy", "is_default_sender"):
            if name in data:
                data[name] = bool(data[name])
        return data


class ComposeForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    subject = _text(gettext_lazy("Subject"), mail_out.MAX_SUBJECT)
    body = forms.CharField(
        label=gettext_lazy("Message"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "maxlength": str(mail_out.MAX_BODY)}),
    )
    thread = forms.CharField(required=False, widget=forms.HiddenInput())


# --- mailboxes ------------------------------------------------------------------------------------


def _list_url(request: OrgRequest) -> str:
    return reverse("touchpoints:mailbox_list", args=[request.org.slug])


@org_view
@require_GET
def mailbox_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    rows = [(mailbox, can_change_mailbox(actor, mailbox)) for mailbox in mailbox_queryset(actor=actor)]
    context = {"nav": "mail", "rows": rows, "can_write": can_write(actor)}
    return render(request, "touchpoints/mail/mailbox_list.html", context)


def _mailbox_form_page(
    request: OrgRequest, form: MailboxForm, mailbox: Mailbox | None, *, status: int = 200
) -> HttpResponse:
    return render(
        request, "touchpoints/mail/mailbox_form.html", {"nav": "mail", "form": form, "mailbox": mailbox}, status=status
    )


@org_view
@require_http_methods(["GET", "POST"])
def mailbox_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    require_write(actor)
    can_share = can_manage_org(actor)
    if request.method == "GET":
        initial = {
            "port": 993,
            "use_ssl": True,
            "folder": "INBOX",
            "is_active": True,
            "email_address": "",
            "smtp_security": SmtpSecurity.STARTTLS,
            "save_sent_copy": True,
        }
        return _mailbox_form_page(request, MailboxForm(initial=initial, can_share=can_share), None)
    form = MailboxForm(request.POST, can_share=can_share)
    form.is_valid()
    data = form.service_data(editing=False)
    if not can_share and "shared" in request.POST:
        data["shared"] = True  # not offered to them: the service answers 403, as the API does
    try:
        mailbox = mailboxes.mailbox_create(actor=actor, data=data)
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _mailbox_form_page(request, form, None, status=422)
    messages.success(request, _("Mailbox “%(name)s” connected.") % {"name": mailbox.name})
    return redirect(_list_url(request))


@org_view
@require_http_methods(["GET", "POST"])
def mailbox_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    mailbox = mailbox_get(actor=actor, pk=pk)
    require_change_mailbox(actor, mailbox)
    shared = mailbox.user_id is None
    if request.method == "GET":
        form = MailboxForm(initial=MailboxForm.initial_for(mailbox), editing=True, shared_mailbox=shared)
        return _mailbox_form_page(request, form, mailbox)
    form = MailboxForm(request.POST, editing=True, shared_mailbox=shared)
    form.is_valid()
    try:
        mailbox = mailboxes.mailbox_update(actor=actor, mailbox=mailbox, data=form.service_data(editing=True))
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _mailbox_form_page(request, form, mailbox, status=422)
    messages.success(request, _("Mailbox “%(name)s” saved.") % {"name": mailbox.name})
    return redirect(_list_url(request))


@org_view
@require_http_methods(["GET", "POST"])
def mailbox_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    mailbox = mailbox_get(actor=actor, pk=pk)
    require_change_mailbox(actor, mailbox)
    if request.method == "POST":
        mailboxes.mailbox_delete(actor=actor, mailbox=mailbox)
        messages.success(request, _("Mailbox “%(name)s” disconnected.") % {"name": mailbox.name})
        return redirect(_list_url(request))
    context = {
        "nav": "mail",
        "title": _("Disconnect mailbox"),
        "question": _("Disconnect “%(name)s”? The e-mails it brought stay on the contacts' timelines.")
        % {"name": mailbox.name},
        "cancel_url": _list_url(request),
    }
    return render(request, "confirm_delete.html", context)


@org_view
@require_POST
def mailbox_test_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Connect, log in and open the folder now; the outcome is shown on the list."""
    mailbox = mailbox_get(actor=request.membership, pk=pk)
    check = mailboxes.mailbox_test_connection(actor=request.membership, mailbox=mailbox)
    (messages.success if check.ok else messages.error)(request, f"{mailbox.name}: {check.message}")
    return redirect(_list_url(request))


@org_view
@require_POST
def mailbox_send_test_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Send a test e-mail to oneself through the mailbox's SMTP server; the outcome is shown on the list."""
    mailbox = mailbox_get(actor=request.membership, pk=pk)
    check = mail_send.mailbox_send_test(actor=request.membership, mailbox=mailbox)
    (messages.success if check.ok else messages.error)(request, f"{mailbox.name}: {check.message}")
    return redirect(_list_url(request))


@org_view
@require_POST
def mailbox_fetch_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Read the mailbox now instead of waiting for the next run (a background task)."""
    mailbox = mailbox_get(actor=request.membership, pk=pk)
    require_change_mailbox(request.membership, mailbox)
    fetch_mailbox.enqueue(mailbox.pk)
    messages.success(request, _("Reading “%(name)s” now; new e-mails appear in a moment.") % {"name": mailbox.name})
    return redirect(_list_url(request))


# --- conversations --------------------------------------------------------------------------------


@org_view
@require_GET
def email_thread_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    try:
        number = max(1, min(int(request.GET.get("page", "1")), 100_000))
    except ValueError:
        number = 1
    page = paginate(email_thread_list(actor=request.membership), page=number, per_page=THREADS_PER_PAGE)
    context = {"nav": "mail", "page": page}
    return render_page(request, "touchpoints/mail/thread_list.html", context, partial="threads")


@org_view
@require_GET
def email_thread_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    thread = email_thread_get(actor=request.membership, pk=pk)
    contacts = list(thread.contacts.all())
    thread_messages = list(thread.messages.all())
    outgoing = outgoing_by_message_id(
        organization=request.org,
        message_ids=[m.message_id for m in thread_messages if m.direction == EmailMessage.Direction.OUTBOUND],
    )
    for message in thread_messages:
        message.delivery = outgoing.get(message.message_id)  # type: ignore[attr-defined]
    context = {
        "nav": "mail",
        "thread": thread,
        "thread_messages": thread_messages,
        "thread_contacts": contacts,
        "can_write": can_write(request.membership),
    }
    return render(request, "touchpoints/mail/thread_detail.html", context)


@require_GET
def email_attachment_download_view(request: OrgRequest, org_slug: str, pk: int) -> FileResponse:
    """An e-mail's attachment, for whoever may see the conversation (else 404), always as a download."""
    attachment = email_attachment_get(actor=request.membership, pk=pk)
    return attachment_response(email_attachment_download(attachment))


def email_attachment_url(org_slug: str, pk: int) -> str:
    return reverse("touchpoints:email_attachment_download", args=[org_slug, pk])


def register() -> None:
    """Timeline entries of e-mails link their attachments (TouchpointsConfig.ready())."""
    register_file_source("email", email_attachment_url)


# --- writing to a contact -------------------------------------------------------------------------


def _thread_of(request: OrgRequest, contact: Any, value: str) -> EmailThread | None:
    if not value:
        return None
    try:
        return email_thread_queryset(actor=request.membership).filter(contacts=contact).get(pk=int(value))
    except (EmailThread.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def _compose_page(
    request: OrgRequest, contact: Any, form: ComposeForm, thread: Any, *, status: int = 200
) -> HttpResponse:
    route = member_route(organization=request.org, user=request.membership.user)  # as email_send will
    mailbox = sending_mailbox(actor=request.membership)
    context = {
        "nav": "contacts",
        "contact": contact,
        "form": form,
        "thread": thread,
        "from_address": route.address or (mailbox.email_address if mailbox is not None else None),
        "through_mailbox": route.transport == mail_send.TRANSPORT,
        "kept_in_outbox": route.is_outbox,
    }
    return render(request, "touchpoints/mail/compose.html", context, status=status)


@org_view
@require_http_methods(["GET", "POST"])
def contact_email_compose_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    contact = contact_get(actor=actor, pk=pk)
    require_write(actor)
    if request.method == "GET":
        thread = _thread_of(request, contact, request.GET.get("thread", "")[:20])
        draft = mail_out.email_draft(actor=actor, contact=contact, thread=thread)
        form = ComposeForm(initial={"subject": draft.subject, "thread": thread.pk if thread else ""})
        return _compose_page(request, contact, form, thread)
    form = ComposeForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    try:
        sent = mail_out.email_send(
            actor=actor, contact=contact, subject=data.get("subject"), body=data.get("body"), thread=data.get("thread")
        )
    except ValidationError as exc:
        form.apply_service_errors(exc)
        try:
            thread = _thread_of(request, contact, str(data.get("thread") or "")[:20])
        except Http404:
            thread = None
        return _compose_page(request, contact, form, thread, status=422)
    outgoing = outgoing_by_message_id(organization=request.org, message_ids=[sent.message_id]).get(sent.message_id)
    if outgoing is not None and outgoing.state == MessageState.OUTBOX:
        messages.info(
            request,
            _("No SMTP server is configured: the e-mail to %(to)s was kept in the outbox.") % {"to": contact.email},
        )
    else:
        messages.success(request, _("E-mail sent to %(to)s.") % {"to": contact.email})
    return redirect("touchpoints:email_thread_detail", request.org.slug, sent.thread_id)


urlpatterns: list[URLPattern] = [
    path("mailboxes/", mailbox_list_view, name="mailbox_list"),
    path("mailboxes/new/", mailbox_create_view, name="mailbox_create"),
    path("mailboxes/<int:pk>/edit/", mailbox_edit_view, name="mailbox_edit"),
    path("mailboxes/<int:pk>/delete/", mailbox_delete_view, name="mailbox_delete"),
    path("mailboxes/<int:pk>/test/", mailbox_test_view, name="mailbox_test"),
    path("mailboxes/<int:pk>/fetch/", mailbox_fetch_view, name="mailbox_fetch"),
    path("mailboxes/<int:pk>/send-test/", mailbox_send_test_view, name="mailbox_send_test"),
    path("email/", email_thread_list_view, name="email_thread_list"),
    path("email/<int:pk>/", email_thread_detail_view, name="email_thread_detail"),
    path("email/attachments/<int:pk>/", email_attachment_download_view, name="email_attachment_download"),
    path("contacts/<int:pk>/email/", contact_email_compose_view, name="contact_email_compose"),
]
public_urlpatterns: list[URLPattern] = []
