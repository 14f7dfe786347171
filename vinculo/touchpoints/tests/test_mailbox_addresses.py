"""Mailbox servers follow the address rules of every server-side connection (vinculo.core.outbound):
a local, private or reserved host is refused when saved (API and page: 422 on `host`, nothing
saved) and again at every connection, against the address actually connected to; only owners and
admins configure shared mailboxes; connection errors say "could not connect" or "could not log in",
never what the socket said (that goes to the server log)."""

from __future__ import annotations

import logging
import socket
import ssl
import threading

import pytest
from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.testing import free_port, login_client
from vinculo.core.outbound import resolve_target
from vinculo.touchpoints.models import Mailbox
from vinculo.touchpoints.services.mail_in import mailbox_fetch
from vinculo.touchpoints.services.mailboxes import (
    CONNECT_FAILED,
    HOST_REFUSED,
    LOGIN_FAILED,
    PinnedIMAP4SSL,
    mailbox_create,
)
from vinculo.touchpoints.testing.mail import connect_mailbox

pytestmark = pytest.mark.django_db

# what the outside security test sent (issue 9), and the other spellings of this machine
LOCAL_SPELLINGS = [
    "127.0.0.1",
    "::1",
    "localhost",
    "0x7f000001",
    "2130706433",
    "0177.0.0.1",
    "127.1",
    "[::1]",
    "::ffff:127.0.0.1",
]
OTHER_REFUSED = ["10.0.0.8", "192.168.1.1", "100.64.0.1", "169.254.169.254", "100.100.100.200", "0.0.0.0", "224.0.0.1"]
API_BODY = {
    "name": "Soporte",
    "email_address": "soporte@empresa.example",
    "host": "imap.empresa.example",
    "username": "soporte",
    "password": "api-s3cret",
}
PAGE_FORM = {
    "name": "Ventas",
    "email_address": "ventas@empresa.example",
    "host": "imap.empresa.example",
    "port": "993",
    "use_ssl": "on",
    "username": "ventas@empresa.example",
    "password": "s3cret-imap",
    "folder": "INBOX",
    "is_active": "on",
}


@pytest.fixture
def private_refused(settings):
    """The production default (the test settings allow private targets for the local dovecot)."""
    settings.VINCULO_ALLOW_PRIVATE_TARGETS = False


def page(org, name, *args):
    return reverse(f"touchpoints:{name}", args=[org.slug, *args])


def api_create(client, **changes):
    return client.post("/api/v1/mailboxes", {**API_BODY, **changes}, content_type="application/json")


# --- at save time ---------------------------------------------------------------------------------


@pytest.mark.parametrize("host", LOCAL_SPELLINGS + OTHER_REFUSED)
def test_the_api_refuses_a_local_or_private_server_and_saves_nothing(private_refused, api_client, host):
    response = api_create(api_client, host=host)

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "host", "message": HOST_REFUSED}]
    assert Mailbox.dangerously_unscoped.count() == 0


@pytest.mark.parametrize("host", LOCAL_SPELLINGS)
def test_the_page_refuses_a_local_server_next_to_the_field_and_keeps_what_was_typed(
    private_refused, org, client_in, host
):
    response = client_in.post(page(org, "mailbox_create"), {**PAGE_FORM, "host": host})

    assert response.status_code == 422
    assert dict(response.context["form"].errors) == {"host": [HOST_REFUSED]}
    assert f'value="{host}"' in response.content.decode()
    assert Mailbox.dangerously_unscoped.count() == 0


def test_changing_the_server_to_a_local_one_is_refused_and_changes_nothing(private_refused, actor, org, api_client):
    with scope(organization=org):
        mailbox = mailbox_create(actor=actor, data={**API_BODY, "name": "Ventas"})
    client = login_client(actor)

    patched = api_client.patch(
        f"/api/v1/mailboxes/{mailbox.pk}", {"host": "0x7f000001", "name": "x"}, content_type="application/json"
    )
    edited = client.post(page(org, "mailbox_edit", mailbox.pk), {**PAGE_FORM, "host": "localhost", "password": ""})

    assert patched.status_code == 422
    assert patched.json()["errors"] == [{"field": "host", "message": HOST_REFUSED}]
    assert edited.status_code == 422
    assert dict(edited.context["form"].errors) == {"host": [HOST_REFUSED]}
    mailbox.refresh_from_db()
    assert (mailbox.name, mailbox.host) == ("Ventas", "imap.empresa.example")


