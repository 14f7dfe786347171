"""The getting-started step that accounts answers: invite a colleague (done when an invitation was
sent or someone else is a member)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from vinculo.accounts.home import ChecklistItem, register_checklist_item
from vinculo.accounts.models import Invitation, Membership, Organization


def colleague_invited(org: Organization) -> bool:
    return (
        Invitation.objects.filter(organization=org).exists() or Membership.objects.filter(organization=org).count() > 1
    )


def register() -> None:
    register_checklist_item(
        ChecklistItem(
            name="invite",
            label=_("Invite a colleague"),
            help=_("Work on the same customers together, each with their own role."),
            done=colleague_invited,
            url=lambda org: reverse("org:invitations", args=[org.slug]),
            order=10,
        )
    )
