"""Routes and transports: which server an outgoing message leaves through (docs/adr/0006).

A **route** is stored on every outgoing message: the name of a transport and, for a transport with
several accounts, which one (`ref`, e.g. a mailbox's id). The **relay** (Django's EMAIL_BACKEND,
the install's own server) is the route of system mail and of everything without a better one.
Apps above messaging register other transports at start-up (`register_transport`, from their
AppConfig.ready(), as consumers and sweeps are registered in core): touchpoints registers
`mailbox`, a member's or shared mailbox's own SMTP server, so that what a member writes is sent by
the server that holds the From address's SPF and DKIM records.

- Callers choose the route when they queue the message: `member_route(organization=…, user=…)`
  asks the registered transports for the one that sends on a member's behalf (their own mailbox,
  else the organisation's default shared one) and answers the relay when none does. The route's
  `address` is the From address it is entitled to use.
- Mail that asks for no particular route (system mail, and what members write when no mailbox of
  theirs sends) takes the organisation's **system route** (`system_route`), decided when it is
  queued: the organisation's own SMTP server (`org_smtp`, Settings → E-mail sending) when it has
  one; else the install's relay when one is configured (`VINCULO_RELAY_CONFIGURED`: EMAIL_HOST or
  EMAIL_BACKEND is set); else the **outbox**: the message is kept, readable on the organisation's
  Outbox page, instead of failing against a port nobody listens on. An outbox message is never
  sent by the worker; retrying it once a server is configured queues it on that server's route.
- The worker (vinculo/messaging/tasks.py) opens one `Connection` per route per batch, lazily, and
  hands it the messages of that route; what a failure means is told by `TransportError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

if TYPE_CHECKING:
    from vinculo.accounts.models import Organization, User

logger = logging.getLogger(__name__)

RELAY = "relay"
OUTBOX = "outbox"
ORG_SMTP = "org_smtp"


@dataclass(frozen=True)
class Route:
    """How a message leaves: a transport's name, which of its accounts (`ref`), and the address
    it may send From ("" for the relay: DEFAULT_FROM_EMAIL)."""

    transport: str = RELAY
    ref: str = ""
    address: str = ""

    @property
    def is_relay(self) -> bool:
        return self.transport == RELAY

    @property
    def is_outbox(self) -> bool:
        return self.transport == OUTBOX


RELAY_ROUTE = Route()
OUTBOX_ROUTE = Route(transport=OUTBOX)


class TransportError(Exception):
    """A failure told in words for the people who set the route up (never a password, never what
    a socket said). `temporary`: try the message again later. `connection_lost`: the connection
    cannot be used for the route's next messages of this batch (they wait for a later attempt).
    `route_broken`: the route cannot send at all until someone fixes it (its login is refused):
    the route's messages of this batch fail with this reason."""

    def __init__(
        self, reason: str, *, temporary: bool, connection_lost: bool = False, route_broken: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary
        self.connection_lost = connection_lost or route_broken
        self.route_broken = route_broken


class Connection(Protocol):
    """An open (or lazily opened) way out for the messages of one route."""

    def send(self, email: EmailMessage) -> None:
        """Send one message; raise TransportError (or smtplib's errors) when it was not sent."""

    def close(self) -> None:
        """Finish (e.g. save copies of what was sent); never raises."""


@dataclass(frozen=True)
class Transport:
    """A registered way out. `open(ref, organization_id)` gives a Connection for one account of
    the transport, which must belong to that organisation (else TransportError). `member_route`
    answers the route this transport offers for what a member writes, or None."""

    name: str
    open: Callable[[str, int | None], Connection]
    member_route: Callable[[Organization, User], Route | None] | None = None


_transports: dict[str, Transport] = {}


def register_transport(transport: Transport) -> None:
    """Add (or replace, by name) a transport; the relay's name is taken."""
    if transport.name in (RELAY, OUTBOX) or not transport.name or ":" in transport.name:
        raise ValueError(f"invalid transport name {transport.name!r}")
    _transports[transport.name] = transport


def unregister_transport(name: str) -> None:
    """Forget a transport (tests); messages queued for it wait until one of that name is back."""
    _transports.pop(name, None)


def transport_named(name: str) -> Transport | None:
    return _transports.get(name)


def relay_configured() -> bool:
    """Whether the install's relay is set up (EMAIL_HOST or EMAIL_BACKEND in the environment)."""
    return bool(getattr(settings, "VINCULO_RELAY_CONFIGURED", True))


def system_route(*, organization: Organization | None) -> Route:
    """The route of mail that asks for none in particular: the organisation's own SMTP server,
    else the install's relay when configured, else the outbox (see the module docstring)."""
    if organization is not None:
        # imported here: the registry above is loaded by every app's ready(), before the models
        from vinculo.messaging.models import OrganizationSmtp

        smtp = OrganizationSmtp.dangerously_unscoped.filter(organization_id=organization.pk).only("from_email").first()
        if smtp is not None:
            return Route(transport=ORG_SMTP, ref=str(smtp.pk), address=smtp.from_email)
    return RELAY_ROUTE if relay_configured() else OUTBOX_ROUTE


def member_route(*, organization: Organization, user: User | None) -> Route:
    """The route of mail a member writes (to a contact, a quote): the first registered transport
    that offers one for this member, else the organisation's system route."""
    if user is not None:
        for transport in _transports.values():
            if transport.member_route is not None:
                route = transport.member_route(organization, user)
                if route is not None:
                    return route
    return system_route(organization=organization)


class RelayConnection:
    """The install's relay (Django's EMAIL_BACKEND) as a Connection: connected at the first message."""

    def __init__(self, backend: Any = None) -> None:
        self.backend = backend or get_connection()
        self.opened = False

    def send(self, email: EmailMessage) -> None:
        if not self.opened:
            self.backend.open()
            self.opened = True
        email.connection = self.backend
        self.backend.send_messages([email])

    def close(self) -> None:
        if self.opened:
            self.opened = False
            try:
                self.backend.close()
            except Exception:  # a connection already dropped by the server
                logger.info("closing the relay connection failed", exc_info=True)
