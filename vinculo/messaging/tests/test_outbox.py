"""E-mail that works from the first run: with no SMTP server configured, mail is kept in the
organisation's outbox (readable as its recipient would see it); an organisation's own SMTP server
(a real aiosmtpd server here) sends the same mail; a message that fails is listed with its reason
and can be sent again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.test import Client, TestCase
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import api_client_for, free_port, login_client, make_member
from vinculo.contacts.services import contact_create
from vinculo.core import crypto
from vinculo.core.testing import count_queries
from vinculo.messaging.failed_mail import register_failure_listener, unregister_failure_listener
from vinculo.messaging.models import MessageState, OrganizationSmtp, OutgoingMessage
from vinculo.messaging.services.outgoing import Attachment, message_queue
from vinculo.messaging.testing import ScriptedSink

pytestmark = pytest.mark.django_db


class SenderCheckingSink(ScriptedSink):
    """A mail server that refuses the senders listed in `refuse_mail`."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse_mail: set[str] = set()

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse_mail:
            return "550 5.7.1 sender not allowed here"
        envelope.mail_from = address
        return "250 OK"


@pytest.fixture
def no_smtp(settings: Any) -> None:
    """The embedded default: no EMAIL_HOST, no EMAIL_BACKEND."""
    settings.VINCULO_RELAY_CONFIGURED = False


@pytest.fixture
def sink() -> Iterator[SenderCheckingSink]:
    server = SenderCheckingSink()
    controller = Controller(server, hostname="127.0.0.1", port=free_port())
    controller.start()
    server.port = controller.port  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def lucia(actor: Any) -> Any:
    with scope(organization=actor.organization):
        return contact_create(actor=actor, data={"first_name": "Lucía", "emails": ["lucia@cliente.example"]})


def committed() -> Any:
    """The block's transaction commits: the worker (an immediate backend here) sends what it queued."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def write_to(client: Client, org: Any, contact: Any, subject: str, body: str) -> Any:
    with committed():
        return client.post(f"/o/{org.slug}/contacts/{contact.pk}/email/", {"subject": subject, "body": body})


def save_smtp(client: Client, org: Any, **values: Any) -> Any:
    data = {"host": "127.0.0.1", "security": "none", "from_email": "hola@empresa.example", "from_name": "Empresa"}
    data.update({k: str(v) for k, v in values.items()})
    return client.post(f"/o/{org.slug}/settings/email-sending/", data)


def rows(org: Any) -> list[OutgoingMessage]:
    return list(OutgoingMessage.dangerously_unscoped.filter(organization=org).order_by("id"))


def text(response: Any) -> str:
    """The page's text, tags and runs of white space folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


# --- the outbox ---------------------------------------------------------------------------------------


def test_a_contact_email_written_with_no_smtp_server_lands_in_the_outbox(actor, org, lucia, no_smtp):
    client = login_client(actor)

    compose = client.get(f"/o/{org.slug}/contacts/{lucia.pk}/email/")
    assert "this e-mail will be kept in the organisation's outbox" in compose.content.decode()
    response = write_to(client, org, lucia, "Su pedido 1043", "Hola Lucía,\n\nsale mañana.\n")

    assert response.status_code == 302
    assert mail.outbox == []
    [row] = rows(org)
    assert (row.state, row.transport, row.to_address, row.subject, row.attempts) == (
        MessageState.OUTBOX,
        "outbox",
        "lucia@cliente.example",
        "Su pedido 1043",
        0,
    )
    thread_page = client.get(response["Location"])
    assert "No SMTP server is configured: the e-mail to lucia@cliente.example was kept in the outbox." in text(
        thread_page
    )
    assert "Kept in the outbox" in text(thread_page)

    outbox = client.get(f"/o/{org.slug}/outbox/")
    assert outbox.status_code == 200
    page = text(outbox)
    assert "No SMTP server is configured, so e-mails are kept here instead of being sent." in page
    assert "lucia@cliente.example Su pedido 1043" in page
    assert f'id="outgoing-{row.pk}" data-state="outbox"' in outbox.content.decode()

    detail = client.get(f"/o/{org.slug}/outbox/{row.pk}/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert (
        '<pre class="card-body mb-0 text-wrap text-break outbox-text" id="message-text">Hola Lucía,\n\nsale mañana.\n</pre>'
        in body
    )
    headers = dict(re.findall(r'<dt class="[^"]*">([^<]+)</dt>\s*<dd class="[^"]*">([^<]*)</dd>', body))
    assert headers["To"] == "lucia@cliente.example"
    assert headers["Subject"] == "Su pedido 1043"
    assert headers["From"] == "Vínculo &lt;no-reply@localhost&gt;"
    assert headers["Reply-To"] == f"{actor.user.full_name} &lt;{actor.user.email}&gt;"
    assert headers["Message-ID"] == row.message_id.replace("<", "&lt;").replace(">", "&gt;")
    assert "<iframe" not in body  # a plain-text e-mail has no HTML part
    assert client.get(f"/o/{org.slug}/outbox/{row.pk}/html/").status_code == 404


