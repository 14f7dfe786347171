"""Writes of accounts data: sign-up, organisations, invitations, members, teams, API tokens.

Every function here is the one way to make its change: it checks the actor's role (owners and
admins manage an organisation, see permissions.py), validates, writes in one transaction and
records the audit trail. Views, API endpoints and commands call these and never save models.
"""

from __future__ import annotations

import logging
import secrets
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from vinculo.accounts.models import ApiToken, Invitation, Membership, Organization, Role, Team, User
from vinculo.accounts.permissions import require_org_admin
from vinculo.accounts.selectors import TOKEN_PREFIX, hash_secret
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.countries import country_of_time_zone, is_country
from vinculo.core.currencies import is_currency
from vinculo.core.outgoing_mail import queue_mail
from vinculo.core.validation import Errors, normalize_email_address

logger = logging.getLogger(__name__)

INVITATION_DAYS = 7
RESERVED_SLUGS = frozenset({"new", "api", "admin", "static", "accounts", "settings"})
ORGANIZATION_FIELDS = ["name", "base_currency", "language", "time_zone", "country"]


def _raise(errors: Errors) -> None:
    if errors:
        raise ValidationError(dict(errors.items()))


def _same_organization(actor: Membership, obj: Any) -> None:
    """Defence in depth: pages look records up inside the organisation scope already."""
    if obj.organization_id != actor.organization_id:
        raise PermissionDenied


def _is_time_zone(name: str) -> bool:
    return name in zoneinfo.available_timezones()


def _unique_slug(name: str) -> str:
    base = (slugify(name) or "org")[:50]
    if base in RESERVED_SLUGS:
        base = f"{base}-org"
    slug, n = base, 2
    while Organization.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def _clean_organization(
    *, name: str, base_currency: str, language: str, time_zone: str, country: str, field_of_name: str = "name"
) -> tuple[dict[str, str], Errors]:
    """Validated organisation settings, and the errors keyed by field."""
    errors: Errors = {}
    values = {
        "name": (name or "").strip(),
        "base_currency": (base_currency or "").strip().upper(),
        "language": language,
        "time_zone": (time_zone or "").strip(),
        "country": (country or "").strip().upper(),
    }
    if not values["name"]:
        errors[field_of_name] = [_("Give the organisation a name.")]
    elif len(values["name"]) > 150:
        errors[field_of_name] = [_("Use at most 150 characters.")]
    if not is_currency(values["base_currency"]):
        errors["base_currency"] = [_("Use a three-letter ISO 4217 currency code such as EUR or USD.")]
    if values["language"] not in dict(settings.LANGUAGES):
        errors["language"] = [_("Unknown language.")]
    if not _is_time_zone(values["time_zone"]):
        errors["time_zone"] = [_("Unknown time zone.")]
    if values["country"] and not is_country(values["country"]):
        errors["country"] = [_("Use a two-letter ISO 3166 country code such as ES, or leave it empty.")]
    return values, errors


# --- Users ---------------------------------------------------------------------------------


def _clean_user(*, email: str, password: str, full_name: str, language: str) -> tuple[dict[str, str], Errors]:
    email = (email or "").strip().lower()
    full_name = (full_name or "").strip()
    errors: Errors = {}
    if normalize_email_address(email) is None:
        errors["email"] = [_("Enter a valid e-mail address.")]
    else:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = [_("An account with this e-mail already exists. Log in instead.")]
    if not full_name:
        errors["full_name"] = [_("This field is required.")]
    elif len(full_name) > 150:
        errors["full_name"] = [_("Use at most 150 characters.")]
    if language not in dict(settings.LANGUAGES):
        errors["language"] = [_("Unknown language.")]
    try:
        password_validation.validate_password(password, User(email=email, full_name=full_name))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    return {"email": email, "full_name": full_name, "language": language}, errors


