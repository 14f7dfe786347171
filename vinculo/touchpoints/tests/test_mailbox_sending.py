"""A mailbox's sending settings: bad input is a 422 with field errors and saves or changes nothing
(API and page), the SMTP password is write-only and encrypted, the SMTP server follows the address
rules of every server a user names (at save time, and at connection time through the checked
address with the server's name kept for TLS), and another organisation's mailbox is a 404."""

from __future__ import annotations

import json
import ssl

import pytest
from django.core.mail import EmailMessage
from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.testing import login_client
from vinculo.core.models import AuditEntry
from vinculo.core.outbound import resolve_target
from vinculo.messaging.models import OutgoingMessage
from vinculo.messaging.smtp import PinnedSMTPSSL
from vinculo.messaging.transports import TransportError
from vinculo.touchpoints import crypto
from vinculo.touchpoints.models import Mailbox
from vinculo.touchpoints.services.mail_send import SMTP_CONNECT_FAILED, mailbox_connection_open
from vinculo.touchpoints.services.mailboxes import HOST_REFUSED, mailbox_create
from vinculo.touchpoints.testing.mail import connect_sending_mailbox

pytestmark = pytest.mark.django_db

API_BODY = {
    "name": "Soporte",
    "email_address": "soporte@empresa.example",
    "host": "imap.empresa.example",
    "username": "soporte",
    "password": "imap-s3cret",
}
PAGE_FORM = {
    "name": "Ventas",
    "email_address": "ventas@empresa.example",
    "host": "imap.empresa.example",
    "port": "993",
    "use_ssl": "on",
    "username": "ventas@empresa.example",
    "password": "imap-s3cret",
    "folder": "INBOX",
    "is_active": "on",
    "smtp_host": "smtp.empresa.example",
    "smtp_port": "",
    "smtp_security": "starttls",
    "smtp_username": "",
    "smtp_password": "smtp-s3cret",
    "save_sent_copy": "on",
    "sent_folder": "",
}
NONE_REFUSED = "Without encryption the password would travel in the clear: choose SSL/TLS or STARTTLS."


def page(org, name, *args):
    return reverse(f"touchpoints:{name}", args=[org.slug, *args])


def api_create(client, **changes):
    return client.post("/api/v1/mailboxes", {**API_BODY, **changes}, content_type="application/json")


def sending_columns(mailbox):
    mailbox.refresh_from_db()
    return (
        mailbox.smtp_host,
        mailbox.smtp_port,
        mailbox.smtp_security,
        mailbox.smtp_username,
        mailbox.smtp_password_encrypted,
        mailbox.save_sent_copy,
        mailbox.sent_folder,
        mailbox.is_default_sender,
    )


def test_the_page_sets_up_sending_with_an_encrypted_write_only_password(actor, org, client_in):
    response = client_in.post(page(org, "mailbox_create"), PAGE_FORM)

    assert response.status_code == 302
    mailbox = Mailbox.dangerously_unscoped.get()
    assert (mailbox.smtp_host, mailbox.smtp_port, mailbox.smtp_security, mailbox.smtp_username) == (
        "smtp.empresa.example",
        587,  # the port of STARTTLS when none is typed
        "starttls",
        "",
    )
    assert (mailbox.save_sent_copy, mailbox.sent_folder, mailbox.is_default_sender) == (True, "", False)
    assert crypto.decrypt(mailbox.smtp_password_encrypted) == "smtp-s3cret"
    listing = client_in.get(page(org, "mailbox_list")).content.decode()
    assert "Sends through smtp.empresa.example:587, STARTTLS (usually port 587) · copies in Sent" in listing
    assert "Send a test e-mail" in listing
    edit = client_in.get(page(org, "mailbox_edit", mailbox.pk)).content.decode()
    assert "smtp-s3cret" not in edit
    assert mailbox.smtp_password_encrypted not in edit
    audit = AuditEntry.dangerously_unscoped.get(object_type="touchpoints.mailbox")
    assert "smtp-s3cret" not in json.dumps(audit.changes)
    assert audit.changes["smtp_host"] == [None, "smtp.empresa.example"]

    # editing with the password left empty keeps it; a new one replaces it (audited as ***)
    client_in.post(page(org, "mailbox_edit", mailbox.pk), {**PAGE_FORM, "password": "", "smtp_password": ""})
    assert crypto.decrypt(Mailbox.dangerously_unscoped.get().smtp_password_encrypted) == "smtp-s3cret"
    client_in.post(
        page(org, "mailbox_edit", mailbox.pk),
        {**PAGE_FORM, "password": "", "smtp_password": "otra", "smtp_port": "2525"},
    )
    mailbox.refresh_from_db()
    assert (crypto.decrypt(mailbox.smtp_password_encrypted), mailbox.smtp_port) == ("otra", 2525)
    last = AuditEntry.dangerously_unscoped.filter(object_type="touchpoints.mailbox").order_by("-id")[0]
    assert last.changes["smtp_password"] == ["***", "***"]