def test_the_html_part_is_shown_in_a_sandboxed_frame_under_its_own_policy(actor, org, no_smtp):
    with committed(), scope(organization=org):
        row = message_queue(
            organization=org,
            to="ana@example.com",
            subject="Boletín",
            text="Hola",
            html='<p style="color:red">Hola <script>alert(1)</script></p>',
            attachments=[Attachment("oferta.pdf", b"%PDF-1.4 oferta", "application/pdf")],
        )
    client = login_client(actor)

    detail = client.get(f"/o/{org.slug}/outbox/{row.pk}/")
    body = detail.content.decode()
    assert (
        f'sandbox title="The e-mail as HTML" src="/o/{org.slug}/outbox/{row.pk}/html/" id="message-html"></iframe>'
        in body
    )
    assert "<script>alert(1)</script>" not in body  # never inside our page
    assert "frame-ancestors 'none'" in detail["Content-Security-Policy"]
    html = client.get(f"/o/{org.slug}/outbox/{row.pk}/html/")
    assert html.status_code == 200
    assert html.content.decode() == '<p style="color:red">Hola <script>alert(1)</script></p>'
    assert html["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
    )
    assert html["X-Frame-Options"] == "SAMEORIGIN"
    with scope(organization=org):
        [attachment] = row.attachments.all()
    assert f'href="/o/{org.slug}/outbox/files/{attachment.pk}/">oferta.pdf</a>' in body
    download = client.get(f"/o/{org.slug}/outbox/files/{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 oferta"
    assert download["Content-Disposition"] == 'attachment; filename="oferta.pdf"'


def test_members_see_what_they_sent_and_what_was_sent_to_them_admins_everything(actor, org, no_smtp):
    rep = make_member(org, Role.SALES, email="rep@example.com")
    with scope(organization=org):
        own = message_queue(organization=org, to="cliente@cliente.example", subject="Mío", text="x", actor=rep.user)
        to_rep = message_queue(organization=org, to="rep@example.com", subject="Recordatorio", text="x", kind="system")
        others = message_queue(organization=org, to="otro@cliente.example", subject="Ajeno", text="x", actor=actor.user)
    rep_client = login_client(rep)

    listed = re.findall(r'id="outgoing-(\d+)"', rep_client.get(f"/o/{org.slug}/outbox/").content.decode())
    assert listed == [str(to_rep.pk), str(own.pk)]
    assert rep_client.get(f"/o/{org.slug}/outbox/{others.pk}/").status_code == 404
    assert rep_client.get(f"/o/{org.slug}/outbox/{to_rep.pk}/").status_code == 200
    everything = re.findall(r'id="outgoing-(\d+)"', login_client(actor).get(f"/o/{org.slug}/outbox/").content.decode())
    assert everything == [str(others.pk), str(to_rep.pk), str(own.pk)]
    api = rep_client  # the API with the member's session
    assert [m["id"] for m in api.get("/api/v1/outgoing-messages").json()["items"]] == [to_rep.pk, own.pk]
    assert api.get(f"/api/v1/outgoing-messages/{others.pk}").status_code == 404


def test_the_outbox_filters_by_state(actor, org, no_smtp):
    with scope(organization=org):
        kept = message_queue(organization=org, to="a@cliente.example", subject="Guardado", text="x")
        failed = message_queue(organization=org, to="b@cliente.example", subject="Fallido", text="x")
    OutgoingMessage.dangerously_unscoped.filter(pk=failed.pk).update(state=MessageState.FAILED, last_error="Boom.")
    client = login_client(actor)

    only_failed = client.get(f"/o/{org.slug}/outbox/?state=failed").content.decode()
    assert re.findall(r'id="outgoing-(\d+)"', only_failed) == [str(failed.pk)]
    only_kept = client.get(f"/o/{org.slug}/outbox/?state=outbox").content.decode()
    assert re.findall(r'id="outgoing-(\d+)"', only_kept) == [str(kept.pk)]
    unknown = client.get(f"/o/{org.slug}/outbox/?state=nonsense").content.decode()
    assert re.findall(r'id="outgoing-(\d+)"', unknown) == [str(failed.pk), str(kept.pk)]


# --- the organisation's own SMTP server ---------------------------------------------------------------


def test_with_the_organisations_smtp_server_the_same_mail_arrives_there(actor, org, lucia, no_smtp, sink):
    client = login_client(actor)
    saved = save_smtp(client, org, port=sink.port)
    assert saved.status_code == 302

    response = write_to(client, org, lucia, "Su pedido 1043", "Hola Lucía,\n\nsale mañana.\n")

    assert response.status_code == 302
    [received] = sink.received
    assert received.rcpt_tos == ["lucia@cliente.example"]
    assert received.mail_from == "hola@empresa.example"
    assert received.message["From"] == f"{actor.user.full_name} <hola@empresa.example>"
    assert received.message["Subject"] == "Su pedido 1043"
    assert received.body.replace("\r\n", "\n") == "Hola Lucía,\n\nsale mañana.\n"
    [row] = rows(org)
    assert (row.state, row.transport, row.last_error) == (MessageState.SENT, "org_smtp", "")
    assert "E-mail sent to lucia@cliente.example." in text(client.get(response["Location"]))


def test_system_mail_takes_the_organisations_server_before_the_installs_relay(actor, org, sink):
    client = login_client(actor)
    save_smtp(client, org, port=sink.port)

    with committed(), scope(organization=org):
        message_queue(organization=org, to="ana@example.com", subject="Recordatorio", text="Llamar", kind="system")

    assert mail.outbox == []  # the install's relay (locmem here) was not used
    assert [m.message["Subject"] for m in sink.received] == ["Recordatorio"]


def test_the_smtp_settings_are_saved_with_the_password_encrypted(actor, org):
    client = login_client(actor)

    response = save_smtp(client, org, port=2525, security="starttls", username="envios", password="contraseña")

    assert response.status_code == 302
    saved = OrganizationSmtp.dangerously_unscoped.get(organization=org)
    assert (saved.host, saved.port, saved.security, saved.username, saved.from_email) == (
        "127.0.0.1",
        2525,
        "starttls",
        "envios",
        "hola@empresa.example",
    )
    assert "contraseña" not in saved.password_encrypted
    assert crypto.decrypt(saved.password_encrypted) == "contraseña"
    page = client.get(f"/o/{org.slug}/settings/email-sending/").content.decode()
    assert "contraseña" not in page
    assert saved.password_encrypted not in page
    # a blank password keeps the stored one
    save_smtp(client, org, port=2526, security="starttls", username="envios", password="")
    saved.refresh_from_db()
    assert (saved.port, crypto.decrypt(saved.password_encrypted)) == (2526, "contraseña")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"port": "70000"}, "port", "Ensure this value is less than or equal to 65535."),
        ({"port": "veinticinco"}, "port", "Enter a whole number."),
        (
            {"port": "25", "host": "not a host!"},
            "host",
            "Enter a server name such as smtp.example.com, or an IP address.",
        ),
        ({"port": "25", "host": ""}, "host", "This field is required."),
        ({"port": "25", "from_email": "nadie"}, "from_email", "Enter a valid email address."),
        (
            {"port": "25", "security": "starttls", "username": "envios"},
            "password",
            "Enter the password of this user name.",
        ),
        (
            {"port": "25", "host": "smtp.example.com"},
            "security",
            "Without encryption the password would travel in clear: choose STARTTLS or SSL/TLS.",
        ),
    ],
)
def test_invalid_smtp_settings_get_field_errors_and_nothing_changes(actor, org, values, field, message):
    client = login_client(actor)
    save_smtp(client, org, port=2525)
    before = OrganizationSmtp.dangerously_unscoped.filter(organization=org).values().get()

    response = save_smtp(client, org, **values)

    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]
    assert OrganizationSmtp.dangerously_unscoped.filter(organization=org).values().get() == before


