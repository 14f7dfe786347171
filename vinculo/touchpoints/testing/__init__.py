"""Test helpers and fixtures of the touchpoints app (a pytest plugin registered in the root conftest.py).

- `imap`: the `imap_server` fixture, a real dovecot on a free port (`apt-get install -y dovecot-imapd`);
- `smtp`: the `smtp_account` fixture, a real SMTP server (aiosmtpd) with a login over TLS;
- `tracking`: a tracking site, tracker events as the snippet sends them, posting a batch;
- `webhooks`: integrations, sample payloads, signed webhook requests;
- `lead_api`: the `lead_api` fixture, a local stand-in for the Graph API and LinkedIn's API;
- `forms`: a web form with every kind of field and consent, a good submission;
- `mail`: a raw e-mail message, a mailbox connected to the `imap_server`.

Factories: vinculo/touchpoints/factories.py.
"""

from vinculo.touchpoints.testing.imap import ImapServer, dovecots_stopping, imap_server
from vinculo.touchpoints.testing.lead_api import FakeLeadApi, lead_api
from vinculo.touchpoints.testing.smtp import SmtpAccountServer, smtp_account, smtp_certificate

__all__ = [
    "FakeLeadApi",
    "ImapServer",
    "SmtpAccountServer",
    "dovecots_stopping",
    "imap_server",
    "lead_api",
    "smtp_account",
    "smtp_certificate",
]