def test_the_api_sets_up_sending_and_never_returns_the_smtp_password(actor, api_client):
    response = api_create(
        api_client,
        smtp_host="smtp.empresa.example",
        smtp_security="ssl",
        smtp_password="api-smtp",
        sent_folder="Enviados",
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert {k: data[k] for k in ("sends", "smtp_host", "smtp_port", "smtp_security", "has_smtp_password")} == {
        "sends": True,
        "smtp_host": "smtp.empresa.example",
        "smtp_port": 465,
        "smtp_security": "ssl",
        "has_smtp_password": True,
    }
    assert (data["sent_folder"], data["save_sent_copy"], data["outgoing_error"]) == ("Enviados", True, "")
    assert "api-smtp" not in response.content.decode()
    mailbox = Mailbox.dangerously_unscoped.get()

    stopped = api_client.patch(f"/api/v1/mailboxes/{mailbox.pk}", {"smtp_host": None}, content_type="application/json")

    assert stopped.status_code == 200
    assert (stopped.json()["sends"], stopped.json()["smtp_host"]) == (False, "")


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"smtp_host": "smtp server!"},
            {"smtp_host": "Enter a server name such as smtp.example.com, or an IP address."},
        ),
        ({"smtp_host": "smtp.empresa.example", "smtp_port": 0}, {"smtp_port": "Enter a port between 1 and 65535."}),
        (
            {"smtp_host": "smtp.empresa.example", "smtp_security": "tls"},
            {"smtp_security": "Choose SSL/TLS, STARTTLS or none."},
        ),
        ({"smtp_host": "smtp.empresa.example", "smtp_security": "none"}, {"smtp_security": NONE_REFUSED}),
        (
            {"smtp_host": "smtp.empresa.example", "smtp_password": "a\nb"},
            {"smtp_password": "Enter text without control characters."},
        ),
        (
            {"smtp_host": "smtp.empresa.example", "is_default_sender": True},
            {"is_default_sender": "Only a shared mailbox can be the organisation's sender."},
        ),
        (
            {"shared": True, "is_default_sender": True},
            {"is_default_sender": "Set the SMTP server first: this mailbox does not send."},
        ),
        (
            {"smtp_host": "smtp.empresa.example", "sent_folder": "a\tb"},
            {"sent_folder": "Enter text without control characters."},
        ),
    ],
)
def test_bad_sending_input_on_the_api_is_422_with_field_errors_and_saves_nothing(api_client, changes, errors):
    response = api_create(api_client, **changes)

    assert response.status_code == 422, response.content
    assert {e["field"]: e["message"] for e in response.json()["errors"]} == errors
    assert Mailbox.dangerously_unscoped.count() == 0


def test_bad_sending_input_on_a_patch_changes_nothing(actor, org, api_client):
    with scope(organization=org):
        mailbox = mailbox_create(actor=actor, data={**API_BODY, "smtp_host": "smtp.empresa.example"})
    before = sending_columns(mailbox)

    for body in (
        {"smtp_port": 70000, "name": "x"},
        {"smtp_security": "none"},
        {"smtp_host": "-bad-", "smtp_password": "nueva"},
        {"is_default_sender": True},
        {"smtp_port": "587"},  # not a number in JSON
    ):
        response = api_client.patch(f"/api/v1/mailboxes/{mailbox.pk}", body, content_type="application/json")
        assert response.status_code == 422, body

    assert sending_columns(mailbox) == before
    assert mailbox.name == "Soporte"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"smtp_host": "smtp server!"},
            {"smtp_host": "Enter a server name such as smtp.example.com, or an IP address."},
        ),
        ({"smtp_port": "abc"}, {"smtp_port": "Enter a whole number."}),
        ({"smtp_security": "tls"}, {"smtp_security": "Choose SSL/TLS, STARTTLS or none."}),
        ({"smtp_security": "none"}, {"smtp_security": NONE_REFUSED}),
        ({"sent_folder": "x" * 101}, {"sent_folder": "At most 100 characters."}),
    ],
)
def test_bad_sending_input_on_the_page_is_422_next_to_the_field_and_saves_nothing(org, client_in, changes, errors):
    response = client_in.post(page(org, "mailbox_create"), {**PAGE_FORM, **changes})

    assert response.status_code == 422
    assert dict(response.context["form"].errors) == {name: [message] for name, message in errors.items()}
    assert Mailbox.dangerously_unscoped.count() == 0
    html = response.content.decode()
    assert "smtp-s3cret" not in html
    if "smtp_host" not in changes:
        assert 'value="smtp.empresa.example"' in html  # what was typed is kept


def test_only_a_shared_mailbox_of_an_admin_is_the_organisations_sender_and_there_is_one(actor, org, client_in):
    first = client_in.post(page(org, "mailbox_create"), {**PAGE_FORM, "shared": "on", "is_default_sender": "on"})
    second = client_in.post(
        page(org, "mailbox_create"), {**PAGE_FORM, "name": "Soporte", "shared": "on", "is_default_sender": "on"}
    )

    assert (first.status_code, second.status_code) == (302, 302)
    assert list(Mailbox.dangerously_unscoped.order_by("id").values_list("name", "is_default_sender")) == [
        ("Ventas", False),
        ("Soporte", True),
    ]
    listing = client_in.get(page(org, "mailbox_list")).content.decode()
    assert listing.count("the organisation's sender</span>") == 1