def test_a_server_on_this_machine_is_refused_unless_private_targets_are_allowed(actor, org, settings):
    settings.VINCULO_ALLOW_PRIVATE_TARGETS = False
    client = login_client(actor)

    for host in ("127.0.0.1", "localhost", "169.254.169.254", "10.0.0.7"):
        response = save_smtp(client, org, port=25, host=host, security="starttls")
        assert response.status_code == 422, host
        assert response.context["form"].errors["host"] == [
            "This address is local, private or reserved: Vínculo does not connect to it."
        ]
    assert not OrganizationSmtp.dangerously_unscoped.filter(organization=org).exists()


def test_only_owners_and_admins_see_and_change_the_smtp_settings(org, member):
    for role in (Role.MANAGER, Role.SALES, Role.READ_ONLY):
        client = login_client(member(role))
        assert client.get(f"/o/{org.slug}/settings/email-sending/").status_code == 403
        assert save_smtp(client, org, port=25).status_code == 403
        assert client.post(f"/o/{org.slug}/settings/email-sending/test/").status_code == 403
    assert not OrganizationSmtp.dangerously_unscoped.filter(organization=org).exists()
    assert login_client(member(Role.ADMIN)).get(f"/o/{org.slug}/settings/email-sending/").status_code == 200


def test_the_test_email_reaches_the_member_asking(actor, org, sink):
    client = login_client(actor)
    save_smtp(client, org, port=sink.port)

    response = client.post(f"/o/{org.slug}/settings/email-sending/test/")

    assert response.status_code == 200
    assert f"Sent to {actor.user.email}: the SMTP server accepted the login and the message." in text(response)
    [received] = sink.received
    assert received.rcpt_tos == [actor.user.email]
    assert received.message["From"] == "Empresa <hola@empresa.example>"
    assert received.message["Subject"] == f"Vínculo: test e-mail from {org.name}"


