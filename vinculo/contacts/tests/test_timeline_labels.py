"""How event types read on the timeline: known ones by their label, a website's own events by name."""

from __future__ import annotations

from django.utils import translation

from vinculo.contacts.templatetags.contacts_ui import event_label, is_known_event


def test_known_and_custom_website_events_have_labels():
    assert event_label("contact.created") == "Contact created"
    assert event_label("web.added_to_cart") == "On the website: added to cart"
    assert is_known_event("web.added_to_cart") is True
    assert event_label("partner.synced") == "partner.synced"
    assert is_known_event("partner.synced") is False
    with translation.override("es"):
        assert event_label("web.added_to_cart") == "En el sitio web: added to cart"
