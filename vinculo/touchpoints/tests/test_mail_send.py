"""Mail that aligns: what a member writes leaves through their mailbox's own SMTP server (a real
aiosmtpd asking for a login over STARTTLS or TLS), a copy lands once in the Sent folder of a real
IMAP server (dovecot), and reading that folder later does not put it on the timeline twice. A
refused login fails the message with the reason and marks the mailbox; the install's relay still
sends system mail and what has no mailbox to go through."""

from __future__ import annotations

import email
import email.policy
from decimal import Decimal

import pytest
from django.core import mail as django_mail
from django.test import TestCase
from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import login_client
from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.messaging.models import MessageKind, OutgoingMessage
from vinculo.messaging.services.outgoing import message_queue
from vinculo.messaging.tasks import send_outgoing_batch
from vinculo.messaging.transports import Route
from vinculo.sales import pdf
from vinculo.sales.services.documents import quote_create
from vinculo.sales.services.quote_email import quote_email
from vinculo.sales.testing import make_product
from vinculo.touchpoints.models import EmailMessage, Mailbox
from vinculo.touchpoints.services.mail_in import mailbox_fetch
from vinculo.touchpoints.services.mail_out import email_send
from vinculo.touchpoints.services.mail_send import SMTP_LOGIN_FAILED
from vinculo.touchpoints.services.mailboxes import mailbox_create, mailbox_update
from vinculo.touchpoints.testing.imap import IMAP_USER
from vinculo.touchpoints.testing.mail import connect_mailbox, connect_sending_mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def lucia(actor):
    with scope(organization=actor.organization):
        return contact_create(actor=actor, data={"first_name": "Lucía", "emails": ["lucia@cliente.example"]})


