"""Test helpers of the messaging layer: a mail server that answers from a script; subscription types
and ledger rows written as the services would."""

from __future__ import annotations

from typing import Any

from django_scopes import scope

from vinculo.accounts.models import Organization
from vinculo.accounts.testing import MailSink
from vinculo.contacts.models import Contact
from vinculo.messaging.models import Consent, ConsentChannel, SubscriptionType
from vinculo.messaging.services.consent import ConsentProof, consent_record


class ScriptedSink(MailSink):
    """A mail server that answers RCPT and DATA from a script, and notes each connection's port."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse_rcpt: dict[str, str] = {}
        self.data_answers: list[str] = []
        self.peers: list[Any] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_answers:
            return self.data_answers.pop(0)
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


def make_subscription_type(org: Organization, key: str = "newsletter", **values: Any) -> SubscriptionType:
    """An active type, consent-based and opt-in unless `values` say otherwise."""
    with scope(organization=org):
        values.setdefault("name", key.replace("_", " ").capitalize())
        return SubscriptionType.objects.create(organization=org, key=key, **values)


def record(contact: Contact, subscription_type: SubscriptionType, *, granted: bool = True, **values: Any) -> Consent:
    """A consent recorded through `consent_record` (ledger row, current state, event)."""
    org = contact.organization
    values.setdefault("channel", ConsentChannel.MANUAL)
    values.setdefault("proof", ConsentProof(text="I agree.", text_version="1"))
    with scope(organization=org):
        return consent_record(
            organization=org, contact=contact, subscription_type=subscription_type, granted=granted, **values
        )