def test_the_test_email_to_a_closed_port_says_it_could_not_connect(actor, org):
    client = login_client(actor)
    save_smtp(client, org, port=free_port())
    before = OrganizationSmtp.dangerously_unscoped.filter(organization=org).values().get()

    response = client.post(f"/o/{org.slug}/settings/email-sending/test/")

    assert response.status_code == 422
    page = text(response)
    assert "Could not connect to the SMTP server: check the server name, the port and the security." in page
    assert "refused" not in page.lower()  # nothing of what the socket said
    assert OrganizationSmtp.dangerously_unscoped.filter(organization=org).values().get() == before


def test_the_test_email_says_when_the_server_refuses_the_sender(actor, org, sink):
    sink.refuse_mail.add("hola@empresa.example")
    client = login_client(actor)
    save_smtp(client, org, port=sink.port)

    response = client.post(f"/o/{org.slug}/settings/email-sending/test/")

    assert response.status_code == 422
    assert "The SMTP server refused the sender: check the from address." in text(response)
    assert "sender not allowed here" not in response.content.decode()


def test_the_test_email_before_saving_a_server_asks_for_one(actor, org):
    response = login_client(actor).post(f"/o/{org.slug}/settings/email-sending/test/")

    assert response.status_code == 422
    assert "Save the SMTP server first." in text(response)


def test_removing_the_server_sends_mail_back_to_the_outbox(actor, org, no_smtp, sink):
    client = login_client(actor)
    save_smtp(client, org, port=sink.port)

    assert client.post(f"/o/{org.slug}/settings/email-sending/delete/").status_code == 302
    with committed(), scope(organization=org):
        row = message_queue(organization=org, to="ana@example.com", subject="Hola", text="x")

    assert row.state == MessageState.OUTBOX
    assert sink.received == []


