"""Helpers of the mailbox tests: a raw e-mail message, a mailbox connected to the `imap_server`
(and, to send, to the `smtp_account` server)."""

from __future__ import annotations

from typing import Any

from django_scopes import scope

from vinculo.accounts.models import Membership
from vinculo.touchpoints.models import Mailbox
from vinculo.touchpoints.services.mailboxes import mailbox_create
from vinculo.touchpoints.testing.imap import ImapServer
from vinculo.touchpoints.testing.smtp import SmtpAccountServer


def mail(
    *,
    message_id: str,
    sender: str = "Lucía Pérez <lucia@cliente.example>",
    to: str = "ana@example.com",
    cc: str = "",
    subject: str = "Pedido 42",
    body: str = "¿Cuándo llega el pedido?",
    date: str = "Mon, 23 Nov 2026 10:00:00 +0100",
    extra: str = "",
) -> str:
    headers = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Date: {date}", f"Message-ID: {message_id}"]
    if cc:
        headers.append(f"Cc: {cc}")
    if extra:
        headers.append(extra)
    headers += ["MIME-Version: 1.0", 'Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 8bit"]
    return "\r\n".join(headers) + "\r\n\r\n" + body + "\r\n"


def connect_mailbox(actor: Membership, imap_server: ImapServer, **data: Any) -> Mailbox:
    with scope(organization=actor.organization):
        return mailbox_create(
            actor=actor,
            data={
                "name": "Ventas",
                "email_address": imap_server.user,
                "host": imap_server.host,
                "port": imap_server.port,
                "use_ssl": False,
                "username": imap_server.user,
                "password": imap_server.password,
                **data,
            },
        )


def connect_sending_mailbox(
    actor: Membership, imap_server: ImapServer, smtp_account: SmtpAccountServer, **data: Any
) -> Mailbox:
    """A mailbox that reads `imap_server` and sends through `smtp_account` (login: the IMAP one)."""
    return connect_mailbox(
        actor,
        imap_server,
        smtp_host="localhost",
        smtp_port=smtp_account.port,
        smtp_security=smtp_account.security,
        **data,
    )