def committed():
    """The block's transaction commits: the worker (ImmediateBackend) sends what it queued."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def send(actor, contact, **kwargs):
    with committed(), scope(organization=actor.organization):
        return email_send(actor=actor, contact=contact, **kwargs)


def outgoing(org):
    with scope(organization=org):
        return list(OutgoingMessage.objects.order_by("id"))


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # aiosmtpd, TLS from the start
@pytest.mark.parametrize("smtp_account", ["starttls", "ssl"], indirect=True)
def test_a_members_email_leaves_through_their_mailbox_and_lands_once_in_sent(
    actor, lucia, imap_server, smtp_account, smtp_server
):
    mailbox = connect_sending_mailbox(actor, imap_server, smtp_account)

    sent = send(actor, lucia, subject="Su pedido", body="Hola Lucía,\n\nya sale.\n")

    assert smtp_server.received == []  # not through the install's relay
    [received] = smtp_account.received
    assert smtp_account.sink.logins == [(IMAP_USER, True)]  # the IMAP login, password in UTF-8
    assert received.rcpt_tos == ["lucia@cliente.example"]
    assert received.mail_from == "ana@example.com"
    message = received.message
    assert message["From"] == f"{actor.user.full_name} <ana@example.com>"
    assert message["To"] == "lucia@cliente.example"
    assert message["Subject"] == "Su pedido"
    assert message["Message-ID"] == sent.message_id
    assert message["Reply-To"] is None
    assert received.body.replace("\r\n", "\n") == "Hola Lucía,\n\nya sale.\n"
    [row] = outgoing(actor.organization)
    assert (row.state, row.transport, row.transport_ref, row.last_error) == ("sent", "mailbox", str(mailbox.pk), "")
    assert sent.mailbox_id == mailbox.pk

    [(flags, raw)] = imap_server.messages("Sent")
    assert b"\\Seen" in flags
    copy = parse(raw)
    assert (copy["Message-ID"], copy["From"], copy["Subject"]) == (sent.message_id, message["From"], "Su pedido")
    assert copy.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Hola Lucía,\n\nya sale.\n"
    mailbox.refresh_from_db()
    assert (mailbox.sent_folder, mailbox.outgoing_error) == ("Sent", "")  # found by its \Sent mark

    # the reader later reads the Sent folder: the message is recognised, not stored twice
    with scope(organization=actor.organization):
        mailbox_update(actor=actor, mailbox=mailbox, data={"folder": "Sent"})
    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert (result.stored, result.duplicates, result.error) == (0, 1, "")
    assert EmailMessage.dangerously_unscoped.count() == 1
    assert Event.dangerously_unscoped.filter(type="email.sent").count() == 1
    assert len(imap_server.messages("Sent")) == 1


def test_a_quote_emailed_by_a_member_leaves_through_their_mailbox_with_its_pdf(
    actor, org, imap_server, smtp_account, smtp_server
):
    connect_sending_mailbox(actor, imap_server, smtp_account)
    widget = make_product(org, "Widget", price="100.00", tax_rate=Decimal("21"))
    with scope(organization=org):
        ana = contact_create(actor=actor, data={"first_name": "Ana", "emails": ["ana@cliente.example"]})
        quote = quote_create(actor=actor, data={"contact": ana.pk, "lines": [{"product": widget.pk, "quantity": "2"}]})

    with committed(), scope(organization=org):
        emailed = quote_email(actor=actor, quote=quote, to="ana@cliente.example", subject="Presupuesto", message="Hola")

    assert smtp_server.received == []
    [received] = smtp_account.received
    message = received.message
    assert message["From"] == f"{actor.user.full_name} <ana@example.com>"
    assert message["Reply-To"] is None
    assert message["Message-ID"] == emailed.message.message_id
    assert emailed.message.message_id.endswith("@example.com>")  # the domain of the From address
    [attachment] = list(message.iter_attachments())
    with scope(organization=org):
        [stored] = emailed.message.attachments.all()
    assert attachment.get_filename() == pdf.filename(quote.number)
    assert attachment.get_content() == stored.read()
    [(_flags, raw)] = imap_server.messages("Sent")
    assert parse(raw)["Message-ID"] == emailed.message.message_id

    # read back from Sent: Vínculo sent it (the timeline has quote.sent): not stored again
    mailbox = Mailbox.dangerously_unscoped.get()
    with scope(organization=org):
        mailbox_update(actor=actor, mailbox=mailbox, data={"folder": "Sent"})
    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert (result.stored, result.duplicates) == (0, 1)
    assert not Event.dangerously_unscoped.filter(type__startswith="email.").exists()


def test_a_refused_login_fails_the_message_with_the_reason_and_marks_the_mailbox(
    actor, org, lucia, imap_server, smtp_account, client_in
):
    mailbox = connect_sending_mailbox(actor, imap_server, smtp_account, smtp_password="not the password")
    with scope(organization=org):  # two messages queued (not sent on commit), sent in one batch below
        first = message_queue(organization=org, to=lucia.email, subject="Uno", text="1", route=route_of(mailbox))
        second = message_queue(organization=org, to=lucia.email, subject="Dos", text="2", route=route_of(mailbox))

    send_outgoing_batch([first.pk, second.pk])

    assert smtp_account.received == []
    assert smtp_account.sink.logins == [(IMAP_USER, False)]  # one try: the second message is not tried
    reason = "Could not log in to the SMTP server: check the user name and the password."
    assert str(SMTP_LOGIN_FAILED) == reason
    rows = outgoing(org)
    assert [(r.subject, r.state, r.last_error) for r in rows] == [("Uno", "failed", reason), ("Dos", "failed", reason)]
    mailbox.refresh_from_db()
    assert mailbox.outgoing_error == reason
    page = client_in.get(reverse("touchpoints:mailbox_list", args=[org.slug])).content.decode()
    assert f"Sending needs attention: {reason}" in page
    assert imap_server.messages("Sent") == []

    # the password is fixed: the mark goes, the next message leaves
    with scope(organization=org):
        mailbox = mailbox_update(actor=actor, mailbox=mailbox, data={"smtp_password": smtp_account.password})
    assert mailbox.outgoing_error == ""
    send(actor, lucia, subject="Tres", body="3")
    assert [m.message["Subject"] for m in smtp_account.received] == ["Tres"]


def route_of(mailbox):
    return Route(transport="mailbox", ref=str(mailbox.pk), address=mailbox.email_address)


def test_a_refusal_after_the_login_fails_with_the_servers_answer(actor, org, lucia, imap_server, smtp_account):
    mailbox = connect_sending_mailbox(actor, imap_server, smtp_account)

    async def refuse(server, session, envelope, address, options):
        return "550 5.1.1 No such user here"

    smtp_account.sink.handle_RCPT = refuse  # type: ignore[attr-defined]

    send(actor, lucia, subject="Hola", body="x")

    [row] = outgoing(org)
    assert (row.state, row.last_error) == ("failed", "The server refused the message: 550 5.1.1 No such user here")
    mailbox.refresh_from_db()
    assert mailbox.outgoing_error == ""  # the mailbox is fine: the address was refused


def test_without_a_mailbox_of_their_own_a_member_writes_through_the_organisations_sender(
    actor, org, lucia, member, imap_server, smtp_account, smtp_server
):
    rep = member(Role.SALES)
    shared = connect_sending_mailbox(
        actor, imap_server, smtp_account, name="Ventas", shared=True, is_default_sender=True
    )
    with scope(organization=org):
        contact = contact_create(actor=rep, data={"first_name": "Pepe", "emails": ["pepe@cliente.example"]})

    sent = send(rep, contact, subject="Hola", body="Buenas")

    [received] = smtp_account.received
    assert received.message["From"] == f"{rep.user.full_name} <ana@example.com>"
    assert sent.mailbox_id == shared.pk
    [row] = outgoing(org)
    assert (row.transport, row.transport_ref) == ("mailbox", str(shared.pk))
    assert smtp_server.received == []


def test_a_mailbox_that_only_reads_and_system_mail_stay_on_the_install_relay(
    actor, org, lucia, imap_server, smtp_account, smtp_server
):
    connect_mailbox(actor, imap_server)  # reads, does not send

    send(actor, lucia, subject="Hola", body="x")
    with committed():
        message_queue(organization=org, kind=MessageKind.SYSTEM, to=actor.user.email, subject="Recordatorio", text="x")

    assert smtp_account.received == []
    assert [m.message["Subject"] for m in smtp_server.received] == ["Hola", "Recordatorio"]
    assert [(r.transport, r.transport_ref) for r in outgoing(org)] == [("relay", ""), ("relay", "")]


def test_the_install_relay_sends_invitations_even_for_a_member_with_a_sending_mailbox(
    actor, org, imap_server, smtp_account, smtp_server
):
    connect_sending_mailbox(actor, imap_server, smtp_account)
    with committed():
        response = login_client(actor).post(
            reverse("org:invitations", args=[org.slug]), {"email": "nuevo@empresa.example", "role": "sales"}
        )

    assert response.status_code in (200, 302)
    assert smtp_account.received == []
    assert [m.rcpt_tos for m in smtp_server.received] == [["nuevo@empresa.example"]]


def test_send_a_test_email_from_the_page_and_the_api(actor, org, client_in, api_client, imap_server, smtp_account):
    mailbox = connect_sending_mailbox(actor, imap_server, smtp_account)

    response = client_in.post(reverse("touchpoints:mailbox_send_test", args=[org.slug, mailbox.pk]), follow=True)

    expected = (
        f"Ventas: Sent to {actor.user.email}: the SMTP server accepted the login and the message. "
        "A copy was saved in “Sent”."
    )
    assert expected in response.content.decode()
    [received] = smtp_account.received
    assert received.rcpt_tos == [actor.user.email]
    assert received.message["From"] == f"{actor.user.full_name} <ana@example.com>"
    assert received.message["Subject"] == "Vínculo: test e-mail from ana@example.com"
    assert len(imap_server.messages("Sent")) == 1

    with scope(organization=org):
        mailbox_update(actor=actor, mailbox=mailbox, data={"smtp_password": "wrong"})
    refused = api_client.post(f"/api/v1/mailboxes/{mailbox.pk}/send-test")

    assert refused.status_code == 200
    assert refused.json() == {
        "ok": False,
        "message": "Could not log in to the SMTP server: check the user name and the password.",
    }
    mailbox.refresh_from_db()
    assert mailbox.outgoing_error == "Could not log in to the SMTP server: check the user name and the password."
    assert len(smtp_account.received) == 1


def test_nothing_leaves_through_the_mailbox_of_a_server_that_is_away(actor, org, lucia, imap_server, smtp_account):
    mailbox = connect_sending_mailbox(actor, imap_server, smtp_account)
    Mailbox.dangerously_unscoped.filter(pk=mailbox.pk).update(smtp_port=1)  # nobody listens there

    send(actor, lucia, subject="Hola", body="x")

    [row] = outgoing(org)
    assert (row.state, row.attempts, row.last_error) == (
        "queued",
        1,
        "Could not connect to the SMTP server: check the server name, the port and the security.",
    )
    mailbox.refresh_from_db()
    assert mailbox.outgoing_error == ""  # not the settings' fault yet: retried later
    assert django_mail.outbox == []


def test_a_server_without_starttls_is_not_sent_the_password(actor, org, lucia, imap_server, smtp_server, settings):
    # the relay fixture offers no STARTTLS: a mailbox set to STARTTLS refuses to log in there
    with scope(organization=org):
        mailbox_create(
            actor=actor,
            data={
                "name": "Ventas",
                "email_address": imap_server.user,
                "host": imap_server.host,
                "port": imap_server.port,
                "use_ssl": False,
                "username": imap_server.user,
                "password": imap_server.password,
                "smtp_host": "127.0.0.1",
                "smtp_port": settings.EMAIL_PORT,
                "smtp_security": "starttls",
            },
        )

    send(actor, lucia, subject="Hola", body="x")

    [row] = outgoing(org)
    assert row.state == "queued"
    assert row.last_error.startswith("Could not connect to the SMTP server")
    assert smtp_server.received == []


def test_a_development_server_on_this_machine_is_reached_without_encryption(
    actor, org, lucia, imap_server, smtp_server, settings
):
    # the relay fixture: plain SMTP on 127.0.0.1, no login offered (as MailHog in development)
    connect_mailbox(actor, imap_server, smtp_host="127.0.0.1", smtp_port=settings.EMAIL_PORT, smtp_security="none")
    settings.EMAIL_PORT = 1  # the relay is away: what arrives came through the mailbox's settings

    send(actor, lucia, subject="Hola", body="x")

    [received] = smtp_server.received
    assert received.message["From"] == f"{actor.user.full_name} <ana@example.com>"
    [row] = outgoing(org)
    assert (row.state, row.transport) == ("sent", "mailbox")


def test_the_copy_goes_to_the_folder_typed_and_not_at_all_when_the_server_keeps_its_own(
    actor, org, lucia, imap_server, smtp_account
):
    mailbox = connect_sending_mailbox(actor, imap_server, smtp_account, sent_folder="Elementos enviados")

    first = send(actor, lucia, subject="Uno", body="1")
    with scope(organization=org):
        mailbox_update(actor=actor, mailbox=mailbox, data={"save_sent_copy": False})  # as for Gmail
    send(actor, lucia, subject="Dos", body="2")

    assert [m.message["Subject"] for m in smtp_account.received] == ["Uno", "Dos"]
    [(_flags, raw)] = imap_server.messages("Elementos enviados")  # made by the first copy (TRYCREATE)
    assert parse(raw)["Message-ID"] == first.message_id
    assert imap_server.messages("Sent") == []
    mailbox.refresh_from_db()
    assert mailbox.outgoing_error == ""


def test_a_copy_that_cannot_be_saved_is_noted_on_the_mailbox_and_the_message_still_counts_as_sent(
    actor, org, lucia, imap_server, smtp_account
):
    mailbox = connect_sending_mailbox(
        actor, imap_server, smtp_account, password="not the imap password", smtp_password=smtp_account.password
    )

    send(actor, lucia, subject="Hola", body="x")

    [row] = outgoing(org)
    assert row.state == "sent"
    assert len(smtp_account.received) == 1
    mailbox.refresh_from_db()
    assert mailbox.outgoing_error == (
        "The copy in the Sent folder could not be saved: Could not log in: check the user name and the password."
    )