def _create_user(values: dict[str, str], password: str) -> User:
    try:
        with transaction.atomic():
            return User.objects.create_user(password=password, **values)
    except IntegrityError as exc:  # the same e-mail signed up a moment ago
        raise ValidationError({"email": _("An account with this e-mail already exists. Log in instead.")}) from exc


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str, language: str = "en", time_zone: str = "UTC") -> User:
    """A new user without an organisation (someone who signs up to accept an invitation)."""
    values, errors = _clean_user(email=email, password=password, full_name=full_name, language=language)
    time_zone = (time_zone or "").strip() or "UTC"
    if not _is_time_zone(time_zone):
        errors["time_zone"] = [_("Unknown time zone.")]
    _raise(errors)
    return _create_user({**values, "time_zone": time_zone}, password)


@transaction.atomic
def user_sign_up(
    *,
    email: str,
    password: str,
    full_name: str,
    organization_name: str,
    language: str = "en",
    time_zone: str = "UTC",
) -> Membership:
    """Create a user and their first organisation, as the sign-up page does. The user's language and
    time zone (the browser's) are the new organisation's defaults too."""
    values, errors = _clean_user(email=email, password=password, full_name=full_name, language=language)
    time_zone = (time_zone or "").strip() or "UTC"
    _org_values, org_errors = _clean_organization(
        name=organization_name,
        base_currency="EUR",
        language=language,
        time_zone=time_zone,
        country="",
        field_of_name="organization_name",
    )
    _raise({**errors, **{k: v for k, v in org_errors.items() if k in ("organization_name", "time_zone")}})
    user = _create_user({**values, "time_zone": time_zone}, password)
    return organization_create(
        owner=user, name=organization_name, language=language, time_zone=time_zone, name_field="organization_name"
    )


