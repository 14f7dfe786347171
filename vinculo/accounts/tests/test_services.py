"""The accounts services enforce the rules themselves, whoever calls them (page, API, command)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from vinculo.accounts import services
from vinculo.accounts.models import ApiToken, Invitation, Membership, Organization, Role, Team
from vinculo.accounts.testing import make_member
from vinculo.core.models import AuditEntry

NON_ADMIN_ROLES = [Role.MANAGER, Role.SALES, Role.MARKETING, Role.SUPPORT, Role.READ_ONLY]


@pytest.fixture
def records(actor, member):
    seller = member(Role.SALES)
    return {
        "member": seller,
        "team": services.team_create(actor=actor, name="Team", member_ids=[seller.pk]),
        "invitation": services.invitation_create(actor=actor, email="inv@example.com", role=Role.SALES).invitation,
        "token": services.api_token_create(actor=actor, name="Token", scope="read").token,
    }


def writes(records: dict[str, Any]) -> dict[str, Callable[[Membership], Any]]:
    return {
        "organization_update": lambda a: services.organization_update(
            actor=a, name="X", base_currency="USD", language="en", time_zone="UTC", country=""
        ),
        "invitation_create": lambda a: services.invitation_create(actor=a, email="n@example.com", role=Role.SALES),
        "invitation_revoke": lambda a: services.invitation_revoke(actor=a, invitation=records["invitation"]),
        "membership_change_role": lambda a: services.membership_change_role(
            actor=a, membership=records["member"], role=Role.ADMIN
        ),
        "membership_remove": lambda a: services.membership_remove(actor=a, membership=records["member"]),
        "team_create": lambda a: services.team_create(actor=a, name="New"),
        "team_update": lambda a: services.team_update(actor=a, team=records["team"], name="Renamed"),
        "team_set_members": lambda a: services.team_set_members(actor=a, team=records["team"], member_ids=[]),
        "team_delete": lambda a: services.team_delete(actor=a, team=records["team"]),
        "api_token_create": lambda a: services.api_token_create(actor=a, name="New", scope="read_write"),
        "api_token_revoke": lambda a: services.api_token_revoke(actor=a, token=records["token"]),
    }


def snapshot_all(org) -> tuple:
    return (
        list(Organization.objects.filter(pk=org.pk).values()),
        list(Membership.objects.filter(organization=org).values()),
        list(Team.dangerously_unscoped.filter(organization=org).values()),
        list(Team.members.through.objects.values()),
        list(Invitation.dangerously_unscoped.filter(organization=org).values()),
        list(ApiToken.dangerously_unscoped.filter(organization=org).values()),
        AuditEntry.dangerously_unscoped.filter(organization=org).count(),
    )


WRITES = [
    "organization_update",
    "invitation_create",
    "invitation_revoke",
    "membership_change_role",
    "membership_remove",
    "team_create",
    "team_update",
    "team_set_members",
    "team_delete",
    "api_token_create",
    "api_token_revoke",
]
OWN_ORGANISATION_ONLY = {"organization_update", "invitation_create", "team_create", "api_token_create"}


@pytest.mark.parametrize("name", WRITES)
@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_only_owners_and_admins_change_an_organisation(org, member, records, role, name):
    write = writes(records)[name]
    actor = member(role)
    before = snapshot_all(org)
    with pytest.raises(PermissionDenied):
        write(actor)
    assert snapshot_all(org) == before


@pytest.mark.parametrize("name", sorted(set(WRITES) - OWN_ORGANISATION_ONLY))
def test_records_of_another_organisation_are_refused(org, records, other_actor, name):
    """Defence in depth: pages look records up in the organisation scope first (404)."""
    write = writes(records)[name]
    before = snapshot_all(org)
    with pytest.raises(PermissionDenied):
        write(other_actor)
    assert snapshot_all(org) == before


def test_every_service_acting_for_a_member_is_checked_here():
    """A new service that takes an `actor` must join WRITES (and so these permission tests)."""
    acting = {
        name
        for name, fn in vars(services).items()
        if inspect.isfunction(fn)
        and fn.__module__ == services.__name__
        and not name.startswith("_")
        and "actor" in inspect.signature(fn).parameters
    }
    assert acting == set(WRITES) == set(writes({}))


def test_team_members_must_belong_to_the_organisation(actor, other_actor):
    with pytest.raises(ValidationError) as exc:
        services.team_create(actor=actor, name="Mixed", member_ids=[actor.pk, other_actor.pk])
    assert "members" in exc.value.message_dict
    assert not Team.dangerously_unscoped.filter(name="Mixed").exists()


def test_last_owner_is_kept(actor, member):
    with pytest.raises(ValidationError):
        services.membership_change_role(actor=actor, membership=actor, role=Role.READ_ONLY)
    with pytest.raises(ValidationError):
        services.membership_remove(actor=actor, membership=actor)
    second = member(Role.OWNER)
    services.membership_remove(actor=second, membership=actor)
    assert list(Membership.objects.filter(organization=second.organization).values_list("role", flat=True)) == [
        Role.OWNER
    ]


def test_invitation_accept_twice_and_for_an_existing_member(actor, org, member):
    seller = member(Role.SALES, email="seller@example.com")
    issued = services.invitation_create(actor=actor, email="someone@example.com", role=Role.MANAGER)
    someone = make_member(email="someone@example.com")
    membership = services.invitation_accept(invitation=issued.invitation, user=someone.user)
    assert (membership.organization, membership.role) == (org, Role.MANAGER)
    with pytest.raises(ValidationError):
        services.invitation_accept(invitation=issued.invitation, user=someone.user)
    # an invitation cannot be sent to a member
    with pytest.raises(ValidationError):
        services.invitation_create(actor=actor, email="SELLER@example.com", role=Role.ADMIN)
    seller.refresh_from_db()
    assert seller.role == Role.SALES


def test_organisation_settings_validate(actor):
    with pytest.raises(ValidationError) as exc:
        services.organization_update(
            actor=actor, name=" ", base_currency="EU", language="de", time_zone="Nowhere", country="XX"
        )
    assert set(exc.value.message_dict) == {"name", "base_currency", "language", "time_zone", "country"}


def test_slugs_are_unique_and_avoid_reserved_words(actor):
    first = services.organization_create(owner=actor.user, name="Settings").organization
    second = services.organization_create(owner=actor.user, name="Settings").organization
    assert (first.slug, second.slug) == ("settings-org", "settings-org-2")