# --- the address rules -----------------------------------------------------------------------------


@pytest.fixture
def private_refused(settings):
    settings.VINCULO_ALLOW_PRIVATE_TARGETS = False


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0x7f000001", "10.0.0.8", "169.254.169.254"])
def test_a_local_or_private_smtp_server_is_refused_when_saved(private_refused, org, api_client, client_in, host):
    response = api_create(api_client, smtp_host=host, smtp_security="ssl")
    page_response = client_in.post(page(org, "mailbox_create"), {**PAGE_FORM, "smtp_host": host})

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "smtp_host", "message": HOST_REFUSED}]
    assert page_response.status_code == 422
    assert dict(page_response.context["form"].errors) == {"smtp_host": [HOST_REFUSED]}
    assert Mailbox.dangerously_unscoped.count() == 0


def test_a_name_that_rebinds_to_this_machine_is_never_connected_to_when_sending(
    private_refused, actor, org, fake_dns, tcp_listener
):
    fake_dns["smtp.rebind.example"] = ["93.184.215.14"]  # public when saved
    with scope(organization=org):
        mailbox = mailbox_create(
            actor=actor, data={**API_BODY, "smtp_host": "smtp.rebind.example", "smtp_port": tcp_listener.port}
        )
    fake_dns["smtp.rebind.example"] = ["127.0.0.1"]  # this machine when sending
    connection = mailbox_connection_open(str(mailbox.pk), org.pk)

    with pytest.raises(TransportError) as refused:
        connection.send(EmailMessage("x", "y", "soporte@empresa.example", ["lucia@cliente.example"]))
    connection.close()

    assert str(refused.value) == SMTP_CONNECT_FAILED
    assert tcp_listener.accept_all() == 0


def test_ssl_names_the_server_while_connecting_to_its_checked_address(fake_dns, tcp_listener):
    fake_dns["smtp.tls.example.test"] = ["127.0.0.1"]
    target = resolve_target("smtp.tls.example.test", tcp_listener.port)
    seen = []

    class Context:
        def wrap_socket(self, sock, server_hostname):
            seen.append((server_hostname, sock.getpeername()))
            raise ssl.SSLError("stop here")

    smtp = PinnedSMTPSSL(target, context=Context(), timeout=5)  # type: ignore[arg-type]
    with pytest.raises(ssl.SSLError):
        smtp.connect(target.host, target.port)

    assert seen == [("smtp.tls.example.test", ("127.0.0.1", tcp_listener.port))]


def test_starttls_checks_the_certificate_against_the_servers_name(
    actor, org, imap_server, smtp_account, fake_dns, caplog
):
    # the name resolves to the test server, whose certificate is for localhost only
    fake_dns["smtp.other-name.example.test"] = ["127.0.0.1"]
    mailbox = connect_sending_mailbox(actor, imap_server, smtp_account)
    Mailbox.dangerously_unscoped.filter(pk=mailbox.pk).update(smtp_host="smtp.other-name.example.test")

    check = login_client(actor).post(page(org, "mailbox_send_test", mailbox.pk), follow=True)

    assert f"Ventas: {SMTP_CONNECT_FAILED}" in check.content.decode()
    assert smtp_account.sink.logins == []  # the password was never sent
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text or "certificate" in caplog.text.lower()
    assert OutgoingMessage.dangerously_unscoped.count() == 0


# --- tenancy ---------------------------------------------------------------------------------------


def test_another_organisations_mailbox_and_its_sending_answer_404(org, other_actor, api_client, client_in):
    with scope(organization=other_actor.organization):
        foreign = mailbox_create(
            actor=other_actor, data={**API_BODY, "name": "Ajeno", "shared": True, "smtp_host": "smtp.ajeno.example"}
        )

    assert api_client.post(f"/api/v1/mailboxes/{foreign.pk}/send-test").status_code == 404
    assert (
        api_client.patch(
            f"/api/v1/mailboxes/{foreign.pk}", {"smtp_host": "127.0.0.1"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert client_in.post(page(org, "mailbox_send_test", foreign.pk)).status_code == 404
    foreign.refresh_from_db()
    assert (foreign.smtp_host, foreign.outgoing_error) == ("smtp.ajeno.example", "")
    # a route naming another organisation's mailbox is never opened for this one's messages
    with pytest.raises(TransportError) as refused:
        mailbox_connection_open(str(foreign.pk), org.pk)
    assert "disconnected or no longer sends" in str(refused.value)


def test_another_members_own_mailbox_cannot_be_tested_or_sent_through(org, actor, member, api_client):
    colleague = member("manager")
    with scope(organization=org):
        private = mailbox_create(actor=colleague, data={**API_BODY, "smtp_host": "smtp.empresa.example"})

    assert api_client.post(f"/api/v1/mailboxes/{private.pk}/send-test").status_code == 404
    assert login_client(actor).post(page(org, "mailbox_send_test", private.pk)).status_code == 404
