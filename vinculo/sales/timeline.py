"""How sales events look on the 360° timeline: their icons and labels, added to the contacts' table."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SALES_EVENT_TYPES = {
    "deal.created": ("briefcase", _("Deal created")),
    "deal.stage_changed": ("arrow-right-square", _("Deal moved")),
    "deal.amount_changed": ("cash-coin", _("Deal amount changed")),
    "deal.owner_changed": ("person-check", _("Deal reassigned")),
    "deal.deleted": ("briefcase", _("Deal deleted")),
    "lead.converted": ("check2-circle", _("Lead qualified and converted")),
    "lead.assigned": ("person-check", _("Lead assigned")),
    "quote.created": ("file-earmark-text", _("Quote created")),
    "quote.sent": ("send", _("Quote sent")),
    "quote.accepted": ("file-earmark-check", _("Quote accepted")),
    "quote.declined": ("file-earmark-x", _("Quote declined")),
    "order.placed": ("bag-check", _("Order placed")),
    "order.status_changed": ("bag", _("Order status changed")),
    "activity.created": ("check2-square", _("Activity planned")),
    "activity.completed": ("check2-circle", _("Activity done")),
}


def register() -> None:
    from vinculo.contacts.templatetags.contacts_ui import EVENT_TYPES

    EVENT_TYPES.update(SALES_EVENT_TYPES)
