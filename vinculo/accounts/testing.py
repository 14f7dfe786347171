"""Pytest fixtures every app's tests use (registered from the root conftest.py).

`actor`/`owner` and `org` (the organisation under test), `other_actor`/`other_org` (one whose data
must never be reachable), `member_factory(role)` (alias `member`) and one member per role
(`admin`, `manager`, `sales_rep`, `read_only`), `client_in` / `login_client(m)` (pages),
`api_client` / `api_client_for(m, scope)` (API), `smtp_server` (a real SMTP server as the install's
relay; `mail_server()`: one for a block, settings untouched).
Tests run with django-scopes enabled (vinculo/core/testing/scopes.py).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import itertools
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client, override_settings
from django.utils import translation
from django_scopes import scope

from vinculo.accounts.models import Membership, Organization, Role, User
from vinculo.accounts.services import api_token_create

_counter = itertools.count(1)
PASSWORD = "a long test password 42"


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 (the production hasher: the same code and hash format) with the smallest costs.

    With the real costs (100 MB, 8 lanes) each user a test creates takes about 0.4 s here.
    """

    time_cost = 1
    memory_cost = 8
    parallelism = 1


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=["vinculo.accounts.testing.FastArgon2PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language: a request activates its user's language in the
    thread (LocaleMiddleware, UserPreferencesMiddleware), and in tests the thread outlives it."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


def make_member(
    org: Organization | None = None,
    role: str = Role.OWNER,
    *,
    email: str | None = None,
    full_name: str | None = None,
    language: str = "en",
) -> Membership:
    n = next(_counter)
    user = User.objects.create_user(
        email=email or f"user{n}@example.com", password=PASSWORD, full_name=full_name or f"User {n}", language=language
    )
    if org is None:
        org = Organization.objects.create(name=f"Org {n}", slug=f"org-{n}")
    return Membership.objects.create(user=user, organization=org, role=role)


@pytest.fixture
def actor(db: Any) -> Membership:
    """The owner of the organisation under test."""
    return make_member()


@pytest.fixture
def org(actor: Membership) -> Organization:
    return actor.organization


@pytest.fixture
def other_actor(db: Any) -> Membership:
    """The owner of another organisation, whose data must never be reachable from `org`."""
    return make_member()


@pytest.fixture
def other_org(other_actor: Membership) -> Organization:
    return other_actor.organization


@pytest.fixture
def member_factory(org: Organization) -> Callable[..., Membership]:
    """`member_factory(role="sales")` adds a member with that role to `org`."""

    def make(role: str = Role.SALES, **kwargs: Any) -> Membership:
        return make_member(org, role, **kwargs)

    return make


@pytest.fixture
def member(member_factory: Callable[..., Membership]) -> Callable[..., Membership]:
    """The same as `member_factory` (the name most tests use)."""
    return member_factory


@pytest.fixture
def owner(actor: Membership) -> Membership:
    return actor


@pytest.fixture
def admin(member_factory: Callable[..., Membership]) -> Membership:
    return member_factory(Role.ADMIN)


@pytest.fixture
def manager(member_factory: Callable[..., Membership]) -> Membership:
    return member_factory(Role.MANAGER)


@pytest.fixture
def sales_rep(member_factory: Callable[..., Membership]) -> Membership:
    return member_factory(Role.SALES)


@pytest.fixture
def read_only(member_factory: Callable[..., Membership]) -> Membership:
    return member_factory(Role.READ_ONLY)


@pytest.fixture
def client_in(actor: Membership) -> Client:
    """A browser-like client logged in as the owner of `org`."""
    client = Client()
    client.force_login(actor.user)
    return client


def login_client(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.fixture
def api_client(actor: Membership) -> Client:
    """A client sending a read-write Bearer token of `org`."""
    with scope(organization=actor.organization):
        issued = api_token_create(actor=actor, name="tests", scope="read_write")
    return Client(headers={"Authorization": f"Bearer {issued.secret}"})


@pytest.fixture
def read_only_api_client(actor: Membership) -> Client:
    """A client sending a read-only Bearer token of `org`."""
    return api_client_for(actor, "read")


def api_client_for(membership: Membership, token_scope: str = "read_write") -> Client:
    with scope(organization=membership.organization):
        issued = api_token_create(actor=membership, name="tests", scope=token_scope)
    return Client(headers={"Authorization": f"Bearer {issued.secret}"})


# --- a real SMTP server ---------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    """What the SMTP server received: envelope recipients and the parsed message."""

    rcpt_tos: list[str]
    mail_from: str
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())


@dataclass
class MailSink:
    """What an aiosmtpd server received; `port` is where it listens (mail_server())."""

    received: list[ReceivedMail] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.received.append(
            ReceivedMail(rcpt_tos=list(envelope.rcpt_tos), mail_from=envelope.mail_from, message=message)  # type: ignore[arg-type]
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def mail_server() -> Iterator[MailSink]:
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1, for as long as the block runs."""
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[MailSink]:
    """An SMTP server (aiosmtpd) on a free local port, with Django's SMTP backend pointed at it."""
    with mail_server() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.VINCULO_RELAY_CONFIGURED = True
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        yield sink
