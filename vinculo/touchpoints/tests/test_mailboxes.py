"""Connecting mailboxes: pages and API, validation (422, nothing saved), the password never shown
back, private mailboxes invisible to other members, and the connection test against dovecot."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.exceptions import PermissionDenied
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import login_client
from vinculo.core.models import AuditEntry
from vinculo.core.testing import count_queries
from vinculo.touchpoints import crypto
from vinculo.touchpoints.models import Mailbox
from vinculo.touchpoints.services.mailboxes import imap_utf7, is_local_host, mailbox_create, mailbox_update
from vinculo.touchpoints.testing.mail import connect_mailbox

pytestmark = pytest.mark.django_db

VALID = {
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


def service_data(**changes):
    return {**VALID, "port": 993, "use_ssl": True, "is_active": True, **changes}


def page(org, name, *args):
    from django.urls import reverse

    return reverse(f"touchpoints:{name}", args=[org.slug, *args])


def test_a_member_connects_their_own_mailbox_from_the_page(actor, org, client_in):
    response = client_in.post(page(org, "mailbox_create"), VALID)

    assert response.status_code == 302
    assert response["Location"] == page(org, "mailbox_list")
    mailbox = Mailbox.dangerously_unscoped.get()
    assert (mailbox.name, mailbox.email_address, mailbox.host, mailbox.port, mailbox.use_ssl) == (
        "Ventas",
        "ventas@empresa.example",
        "imap.empresa.example",
        993,
        True,
    )
    assert (mailbox.user, mailbox.folder, mailbox.create_leads, mailbox.is_active) == (actor.user, "INBOX", False, True)
    assert crypto.decrypt(mailbox.password_encrypted) == "s3cret-imap"
    assert "s3cret-imap" not in mailbox.password_encrypted
    listing = client_in.get(page(org, "mailbox_list")).content.decode()
    assert "ventas@empresa.example · imap.empresa.example:993 · INBOX" in listing
    edit = client_in.get(page(org, "mailbox_edit", mailbox.pk)).content.decode()
    assert "s3cret-imap" not in edit
    assert mailbox.password_encrypted not in edit
    audit = AuditEntry.dangerously_unscoped.get(object_type="touchpoints.mailbox")
    assert "password" not in json.dumps(audit.changes)


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"host": "imap server!"}, {"host": "Enter a server name such as imap.example.com, or an IP address."}),
        ({"port": "70000"}, {"port": "Enter a port between 1 and 65535."}),
        ({"port": "abc"}, {"port": "Enter a whole number."}),
        ({"name": "", "username": ""}, {"name": "This field is required.", "username": "This field is required."}),
        ({"password": ""}, {"password": "This field is required."}),
        ({"email_address": "not-an-address"}, {"email_address": "“not-an-address” is not a valid e-mail address."}),
        ({"name": "x" * 101}, {"name": "At most 100 characters."}),
    ],
)
def test_bad_input_on_the_page_is_422_with_the_errors_and_saves_nothing(org, client_in, changes, errors):
    response = client_in.post(page(org, "mailbox_create"), {**VALID, **changes})

    assert response.status_code == 422
    form = response.context["form"]
    assert {name: form.errors[name] for name in errors} == {name: [message] for name, message in errors.items()}
    assert set(form.errors) == set(errors)
    assert Mailbox.dangerously_unscoped.count() == 0
    html = response.content.decode()
    assert "s3cret-imap" not in html  # the password typed is not sent back either
    if "name" not in changes:
        assert 'value="Ventas"' in html  # what was typed is kept


def test_the_api_creates_a_mailbox_and_never_returns_the_password(actor, api_client):
    body = {
        "name": "Soporte",
        "email_address": "soporte@empresa.example",
        "host": "imap.empresa.example",
        "username": "soporte",
        "password": "api-s3cret",
    }
    response = api_client.post("/api/v1/mailboxes", body, content_type="application/json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == {
        "id",
        "name",
        "shared",
        "owner",
        "email_address",
        "host",
        "port",
        "use_ssl",
        "username",
        "folder",
        "create_leads",
        "is_active",
        "has_password",
        "last_uid",
        "last_fetched_at",
        "last_error",
        "sends",
        "smtp_host",
        "smtp_port",
        "smtp_security",
        "smtp_username",
        "has_smtp_password",
        "save_sent_copy",
        "sent_folder",
        "is_default_sender",
        "outgoing_error",
        "created_at",
    }
    assert (data["sends"], data["smtp_host"], data["smtp_security"], data["save_sent_copy"]) == (
        False,
        "",
        "starttls",
        True,
    )
    assert (data["shared"], data["owner"]["id"], data["port"], data["use_ssl"], data["has_password"]) == (
        False,
        actor.user.pk,
        993,
        True,
        True,
    )
    assert "api-s3cret" not in response.content.decode()
    listed = api_client.get("/api/v1/mailboxes").json()
    assert [m["name"] for m in listed["items"]] == ["Soporte"]
    assert "api-s3cret" not in json.dumps(listed)
    assert crypto.decrypt(Mailbox.dangerously_unscoped.get().password_encrypted) == "api-s3cret"


def test_bad_input_on_the_api_is_422_with_field_errors_and_saves_nothing(api_client):
    body = {"name": "", "email_address": "x", "host": "-bad-", "port": 0, "username": "u", "password": "p", "spam": 1}
    response = api_client.post("/api/v1/mailboxes", body, content_type="application/json")

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "spam", "message": "Unknown field."}]

    del body["spam"]
    response = api_client.post("/api/v1/mailboxes", body, content_type="application/json")

    assert response.status_code == 422
    assert sorted((e["field"], e["message"]) for e in response.json()["errors"]) == [
        ("email_address", "“x” is not a valid e-mail address."),
        ("host", "Enter a server name such as imap.example.com, or an IP address."),
        ("name", "This field is required."),
        ("port", "Enter a port between 1 and 65535."),
    ]
    missing = api_client.post("/api/v1/mailboxes", {"name": "x"}, content_type="application/json")
    assert missing.status_code == 422
    assert sorted(e["field"] for e in missing.json()["errors"]) == ["email_address", "host", "password", "username"]
    assert Mailbox.dangerously_unscoped.count() == 0


def test_editing_keeps_the_password_when_left_empty_and_rereads_after_a_server_change(actor, org, client_in):
    with scope(organization=org):
        mailbox = mailbox_create(actor=actor, data=service_data())
    Mailbox.dangerously_unscoped.filter(pk=mailbox.pk).update(last_uid=40, uid_validity=7, last_error="old")

    response = client_in.post(page(org, "mailbox_edit", mailbox.pk), {**VALID, "password": "", "name": "Ventas ES"})

    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.name, crypto.decrypt(mailbox.password_encrypted), mailbox.last_uid) == (
        "Ventas ES",
        "s3cret-imap",
        40,
    )

    client_in.post(page(org, "mailbox_edit", mailbox.pk), {**VALID, "host": "imap2.empresa.example", "password": "new"})

    mailbox.refresh_from_db()
    assert (mailbox.host, mailbox.last_uid, mailbox.uid_validity, mailbox.last_error) == (
        "imap2.empresa.example",
        0,
        None,
        "",
    )
    assert crypto.decrypt(mailbox.password_encrypted) == "new"
    changes = AuditEntry.dangerously_unscoped.filter(object_type="touchpoints.mailbox").order_by("-id")[0].changes
    assert changes["password"] == ["***", "***"]
    assert "new" not in json.dumps(changes["password"])


def test_another_members_own_mailbox_is_invisible_and_shared_ones_are_admins_to_change(actor, org, member):
    colleague = member(Role.MANAGER)
    with scope(organization=org):
        private = mailbox_create(actor=actor, data=service_data())
        shared = mailbox_create(actor=actor, data=service_data(name="Todos", shared=True))
    client = login_client(colleague)
    api = client  # the API also takes a session (managers cannot make tokens)

    listing = client.get(page(org, "mailbox_list")).content.decode()
    assert "Todos" in listing
    assert f'id="mailbox-{private.pk}"' not in listing
    for name in ("mailbox_edit", "mailbox_delete"):
        assert client.get(page(org, name, private.pk)).status_code == 404
    for name in ("mailbox_test", "mailbox_fetch", "mailbox_delete", "mailbox_edit"):
        assert client.post(page(org, name, private.pk)).status_code == 404
    assert api.get(f"/api/v1/mailboxes/{private.pk}").status_code == 404
    assert api.delete(f"/api/v1/mailboxes/{private.pk}").status_code == 404
    assert [m["name"] for m in api.get("/api/v1/mailboxes").json()["items"]] == ["Todos"]
    # a manager sees the shared mailbox but only owners and admins change it
    assert client.get(page(org, "mailbox_edit", shared.pk)).status_code == 403
    assert (
        api.patch(f"/api/v1/mailboxes/{shared.pk}", {"name": "x"}, content_type="application/json").status_code == 403
    )
    assert client.post(page(org, "mailbox_create"), {**VALID, "shared": "on"}).status_code == 403  # not offered
    assert client.post(page(org, "mailbox_create"), VALID).status_code == 302
    assert Mailbox.dangerously_unscoped.filter(user=colleague.user).count() == 1  # their own
    with scope(organization=org), pytest.raises(PermissionDenied):
        mailbox_create(actor=colleague, data=service_data(shared=True))
    with scope(organization=org), pytest.raises(PermissionDenied):
        mailbox_update(actor=colleague, mailbox=shared, data={"name": "x"})
    assert Mailbox.dangerously_unscoped.get(pk=shared.pk).name == "Todos"


def test_a_read_only_member_cannot_connect_a_mailbox(org, member):
    viewer = member(Role.READ_ONLY)

    assert login_client(viewer).post(page(org, "mailbox_create"), VALID).status_code == 403
    assert Mailbox.dangerously_unscoped.count() == 0


def test_the_connection_test_reports_success_and_failure(actor, org, client_in, api_client, imap_server, caplog):
    good = connect_mailbox(actor, imap_server)
    bad = connect_mailbox(actor, imap_server, name="Mal", password="wrong pässword")
    caplog.set_level(logging.DEBUG)

    ok = api_client.post(f"/api/v1/mailboxes/{good.pk}/test")
    refused = api_client.post(f"/api/v1/mailboxes/{bad.pk}/test")
    missing_folder = mailbox_update_folder(actor, good, "NoSuchFolder")
    folder = api_client.post(f"/api/v1/mailboxes/{missing_folder.pk}/test")
    page_response = client_in.post(page(org, "mailbox_test", bad.pk), follow=True)

    assert ok.json() == {"ok": True, "message": "Connected: the server accepted the login and the folder."}
    assert refused.json() == {"ok": False, "message": "Could not log in: check the user name and the password."}
    assert folder.json() == {"ok": False, "message": "The folder “NoSuchFolder” cannot be opened."}
    assert "Mal: Could not log in: check the user name and the password." in page_response.content.decode()
    bad.refresh_from_db()
    assert bad.last_error == "Could not log in: check the user name and the password."
    assert imap_server.password not in caplog.text
    assert "wrong pässword" not in caplog.text


def mailbox_update_folder(actor, mailbox, folder):
    with scope(organization=actor.organization):
        return mailbox_update(actor=actor, mailbox=mailbox, data={"folder": folder})


def test_read_now_stores_new_mail(actor, org, client_in, imap_server):
    from vinculo.contacts.services import contact_create
    from vinculo.touchpoints.models import EmailMessage
    from vinculo.touchpoints.testing.mail import mail

    with scope(organization=org):
        contact_create(actor=actor, data={"first_name": "Lucía", "emails": ["lucia@cliente.example"]})
    mailbox = connect_mailbox(actor, imap_server)
    imap_server.deliver(mail(message_id="<now@x>"))

    response = client_in.post(page(org, "mailbox_fetch", mailbox.pk))

    assert response.status_code == 302
    assert list(EmailMessage.dangerously_unscoped.values_list("message_id", flat=True)) == ["<now@x>"]


def test_the_periodic_task_reads_every_active_mailbox(actor, imap_server):
    from vinculo.contacts.services import contact_create
    from vinculo.touchpoints.mail_tasks import fetch_mailboxes
    from vinculo.touchpoints.models import EmailMessage
    from vinculo.touchpoints.testing.mail import mail

    with scope(organization=actor.organization):
        contact_create(actor=actor, data={"first_name": "Lucía", "emails": ["lucia@cliente.example"]})
    connect_mailbox(actor, imap_server)
    connect_mailbox(actor, imap_server, name="Pausado", is_active=False)
    imap_server.deliver(mail(message_id="<t1@x>"))

    assert fetch_mailboxes.call() == 1
    assert EmailMessage.dangerously_unscoped.count() == 1


def test_folder_names_are_sent_in_modified_utf7():
    assert imap_utf7("INBOX") == "INBOX"
    assert imap_utf7("Elementos envíados") == "Elementos env&AO0-ados"
    assert imap_utf7("日本語") == "&ZeVnLIqe-"  # the example of RFC 3501
    assert imap_utf7("A&B") == "A&-B"


def test_plain_connections_are_only_for_the_local_machine():
    assert [is_local_host(h) for h in ("localhost", "127.0.0.1", "127.3.4.5", "::1", "[::1]")] == [True] * 5
    assert [is_local_host(h) for h in ("imap.example.com", "10.0.0.1", "192.168.1.2", "localhost.evil.example")] == [
        False
    ] * 4


def test_the_mailbox_list_page_and_endpoint_take_the_same_number_of_queries_for_more_rows(
    actor, org, client_in, api_client
):
    def create(n):
        with scope(organization=org):
            for i in range(n):
                mailbox_create(actor=actor, data=service_data(name=f"Buzón {Mailbox.dangerously_unscoped.count()}-{i}"))

    create(1)
    client_in.get(page(org, "mailbox_list"))  # warm up (session, caches)
    api_client.get("/api/v1/mailboxes")
    with count_queries() as few_pages:
        client_in.get(page(org, "mailbox_list"))
    with count_queries() as few_api:
        api_client.get("/api/v1/mailboxes")
    create(4)
    with count_queries() as many_pages:
        client_in.get(page(org, "mailbox_list"))
    with count_queries() as many_api:
        api_client.get("/api/v1/mailboxes")

    assert len(many_pages) == len(few_pages)
    assert len(many_api) == len(few_api)