def test_a_name_that_resolves_to_a_private_address_is_refused(private_refused, api_client, fake_dns):
    fake_dns["imap.intranet.example"] = ["93.184.215.14", "10.1.2.3"]

    response = api_create(api_client, host="imap.intranet.example")

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "host", "message": HOST_REFUSED}]


def test_a_name_that_does_not_resolve_yet_is_saved_and_checked_when_connecting(private_refused, api_client):
    response = api_create(api_client, host="imap.empresa.example")

    assert response.status_code == 201
    tested = api_client.post(f"/api/v1/mailboxes/{response.json()['id']}/test")
    assert tested.json() == {"ok": False, "message": CONNECT_FAILED}


def test_metadata_addresses_are_refused_even_where_private_servers_are_allowed(api_client):
    for host in ("169.254.169.254", "0xa9fea9fe", "100.100.100.200", "fd00:ec2::254", "::ffff:169.254.169.254"):
        response = api_create(api_client, host=host)
        assert response.status_code == 422, host
        assert response.json()["errors"] == [{"field": "host", "message": HOST_REFUSED}]
    assert Mailbox.dangerously_unscoped.count() == 0

    assert api_create(api_client, host="127.0.0.1").status_code == 201  # the test settings allow this machine


# --- who configures what --------------------------------------------------------------------------


def test_only_owners_and_admins_configure_shared_mailboxes(org, sales_rep, admin):
    rep = login_client(sales_rep)  # the API takes a session too (reps cannot make tokens)

    refused_api = api_create(rep, shared=True)
    refused_page = rep.post(page(org, "mailbox_create"), {**PAGE_FORM, "shared": "on"})

    assert refused_api.status_code == 403
    assert refused_api.json()["detail"] == "Only owners and admins can do this."
    assert refused_page.status_code == 403
    assert Mailbox.dangerously_unscoped.count() == 0
    assert 'name="shared"' not in rep.get(page(org, "mailbox_create")).content.decode()
    assert 'name="shared"' in login_client(admin).get(page(org, "mailbox_create")).content.decode()
    own = api_create(rep)
    shared = api_create(login_client(admin), name="Todos", shared=True)
    assert (own.status_code, own.json()["shared"], own.json()["owner"]["id"]) == (201, False, sales_rep.user_id)
    assert (shared.status_code, shared.json()["shared"]) == (201, True)


def test_a_member_cannot_point_their_own_mailbox_at_this_machine(private_refused, sales_rep):
    response = api_create(login_client(sales_rep), host="2130706433")

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "host", "message": HOST_REFUSED}]
    assert Mailbox.dangerously_unscoped.count() == 0


def test_another_organisations_mailbox_answers_404_everywhere(org, other_actor, api_client, client_in):
    with scope(organization=other_actor.organization):
        foreign = mailbox_create(actor=other_actor, data={**API_BODY, "name": "Ajeno", "shared": True})
    url = f"/api/v1/mailboxes/{foreign.pk}"

    assert api_client.get(url).status_code == 404
    assert api_client.patch(url, {"host": "127.0.0.1"}, content_type="application/json").status_code == 404
    assert api_client.post(f"{url}/test").status_code == 404
    assert api_client.delete(url).status_code == 404
    for name in ("mailbox_edit", "mailbox_test", "mailbox_fetch", "mailbox_delete"):
        assert client_in.post(page(org, name, foreign.pk), PAGE_FORM).status_code == 404
    foreign.refresh_from_db()
    assert (foreign.name, foreign.host, foreign.last_error) == ("Ajeno", "imap.empresa.example", "")


# --- at connection time ---------------------------------------------------------------------------


def test_a_name_that_rebinds_to_this_machine_after_saving_is_refused_when_connecting(
    private_refused, api_client, fake_dns, tcp_listener, caplog
):
    fake_dns["imap.rebind.example"] = ["93.184.215.14"]  # public when saved
    created = api_create(api_client, host="imap.rebind.example", port=tcp_listener.port, use_ssl=False)
    assert created.status_code == 201
    mailbox_id = created.json()["id"]
    fake_dns["imap.rebind.example"] = ["127.0.0.1"]  # this machine when connecting
    caplog.set_level(logging.INFO, logger="vinculo")

    tested = api_client.post(f"/api/v1/mailboxes/{mailbox_id}/test")
    fetched = mailbox_fetch(mailbox_id=mailbox_id)

    assert tested.json() == {"ok": False, "message": CONNECT_FAILED}
    assert fetched.error == CONNECT_FAILED
    assert Mailbox.dangerously_unscoped.get(pk=mailbox_id).last_error == CONNECT_FAILED
    assert tcp_listener.accept_all() == 0  # no connection was ever opened to it
    assert "'imap.rebind.example' is refused: 127.0.0.1 is a loopback address" in caplog.text