# --- failures and retries -----------------------------------------------------------------------------


def test_a_refused_message_fails_with_its_reason_and_is_sent_again_by_retry(actor, org, lucia, no_smtp, sink):
    failed: list[tuple[int, str]] = []

    def listener(message: OutgoingMessage) -> None:
        failed.append((message.pk, message.last_error))

    register_failure_listener(listener)
    client = login_client(actor)
    save_smtp(client, org, port=sink.port)
    sink.refuse_rcpt["lucia@cliente.example"] = "550 5.1.1 mailbox unavailable"
    try:
        write_to(client, org, lucia, "Su pedido", "Hola")
    finally:
        unregister_failure_listener(listener)

    [row] = rows(org)
    assert (row.state, row.last_error, row.attempts) == (MessageState.FAILED, "The SMTP server refused the message.", 1)
    assert failed == [(row.pk, "The SMTP server refused the message.")]
    outbox = client.get(f"/o/{org.slug}/outbox/?state=failed")
    assert "Failed The SMTP server refused the message. Retry" in text(outbox)
    assert f'action="/o/{org.slug}/outbox/{row.pk}/retry/"' in outbox.content.decode()

    del sink.refuse_rcpt["lucia@cliente.example"]
    with committed():
        retried = client.post(f"/o/{org.slug}/outbox/{row.pk}/retry/", {"next": f"/o/{org.slug}/outbox/?state=failed"})

    assert (retried.status_code, retried["Location"]) == (302, f"/o/{org.slug}/outbox/?state=failed")
    row.refresh_from_db()
    assert (row.state, row.last_error, row.attempts) == (MessageState.SENT, "", 1)
    assert [m.message["Subject"] for m in sink.received] == ["Su pedido"]


def test_a_message_that_failed_on_the_thread_page_has_a_retry_button(actor, org, lucia, no_smtp, sink):
    client = login_client(actor)
    save_smtp(client, org, port=sink.port)
    sink.refuse_rcpt["lucia@cliente.example"] = "550 5.1.1 mailbox unavailable"
    response = write_to(client, org, lucia, "Su pedido", "Hola")
    [row] = rows(org)

    thread = client.get(response["Location"])

    assert "Not delivered The SMTP server refused the message. Retry" in text(thread)
    assert f'action="/o/{org.slug}/outbox/{row.pk}/retry/"' in thread.content.decode()


def test_retrying_a_sent_message_is_a_conflict(actor, org, sink):
    client = login_client(actor)
    save_smtp(client, org, port=sink.port)
    with committed(), scope(organization=org):
        row = message_queue(organization=org, to="ana@example.com", subject="Hola", text="x")
    row.refresh_from_db()
    assert row.state == MessageState.SENT

    page = client.post(f"/o/{org.slug}/outbox/{row.pk}/retry/")
    api = api_client_for(actor).post(f"/api/v1/outgoing-messages/{row.pk}/retry")

    assert page.status_code == 409
    assert "Only a message that failed or was kept in the outbox can be sent again; this one is sent." in text(page)
    assert api.status_code == 409
    assert api.json()["detail"] == (
        "Only a message that failed or was kept in the outbox can be sent again; this one is sent."
    )
    assert len(sink.received) == 1


def test_a_kept_message_is_sent_once_a_server_is_set_up(actor, org, no_smtp, sink):
    with scope(organization=org):
        row = message_queue(organization=org, to="ana@example.com", subject="Guardado", text="x")
    client = login_client(actor)

    still_none = client.post(f"/o/{org.slug}/outbox/{row.pk}/retry/")
    assert still_none.status_code == 409
    assert "No SMTP server is configured: set one up under Settings → E-mail sending, then send it again." in text(
        still_none
    )
    save_smtp(client, org, port=sink.port)
    with committed():
        response = api_client_for(actor).post(f"/api/v1/outgoing-messages/{row.pk}/retry")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["state"]) == (row.pk, "queued")
    row.refresh_from_db()
    assert (row.state, row.transport) == (MessageState.SENT, "org_smtp")
    assert [m.message["Subject"] for m in sink.received] == ["Guardado"]


