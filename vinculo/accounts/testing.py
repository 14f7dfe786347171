"""Pytest fixtures every app's tests use (registered from the root conftest.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client, override_settings
from django.utils import translation
from django_scopes import scope, scopes_disabled

from vinculo.accounts.models import Membership, Organization, Role, User

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


@pytest.fixture(autouse=True)
def _no_scope_leak() -> Iterator[None]:
    """Tests set up data across organisations: let fixtures write freely; tests that check
    scoping enter `scope()` themselves or go through HTTP, which the middleware scopes."""
    with scopes_disabled():
        yield


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
def member(org: Organization) -> Callable[..., Membership]:
    """`member(role="sales")` adds a member with that role to `org`."""

    def make(role: str = Role.SALES, **kwargs: Any) -> Membership:
        return make_member(org, role, **kwargs)

    return make


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
    from vinculo.accounts.services import api_token_create

    with scope(organization=actor.organization):
        issued = api_token_create(actor=actor, name="tests", scope="read_write")
    return Client(headers={"Authorization": f"Bearer {issued.secret}"})


def api_client_for(membership: Membership, token_scope: str = "read_write") -> Client:
    from vinculo.accounts.services import api_token_create

    with scope(organization=membership.organization):
        issued = api_token_create(actor=membership, name="tests", scope=token_scope)
    return Client(headers={"Authorization": f"Bearer {issued.secret}"})