def test_a_mailbox_saved_before_the_rules_with_a_local_server_is_never_connected_to(
    private_refused, actor, org, api_client, client_in, tcp_listener
):
    with scope(organization=org):
        mailbox = mailbox_create(actor=actor, data={**API_BODY, "name": "Viejo", "use_ssl": False})
    Mailbox.dangerously_unscoped.filter(pk=mailbox.pk).update(host="0x7f000001", port=tcp_listener.port)

    tested = api_client.post(f"/api/v1/mailboxes/{mailbox.pk}/test")
    on_page = client_in.post(page(org, "mailbox_test", mailbox.pk), follow=True)
    fetched = mailbox_fetch(mailbox_id=mailbox.pk)

    assert tested.json() == {"ok": False, "message": CONNECT_FAILED}
    assert f"Viejo: {CONNECT_FAILED}" in on_page.content.decode()
    assert fetched.error == CONNECT_FAILED
    assert tcp_listener.accept_all() == 0


def _closing_listener():
    """Something that is not an IMAP server: it accepts one connection and closes it at once."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve():
        conn, _peer = server.accept()
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def test_a_closed_port_and_an_open_one_get_the_same_answer(actor, org, api_client, caplog):
    server, thread = _closing_listener()
    try:
        open_port = server.getsockname()[1]
        with_listener = connect_mailbox_to(actor, "Abierto", open_port)
        closed = connect_mailbox_to(actor, "Cerrado", free_port())
        caplog.set_level(logging.INFO, logger="vinculo")

        answers = [api_client.post(f"/api/v1/mailboxes/{m.pk}/test").json() for m in (with_listener, closed)]
        thread.join(timeout=5)
    finally:
        server.close()

    assert answers == [{"ok": False, "message": CONNECT_FAILED}] * 2
    assert [m.last_error for m in Mailbox.dangerously_unscoped.order_by("name")] == [CONNECT_FAILED] * 2
    # the server log keeps the reason for whoever runs the install
    assert "Connection refused" in caplog.text
    assert "EOF" in caplog.text


def connect_mailbox_to(actor, name, port):
    with scope(organization=actor.organization):
        return mailbox_create(
            actor=actor, data={**API_BODY, "name": name, "host": "127.0.0.1", "port": port, "use_ssl": False}
        )


def test_a_refused_login_says_could_not_log_in(actor, api_client, imap_server, caplog):
    mailbox = connect_mailbox(actor, imap_server, password="wrong pässword")
    caplog.set_level(logging.DEBUG)

    tested = api_client.post(f"/api/v1/mailboxes/{mailbox.pk}/test")

    assert tested.json() == {"ok": False, "message": LOGIN_FAILED}
    assert "wrong pässword" not in caplog.text


def test_the_mailbox_connects_to_the_checked_address_of_its_server(actor, api_client, imap_server, fake_dns):
    fake_dns["imap.dovecot.example.test"] = ["127.0.0.1"]  # a name only the checked resolver knows
    mailbox = connect_mailbox(actor, imap_server, host="imap.dovecot.example.test")

    tested = api_client.post(f"/api/v1/mailboxes/{mailbox.pk}/test")

    assert tested.json() == {"ok": True, "message": "Connected: the server accepted the login and the folder."}
    assert "imap.dovecot.example.test" in fake_dns.lookups


def test_tls_names_the_server_while_connecting_to_its_checked_address(fake_dns, tcp_listener):
    fake_dns["imap.tls.example.test"] = ["127.0.0.1"]
    target = resolve_target("imap.tls.example.test", tcp_listener.port)
    seen = []

    class Context:
        def wrap_socket(self, sock, server_hostname):
            seen.append((server_hostname, sock.getpeername()))
            raise ssl.SSLError("stop here")

    with pytest.raises(ssl.SSLError):
        PinnedIMAP4SSL(target, ssl_context=Context(), timeout=5)

    assert seen == [("imap.tls.example.test", ("127.0.0.1", tcp_listener.port))]