@transaction.atomic
def user_update_preferences(
    *, user: User, language: str | None = None, time_zone: str | None = None, full_name: str | None = None
) -> User:
    """The user's own name, interface language and time zone (profile page, language switch)."""
    fields = []
    errors: Errors = {}
    if language is not None:
        if language not in dict(settings.LANGUAGES):
            errors["language"] = [_("Unknown language.")]
        user.language = language
        fields.append("language")
    if time_zone is not None:
        if not _is_time_zone(time_zone):
            errors["time_zone"] = [_("Unknown time zone.")]
        user.time_zone = time_zone
        fields.append("time_zone")
    if full_name is not None:
        if not full_name.strip():
            errors["full_name"] = [_("This field is required.")]
        elif len(full_name.strip()) > 150:
            errors["full_name"] = [_("Use at most 150 characters.")]
        user.full_name = full_name.strip()
        fields.append("full_name")
    if errors:
        user.refresh_from_db(fields=fields)
        _raise(errors)
    if fields:
        user.save(update_fields=fields)
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str) -> User:
    """A new password. Every session of the user made with the old one stops working (Django
    checks the password hash stored in each session); the caller keeps its own session alive
    with `update_session_auth_hash`."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


# --- Organisations -------------------------------------------------------------------------


@transaction.atomic
def organization_create(
    *,
    owner: User,
    name: str,
    base_currency: str = "EUR",
    language: str | None = None,
    time_zone: str | None = None,
    country: str | None = None,
    name_field: str = "name",
) -> Membership:
    """A new organisation with `owner` as its owner; returns the owner's membership. Without a
    `country`, the country of its time zone (Europe/Madrid: ES; UTC: none)."""
    time_zone = time_zone or owner.time_zone
    values, errors = _clean_organization(
        name=name,
        base_currency=base_currency,
        language=language or owner.language,
        time_zone=time_zone,
        country=country_of_time_zone(time_zone) if country is None else country,
        field_of_name=name_field,
    )
    _raise(errors)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                org = Organization.objects.create(slug=_unique_slug(values["name"]), **values)
            break
        except IntegrityError:  # another sign-up took the same slug a moment ago
            continue
    else:
        raise ValidationError({name_field: [_("Could not create the organisation; try again.")]})
    membership = Membership.objects.create(user=owner, organization=org, role=Role.OWNER)
    audit_create(instance=org, actor=owner, values=snapshot(org, ["slug", *ORGANIZATION_FIELDS]), organization=org)
    audit_create(instance=membership, actor=owner, values=snapshot(membership, ["role"]), organization=org)
    return membership


@transaction.atomic
def organization_update(
    *, actor: Membership, name: str, base_currency: str, language: str, time_zone: str, country: str
) -> Organization:
    """Change the organisation's name, base currency, default language, time zone and country.

    The slug (the organisation's address) stays, so that links and bookmarks keep working.
    """
    require_org_admin(actor)
    values, errors = _clean_organization(
        name=name, base_currency=base_currency, language=language, time_zone=time_zone, country=country
    )
    _raise(errors)
    org = Organization.objects.select_for_update().get(pk=actor.organization_id)
    before = snapshot(org, ORGANIZATION_FIELDS)
    for field, value in values.items():
        setattr(org, field, value)
    changes = diff(before, snapshot(org, ORGANIZATION_FIELDS))
    if changes:
        org.save(update_fields=[*changes, "updated_at"])
        audit_update(instance=org, actor=actor.user, changes=changes, organization=org)
    actor.organization = org
    return org


# --- Invitations ---------------------------------------------------------------------------


@dataclass
class IssuedInvitation:
    """A new invitation and its link (which holds the secret: it is never stored).

    `email_sent` is filled in after commit: True once sent, False when the mail server refused
    or could not be reached (the invitation stays and the mail is retried; share the link another
    way meanwhile), None while the transaction is open or the mail waits for the worker.
    """

    invitation: Invitation
    url: str
    email_sent: bool | None = None


def _pending_invitations(organization_id: int) -> Any:
    return Invitation.dangerously_unscoped.filter(
        organization_id=organization_id,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    )


@transaction.atomic
def invitation_create(*, actor: Membership, email: str, role: str) -> IssuedInvitation:
    """Invite someone by e-mail; the link carries a secret of which only the hash is stored.

    The e-mail goes out once the transaction commits, so a rolled-back invitation sends nothing.
    """
    require_org_admin(actor)
    email = (email or "").strip().lower()
    errors: Errors = {}
    if normalize_email_address(email) is None:
        errors["email"] = [_("Enter a valid e-mail address.")]
    if role not in Role.values:
        errors["role"] = [_("Unknown role.")]
    _raise(errors)
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only owners can invite owners."))
    if Membership.objects.filter(organization_id=actor.organization_id, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already a member.")})
    if _pending_invitations(actor.organization_id).filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": _("This person already has a pending invitation. Revoke it to send a new one.")}
        )
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
    issued = IssuedInvitation(invitation=invitation, url=url)
    org_name, inviter = actor.organization.name, str(actor.user)
    message = queue_mail(
        organization=actor.organization,
        kind="system",
        to=email,
        subject=lambda: _("%(inviter)s invited you to %(org)s on Vínculo") % {"inviter": inviter, "org": org_name},
        template="accounts/email/invitation",
        context={"org_name": org_name, "inviter": inviter, "url": url, "days": INVITATION_DAYS},
        language=actor.organization.language,
        idempotency_key=f"invitation:{invitation.pk}",
        actor=actor.user,
    )

    def note_outcome() -> None:
        # runs after the sending was enqueued (an earlier on-commit callback): with a worker that
        # runs at once the outcome is known; with the database worker the mail is still queued
        message.refresh_from_db(fields=["state", "last_error"])
        if message.state == "sent":
            issued.email_sent = True
        elif message.state == "failed" or message.last_error:
            logger.warning("invitation e-mail to %s not sent: %s", email, message.last_error)
            issued.email_sent = False

    transaction.on_commit(note_outcome)
    return issued


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation) -> Invitation:
    """The link stops working. Revoking twice, or an accepted invitation, changes nothing."""
    require_org_admin(actor)
    _same_organization(actor, invitation)
    invitation = Invitation.dangerously_unscoped.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        audit_update(
            instance=invitation, actor=actor.user, changes={"revoked": [False, True]}, organization=actor.organization
        )
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Join the inviting organisation with the invited role.

    Only the person the invitation was sent to can use it (the link proves they read that
    mailbox), and only once. Someone who is already a member keeps their role.
    """
    invitation = (
        Invitation.dangerously_unscoped.select_for_update().select_related("organization").get(pk=invitation.pk)
    )
    if not invitation.is_pending:
        raise ValidationError(_("This invitation has expired or was already used."))
    if invitation.email.lower() != user.email.lower():
        raise ValidationError(
            {
                "email": _("This invitation was sent to %(email)s. Log in with that address to accept it.")
                % {"email": invitation.email}
            }
        )
    membership, created = Membership.objects.get_or_create(
        user=user, organization_id=invitation.organization_id, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    audit_update(
        instance=invitation, actor=user, changes={"accepted": [False, True]}, organization=invitation.organization
    )
    if created:
        audit_create(
            instance=membership, actor=user, values=snapshot(membership, ["role"]), organization=invitation.organization
        )
    return membership


# --- Members -------------------------------------------------------------------------------


def _lock_owners(organization_id: int) -> list[Membership]:
    """The organisation's owners, locked: two admins demoting the last two owners at the same
    moment cannot leave it without one."""
    return list(Membership.objects.select_for_update().filter(organization_id=organization_id, role=Role.OWNER))


@transaction.atomic
def membership_change_role(*, actor: Membership, membership: Membership, role: str) -> Membership:
    """Give a member another role. Only owners grant or take away ownership; the last owner stays."""
    require_org_admin(actor)
    _same_organization(actor, membership)
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    owners = _lock_owners(actor.organization_id)
    membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    if Role.OWNER in (role, membership.role) and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only owners can grant or take away the owner role."))
    if membership.role == Role.OWNER and role != Role.OWNER and len(owners) <= 1:
        raise ValidationError({"role": _("An organisation needs at least one owner.")})
    before = snapshot(membership, ["role"])
    membership.role = role
    changes = diff(before, snapshot(membership, ["role"]))
    if changes:
        membership.save(update_fields=["role", "updated_at"])
        audit_update(instance=membership, actor=actor.user, changes=changes, organization=actor.organization)
    return membership


@transaction.atomic
def membership_remove(*, actor: Membership, membership: Membership) -> None:
    """Take someone out of the organisation (and its teams). Their records keep their owner;
    their API tokens stop working. The last owner cannot be removed."""
    require_org_admin(actor)
    _same_organization(actor, membership)
    owners = _lock_owners(actor.organization_id)
    membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    if membership.role == Role.OWNER and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only owners can remove an owner."))
    if membership.role == Role.OWNER and len(owners) <= 1:
        raise ValidationError(_("An organisation needs at least one owner."))
    audit_delete(
        instance=membership,
        actor=actor.user,
        values={"user": membership.user.email, "role": membership.role},
        organization=actor.organization,
    )
    membership.delete()


# --- Teams ---------------------------------------------------------------------------------


def _team_members(actor: Membership, member_ids: Iterable[Any] | None, errors: Errors) -> list[Membership]:
    ids: set[int] = set()
    for value in member_ids or []:
        try:
            ids.add(int(value.pk if isinstance(value, Membership) else value))
        except (TypeError, ValueError, OverflowError):
            errors["members"] = [_("Choose members of this organisation.")]
            return []
    members = list(Membership.objects.filter(organization_id=actor.organization_id, pk__in=ids).select_related("user"))
    if len(members) != len(ids):
        errors["members"] = [_("Choose members of this organisation.")]
    return members


def _clean_team_name(name: str, errors: Errors) -> str:
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 100:
        errors["name"] = [_("Use at most 100 characters.")]
    return name


def _member_emails(members: Iterable[Membership]) -> list[str]:
    return sorted(m.user.email for m in members)


@transaction.atomic
def team_create(*, actor: Membership, name: str, member_ids: Iterable[Any] | None = None) -> Team:
    """A new team, e.g. a sales team: members with the sales role see each other's records."""
    require_org_admin(actor)
    errors: Errors = {}
    name = _clean_team_name(name, errors)
    members = _team_members(actor, member_ids, errors)
    _raise(errors)
    try:
        with transaction.atomic():
            team = Team.objects.create(organization_id=actor.organization_id, name=name)
    except IntegrityError as exc:
        raise ValidationError({"name": _("A team with this name already exists.")}) from exc
    team.members.set(members)
    audit_create(
        instance=team,
        actor=actor.user,
        values={"name": team.name, "members": _member_emails(members)},
        organization=actor.organization,
    )
    return team


@transaction.atomic
def team_update(
    *, actor: Membership, team: Team, name: str | None = None, member_ids: Iterable[Any] | None = None
) -> Team:
    """Rename a team and/or replace its members (None leaves that part as it is)."""
    require_org_admin(actor)
    _same_organization(actor, team)
    errors: Errors = {}
    new_name = _clean_team_name(name, errors) if name is not None else team.name
    members = _team_members(actor, member_ids, errors) if member_ids is not None else None
    _raise(errors)
    before = {"name": team.name, "members": _member_emails(team.members.select_related("user"))}
    if new_name != team.name:
        team.name = new_name
        try:
            with transaction.atomic():
                team.save(update_fields=["name", "updated_at"])
        except IntegrityError as exc:
            raise ValidationError({"name": _("A team with this name already exists.")}) from exc
    if members is not None:
        team.members.set(members)
    after = {"name": team.name, "members": _member_emails(members) if members is not None else before["members"]}
    audit_update(instance=team, actor=actor.user, changes=diff(before, after), organization=actor.organization)
    return team


def team_set_members(*, actor: Membership, team: Team, member_ids: Iterable[Any]) -> Team:
    """Replace a team's members."""
    return team_update(actor=actor, team=team, member_ids=list(member_ids))


@transaction.atomic
def team_delete(*, actor: Membership, team: Team) -> None:
    """Delete a team; its members stay in the organisation."""
    require_org_admin(actor)
    _same_organization(actor, team)
    audit_delete(
        instance=team,
        actor=actor.user,
        values={"name": team.name, "members": _member_emails(team.members.select_related("user"))},
        organization=actor.organization,
    )
    team.delete()


# --- API tokens ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


@transaction.atomic
def api_token_create(*, actor: Membership, name: str, scope: str) -> IssuedToken:
    """A new API token acting as `actor`. The secret is returned once; only its hash is kept."""
    require_org_admin(actor)
    name = (name or "").strip()
    errors: Errors = {}
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 100:
        errors["name"] = [_("Use at most 100 characters.")]
    if scope not in ApiToken.Scope.values:
        errors["scope"] = [_("Unknown scope.")]
    _raise(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        organization_id=actor.organization_id,
        name=name,
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
    """The token stops working at once. Revoking twice changes nothing."""
    require_org_admin(actor)
    _same_organization(actor, token)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_update(
            instance=token, actor=actor.user, changes={"revoked": [False, True]}, organization=actor.organization
        )
    return token


@transaction.atomic
def membership_dismiss_checklist(*, membership: Membership) -> Membership:
    """Put away the getting-started checklist of a member's own home page, for good (idempotent).
    Every member may, whatever their role: it changes nothing but their own page."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.checklist_dismissed_at is None:
        locked.checklist_dismissed_at = timezone.now()
        locked.save(update_fields=["checklist_dismissed_at", "updated_at"])
        audit_update(
            instance=locked,
            actor=membership.user,
            changes={"checklist_dismissed_at": [None, locked.checklist_dismissed_at.isoformat()]},
            organization=membership.organization,
        )
    membership.checklist_dismissed_at = locked.checklist_dismissed_at
    return locked
