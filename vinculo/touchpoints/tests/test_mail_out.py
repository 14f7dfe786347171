"""Writing to a contact: the message reaches a real SMTP server (aiosmtpd) with the right headers,
is stored on its thread and on the timeline, and the reply fetched from a real IMAP server
(dovecot) joins the same thread."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from django.core.exceptions import ValidationError
from django.test import TestCase
from django_scopes import scope

from vinculo.accounts.testing import free_port
from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.core.testing import count_queries, org_scope
from vinculo.messaging.models import OutgoingMessage
from vinculo.messaging.services.suppression import suppression_add
from vinculo.messaging.testing import ScriptedSink
from vinculo.touchpoints.models import EmailMessage, EmailThread
from vinculo.touchpoints.services.mail_in import mailbox_fetch
from vinculo.touchpoints.services.mail_out import MAX_BODY, email_draft, email_send
from vinculo.touchpoints.testing.mail import connect_mailbox, mail

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


def test_an_email_goes_out_from_the_members_mailbox_and_the_reply_joins_its_thread(
    actor, lucia, imap_server, smtp_server
):
    mailbox = connect_mailbox(actor, imap_server)

    sent = send(actor, lucia, subject="Su pedido", body="Hola Lucía,\n\nya sale.\n")

    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.rcpt_tos == ["lucia@cliente.example"]
    assert received.message["From"] == f"{actor.user.full_name} <ana@example.com>"
    assert received.message["To"] == "lucia@cliente.example"
    assert received.message["Subject"] == "Su pedido"
    assert received.message["Message-ID"] == sent.message_id
    assert sent.message_id.endswith("@example.com>")
    assert received.message["In-Reply-To"] is None
    assert received.message["Reply-To"] is None
    assert received.body.replace("\r\n", "\n") == "Hola Lucía,\n\nya sale.\n"
    assert (sent.direction, sent.from_address, sent.to, sent.sent_by) == (
        "out",
        "ana@example.com",
        [lucia.email],
        actor.user,
    )
    assert sent.mailbox == mailbox
    with org_scope(mailbox.organization):
        assert list(sent.contacts.all()) == [lucia]
        thread = sent.thread
        assert (thread.subject, thread.message_count, list(thread.contacts.all())) == ("Su pedido", 1, [lucia])
    event = Event.dangerously_unscoped.get(type="email.sent")
    assert (event.contact, event.actor, event.message_id) == (lucia, actor.user, sent.message_id)
    assert event.properties == {
        "subject": "Su pedido",
        "to": "lucia@cliente.example",
        "snippet": "Hola Lucía, ya sale.",
        "thread_id": thread.pk,
        "email_message_id": sent.pk,
    }

    imap_server.deliver(
        mail(
            message_id="<reply1@cliente.example>",
            subject="Re: Su pedido",
            body="> Hola Lucía,\n¡Gracias!",
            date="Sun, 29 Nov 2026 07:00:00 +0000",
            extra=f"In-Reply-To: {sent.message_id}\r\nReferences: {sent.message_id}",
        )
    )
    assert mailbox_fetch(mailbox_id=mailbox.pk).stored == 1

    reply = EmailMessage.dangerously_unscoped.get(message_id="<reply1@cliente.example>")
    assert reply.thread_id == thread.pk
    thread.refresh_from_db()
    assert thread.message_count == 2
    assert Event.dangerously_unscoped.get(type="email.received").properties["snippet"] == "¡Gracias!"


def test_answering_a_thread_sets_in_reply_to_and_references(actor, lucia, imap_server, smtp_server):
    mailbox = connect_mailbox(actor, imap_server)
    imap_server.deliver(
        mail(message_id="<q2@cliente.example>", subject="Re: Pedido 42", extra="References: <q1@cliente.example>")
    )
    mailbox_fetch(mailbox_id=mailbox.pk)
    thread = EmailThread.dangerously_unscoped.get()
    with scope(organization=actor.organization):
        draft = email_draft(actor=actor, contact=lucia, thread=thread)
    assert (draft.to, draft.subject) == ("lucia@cliente.example", "Re: Pedido 42")

    sent = send(actor, lucia, subject=draft.subject, body="Sale mañana.", thread=thread.pk)

    headers = smtp_server.received[0].message
    assert headers["In-Reply-To"] == "<q2@cliente.example>"
    assert headers["References"] == "<q1@cliente.example> <q2@cliente.example>"
    assert sent.thread_id == thread.pk
    assert (sent.in_reply_to, sent.references) == (
        "<q2@cliente.example>",
        ["<q1@cliente.example>", "<q2@cliente.example>"],
    )
    thread.refresh_from_db()
    assert thread.message_count == 2


def test_without_a_mailbox_it_goes_from_the_default_address_with_reply_to_the_member(
    actor, lucia, smtp_server, settings
):
    settings.DEFAULT_FROM_EMAIL = "Vínculo <crm@vinculo.example>"

    sent = send(actor, lucia, subject="Hola", body="Texto")

    message = smtp_server.received[0].message
    assert message["From"] == "Vínculo <crm@vinculo.example>"
    assert message["Reply-To"] == f"{actor.user.full_name} <{actor.user.email}>"
    assert sent.from_address == "crm@vinculo.example"
    assert sent.mailbox is None


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"subject": "", "body": ""}, {"subject": ["This field is required."], "body": ["This field is required."]}),
        ({"subject": "Hola", "body": "x" * (MAX_BODY + 1)}, {"body": [f"At most {MAX_BODY} characters."]}),
        ({"subject": "Hola\r\nBcc: all@example.com", "body": "x"}, {"subject": ["Write the subject on one line."]}),
        ({"subject": "x" * 301, "body": "x"}, {"subject": ["At most 300 characters."]}),
        ({"subject": "Hola", "body": "x", "thread": 987654}, {"thread": ["No such conversation with this contact."]}),
    ],
)
def test_bad_input_sends_and_stores_nothing(actor, lucia, smtp_server, data, errors):
    with pytest.raises(ValidationError) as exc:
        send(actor, lucia, **data)

    assert exc.value.message_dict == errors
    assert smtp_server.received == []
    assert (EmailMessage.dangerously_unscoped.count(), EmailThread.dangerously_unscoped.count()) == (0, 0)
    assert not Event.dangerously_unscoped.filter(type="email.sent").exists()


def test_a_contact_without_email_cannot_be_written_to(actor, smtp_server):
    with scope(organization=actor.organization):
        nameless = contact_create(actor=actor, data={"first_name": "Sin correo"})

    with pytest.raises(ValidationError) as exc:
        send(actor, nameless, subject="Hola", body="x")

    assert exc.value.message_dict == {"to": ["This contact has no e-mail address."]}
    assert smtp_server.received == []


def test_another_contacts_thread_cannot_be_answered(actor, lucia, smtp_server):
    with scope(organization=actor.organization):
        pedro = contact_create(actor=actor, data={"first_name": "Pedro", "emails": ["pedro@cliente.example"]})
    first = send(actor, pedro, subject="Para Pedro", body="x")

    with pytest.raises(ValidationError) as exc:
        send(actor, lucia, subject="Re", body="x", thread=first.thread_id)

    assert exc.value.message_dict == {"thread": ["No such conversation with this contact."]}
    assert EmailMessage.dangerously_unscoped.count() == 1


def test_an_unreachable_smtp_server_keeps_the_message_queued_for_a_retry(actor, lucia, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2

    sent = send(actor, lucia, subject="Hola", body="x")

    with scope(organization=actor.organization):
        outgoing = OutgoingMessage.objects.get()
        assert EmailMessage.objects.count() == 1
    assert (outgoing.state, outgoing.attempts, outgoing.contact_id) == ("queued", 1, lucia.pk)
    assert outgoing.last_error.startswith("ConnectionRefusedError")
    assert outgoing.message_id == sent.message_id  # the thread's message is the outgoing row's


def test_the_thread_page_says_which_messages_did_not_go_out(actor, org, lucia, client_in, settings):
    sink = ScriptedSink()
    sink.refuse_rcpt["lucia@cliente.example"] = "550 5.1.1 No such user"
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", controller.port, 5
        refused = send(actor, lucia, subject="Hola", body="x")
        settings.EMAIL_PORT = free_port()  # now nothing listens
        later = send(actor, lucia, subject="Re: Hola", body="y", thread=refused.thread_id)
    finally:
        controller.stop()

    html = client_in.get(url(org, "email_thread_detail", refused.thread_id)).content.decode()

    first, second = html.split(f'id="message-{later.pk}"')
    assert 'data-state="failed"' in first
    assert "Not delivered" in first
    assert "550 5.1.1 No such user" in first
    assert 'data-state="queued"' in second
    assert "Not delivered yet; will try again" in second
    assert sink.received == []


def test_a_suppressed_address_is_refused_with_the_reason_and_recorded(actor, org, lucia, smtp_server):
    suppression_add(organization=org, address="Lucia@Cliente.example", reason="hard_bounce")

    with pytest.raises(ValidationError) as exc:
        send(actor, lucia, subject="Hola", body="x")

    assert exc.value.message_dict == {
        "to": ["lucia@cliente.example is on the suppression list (hard bounce): nothing was sent."]
    }
    with scope(organization=org):
        outgoing = OutgoingMessage.objects.get()
        assert (EmailMessage.objects.count(), EmailThread.objects.count()) == (0, 0)
        assert not Event.objects.filter(type="email.sent").exists()
    assert (outgoing.state, outgoing.suppressed_reason, outgoing.to_address) == (
        "suppressed",
        "hard_bounce",
        "lucia@cliente.example",
    )
    assert smtp_server.received == []


# --- the pages and the API ---------------------------------------------------------------------------


def url(org, name, *args):
    from django.urls import reverse

    return reverse(f"touchpoints:{name}", args=[org.slug, *args])


def test_writing_from_the_contact_page_sends_and_shows_the_thread(actor, org, lucia, client_in, smtp_server):
    contact_page = client_in.get(f"/o/{org.slug}/contacts/{lucia.pk}/").content.decode()
    assert 'id="panel-email"' in contact_page
    assert url(org, "contact_email_compose", lucia.pk) in contact_page
    form = client_in.get(url(org, "contact_email_compose", lucia.pk))
    assert form.status_code == 200
    assert "lucia@cliente.example" in form.content.decode()

    with committed():
        response = client_in.post(url(org, "contact_email_compose", lucia.pk), {"subject": "Hola", "body": "¿Qué tal?"})

    sent = EmailMessage.dangerously_unscoped.get()
    assert response.status_code == 302
    assert response["Location"] == url(org, "email_thread_detail", sent.thread_id)
    assert smtp_server.received[0].message["Message-ID"] == sent.message_id
    thread_page = client_in.get(response["Location"]).content.decode()
    assert "¿Qué tal?" in thread_page
    assert f'id="message-{sent.pk}"' in thread_page
    panel = client_in.get(f"/o/{org.slug}/contacts/{lucia.pk}/").content.decode()
    assert url(org, "email_thread_detail", sent.thread_id) in panel
    assert 'data-type="email.sent"' in panel  # on the timeline


def test_replying_from_the_thread_page_prefills_the_subject(actor, org, lucia, client_in, smtp_server):
    first = send(actor, lucia, subject="Pedido 42", body="x")

    form = client_in.get(url(org, "contact_email_compose", lucia.pk) + f"?thread={first.thread_id}")

    assert form.context["form"].initial == {"subject": "Re: Pedido 42", "thread": first.thread_id}
    with committed():
        response = client_in.post(
            url(org, "contact_email_compose", lucia.pk),
            {"subject": "Re: Pedido 42", "body": "y", "thread": first.thread_id},
        )
    assert response.status_code == 302
    assert smtp_server.received[1].message["In-Reply-To"] == first.message_id
    assert EmailThread.dangerously_unscoped.get().message_count == 2


def test_bad_input_on_the_compose_page_is_422_and_keeps_what_was_typed(org, lucia, client_in, smtp_server):
    response = client_in.post(
        url(org, "contact_email_compose", lucia.pk), {"subject": "Mi asunto", "body": "x" * (MAX_BODY + 1)}
    )

    assert response.status_code == 422
    assert response.context["form"].errors == {"body": [f"At most {MAX_BODY} characters."]}
    assert 'value="Mi asunto"' in response.content.decode()
    empty = client_in.post(url(org, "contact_email_compose", lucia.pk), {"subject": "", "body": ""})
    assert empty.status_code == 422
    assert empty.context["form"].errors == {
        "subject": ["This field is required."],
        "body": ["This field is required."],
    }
    assert smtp_server.received == []
    assert EmailMessage.dangerously_unscoped.count() == 0


def test_a_sales_rep_cannot_write_to_or_read_a_contact_they_do_not_see(actor, org, lucia, member, smtp_server):
    from vinculo.accounts.models import Role
    from vinculo.accounts.testing import login_client

    first = send(actor, lucia, subject="Privado", body="x")
    rep = login_client(member(Role.SALES))  # lucia is owned by the owner, not in the rep's team

    assert rep.get(url(org, "contact_email_compose", lucia.pk)).status_code == 404
    assert rep.post(url(org, "contact_email_compose", lucia.pk), {"subject": "a", "body": "b"}).status_code == 404
    assert rep.get(url(org, "email_thread_detail", first.thread_id)).status_code == 404
    assert "Privado" not in rep.get(url(org, "email_thread_list")).content.decode()
    assert rep.get(f"/api/v1/email-threads/{first.thread_id}").status_code == 404
    assert len(smtp_server.received) == 1


def test_the_api_sends_lists_and_shows_threads(actor, org, lucia, api_client, smtp_server, other_actor):
    with committed():
        response = api_client.post(
            f"/api/v1/contacts/{lucia.pk}/emails", {"subject": "Hola", "body": "Texto"}, content_type="application/json"
        )

    assert response.status_code == 201, response.content
    sent = response.json()
    assert (sent["direction"], sent["to"], sent["subject"], sent["contact_ids"]) == (
        "out",
        [lucia.email],
        "Hola",
        [lucia.pk],
    )
    assert sent["message_id"] == smtp_server.received[0].message["Message-ID"]
    threads = api_client.get(f"/api/v1/email-threads?contact={lucia.pk}").json()
    assert [(t["id"], t["subject"], t["message_count"], t["contact_ids"]) for t in threads["items"]] == [
        (sent["thread_id"], "Hola", 1, [lucia.pk])
    ]
    detail = api_client.get(f"/api/v1/email-threads/{sent['thread_id']}").json()
    assert [m["id"] for m in detail["messages"]] == [sent["id"]]
    assert api_client.get(f"/api/v1/email-messages/{sent['id']}").json()["text_body"] == "Texto"
    # a filter by a contact that does not exist, or another organisation's: an empty page, as documented
    for missing in (999_999, theirs_contact(other_actor).pk):
        empty = api_client.get(f"/api/v1/email-threads?contact={missing}")
        assert (empty.status_code, empty.json()["items"], empty.json()["total"]) == (200, [], 0)


def theirs_contact(other_actor):
    with org_scope(other_actor.organization):
        return contact_create(actor=other_actor, data={"first_name": "Otra", "emails": ["otra@example.com"]})


def test_bad_input_on_the_api_is_422_and_sends_nothing(lucia, api_client, smtp_server):
    too_long = api_client.post(
        f"/api/v1/contacts/{lucia.pk}/emails",
        {"subject": "Hola", "body": "x" * (MAX_BODY + 1)},
        content_type="application/json",
    )
    empty = api_client.post(f"/api/v1/contacts/{lucia.pk}/emails", {}, content_type="application/json")
    wrong_thread = api_client.post(
        f"/api/v1/contacts/{lucia.pk}/emails",
        {"subject": "a", "body": "b", "thread": 99},
        content_type="application/json",
    )

    assert too_long.status_code == 422
    assert too_long.json()["errors"] == [{"field": "body", "message": f"At most {MAX_BODY} characters."}]
    assert empty.status_code == 422
    assert sorted((e["field"], e["message"]) for e in empty.json()["errors"]) == [
        ("body", "This field is required."),
        ("subject", "This field is required."),
    ]
    assert wrong_thread.json()["errors"] == [{"field": "thread", "message": "No such conversation with this contact."}]
    assert smtp_server.received == []
    assert EmailMessage.dangerously_unscoped.count() == 0


def test_the_thread_lists_take_the_same_number_of_queries_for_more_rows(
    actor, org, lucia, client_in, api_client, smtp_server
):
    send(actor, lucia, subject="Uno", body="x")
    client_in.get(url(org, "email_thread_list"))  # warm up
    api_client.get("/api/v1/email-threads")
    with count_queries() as few_pages:
        client_in.get(url(org, "email_thread_list"))
    with count_queries() as few_api:
        api_client.get("/api/v1/email-threads")
    for n in range(4):
        send(actor, lucia, subject=f"Otro {n}", body="x")
    with count_queries() as many_pages:
        page = client_in.get(url(org, "email_thread_list"))
    with count_queries() as many_api:
        api_client.get("/api/v1/email-threads")

    assert page.content.decode().count('class="list-group-item" id="thread-') == 5
    assert len(many_pages) == len(few_pages)
    assert len(many_api) == len(few_api)


def test_the_compose_page_says_when_the_contact_has_no_address(actor, org, client_in, smtp_server):
    with scope(organization=org):
        nameless = contact_create(actor=actor, data={"first_name": "Sin correo"})

    response = client_in.post(url(org, "contact_email_compose", nameless.pk), {"subject": "Hola", "body": "x"})

    assert response.status_code == 422
    assert response.context["form"].non_field_errors() == ["This contact has no e-mail address."]
    assert "This contact has no e-mail address." in response.content.decode()
    assert smtp_server.received == []
