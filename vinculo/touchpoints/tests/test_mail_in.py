"""Reading mailboxes from a real IMAP server (dovecot, started by the `imap_server` fixture): new
messages go on the right contacts' timelines, once, threaded; unknown senders may become leads;
a bad message or a wrong password never stops the run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django_scopes import scope

from vinculo.contacts.models import Contact, LifecycleStage
from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.core.testing import org_scope
from vinculo.touchpoints.models import EmailMessage, EmailThread, Mailbox
from vinculo.touchpoints.services import mail_in
from vinculo.touchpoints.services.mail_in import mailbox_fetch, parse_email
from vinculo.touchpoints.testing.mail import connect_mailbox, mail

pytestmark = pytest.mark.django_db


def make_contact(actor, first_name, email):
    with scope(organization=actor.organization):
        return contact_create(actor=actor, data={"first_name": first_name, "emails": [email]})


def test_new_mail_goes_on_the_timelines_of_the_contacts_in_from_to_and_cc(actor, org, imap_server):
    lucia = make_contact(actor, "Lucía", "lucia@cliente.example")
    pedro = make_contact(actor, "Pedro", "pedro@cliente.example")
    make_contact(actor, "Nadie", "nadie@otro.example")
    mailbox = connect_mailbox(actor, imap_server)
    imap_server.deliver(mail(message_id="<m1@cliente.example>", cc="Pedro <PEDRO@cliente.example>"))
    imap_server.deliver(mail(message_id="<spam@unknown.example>", sender="someone@unknown.example"))

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert (result.stored, result.ignored, result.duplicates, result.skipped, result.error) == (1, 1, 0, [], "")
    message = EmailMessage.dangerously_unscoped.get()
    assert message.message_id == "<m1@cliente.example>"
    assert message.direction == "in"
    assert message.from_address == "lucia@cliente.example"
    assert message.from_name == "Lucía Pérez"
    assert message.to == ["ana@example.com"]
    assert message.cc == ["pedro@cliente.example"]
    assert message.text_body == "¿Cuándo llega el pedido?\n"
    assert message.sent_at == dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    assert message.imap_uid == 1
    assert message.mailbox == mailbox
    with org_scope(mailbox.organization):
        assert set(message.contacts.all()) == {lucia, pedro}
        thread = message.thread
        assert (thread.subject, thread.normalized_subject, thread.message_count) == ("Pedido 42", "pedido 42", 1)
        assert set(thread.contacts.all()) == {lucia, pedro}
    events = list(
        Event.dangerously_unscoped.filter(type="email.received").order_by("id").values("contact", "message_id")
    )
    assert events == [
        {"contact": lucia.pk, "message_id": "<m1@cliente.example>"},
        {"contact": pedro.pk, "message_id": f"<m1@cliente.example>#{pedro.pk}"},
    ]
    event = Event.dangerously_unscoped.get(contact=lucia, type="email.received")
    assert event.source == "email"
    assert event.occurred_at == message.sent_at
    assert event.properties == {
        "subject": "Pedido 42",
        "from": "lucia@cliente.example",
        "snippet": "¿Cuándo llega el pedido?",
        "thread_id": thread.pk,
        "email_message_id": message.pk,
    }
    mailbox.refresh_from_db()
    assert (mailbox.last_uid, mailbox.last_error) == (2, "")
    assert mailbox.uid_validity is not None
    assert mailbox.last_fetched_at is not None


def test_fetching_twice_stores_once_even_from_the_start_of_the_folder(actor, imap_server):
    make_contact(actor, "Lucía", "lucia@cliente.example")
    mailbox = connect_mailbox(actor, imap_server)
    imap_server.deliver(mail(message_id="<m1@cliente.example>"))
    assert mailbox_fetch(mailbox_id=mailbox.pk).stored == 1

    again = mailbox_fetch(mailbox_id=mailbox.pk)
    assert (again.stored, again.duplicates) == (0, 0)  # nothing new above last_uid

    Mailbox.dangerously_unscoped.filter(pk=mailbox.pk).update(last_uid=0)
    from_start = mailbox_fetch(mailbox_id=mailbox.pk)

    assert (from_start.stored, from_start.duplicates) == (0, 1)
    assert EmailMessage.dangerously_unscoped.count() == 1
    assert Event.dangerously_unscoped.filter(type="email.received").count() == 1
    assert EmailThread.dangerously_unscoped.get().message_count == 1


def test_a_reply_joins_the_thread_by_its_headers(actor, imap_server):
    lucia = make_contact(actor, "Lucía", "lucia@cliente.example")
    mailbox = connect_mailbox(actor, imap_server)
    imap_server.deliver(mail(message_id="<m1@cliente.example>"))
    imap_server.deliver(
        mail(
            message_id="<m2@cliente.example>",
            subject="Otra cosa",  # a changed subject does not matter: the headers decide
            date="Tue, 24 Nov 2026 10:00:00 +0100",
            extra="In-Reply-To: <m1@cliente.example>\r\nReferences: <m1@cliente.example>",
        )
    )
    imap_server.deliver(
        mail(
            message_id="<m3@cliente.example>",
            subject="Sin relación",
            date="Wed, 25 Nov 2026 10:00:00 +0100",
            extra="References: <unknown@x.example> <m2@cliente.example>",
        )
    )

    mailbox_fetch(mailbox_id=mailbox.pk)

    with org_scope(mailbox.organization):
        thread = EmailThread.dangerously_unscoped.get()
        assert thread.message_count == 3
        assert thread.last_message_at == dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
        assert list(thread.messages.values_list("message_id", flat=True)) == [
            "<m1@cliente.example>",
            "<m2@cliente.example>",
            "<m3@cliente.example>",
        ]
        assert list(thread.contacts.all()) == [lucia]


def test_a_reply_that_arrives_before_the_original_still_joins_it(actor, imap_server):
    make_contact(actor, "Lucía", "lucia@cliente.example")
    mailbox = connect_mailbox(actor, imap_server)
    imap_server.deliver(
        mail(message_id="<m2@cliente.example>", subject="Ya", extra="In-Reply-To: <m1@cliente.example>")
    )
    imap_server.deliver(mail(message_id="<m1@cliente.example>", subject="Antes"))

    mailbox_fetch(mailbox_id=mailbox.pk)

    assert EmailThread.dangerously_unscoped.count() == 1
    assert EmailThread.dangerously_unscoped.get().message_count == 2


def test_the_subject_is_the_fallback_between_the_same_people_within_30_days(actor, imap_server):
    make_contact(actor, "Lucía", "lucia@cliente.example")
    make_contact(actor, "Pedro", "pedro@cliente.example")
    mailbox = connect_mailbox(actor, imap_server)
    october = "Thu, 01 Oct 2026 10:00:00 +0200"
    imap_server.deliver(mail(message_id="<a1@x>", subject="Pedido 42", date=october))
    # no In-Reply-To / References (a client that drops them), the same people: joins
    imap_server.deliver(
        mail(message_id="<a2@x>", subject="RE: rv:  Pedido   42", date="Mon, 05 Oct 2026 10:00:00 +0200")
    )
    # the same subject from someone else who was not in the conversation: a new thread
    imap_server.deliver(
        mail(message_id="<b1@x>", sender="pedro@cliente.example", subject="AW: Pedido 42", date=october)
    )
    # the same people, 46 days after the last message: a new thread
    imap_server.deliver(mail(message_id="<c1@x>", subject="Re: Pedido 42", date="Fri, 20 Nov 2026 10:00:00 +0100"))

    mailbox_fetch(mailbox_id=mailbox.pk)

    thread_of = dict(EmailMessage.dangerously_unscoped.values_list("message_id", "thread_id"))
    assert thread_of["<a2@x>"] == thread_of["<a1@x>"]
    assert thread_of["<b1@x>"] != thread_of["<a1@x>"]
    assert thread_of["<c1@x>"] not in (thread_of["<a1@x>"], thread_of["<b1@x>"])
    assert EmailThread.dangerously_unscoped.count() == 3


def test_a_changed_uidvalidity_reads_the_folder_again_without_storing_twice(actor, imap_server):
    make_contact(actor, "Lucía", "lucia@cliente.example")
    mailbox = connect_mailbox(actor, imap_server, folder="Clientes")
    imap_server.deliver(mail(message_id="<m1@x>"), folder="Clientes")
    imap_server.deliver(mail(message_id="<m2@x>"), folder="Clientes")
    mailbox_fetch(mailbox_id=mailbox.pk)
    mailbox.refresh_from_db()
    first_validity = mailbox.uid_validity
    assert (mailbox.last_uid, EmailMessage.dangerously_unscoped.count()) == (2, 2)

    imap_server.recreate_folder("Clientes")  # the server renumbers: UIDs start at 1 again
    imap_server.deliver(mail(message_id="<m2@x>"), folder="Clientes")  # UID 1 now
    imap_server.deliver(mail(message_id="<m3@x>"), folder="Clientes")  # UID 2: not above last_uid 2
    result = mailbox_fetch(mailbox_id=mailbox.pk)

    mailbox.refresh_from_db()
    assert mailbox.uid_validity != first_validity
    assert (result.stored, result.duplicates) == (1, 1)
    assert sorted(EmailMessage.dangerously_unscoped.values_list("message_id", flat=True)) == [
        "<m1@x>",
        "<m2@x>",
        "<m3@x>",
    ]
    assert mailbox.last_uid == 2


def test_unknown_senders_become_leads_when_the_mailbox_says_so(actor, org, imap_server):
    mailbox = connect_mailbox(actor, imap_server, create_leads=True)
    imap_server.deliver(mail(message_id="<new@x>", sender="Marta Gil Ruiz <marta@nueva.example>"))
    imap_server.deliver(mail(message_id="<nr@x>", sender="No Reply <no-reply@tienda.example>"))
    imap_server.deliver(mail(message_id="<nl@x>", sender="news@tienda.example", extra="List-Id: <news.tienda>"))
    imap_server.deliver(mail(message_id="<auto@x>", sender="bot@tienda.example", extra="Auto-Submitted: auto-replied"))
    imap_server.deliver(mail(message_id="<me@x>", sender="ana@example.com", to="otro@example.com"))
    imap_server.deliver(mail(message_id="<colleague@x>", sender=actor.user.email))

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert (result.stored, result.ignored) == (1, 5)
    lead = Contact.dangerously_unscoped.get()
    assert (lead.first_name, lead.last_name, lead.email) == ("Marta", "Gil Ruiz", "marta@nueva.example")
    assert (lead.lifecycle_stage, lead.source, lead.owner) == (LifecycleStage.LEAD, "email", actor.user)
    assert list(Event.dangerously_unscoped.filter(contact=lead).order_by("id").values_list("type", flat=True)) == [
        "contact.created",
        "email.received",
    ]


def test_unknown_senders_stay_out_when_leads_are_off(actor, imap_server):
    mailbox = connect_mailbox(actor, imap_server)
    imap_server.deliver(mail(message_id="<new@x>", sender="marta@nueva.example"))

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert (result.stored, result.ignored) == (0, 1)
    assert Contact.dangerously_unscoped.count() == 0
    assert EmailMessage.dangerously_unscoped.count() == 0


def test_a_bad_message_is_skipped_and_the_others_are_stored(actor, imap_server, monkeypatch):
    make_contact(actor, "Lucía", "lucia@cliente.example")
    mailbox = connect_mailbox(actor, imap_server)
    imap_server.deliver(mail(message_id="<ok1@x>"))
    imap_server.deliver("To: ana@example.com\r\nSubject: sin remitente\r\nMessage-ID: <nofrom@x>\r\n\r\nhola\r\n")
    imap_server.deliver(mail(message_id="<big@x>", body="x" * 5000))
    imap_server.deliver(mail(message_id="<ok2@x>"))
    monkeypatch.setattr(mail_in, "MAX_MESSAGE_BYTES", 4000)

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert result.stored == 2
    assert result.skipped == ["message 2 cannot be read (no sender address)", "message 3 is too large (0 MB)"]
    assert sorted(EmailMessage.dangerously_unscoped.values_list("message_id", flat=True)) == ["<ok1@x>", "<ok2@x>"]
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 4
    assert mailbox.last_error == (
        "Skipped: message 2 cannot be read (no sender address); message 3 is too large (0 MB)"
    )


def test_a_message_that_breaks_the_parser_does_not_stop_the_others(actor, imap_server, monkeypatch):
    make_contact(actor, "Lucía", "lucia@cliente.example")
    mailbox = connect_mailbox(actor, imap_server)
    imap_server.deliver(mail(message_id="<ok1@x>"))
    imap_server.deliver(mail(message_id="<boom@x>", subject="boom"))
    imap_server.deliver(mail(message_id="<ok2@x>"))
    real_parse = mail_in.parse_email

    def fragile_parse(raw, **kwargs):
        if b"Subject: boom" in raw:
            raise IndexError("a parser bug")
        return real_parse(raw, **kwargs)

    monkeypatch.setattr(mail_in, "parse_email", fragile_parse)

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert (result.stored, result.skipped) == (2, ["message 2 cannot be read (IndexError)"])


def test_a_wrong_password_is_recorded_on_the_mailbox_and_nothing_breaks(actor, imap_server):
    mailbox = connect_mailbox(actor, imap_server, password="not the password")
    imap_server.deliver(mail(message_id="<m1@x>"))

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert result.error == "Could not log in: check the user name and the password."
    mailbox.refresh_from_db()
    assert mailbox.last_error == "Could not log in: check the user name and the password."
    assert (mailbox.last_uid, EmailMessage.dangerously_unscoped.count()) == (0, 0)


def test_a_server_that_is_not_there_is_recorded(actor, imap_server):
    mailbox = connect_mailbox(actor, imap_server)
    Mailbox.dangerously_unscoped.filter(pk=mailbox.pk).update(port=1)

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert result.error == "Could not connect to the server: check the server name, the port and SSL/TLS."
    mailbox.refresh_from_db()
    assert mailbox.last_error == result.error


def test_the_password_is_encrypted_at_rest(actor, imap_server):
    mailbox = connect_mailbox(actor, imap_server)

    with connection.cursor() as cursor:
        cursor.execute("SELECT password_encrypted FROM touchpoints_mailbox WHERE id = %s", [mailbox.pk])
        (stored,) = cursor.fetchone()

    assert stored
    assert imap_server.password not in stored
    assert "pässword" not in stored


def test_mail_from_the_mailbox_itself_is_an_email_sent_on_the_timeline(actor, imap_server):
    lucia = make_contact(actor, "Lucía", "lucia@cliente.example")
    mailbox = connect_mailbox(actor, imap_server, folder="Sent")
    imap_server.deliver(
        mail(message_id="<out@x>", sender="Ana <ana@example.com>", to="lucia@cliente.example"), folder="Sent"
    )

    mailbox_fetch(mailbox_id=mailbox.pk)

    assert EmailMessage.dangerously_unscoped.get().direction == "out"
    assert list(Event.dangerously_unscoped.filter(contact=lucia).order_by("id").values_list("type", flat=True)) == [
        "contact.created",
        "email.sent",
    ]


def test_headers_and_charsets_are_decoded_and_html_is_sanitised():
    raw = (
        b"From: =?ISO-8859-1?Q?Jos=E9_Mu=F1oz?= <JOSE@Example.com>\r\n"
        b"To: a@example.com, =?utf-8?b?w4FsdmFybw==?= <alvaro@example.com>\r\n"
        b"Subject: =?ISO-8859-1?Q?Presupuesto_a=F1o_2027?=\r\n"
        b"Message-ID: <h1@example.com>\r\n"
        b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\n"
        b'Content-Type: text/plain; charset="iso-8859-1"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Ma=F1ana le env=EDo el presupuesto.\r\n"
        b"--b\r\n"
        b'Content-Type: text/html; charset="utf-8"\r\n\r\n'
        b'<p onclick="x()">Ma\xc3\xb1ana <script>alert(1)</script><img src="https://t.example/p.gif">'
        b'<a href="javascript:alert(1)">a</a> <a href="https://ok.example">b</a></p>\r\n'
        b"--b--\r\n"
    )

    parsed = parse_email(raw)

    assert (parsed.from_name, parsed.from_address) == ("José Muñoz", "jose@example.com")
    assert parsed.to == ["a@example.com", "alvaro@example.com"]
    assert parsed.subject == "Presupuesto año 2027"
    assert parsed.text_body == "Mañana le envío el presupuesto."
    assert parsed.html_body == (
        '<p>Mañana <a rel="noopener noreferrer nofollow">a</a> '
        '<a href="https://ok.example" rel="noopener noreferrer nofollow">b</a></p>'
    )


def test_an_html_only_message_gets_a_text_version_and_an_unknown_charset_does_not_break():
    raw = (
        b"From: a@example.com\r\nMessage-ID: <h2@example.com>\r\nSubject: x\r\n"
        b'Content-Type: text/html; charset="x-unknown"\r\n\r\n'
        b"<div>Hola</div><div>mundo &amp; m\xc3\xa1s</div><style>p{}</style>\r\n"
    )

    parsed = parse_email(raw)

    assert parsed.text_body == "Hola\nmundo & más"
    assert parsed.html_body == "<div>Hola</div><div>mundo &amp; más</div>\n"


def test_a_message_without_message_id_gets_a_stable_one():
    raw = b"From: a@example.com\r\nSubject: x\r\n\r\nhola\r\n"

    assert parse_email(raw).message_id == parse_email(raw).message_id
    assert parse_email(raw).message_id.endswith("@vinculo.invalid>")


def test_a_mailbox_disconnected_before_its_run_is_left_alone(actor, imap_server):
    mailbox = connect_mailbox(actor, imap_server)
    mailbox_pk = mailbox.pk
    Mailbox.dangerously_unscoped.filter(pk=mailbox_pk).delete()

    result = mailbox_fetch(mailbox_id=mailbox_pk)

    assert (result.stored, result.error) == (0, "")


def test_without_starttls_the_password_is_never_sent_to_a_server_that_is_not_local(actor, imap_server, monkeypatch):
    from vinculo.touchpoints.services import mailboxes

    mailbox = connect_mailbox(actor, imap_server)  # dovecot here offers no STARTTLS (ssl = no)
    monkeypatch.setattr(mailboxes, "is_local_host", lambda host: False)
    logins_before = imap_server.logins(at_least=1)  # connecting the mailbox logged in once

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert result.error == "Could not connect to the server: check the server name, the port and SSL/TLS."
    assert imap_server.logins() == logins_before


def test_ssl_to_a_server_that_does_not_speak_it_is_recorded(actor, imap_server):
    mailbox = connect_mailbox(actor, imap_server, use_ssl=True)

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert result.error == "Could not connect to the server: check the server name, the port and SSL/TLS."
    mailbox.refresh_from_db()
    assert mailbox.last_error == result.error


def test_a_folder_with_accents_is_read(actor, imap_server):
    make_contact(actor, "Lucía", "lucia@cliente.example")
    mailbox = connect_mailbox(actor, imap_server, folder="Clientes & pedidos Ñandú")
    imap_server.deliver(mail(message_id="<f1@x>"), folder="Clientes & pedidos Ñandú")

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert (result.stored, result.error) == (1, "")


def test_a_shared_mailbox_makes_unowned_leads_and_a_former_members_mailbox_is_not_read(actor, org, member, imap_server):
    from vinculo.accounts.models import Membership
    from vinculo.touchpoints.services.mail_in import active_mailbox_ids

    shared = connect_mailbox(actor, imap_server, shared=True, create_leads=True)
    leaver = member()
    own = connect_mailbox(leaver, imap_server, name="Del que se fue")
    imap_server.deliver(mail(message_id="<new@x>", sender="Marta <marta@nueva.example>"))

    assert active_mailbox_ids() == [shared.pk, own.pk]
    Membership.objects.filter(pk=leaver.pk).delete()
    assert active_mailbox_ids() == [shared.pk]

    mailbox_fetch(mailbox_id=shared.pk)

    lead = Contact.dangerously_unscoped.get()
    assert (lead.email, lead.owner, lead.source) == ("marta@nueva.example", None, "email")
    created = Event.dangerously_unscoped.get(type="contact.created", contact=lead)
    assert (created.actor.is_system, created.properties["via"]) == (True, "mailbox:Ventas")  # no member did it
