"""How the touchpoint events look on the 360° timeline: icons and labels added to the contacts' table."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

TOUCHPOINT_EVENT_TYPES = {
    "lead.captured": ("megaphone", _("Lead captured from an ad")),
}
PREFIX_ICONS = {"visitor.": "person-badge", "identity.": "person-exclamation"}


def register() -> None:
    from vinculo.contacts.templatetags import contacts_ui

    for event_type, entry in TOUCHPOINT_EVENT_TYPES.items():
        contacts_ui.EVENT_TYPES.setdefault(event_type, entry)
    for prefix, icon in PREFIX_ICONS.items():
        contacts_ui.PREFIX_ICONS.setdefault(prefix, icon)
