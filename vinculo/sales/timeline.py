"""How sales events look on the 360° timeline: their icons and labels, added to the contacts' table."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SALES_EVENT_TYPES = {
    "deal.created": ("briefcase", _("Deal created")),
    "deal.stage_changed": ("arrow-right-square", _("Deal moved")),
    "deal.amount_changed": ("cash-coin", _("Deal amount changed")),
    "deal.owner_changed": ("person-check", _("Deal reassigned")),
    "deal.deleted": ("briefcase", _("Deal deleted")),
    "order.placed": ("bag-check", _("Order placed")),
}


def register() -> None:
    from vinculo.contacts.templatetags.contacts_ui import EVENT_TYPES

    EVENT_TYPES.update(SALES_EVENT_TYPES)
