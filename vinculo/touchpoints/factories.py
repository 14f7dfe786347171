"""factory-boy factories of the touchpoints app (rows written directly: see core/testing/factories.py)."""

from __future__ import annotations

import factory

from vinculo.accounts.factories import OrganizationFactory
from vinculo.core.testing.factories import OrgScopedFactory
from vinculo.touchpoints.models import Integration, IntegrationKind, Mailbox, TrackingSite, WebForm


class TrackingSiteFactory(OrgScopedFactory):
    class Meta:
        model = TrackingSite

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    allowed_origins = factory.LazyFunction(lambda: ["https://shop.example.com"])


class WebFormFactory(OrgScopedFactory):
    """A form with an e-mail and a first-name field."""

    class Meta:
        model = WebForm

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Form {n}")
    fields = factory.LazyFunction(
        lambda: [
            {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"},
            {"name": "first_name", "label": "First name", "type": "text", "required": False, "maps_to": "first_name"},
        ]
    )


class MailboxFactory(OrgScopedFactory):
    """A shared mailbox row (no password: connect one through the service to read a real server)."""

    class Meta:
        model = Mailbox

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Mailbox {n}")
    email_address = factory.Sequence(lambda n: f"sales{n}@example.com")
    host = "127.0.0.1"
    port = 143
    use_ssl = False
    username = factory.SelfAttribute("email_address")


class IntegrationFactory(OrgScopedFactory):
    class Meta:
        model = Integration

    organization = factory.SubFactory(OrganizationFactory)
    kind = IntegrationKind.GENERIC_ORDERS
    name = factory.Sequence(lambda n: f"Integration {n}")
