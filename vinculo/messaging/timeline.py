"""How consent events look on the 360° timeline: icons and labels added to the contacts' table.
`consent.given` is what web forms wrote before consent moved here (docs/adr/0004); old events keep it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CONSENT_EVENT_TYPES = {
    "consent.granted": ("shield-check", _("Consent given")),
    "consent.given": ("shield-check", _("Consent given")),
    "consent.confirmed": ("shield-fill-check", _("Consent confirmed by e-mail")),
    "consent.withdrawn": ("shield-x", _("Consent withdrawn")),
}
PREFIX_ICONS = {"consent.": "shield-check"}


def register() -> None:
    from vinculo.contacts.templatetags import contacts_ui

    for event_type, entry in CONSENT_EVENT_TYPES.items():
        contacts_ui.EVENT_TYPES.setdefault(event_type, entry)
    for prefix, icon in PREFIX_ICONS.items():
        contacts_ui.PREFIX_ICONS.setdefault(prefix, icon)
