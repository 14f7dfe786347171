"""The top bar's "+ New" menu: the records a member may create, each with its create page."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import can_write

register = template.Library()

# (key, url name, icon): every create service of these records asks for a role that writes
NEW_ITEMS = (
    ("contact", "contacts:contact_create", "bi-person"),
    ("company", "contacts:company_create", "bi-building"),
    ("deal", "sales:deal_create", "bi-kanban"),
    ("activity", "sales:activity_create", "bi-calendar-plus"),
    ("quote", "sales:quote_create", "bi-file-earmark-text"),
)


def _labels() -> dict[str, str]:
    return {
        "contact": _("Contact"),
        "company": _("Company"),
        "deal": _("Deal"),
        "activity": _("Activity"),
        "quote": _("Quote"),
    }


@register.simple_tag
def new_menu_items(org: Any, membership: Membership | None) -> list[dict[str, str]]:
    """The entries of the menu for this member of `org` (none for a read-only member or off an organisation)."""
    if org is None or membership is None or not can_write(membership):
        return []
    labels = _labels()
    items = []
    for key, url_name, icon in NEW_ITEMS:
        try:
            url = reverse(url_name, args=[org.slug])
        except NoReverseMatch:
            continue
        items.append({"key": key, "url": url, "label": labels[key], "icon": icon})
    return items
