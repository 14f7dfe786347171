"""Routes of outgoing mail (docs/adr/0006): a message stores the route it was queued with, the
worker hands each route's messages to its registered transport, and one route's failure never
holds up another's: a route whose server is away waits, a route whose login is refused fails its
messages with the reason, and the relay goes on sending."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django_scopes import scope

from vinculo.messaging.models import OutgoingMessage
from vinculo.messaging.services.outgoing import message_queue
from vinculo.messaging.tasks import send_outgoing_batch
from vinculo.messaging.transports import (
    RELAY_ROUTE,
    Route,
    Transport,
    TransportError,
    member_route,
    register_transport,
    transport_named,
    unregister_transport,
)

pytestmark = pytest.mark.django_db


@dataclass
class FakeServer:
    """What a transport's accounts did: messages sent per account, connections opened and closed."""

    sent: dict[str, list[str]] = field(default_factory=dict)
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    failures: dict[str, TransportError] = field(default_factory=dict)


@dataclass
class FakeConnection:
    server: FakeServer
    ref: str

    def send(self, email):
        if self.ref in self.server.failures:
            raise self.server.failures[self.ref]
        self.server.sent.setdefault(self.ref, []).append(email.subject)

    def close(self):
        self.server.closed.append(self.ref)


@pytest.fixture
def fake_transport():
    server = FakeServer()

    def open_connection(ref, organization_id):
        server.opened.append(ref)
        return FakeConnection(server, ref)

    register_transport(
        Transport(
            name="fake",
            open=open_connection,
            member_route=lambda organization, user: Route("fake", f"user-{user.pk}", "ventas@empresa.example"),
        )
    )
    try:
        yield server
    finally:
        unregister_transport("fake")


def queue(org, subject, route=RELAY_ROUTE):
    with scope(organization=org):
        return message_queue(organization=org, to="lucia@cliente.example", subject=subject, text="x", route=route)


def states(org):
    with scope(organization=org):
        return [(m.subject, m.state, m.last_error) for m in OutgoingMessage.objects.order_by("id")]


def test_each_route_gets_its_messages_through_one_connection(org, fake_transport, mailoutbox):
    ids = [
        queue(org, "a1", Route("fake", "a")).pk,
        queue(org, "relay").pk,
        queue(org, "b1", Route("fake", "b")).pk,
        queue(org, "a2", Route("fake", "a")).pk,
    ]

    result = send_outgoing_batch(ids)

    assert (result.sent, result.failed, result.retried) == (4, 0, 0)
    assert fake_transport.sent == {"a": ["a1", "a2"], "b": ["b1"]}
    assert fake_transport.opened == ["a", "b"]
    assert sorted(fake_transport.closed) == ["a", "b"]
    assert [m.subject for m in mailoutbox] == ["relay"]
    with scope(organization=org):
        assert list(OutgoingMessage.objects.order_by("id").values_list("transport", "transport_ref")) == [
            ("fake", "a"),
            ("relay", ""),
            ("fake", "b"),
            ("fake", "a"),
        ]


def test_a_refused_login_fails_the_routes_messages_and_the_others_still_go(org, fake_transport, mailoutbox):
    fake_transport.failures["a"] = TransportError("Could not log in.", temporary=False, route_broken=True)
    ids = [queue(org, "a1", Route("fake", "a")).pk, queue(org, "a2", Route("fake", "a")).pk, queue(org, "relay").pk]
    ids.append(queue(org, "b1", Route("fake", "b")).pk)

    result = send_outgoing_batch(ids)

    assert (result.sent, result.failed) == (2, 2)
    assert states(org) == [
        ("a1", "failed", "Could not log in."),
        ("a2", "failed", "Could not log in."),
        ("relay", "sent", ""),
        ("b1", "sent", ""),
    ]
    assert fake_transport.opened == ["a", "b"]  # the refused route is not tried again in the batch


def test_a_route_whose_server_is_away_waits_without_holding_up_the_others(org, fake_transport, mailoutbox):
    fake_transport.failures["a"] = TransportError("Could not connect.", temporary=True, connection_lost=True)
    ids = [queue(org, "a1", Route("fake", "a")).pk, queue(org, "a2", Route("fake", "a")).pk, queue(org, "relay").pk]

    result = send_outgoing_batch(ids)

    assert (result.sent, result.retried, result.stopped) == (1, 1, False)
    assert states(org) == [("a1", "queued", "Could not connect."), ("a2", "queued", ""), ("relay", "sent", "")]
    with scope(organization=org):
        attempts = list(OutgoingMessage.objects.order_by("id").values_list("attempts", flat=True))
    assert attempts == [1, 0, 1]  # the message not tried does not lose an attempt


def test_a_member_route_comes_from_the_registered_transports_else_the_relay(org, actor, fake_transport, in_org_scope):
    # the mailbox transport (registered first) has no mailbox of this member: the fake one answers
    assert member_route(organization=org, user=actor.user) == Route(
        "fake", f"user-{actor.user.pk}", "ventas@empresa.example"
    )
    assert member_route(organization=org, user=None) == RELAY_ROUTE
    unregister_transport("fake")
    assert transport_named("fake") is None
    assert member_route(organization=org, user=actor.user) == RELAY_ROUTE


def test_a_message_cannot_be_queued_for_a_transport_that_is_not_installed(org):
    with pytest.raises(ValueError, match="no transport 'nowhere'"):
        queue(org, "x", Route("nowhere", "1"))
    with scope(organization=org):
        assert OutgoingMessage.objects.count() == 0


def test_the_relays_name_and_odd_names_cannot_be_registered():
    for name in ("relay", "", "a:b"):
        with pytest.raises(ValueError, match="invalid transport name"):
            register_transport(Transport(name=name, open=lambda ref, org: None))  # type: ignore[arg-type,return-value]
