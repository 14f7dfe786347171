"""Deal writes: stage defaults, probability overrides, moves, events on the timeline, bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_scopes import scope

from vinculo.core.models import AuditEntry, Event
from vinculo.sales.models import Deal, DealStatus, ForecastCategory, LostReason
from vinculo.sales.services.deals import deal_create, deal_delete, deal_move, deal_update
from vinculo.sales.testing import make_deal, make_pipeline, stage_named


def test_a_new_deal_starts_in_the_first_stage_with_its_probability(actor, pipeline, contact):
    deal = make_deal(actor, title="Renewal", amount="1200.50", contact=contact.pk)

    deal.refresh_from_db()
    assert (deal.stage.name, deal.probability, deal.status) == ("Qualification", 10, DealStatus.OPEN)
    assert (deal.amount, deal.currency, deal.owner_id) == (Decimal("1200.50"), "EUR", actor.user_id)
    event = Event.dangerously_unscoped.get(type="deal.created")
    assert event.contact_id == contact.pk
    assert event.properties == {
        "deal_id": deal.pk,
        "title": "Renewal",
        "amount": "1200.50",
        "currency": "EUR",
        "pipeline": "Sales",
        "stage_id": deal.stage_id,
        "stage": "Qualification",
        "owner": str(actor.user),
    }


def test_an_overridden_probability_needs_a_reason(actor, pipeline):
    with pytest.raises(ValidationError) as exc:
        make_deal(actor, probability=55)
    assert exc.value.message_dict == {
        "probability_reason": ["Say why this deal's probability differs from its stage's."]
    }
    assert Deal.dangerously_unscoped.count() == 0

    deal = make_deal(actor, probability=55, probability_reason="Signed letter of intent")
    assert (deal.probability, deal.probability_reason) == (55, "Signed letter of intent")


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"title": "x", "amount": "-1"}, {"amount": ["Cannot be negative."]}),
        ({"title": "x", "amount": "1.234"}, {"amount": ["At most two decimal places."]}),
        ({"title": "x", "amount": "1e308"}, {"amount": ["Too large."]}),
        ({"title": "x", "amount": "NaN"}, {"amount": ["Enter a number."]}),
        (
            {"title": "x", "probability": 101, "probability_reason": "r"},
            {"probability": ["Enter a probability between 0 and 100."]},
        ),
        (
            {"title": "x", "expected_close_date": "next friday"},
            {"expected_close_date": ["Enter a date as YYYY-MM-DD."]},
        ),
        ({"title": "x", "currency": "EURO"}, {"currency": ["Enter an ISO 4217 currency code, e.g. EUR."]}),
        ({"title": ""}, {"title": ["This field is required."]}),
        ({"title": "x", "colour": "red"}, {"colour": ["Unknown field."]}),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(actor, pipeline, data, errors):
    with pytest.raises(ValidationError) as exc:
        make_deal(actor, **data)
    assert exc.value.message_dict == errors
    assert Deal.dangerously_unscoped.count() == 0
    assert Event.dangerously_unscoped.filter(type__startswith="deal.").count() == 0


def test_a_stage_of_another_pipeline_or_organisation_is_refused(actor, other_actor, pipeline):
    other_pipeline = make_pipeline(actor.organization, "Partners", default=False)
    foreign = make_pipeline(other_actor.organization, "Theirs")
    deal = make_deal(actor)
    for stage, message in (
        (stage_named(other_pipeline, "Won"), "This stage belongs to another pipeline."),
        (stage_named(foreign, "Won"), "No such stage."),
    ):
        with scope(organization=actor.organization), pytest.raises(ValidationError) as exc:
            deal_move(actor=actor, deal=deal, stage=stage.pk)
        assert exc.value.message_dict == {"stage": [message]}
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification"


def test_moving_records_the_stage_change_and_closing_sets_status(actor, pipeline, contact):
    deal = make_deal(actor, contact=contact.pk, amount="500")
    lost = LostReason.dangerously_unscoped.create(organization=actor.organization, name="Price")
    with scope(organization=actor.organization):
        deal_move(actor=actor, deal=deal, stage=stage_named(pipeline, "Lost").pk, lost_reason=lost.pk)
    deal.refresh_from_db()
    assert (deal.status, deal.probability, deal.forecast_category) == (DealStatus.LOST, 0, ForecastCategory.OMITTED)
    assert deal.lost_reason_id == lost.pk
    assert deal.closed_at is not None
    event = Event.dangerously_unscoped.get(type="deal.stage_changed")
    assert event.properties["from_stage"] == "Qualification"
    assert event.properties["to_stage"] == "Lost"
    assert event.properties["lost_reason"] == "Price"
    assert event.contact_id == contact.pk


def test_two_moves_of_the_same_deal_are_both_recorded(actor, member, pipeline):
    """The row lock serialises concurrent moves: the second starts from where the first left it."""
    rep = member(role="manager")
    deal = make_deal(actor)
    with scope(organization=actor.organization):
        deal_move(actor=actor, deal=deal, stage=stage_named(pipeline, "Proposal").pk)
        deal_move(actor=rep, deal=deal, stage=stage_named(pipeline, "Negotiation").pk)  # a stale copy of the deal
    moves = list(
        Event.dangerously_unscoped.filter(type="deal.stage_changed").order_by("id").values_list("properties", flat=True)
    )
    assert [(m["from_stage"], m["to_stage"]) for m in moves] == [
        ("Qualification", "Proposal"),
        ("Proposal", "Negotiation"),
    ]
    deal.refresh_from_db()
    assert (deal.stage.name, deal.probability) == ("Negotiation", 70)


def test_amount_and_owner_changes_are_events(actor, member, pipeline):
    rep = member(role="sales")
    deal = make_deal(actor, amount="100")
    with scope(organization=actor.organization):
        deal_update(actor=actor, deal=deal, data={"amount": "250.00", "owner": rep.user_id})
    types = list(
        Event.dangerously_unscoped.filter(type__startswith="deal.").order_by("id").values_list("type", "properties")
    )
    assert types[1] == (
        "deal.amount_changed",
        {"deal_id": deal.pk, "title": "Deal", "from": "100.00", "to": "250.00", "currency": "EUR"},
    )
    assert types[2][0] == "deal.owner_changed"
    assert types[2][1]["to_owner_id"] == rep.user_id
    audit = AuditEntry.dangerously_unscoped.filter(object_type="sales.deal", action="update").get()
    assert audit.changes["amount"] == ["100.00", "250.00"]


def test_read_only_cannot_create_and_sales_cannot_touch_others_deals(actor, member, pipeline):
    reader, rep = member(role="read_only"), member(role="sales")
    with scope(organization=actor.organization), pytest.raises(PermissionDenied):
        deal_create(actor=reader, data={"title": "x"})
    deal = make_deal(actor)  # owned by the owner, who shares no team with the rep
    with scope(organization=actor.organization):
        with pytest.raises(PermissionDenied):
            deal_move(actor=rep, deal=deal, stage=stage_named(pipeline, "Won").pk)
        with pytest.raises(PermissionDenied):
            deal_delete(actor=rep, deal=deal)
    assert Deal.dangerously_unscoped.get().stage.name == "Qualification"


def test_board_positions_place_a_card_above_another(actor, pipeline):
    a, b, c = (make_deal(actor, title=t) for t in "abc")
    proposal = stage_named(pipeline, "Proposal")
    with scope(organization=actor.organization):
        deal_move(actor=actor, deal=a, stage=proposal.pk)
        deal_move(actor=actor, deal=b, stage=proposal.pk)
        deal_move(actor=actor, deal=c, stage=proposal.pk, before=b.pk)
    column = list(
        Deal.dangerously_unscoped.filter(stage=proposal).order_by("position", "id").values_list("title", flat=True)
    )
    assert column == ["a", "c", "b"]
