"""Writes of accounts data: sign-up, organisations, invitations, members, teams, API tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from vinculo.accounts.models import ApiToken, Invitation, Membership, Organization, Role, Team, User
from vinculo.accounts.permissions import require_org_admin
from vinculo.accounts.selectors import TOKEN_PREFIX, hash_secret
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot

INVITATION_DAYS = 7
RESERVED_SLUGS = frozenset({"new", "api", "admin", "static", "accounts", "settings"})


def _unique_slug(name: str) -> str:
    base = (slugify(name) or "org")[:50]
    if base in RESERVED_SLUGS:
        base = f"{base}-org"
    slug, n = base, 2
    while Organization.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


@transaction.atomic
def organization_create(
    *, owner: User, name: str, base_currency: str = "EUR", language: str | None = None
) -> Membership:
    """A new organisation with `owner` as its owner; returns the owner's membership."""
    name = name.strip()
    if not name:
        raise ValidationError({"organization_name": _("Give the organisation a name.")})
    org = Organization.objects.create(
        name=name[:150],
        slug=_unique_slug(name),
        base_currency=base_currency,
        language=language or owner.language,
    )
    membership = Membership.objects.create(user=owner, organization=org, role=Role.OWNER)
    audit_create(instance=org, actor=owner, values=snapshot(org, ["name", "slug", "base_currency"]), organization=org)
    return membership