def test_another_organisations_message_cannot_be_retried(actor, other_actor, no_smtp):
    with scope(organization=other_actor.organization):
        theirs = message_queue(organization=other_actor.organization, to="x@cliente.example", subject="Suyo", text="x")
    OutgoingMessage.dangerously_unscoped.filter(pk=theirs.pk).update(state=MessageState.FAILED)
    slug = actor.organization.slug

    assert login_client(actor).post(f"/o/{slug}/outbox/{theirs.pk}/retry/").status_code == 404
    assert api_client_for(actor).post(f"/api/v1/outgoing-messages/{theirs.pk}/retry").status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == MessageState.FAILED


def test_a_read_only_member_cannot_retry(org, member, no_smtp):
    viewer = member(Role.READ_ONLY)
    with scope(organization=org):
        row = message_queue(organization=org, to=viewer.user.email, subject="Para ti", text="x", kind="system")
    OutgoingMessage.dangerously_unscoped.filter(pk=row.pk).update(state=MessageState.FAILED)

    response = login_client(viewer).post(f"/o/{org.slug}/outbox/{row.pk}/retry/")

    assert response.status_code == 403
    row.refresh_from_db()
    assert row.state == MessageState.FAILED


def test_the_contacts_timeline_says_an_email_failed_and_offers_retry(actor, org, lucia, no_smtp, sink):
    client = login_client(actor)
    save_smtp(client, org, port=sink.port)
    sink.refuse_rcpt["lucia@cliente.example"] = "550 5.1.1 mailbox unavailable"
    write_to(client, org, lucia, "Su pedido", "Hola")
    [row] = rows(org)

    page = client.get(f"/o/{org.slug}/contacts/{lucia.pk}/")

    body = page.content.decode()
    assert 'class="small event-delivery" data-state="failed"' in body
    assert "Failed: The SMTP server refused the message. Open Retry" in text(page)
    assert f'action="/o/{org.slug}/outbox/{row.pk}/retry/"' in body
    del sink.refuse_rcpt["lucia@cliente.example"]
    with committed():
        retried = client.post(f"/o/{org.slug}/outbox/{row.pk}/retry/", {"next": f"/o/{org.slug}/contacts/{lucia.pk}/"})
    assert retried["Location"] == f"/o/{org.slug}/contacts/{lucia.pk}/"
    assert "event-delivery" not in client.get(retried["Location"]).content.decode()  # sent: nothing to say
    assert [m.message["Subject"] for m in sink.received] == ["Su pedido"]


def test_the_contacts_timeline_says_an_email_was_kept_in_the_outbox(actor, org, lucia, no_smtp, member):
    client = login_client(actor)
    write_to(client, org, lucia, "Su pedido", "Hola")
    [row] = rows(org)

    page = client.get(f"/o/{org.slug}/contacts/{lucia.pk}/")

    assert "Kept in the outbox Open" in text(page)
    assert f'href="/o/{org.slug}/outbox/{row.pk}/">Open</a>' in page.content.decode()
    # a colleague who may see the contact but not the message reads the state, without a link
    colleague = login_client(member(Role.MARKETING)).get(f"/o/{org.slug}/contacts/{lucia.pk}/")
    assert "Kept in the outbox" in text(colleague)
    assert f"/outbox/{row.pk}/" not in colleague.content.decode()


def test_the_outbox_page_runs_the_same_queries_for_two_messages_or_twenty(actor, org, no_smtp):
    client = login_client(actor)

    def queue(n: int) -> None:
        with scope(organization=org):
            for i in range(n):
                message_queue(organization=org, to=f"c{i}@cliente.example", subject=f"M{i}", text="x", actor=actor.user)

    queue(2)
    client.get(f"/o/{org.slug}/outbox/")  # the first request of a session does more (its own bookkeeping)
    with count_queries() as few:
        assert client.get(f"/o/{org.slug}/outbox/").status_code == 200
    queue(18)
    with count_queries() as many:
        assert client.get(f"/o/{org.slug}/outbox/").status_code == 200

    assert len(many) == len(few)
