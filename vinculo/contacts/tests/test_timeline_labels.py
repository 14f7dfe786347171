"""How event types read on the timeline: labels, icons and sentences from the event-type catalogue."""

from __future__ import annotations

import re

from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django_scopes import scope

from vinculo.contacts import services
from vinculo.contacts.templatetags.contacts_ui import event_icon, event_label, is_known_event
from vinculo.core.events import emit
from vinculo.core.models import Event


def test_known_and_custom_website_events_have_labels():
    assert event_label("contact.created") == "Contact created"
    assert event_label("web.added_to_cart") == "On the website: added to cart"
    assert is_known_event("web.added_to_cart") is True
    assert event_label("partner.synced") == "partner.synced"
    assert is_known_event("partner.synced") is False
    with translation.override("es"):
        assert event_label("web.added_to_cart") == "En el sitio web: added to cart"


def test_icons_come_from_the_catalogue():
    assert [event_icon(t) for t in ("lead.captured", "session.started", "web.signup", "partner.synced")] == [
        "megaphone",
        "box-arrow-in-right",
        "globe",
        "lightning",
    ]


def test_an_event_reads_as_its_sentence_with_the_properties_folded_away(client_in, actor, org):
    with scope(organization=org):
        contact = services.contact_create(actor=actor, data={"first_name": "Ana"})
        with transaction.atomic():
            moved = emit(
                organization=org,
                type="deal.stage_changed",
                contact=contact,
                actor=actor.user,
                properties={
                    "deal_id": 7,
                    "title": "Kit",
                    "from_stage": "Lead",
                    "from_stage_id": 1,
                    "to_stage": "Won",
                    "amount": "12500.00",
                    "currency": "EUR",
                    "pipeline": "Sales",
                },
            )
            bare = emit(organization=org, type="deal.stage_changed", contact=contact, properties={"deal_id": 8})
            cart = emit(organization=org, type="web.added_to_cart", contact=contact, properties={"sku": "A-1"})

    body = client_in.get(reverse("contacts:contact_detail", args=[org.slug, contact.pk])).content.decode()

    entry = re.search(rf'<li class="timeline-entry" id="event-{moved.pk}".*?</li>', body, re.S).group(0)
    assert '<span class="small text-body-secondary event-label">Deal moved</span>' in entry
    assert (
        f'<div class="event-sentence">{actor.user.full_name} moved Kit from Lead to Won — 12,500.00 EUR</div>' in entry
    )
    assert '<details class="small event-details"><summary class="text-body-secondary">Details</summary>' in entry
    assert ">Pipeline</dt>" in entry
    assert "_id" not in entry  # ids are never shown, not even folded
    # without what the sentence needs: the label and what is left, unfolded; no id
    entry = re.search(rf'<li class="timeline-entry" id="event-{bare.pk}".*?</li>', body, re.S).group(0)
    assert '<span class="fw-semibold">Deal moved</span>' in entry
    assert "event-sentence" not in entry
    assert "<details" not in entry
    assert "deal_id" not in entry
    # a site's own event names the visitor and keeps its own properties as details
    entry = re.search(rf'<li class="timeline-entry" id="event-{cart.pk}".*?</li>', body, re.S).group(0)
    assert '<span class="small text-body-secondary event-label">On the website: added to cart</span>' in entry
    assert "on the website: added to cart</div>" in entry
    assert ">Sku</dt>" in entry
    with scope(organization=org):
        assert Event.objects.filter(contact=contact, type="deal.stage_changed").count() == 2
