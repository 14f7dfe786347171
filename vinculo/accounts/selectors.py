"""Reads of accounts data."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from vinculo.accounts.models import ApiToken, Invitation, Membership, Organization, Team, User
from vinculo.accounts.permissions import sees_only_own_and_team, team_user_ids

M = TypeVar("M", bound=Model)

TOKEN_PREFIX = "vin_"


def visible_to(queryset: QuerySet[M], actor: Membership) -> QuerySet[M]:
    """The records of `queryset` (a model with an `owner`) that `actor` may see: a sales rep sees
    the ones they or their teams own and unowned ones; every other role sees them all. The list
    side of `permissions.can_change_record`, shared by contacts, companies, deals, quotes, orders."""
    if sees_only_own_and_team(actor):
        return queryset.filter(Q(owner__isnull=True) | Q(owner_id__in=team_user_ids(actor)))
    return queryset


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token for a raw secret, with its organisation and creator's membership attached.

    Tokens whose creator left the organisation stop working. `last_used_at` is refreshed at most
    once a minute so that a busy client does not write on every request.
    """
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = (
        ApiToken.dangerously_unscoped.select_related("organization", "created_by")
        .filter(token_hash=hash_secret(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(user_id=token.created_by_id, organization_id=token.organization_id, user__is_active=True)
        .first()
    )
    if membership is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.dangerously_unscoped.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    token.membership = membership  # type: ignore[attr-defined]
    return token


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")


def member_list(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .prefetch_related("teams")
        .order_by("user__full_name", "id")
    )


def assignable_users(*, organization: Organization) -> QuerySet[User]:
    """Users who can own records in this organisation."""
    return User.objects.filter(memberships__organization=organization, is_active=True).order_by("full_name", "id")


def team_list() -> QuerySet[Team]:
    return Team.objects.prefetch_related("members__user").order_by("name", "id")


def api_token_list() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("created_by").order_by("-created_at", "-id")


def invitation_list() -> QuerySet[Invitation]:
    return Invitation.objects.select_related("invited_by").order_by("-created_at", "-id")


def invitation_pending_list() -> QuerySet[Invitation]:
    """Invitations that can still be accepted, newest first (inside the organisation scope)."""
    return invitation_list().filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


def invitation_by_secret(secret: str) -> Invitation | None:
    """A pending invitation for the secret from an e-mailed link, in any organisation."""
    invitation = (
        Invitation.dangerously_unscoped.select_related("organization", "invited_by")
        .filter(token_hash=hash_secret(secret))
        .first()
    )
    if invitation is None or not invitation.is_pending:
        return None
    return invitation
