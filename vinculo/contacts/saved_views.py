"""Saved views of the list pages: who sees them, who changes them, and the changes themselves.

A view is seen by its owner and, when shared, by the whole organisation or by the members of its
team; it is changed only by its owner and by owners and admins of the organisation. A view the
member may not see answers 404, the same as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership, Team
from vinculo.accounts.permissions import can_manage_org
from vinculo.contacts.list_registry import clean_view_parts
from vinculo.contacts.models import SavedView, ViewSharing

FIELDS = ("kind", "name", "sharing", "team", "filters", "sort", "columns")
MAX_VIEWS_PER_MEMBER = 200


# --- selectors -----------------------------------------------------------------------------------


def saved_view_queryset(*, actor: Membership) -> QuerySet[SavedView]:
    """The views `actor` may see: their own, the organisation's, and their teams'."""
    return SavedView.objects.filter(
        Q(owner=actor) | Q(sharing=ViewSharing.ORGANIZATION) | Q(sharing=ViewSharing.TEAM, team__members=actor)
    ).distinct()


def saved_view_list(*, actor: Membership, kind: str = "") -> QuerySet[SavedView]:
    views = saved_view_queryset(actor=actor)
    if kind:
        views = views.filter(kind=kind)
    return views.select_related("owner__user", "team").order_by("name", "id")


def saved_view_get(*, actor: Membership, pk: Any) -> SavedView:
    try:
        return saved_view_list(actor=actor).get(pk=int(pk))
    except (SavedView.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


def can_change_view(actor: Membership, view: SavedView) -> bool:
    return view.owner_id == actor.pk or can_manage_org(actor)


def require_change_view(actor: Membership, view: SavedView) -> None:
    if not can_change_view(actor, view):
        raise PermissionDenied(_("Only the view's owner and admins can change a shared view."))


# --- services ------------------------------------------------------------------------------------


def _apply(actor: Membership, view: SavedView, data: Mapping[str, Any]) -> None:
    errors: dict[str, str] = {}
    for key in data:
        if key not in FIELDS:
            errors[key] = _("Unknown field.")
    if "kind" in data:
        view.kind = data["kind"] if isinstance(data["kind"], str) else ""
    if "name" in data:
        name = data["name"].strip() if isinstance(data["name"], str) else ""
        if not name:
            errors["name"] = _("Give the view a name.")
        elif len(name) > 100:
            errors["name"] = _("At most 100 characters.")
        view.name = name
    if "sharing" in data:
        if data["sharing"] in ViewSharing.values:
            view.sharing = data["sharing"]
        else:
            errors["sharing"] = _("Choose one of: %(names)s.") % {"names": ", ".join(ViewSharing.values)}
    if "team" in data:
        team_id = data["team"]
        if team_id in (None, ""):
            view.team = None
        else:
            try:
                view.team = Team.objects.get(pk=int(team_id))
            except (Team.DoesNotExist, ValueError, TypeError, OverflowError):
                errors["team"] = _("Unknown team.")
    if view.sharing == ViewSharing.TEAM and view.team_id is None and "team" not in errors:
        errors["team"] = _("Choose the team to share the view with.")
    if view.sharing != ViewSharing.TEAM and "team" not in errors:
        view.team = None
    try:
        view.filters, view.sort, view.columns = clean_view_parts(
            view.kind,
            filters=data.get("filters", view.filters),
            sort=data.get("sort", view.sort),
            columns=data.get("columns", view.columns),
            errors=errors,
        )
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    if errors:
        raise ValidationError(errors)


def _save(view: SavedView) -> None:
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError as exc:
        raise ValidationError({"name": [_("You already have a view with this name on this list.")]}) from exc


@transaction.atomic
def saved_view_create(*, actor: Membership, data: Mapping[str, Any]) -> SavedView:
    """Keep the current filters, sort and columns of a list under a name. Any member may keep views
    (a read-only member too: a view changes no customer data)."""
    if "kind" not in data or "name" not in data:
        raise ValidationError({k: [_("This field is required.")] for k in ("kind", "name") if k not in data})
    if SavedView.objects.filter(owner=actor).count() >= MAX_VIEWS_PER_MEMBER:
        raise ValidationError({"name": [_("You have too many saved views; delete some first.")]})
    view = SavedView(organization_id=actor.organization_id, owner=actor)
    _apply(actor, view, data)
    _save(view)
    return view


@transaction.atomic
def saved_view_update(*, actor: Membership, view: SavedView, data: Mapping[str, Any]) -> SavedView:
    """Rename, reshare or store new filters, sort and columns (only the fields given change)."""
    require_change_view(actor, view)
    if "kind" in data and data["kind"] != view.kind:
        raise ValidationError({"kind": [_("A view stays on its list.")]})
    _apply(actor, view, data)
    _save(view)
    return view


@transaction.atomic
def saved_view_delete(*, actor: Membership, view: SavedView) -> None:
    require_change_view(actor, view)
    view.delete()
