"""The event-type catalogue: its rules, its lookups, emit()'s refusal of unknown types, the sentences."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_scopes import scope

from vinculo.core import events
from vinculo.core.event_story import Viewer, event_sentence, event_stories
from vinculo.core.event_types import (
    EventType,
    EventTypeCatalogue,
    EventTypeConflict,
    UnknownEventType,
    catalogue,
    event_icon,
    event_kind,
    event_label,
    event_type,
    is_known,
    kinds_filter,
    require_known_event_type,
)
from vinculo.core.models import Event

POINTS = EventType(
    name="points.earned",
    label="Points earned",
    sentence="Earned %(points)s points",
    icon="star",
    kind="sales",
    properties={"points": "integer", "rule_id": "integer"},
)


# --- declaring types ------------------------------------------------------------------------------------


def test_the_same_declaration_twice_is_harmless_and_a_different_one_raises():
    registry = EventTypeCatalogue()
    registry.register("loyalty", [POINTS])
    registry.register("loyalty", [POINTS])

    with pytest.raises(EventTypeConflict) as error:
        registry.register("shop", [POINTS])  # another app declares the same name

    assert str(error.value) == (
        "event type 'points.earned' is declared twice with different definitions (by loyalty and by shop)"
    )
    assert registry.find("points.earned") == EventType(**{**POINTS.__dict__, "emitted_by": "loyalty"})


def test_a_frozen_catalogue_refuses_declarations():
    registry = EventTypeCatalogue()
    registry.freeze()

    with pytest.raises(EventTypeConflict, match=r"read-only once the apps are ready; declare types in loyalty/"):
        registry.register("loyalty", [POINTS])
    assert registry.all() == []


def test_the_apps_catalogue_is_frozen_once_django_is_ready():
    assert catalogue.frozen is True
    with pytest.raises(EventTypeConflict):
        catalogue.register("loyalty", [POINTS])
    assert is_known("points.earned") is False


def test_a_sentence_may_name_a_linked_record_or_the_events_own_contact():
    registry = EventTypeCatalogue()
    linked = EventType(
        **{
            **POINTS.__dict__,
            "sentence": "%(actor)s earned %(points)s points by %(rule)s for %(buyer)s",
            "links": {"rule": ("rule", "rule_id"), "buyer": ("contact", "contact_id")},
        }
    )

    registry.register("loyalty", [linked])

    assert registry.find("points.earned").links == {"rule": ("rule", "rule_id"), "buyer": ("contact", "contact_id")}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"name": "Points"}, "the name must look like `object.verb` (or `object.*` for a pattern)"),
        ({"kind": "loyalty"}, "kind must be one of note, email, web, sales, service, record"),
        ({"icon": "<b>"}, "icon must be a Bootstrap icon name such as `bag-check`"),
        ({"properties": {"points": "number"}}, "property points: unknown type 'number'"),
        ({"sentence": "Earned %(bonus)s"}, "the sentence uses %(bonus)s, which is no property of the type"),
        ({"sentence": "Rule %(rule_id)s"}, "the sentence shows an id: %(rule_id)s"),
        ({"label": "%(points)s points"}, "the label takes no placeholders"),
        ({"match_label": "On the website: %(name)s"}, "match_label is for patterns only and uses %(name)s"),
        ({"links": {"rule": ("rule", "rule")}}, "link rule: rule is no id property of the type"),
        ({"links": {"rule": ("rule", "bonus_id")}}, "link rule: bonus_id is no id property of the type"),
        ({"links": {"rule": ("Rule!", "rule_id")}}, "link rule: the record kind 'Rule!' is not a plain name"),
    ],
)
def test_a_declaration_readers_cannot_use_is_refused(change, problem):
    registry = EventTypeCatalogue()

    with pytest.raises(EventTypeConflict) as error:
        registry.register("loyalty", [EventType(**{**POINTS.__dict__, **change})])

    assert str(error.value) == f"event type {change.get('name', 'points.earned')!r}: {problem}"


# --- lookups ------------------------------------------------------------------------------------------


def test_a_type_is_found_by_name_and_a_sites_own_event_by_its_pattern():
    placed = event_type("order.placed")
    assert (placed.name, str(placed.label), placed.icon, placed.kind, placed.emitted_by) == (
        "order.placed",
        "Order placed",
        "bag-check",
        "sales",
        "sales",
    )
    assert placed.properties == {
        "order_id": "integer",
        "number": "string",
        "total": "decimal",
        "currency": "string",
        "channel": "string",
        "lines": "integer",
    }
    assert (placed.delivered, placed.high_volume) == (True, False)
    assert event_type("web.added_to_cart").name == "web.*"
    assert (event_type("page.viewed").delivered, event_type("page.viewed").high_volume) == (True, True)
    assert is_known("web.") is False
    assert is_known("partner.synced") is False
    with pytest.raises(UnknownEventType, match=r"^unknown event type 'partner\.synced': declare it"):
        event_type("partner.synced")


def test_labels_icons_and_kinds_come_from_the_catalogue_in_the_active_language():
    assert (event_label("deal.stage_changed"), event_icon("deal.stage_changed")) == ("Deal moved", "arrow-right-square")
    assert event_label("web.added_to_cart") == "On the website: added to cart"
    assert (event_label("partner.synced"), event_icon("partner.synced")) == ("partner.synced", "lightning")
    assert (event_kind("consent.granted"), event_kind("web.signup"), event_kind("partner.synced")) == (
        "record",
        "web",
        None,
    )
    with translation.override("es"):
        assert event_label("deal.stage_changed") == "Negocio cambiado de etapa"
        assert event_label("web.added_to_cart") == "En el sitio web: added to cart"


# --- sentences ------------------------------------------------------------------------------------------


def _event(type_name, properties, *, actor=None, contact=None):
    return SimpleNamespace(
        type=type_name,
        properties=properties,
        actor=actor,
        actor_id=1 if actor else None,
        contact=contact,
        contact_id=1 if contact else None,
    )


def test_a_sentence_shows_what_the_properties_carry():
    moved = _event(
        "deal.stage_changed",
        {"deal_id": 7, "title": "Kit", "from_stage": "Lead", "to_stage": "Won", "amount": "12500", "currency": "EUR"},
        actor="Ana Ruiz",
    )
    updated = _event("contact.updated", {"changes": {"city": ["", "Madrid"], "phone": ["1", "2"]}}, contact="Lucia")

    assert event_sentence(moved) == "Ana Ruiz moved Kit from Lead to Won — 12,500.00 EUR"
    assert event_sentence(updated) == "Vínculo changed city and phone of Lucia"
    assert event_sentence(_event("web.added_to_cart", {"sku": "A-1"}, contact="Lucia")) == (
        "Lucia on the website: added to cart"
    )
    with translation.override("es"):
        assert (
            event_sentence(moved) == "Ana Ruiz movió Kit de Lead a Won — 12\xa0500,00 EUR"
        )  # Django's Spanish grouping
        assert event_sentence(_event("contact.deleted", {"contact_id": 3, "name": "Ana"})) == (
            "Vínculo eliminó el contacto Ana"
        )


def test_phone_numbers_in_the_details_read_as_dialled_from_the_organisations_country():
    lead = _event(
        "partner.lead_sent",
        {"phone": "+34612345678", "shipping": {"phone_number": "+442079460958"}, "mobile_phone": "ring me"},
        contact="Lucia",
    )
    spanish = Viewer(membership=None, organization_id=1, org_slug="acme", country="ES")

    [with_country] = event_stories([lead], spanish)
    [without] = event_stories([lead])

    assert [(d.label, d.text) for d in with_country.details] == [
        ("Mobile phone", "ring me"),
        ("Phone", "612 34 56 78"),
        ("Shipping › Phone number", "+44 20 7946 0958"),
    ]
    assert [d.text for d in without.details] == ["ring me", "+34 612 34 56 78", "+44 20 7946 0958"]


def test_no_sentence_without_a_value_it_needs_or_for_an_unknown_type():
    assert event_sentence(_event("deal.stage_changed", {"title": "Kit", "from_stage": "Lead"})) == ""
    assert event_sentence(_event("deal.owner_changed", {"title": "Kit", "to": None})) == ""
    assert event_sentence(_event("contact.updated", {"changes": {}})) == ""  # no contact any more
    assert event_sentence(_event("note.added", {"excerpt": {"raw": "json"}})) == ""
    assert event_sentence(_event("partner.synced", {"name": "x"})) == ""
    assert event_sentence(_event("web.added_to_cart", {"sku": "A-1"})) == ""  # an anonymous visitor


# --- emit() and unknown types ---------------------------------------------------------------------------


def test_emit_refuses_an_unknown_type_in_tests_and_writes_nothing(org):
    with pytest.raises(UnknownEventType) as error, transaction.atomic():
        events.emit(organization=org, type="partner.synced")

    assert str(error.value) == (
        "emit() of an unknown event type 'partner.synced': declare it in the emitting app's event_types.py "
        "(see docs/event-types.md)"
    )
    with scope(organization=org):
        assert Event.objects.count() == 0


def test_emit_accepts_a_sites_own_event(org):
    with transaction.atomic():
        event = events.emit(organization=org, type="web.signup", source="web")

    with scope(organization=org):
        assert Event.objects.get().pk == event.pk


def test_in_production_an_unknown_type_is_logged_and_written(org, settings, caplog):
    settings.VINCULO_STRICT_EVENT_TYPES = False
    settings.DEBUG = False

    with caplog.at_level(logging.WARNING, logger="vinculo.core.event_types"), transaction.atomic():
        events.emit(organization=org, type="partner.synced")

    assert [r.getMessage() for r in caplog.records] == [
        "event of an undeclared type 'partner.synced' written to the event log"
    ]
    with scope(organization=org):
        assert list(Event.objects.values_list("type", flat=True)) == ["partner.synced"]


def test_debug_alone_makes_unknown_types_an_error(settings):
    del settings.VINCULO_STRICT_EVENT_TYPES
    settings.DEBUG = True

    with pytest.raises(UnknownEventType):
        require_known_event_type("partner.synced")
    require_known_event_type("order.placed")


# --- the timeline's sections ----------------------------------------------------------------------------


def test_kinds_filter_selects_the_types_of_those_sections(org):
    with scope(organization=org):
        for type_name in ("page.viewed", "web.signup", "consent.granted", "order.placed", "partner.synced"):
            Event.objects.create(organization=org, type=type_name)

        def types(*kinds: str) -> list[str]:
            return sorted(Event.objects.filter(kinds_filter(kinds)).values_list("type", flat=True))

        assert types("web") == ["page.viewed", "web.signup"]
        assert types("record", "sales") == ["consent.granted", "order.placed"]
        assert types("service") == []
        assert types() == []


def test_every_declared_label_and_sentence_is_lazy_text():
    """Declarations translate when read, not when the app loads (gettext_lazy, not gettext)."""
    lazy = type(_("x"))
    for declared in catalogue.all():
        assert isinstance(declared.label, lazy), declared.name
        assert isinstance(declared.sentence, lazy), declared.name