@transaction.atomic
def user_sign_up(
    *, email: str, password: str, full_name: str, organization_name: str, language: str = "en"
) -> Membership:
    """Create a user and their first organisation, as the sign-up page does."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("An account with this e-mail already exists. Log in instead.")})
    user = User.objects.create_user(email=email, password=password, full_name=full_name.strip(), language=language)
    return organization_create(owner=user, name=organization_name, language=language)


@transaction.atomic
def user_update_preferences(
    *, user: User, language: str | None = None, time_zone: str | None = None, full_name: str | None = None
) -> User:
    fields = []
    if language is not None:
        if language not in dict(settings.LANGUAGES):
            raise ValidationError({"language": _("Unknown language.")})
        user.language = language
        fields.append("language")
    if time_zone is not None:
        import zoneinfo

        if time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": _("Unknown time zone.")})
        user.time_zone = time_zone
        fields.append("time_zone")
    if full_name is not None:
        if not full_name.strip():
            raise ValidationError({"full_name": _("This field is required.")})
        user.full_name = full_name.strip()[:150]
        fields.append("full_name")
    if fields:
        user.save(update_fields=fields)
    return user


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    url: str


@transaction.atomic
def invitation_create(*, actor: Membership, email: str, role: str) -> IssuedInvitation:
    """Invite someone by e-mail; the link carries a secret of which only the hash is stored."""
    require_org_admin(actor)
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only owners can invite owners."))
    if Membership.objects.filter(organization_id=actor.organization_id, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already a member.")})
    secret = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization_id=actor.organization_id,
        email=email,
        role=role,
        token_hash=hash_secret(secret),
        invited_by=actor.user,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    audit_create(
        instance=invitation,
        actor=actor.user,
        values=snapshot(invitation, ["email", "role"]),
        organization=actor.organization,
    )
    url = settings.SITE_URL + reverse("accounts:invitation_accept", args=[secret])
    org_name, inviter = actor.organization.name, str(actor.user)
    language = actor.organization.language

    def send() -> None:
        with translation.override(language):
            context = {"org_name": org_name, "inviter": inviter, "url": url, "days": INVITATION_DAYS}
            send_mail(
                subject=_("%(inviter)s invited you to %(org)s on Vínculo") % {"inviter": inviter, "org": org_name},
                message=render_to_string("accounts/email/invitation.txt", context),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[email],
            )

    transaction.on_commit(send)
    return IssuedInvitation(invitation=invitation, url=url)


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation) -> None:
    require_org_admin(actor)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at", "updated_at"])
    audit_update(
        instance=invitation, actor=actor.user, changes={"revoked": [False, True]}, organization=actor.organization
    )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Join the inviting organisation. The invitation is used once; joining twice is harmless."""
    invitation = Invitation.dangerously_unscoped.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError(_("This invitation has expired or was already used."))
    membership, _created = Membership.objects.get_or_create(
        user=user, organization_id=invitation.organization_id, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    audit_create(
        instance=membership, actor=user, values=snapshot(membership, ["role"]), organization=invitation.organization
    )
    return membership


def _owner_count(organization_id: int) -> int:
    return Membership.objects.filter(organization_id=organization_id, role=Role.OWNER).count()


@transaction.atomic
def membership_change_role(*, actor: Membership, membership: Membership, role: str) -> Membership:
    require_org_admin(actor)
    if membership.organization_id != actor.organization_id:
        raise PermissionDenied
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if Role.OWNER in (role, membership.role) and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only owners can grant or take away the owner role."))
    if membership.role == Role.OWNER and role != Role.OWNER and _owner_count(actor.organization_id) <= 1:
        raise ValidationError({"role": _("An organisation needs at least one owner.")})
    before = snapshot(membership, ["role"])
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_update(
        instance=membership,
        actor=actor.user,
        changes=diff(before, snapshot(membership, ["role"])),
        organization=actor.organization,
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: Membership, membership: Membership) -> None:
    require_org_admin(actor)
    if membership.organization_id != actor.organization_id:
        raise PermissionDenied
    if membership.role == Role.OWNER and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only owners can remove an owner."))
    if membership.role == Role.OWNER and _owner_count(actor.organization_id) <= 1:
        raise ValidationError(_("An organisation needs at least one owner."))
    audit_delete(
        instance=membership, actor=actor.user, values=snapshot(membership, ["role"]), organization=actor.organization
    )
    membership.delete()


@transaction.atomic
def team_create(*, actor: Membership, name: str, member_ids: list[int] | None = None) -> Team:
    require_org_admin(actor)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    try:
        with transaction.atomic():
            team = Team.objects.create(organization_id=actor.organization_id, name=name[:100])
    except IntegrityError as exc:
        raise ValidationError({"name": _("A team with this name already exists.")}) from exc
    if member_ids:
        team.members.set(Membership.objects.filter(organization_id=actor.organization_id, pk__in=member_ids))
    audit_create(instance=team, actor=actor.user, values=snapshot(team, ["name"]), organization=actor.organization)
    return team


@transaction.atomic
def team_set_members(*, actor: Membership, team: Team, member_ids: list[int]) -> Team:
    require_org_admin(actor)
    before = sorted(team.members.values_list("pk", flat=True))
    members = list(Membership.objects.filter(organization_id=actor.organization_id, pk__in=member_ids))
    team.members.set(members)
    after = sorted(m.pk for m in members)
    audit_update(
        instance=team,
        actor=actor.user,
        changes={"members": [before, after]} if before != after else {},
        organization=actor.organization,
    )
    return team


@transaction.atomic
def team_delete(*, actor: Membership, team: Team) -> None:
    require_org_admin(actor)
    audit_delete(instance=team, actor=actor.user, values=snapshot(team, ["name"]), organization=actor.organization)
    team.delete()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


@transaction.atomic
def api_token_create(*, actor: Membership, name: str, scope: str) -> IssuedToken:
    """A new API token. The secret is returned once; only its hash is kept."""
    require_org_admin(actor)
    name = name.strip()
    errors: dict[str, Any] = {}
    if not name:
        errors["name"] = _("This field is required.")
    if scope not in ApiToken.Scope.values:
        errors["scope"] = _("Unknown scope.")
    if errors:
        raise ValidationError(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        organization_id=actor.organization_id,
        name=name[:100],
        prefix=secret[:10],
        token_hash=hash_secret(secret),
        scope=scope,
        created_by=actor.user,
    )
    audit_create(
        instance=token, actor=actor.user, values=snapshot(token, ["name", "scope"]), organization=actor.organization
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def api_token_revoke(*, actor: Membership, token: ApiToken) -> ApiToken:
    require_org_admin(actor)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_update(
            instance=token, actor=actor.user, changes={"revoked": [False, True]}, organization=actor.organization
        )
    return token
