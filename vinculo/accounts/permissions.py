"""What each role may do. Services and selectors call these; templates only mirror them.

- owner, admin: everything, including members, teams, API tokens and organisation settings.
- manager: every customer record, read and write and delete.
- marketing, support: read and write every customer record; delete only what they own.
- sales: sees records they own, records owned by members of their teams and unowned records;
  writes and deletes only those.
- read_only: reads everything, writes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership, Role

ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})
MANAGE_ALL_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER})
WRITE_ROLES = frozenset(set(Role) - {Role.READ_ONLY})


def can_manage_org(actor: Membership) -> bool:
    return actor.role in ADMIN_ROLES


def can_write(actor: Membership) -> bool:
    return actor.role in WRITE_ROLES


def sees_only_own_and_team(actor: Membership) -> bool:
    return actor.role == Role.SALES


def team_user_ids(actor: Membership) -> set[int]:
    """Users who share a team with `actor` (including the actor)."""
    ids = set(
        Membership.objects.filter(teams__members=actor, organization_id=actor.organization_id).values_list(
            "user_id", flat=True
        )
    )
    ids.add(actor.user_id)
    return ids


def can_change_record(actor: Membership, record: Any) -> bool:
    if not can_write(actor):
        return False
    if actor.role == Role.SALES:
        owner_id = getattr(record, "owner_id", None)
        return owner_id is None or owner_id in team_user_ids(actor)
    return True


def can_delete_record(actor: Membership, record: Any) -> bool:
    if actor.role in MANAGE_ALL_ROLES:
        return True
    if not can_write(actor):
        return False
    owner_id = getattr(record, "owner_id", None)
    if actor.role == Role.SALES:
        return owner_id is None or owner_id == actor.user_id
    return owner_id == actor.user_id


def require_manager(actor: Membership, message: Any = None) -> None:
    """Owners, admins and managers only (rules, zones, quotas, follow-ups); `message` says what."""
    if actor.role not in MANAGE_ALL_ROLES:
        raise PermissionDenied(str(message or _("Only owners, admins and managers can do this.")))


def require_org_admin(actor: Membership) -> None:
    if not can_manage_org(actor):
        raise PermissionDenied(_("Only owners and admins can do this."))


def require_write(actor: Membership) -> None:
    if not can_write(actor):
        raise PermissionDenied(_("Your role is read-only."))


def require_change(actor: Membership, record: Any) -> None:
    if not can_change_record(actor, record):
        raise PermissionDenied(_("You are not allowed to change this record."))


def require_delete(actor: Membership, record: Any) -> None:
    if not can_delete_record(actor, record):
        raise PermissionDenied(_("You are not allowed to delete this record."))
