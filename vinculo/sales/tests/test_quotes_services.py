"""Quote writes: numbering, pricing from price lists, totals rounded once, the status flow, accepting
into an order (deal won, order.placed), and every bad input refused with nothing saved."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope

from vinculo.contacts.models import Contact, LifecycleStage
from vinculo.contacts.services import company_create, contact_create
from vinculo.core.models import AuditEntry, Event
from vinculo.sales.models import (
    DealStatus,
    DocumentCounter,
    Order,
    OrderChannel,
    OrderLine,
    PriceList,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from vinculo.sales.pricing import PricedLine, compute_totals
from vinculo.sales.services.documents import (
    DocumentConflict,
    quote_accept,
    quote_create,
    quote_decline,
    quote_delete,
    quote_send,
    quote_update,
)
from vinculo.sales.testing import make_deal, make_pipeline, make_product


@pytest.fixture
def widget(org):
    return make_product(org, "Widget", price="100.00", tax_rate=Decimal("21"), sku="W-1")


def create(actor, **data):
    with scope(organization=actor.organization):
        return quote_create(actor=actor, data=data)


def test_a_quote_is_numbered_per_organisation_and_priced_from_the_default_list(actor, other_actor, contact, widget):
    quote = create(
        actor,
        contact=contact.pk,
        lines=[
            {"product": widget.pk, "quantity": "2", "discount_percent": "10"},
            {"description": "Installation", "quantity": "1", "unit_price": "50.00", "tax_rate": "21"},
        ],
        notes="Delivery in March",
        valid_until="2026-12-31",
    )

    quote.refresh_from_db()
    assert (quote.number, quote.status, quote.currency, quote.owner_id) == ("Q-00001", "draft", "EUR", actor.user_id)
    # 2 × 100 − 10 % = 180 + 50 = 230 net; tax 21 % = 48.30
    assert (quote.subtotal, quote.discount_total, quote.tax_total, quote.total) == (
        Decimal("250.00"),
        Decimal("20.00"),
        Decimal("48.30"),
        Decimal("278.30"),
    )
    lines = list(QuoteLine.dangerously_unscoped.filter(quote=quote).order_by("position"))
    assert [(li.description, li.quantity, li.unit_price, li.tax_rate, li.product_id) for li in lines] == [
        ("Widget", Decimal("2.000"), Decimal("100.00"), Decimal("21.00"), widget.pk),
        ("Installation", Decimal("1.000"), Decimal("50.00"), Decimal("21.00"), None),
    ]
    second = create(actor, contact=contact.pk, lines=[{"description": "x", "unit_price": "1"}])
    assert second.number == "Q-00002"
    make_product(other_actor.organization, "Theirs")
    with scope(organization=other_actor.organization):
        other_contact = contact_create(actor=other_actor, data={"first_name": "Eva"})
        theirs = quote_create(
            actor=other_actor, data={"contact": other_contact.pk, "lines": [{"description": "x", "unit_price": "1"}]}
        )
    assert theirs.number == "Q-00001"
    event = Event.dangerously_unscoped.get(type="quote.created", properties__quote_id=quote.pk)
    assert event.contact_id == contact.pk
    assert event.properties == {
        "quote_id": quote.pk,
        "number": "Q-00001",
        "total": "278.30",
        "currency": "EUR",
        "lines": 2,
    }
    assert AuditEntry.dangerously_unscoped.filter(object_type="sales.quote", object_id=quote.pk).count() == 1


def test_totals_are_summed_unrounded_and_rounded_once():
    # three lines of 0.10 at 5 % tax: each line's tax is 0.005 (0.00 rounded half-even), together 0.015
    lines = [
        PricedLine(product=None, description="x", quantity=Decimal(1), unit_price=Decimal("0.10"), tax_rate=Decimal(5))
        for _ in range(3)
    ]
    per_line = sum((line.tax.quantize(Decimal("0.01")) for line in lines), Decimal(0))
    totals = compute_totals(lines)
    assert per_line == Decimal("0.00")
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.total) == (
        Decimal("0.30"),
        Decimal("0.00"),
        Decimal("0.02"),
        Decimal("0.32"),
    )


def test_a_stored_quote_rounds_once_too(actor, contact):
    # 1/3 discounts: 3 lines of 0.05 at 50 % discount → 0.025 each (0.02 rounded), 0.075 → 0.08 together
    quote = create(
        actor,
        contact=contact.pk,
        lines=[{"description": f"L{i}", "unit_price": "0.05", "discount_percent": "50"} for i in range(3)],
    )
    quote.refresh_from_db()
    assert (quote.subtotal, quote.discount_total, quote.total) == (
        Decimal("0.15"),
        Decimal("0.08"),
        Decimal("0.08"),
    )


def test_a_named_price_list_of_the_quote_currency_prices_the_lines(actor, contact, widget, in_org_scope):
    partners = PriceList.dangerously_unscoped.create(organization=actor.organization, name="Partners", currency="EUR")
    partners.items.create(organization=actor.organization, product=widget, unit_price=Decimal("80.00"))
    quote = create(actor, contact=contact.pk, price_list=partners.pk, lines=[{"product": widget.pk}])
    assert (quote.subtotal, quote.tax_total, quote.total) == (Decimal("80.00"), Decimal("16.80"), Decimal("96.80"))


def _nothing_saved(org):
    assert Quote.dangerously_unscoped.filter(organization=org).count() == 0
    assert QuoteLine.dangerously_unscoped.filter(organization=org).count() == 0
    assert DocumentCounter.dangerously_unscoped.filter(organization=org).count() == 0
    assert Event.dangerously_unscoped.filter(organization=org, type__startswith="quote.").count() == 0


@pytest.mark.parametrize(
    ("lines", "errors"),
    [
        ([], {"lines": ["Add at least one line."]}),
        (
            [{"description": "x", "unit_price": "1", "quantity": "-2"}],
            {"lines.0.quantity": ["Enter a quantity greater than zero."]},
        ),
        ([{"description": "x", "unit_price": "-1"}], {"lines.0.unit_price": ["Cannot be negative."]}),
        (
            [{"description": "x", "unit_price": "1", "discount_percent": "100.5"}],
            {"lines.0.discount_percent": ["Must be at most 100."]},
        ),
        ([{"description": "x", "unit_price": "1", "tax_rate": "-1"}], {"lines.0.tax_rate": ["Must be at least 0."]}),
        ([{"description": "x", "unit_price": "1", "tax_rate": "101"}], {"lines.0.tax_rate": ["Must be at most 100."]}),
        ([{"unit_price": "1"}], {"lines.0.description": ["This field is required."]}),
        ([{"description": "x", "unit_price": "1", "quantity": "1e308"}], {"lines.0.quantity": ["Too large."]}),
        ([{"description": "x", "unit_price": "9e20"}], {"lines.0.unit_price": ["Too large."]}),
        ([{"description": "x"}], {"lines.0.unit_price": ["This field is required."]}),
        ([{"description": "x", "unit_price": "1", "colour": "red"}], {"lines.0.colour": ["Unknown field."]}),
        (
            [
                {"description": "ok", "unit_price": "1"},
                {"description": "ok", "unit_price": "1"},
                {"description": "x", "unit_price": "1", "quantity": "abc"},
            ],
            {"lines.2.quantity": ["Enter a number."]},
        ),
    ],
)
def test_bad_lines_are_refused_with_field_errors_and_nothing_is_saved(actor, contact, lines, errors):
    with pytest.raises(ValidationError) as exc:
        create(actor, contact=contact.pk, lines=lines)
    assert exc.value.message_dict == errors
    _nothing_saved(actor.organization)


def test_a_product_without_a_price_in_the_quote_currency_is_refused(actor, contact, widget):
    with pytest.raises(ValidationError) as exc:
        create(actor, contact=contact.pk, currency="USD", lines=[{"product": widget.pk}])
    assert exc.value.message_dict == {"lines.0.product": ["Widget has no price in USD."]}
    _nothing_saved(actor.organization)


def test_another_organisations_product_is_no_such_product(actor, other_actor, contact):
    theirs = make_product(other_actor.organization, "Forastero")
    with pytest.raises(ValidationError) as exc:
        create(actor, contact=contact.pk, lines=[{"product": theirs.pk}])
    assert exc.value.message_dict == {"lines.0.product": ["No such product."]}
    _nothing_saved(actor.organization)


def test_an_unknown_currency_and_a_price_list_of_another_currency_are_refused(actor, contact, widget):
    with pytest.raises(ValidationError) as exc:
        create(actor, contact=contact.pk, currency="EURO", lines=[{"description": "x", "unit_price": "1"}])
    assert exc.value.message_dict == {"currency": ["Enter an ISO 4217 currency code, e.g. EUR."]}
    eur_list = PriceList.dangerously_unscoped.get(organization=actor.organization, currency="EUR")
    with pytest.raises(ValidationError) as exc:
        create(actor, contact=contact.pk, currency="USD", price_list=eur_list.pk, lines=[{"product": widget.pk}])
    assert exc.value.message_dict == {
        "price_list": ["Mismatched currencies: this price list is in EUR and the document in USD."]
    }
    _nothing_saved(actor.organization)


def test_a_quote_needs_a_customer_that_the_organisation_has(actor, other_actor):
    with scope(organization=other_actor.organization):
        theirs = contact_create(actor=other_actor, data={"first_name": "Forastero"})
    with pytest.raises(ValidationError) as exc:
        create(actor, lines=[{"description": "x", "unit_price": "1"}])
    assert exc.value.message_dict == {"contact": ["Choose a contact or a company."]}
    with pytest.raises(ValidationError) as exc:
        create(actor, contact=theirs.pk, lines=[{"description": "x", "unit_price": "1"}])
    assert exc.value.message_dict == {"contact": ["No such contact."]}
    _nothing_saved(actor.organization)


def test_a_company_alone_is_a_customer(actor):
    with scope(organization=actor.organization):
        company = company_create(actor=actor, data={"name": "Acme"})
    quote = create(actor, company=company.pk, lines=[{"description": "x", "unit_price": "1"}])
    assert (quote.company_id, quote.contact_id) == (company.pk, None)
    assert Event.dangerously_unscoped.get(type="quote.created").company_id == company.pk


def test_a_refused_quote_after_a_good_one_does_not_consume_a_number(actor, contact):
    create(actor, contact=contact.pk, lines=[{"description": "x", "unit_price": "1"}])
    with pytest.raises(ValidationError):
        create(actor, contact=contact.pk, lines=[{"description": "x", "unit_price": "-1"}])
    third = create(actor, contact=contact.pk, lines=[{"description": "x", "unit_price": "1"}])
    assert third.number == "Q-00002"
    assert DocumentCounter.dangerously_unscoped.get(organization=actor.organization, kind="quote").value == 2


def test_editing_replaces_the_lines_and_recomputes_the_totals(actor, contact, widget):
    quote = create(actor, contact=contact.pk, lines=[{"product": widget.pk}])
    with scope(organization=actor.organization):
        quote_update(
            actor=actor,
            quote=quote,
            data={"notes": "Revised", "lines": [{"description": "Support", "unit_price": "10.00", "quantity": "3"}]},
        )
    quote.refresh_from_db()
    assert (quote.notes, quote.subtotal, quote.tax_total, quote.total) == (
        "Revised",
        Decimal("30.00"),
        Decimal("0.00"),
        Decimal("30.00"),
    )
    assert list(QuoteLine.dangerously_unscoped.filter(quote=quote).values_list("description", flat=True)) == ["Support"]


def test_a_bad_edit_changes_nothing(actor, contact, widget):
    quote = create(actor, contact=contact.pk, lines=[{"product": widget.pk}])
    with scope(organization=actor.organization), pytest.raises(ValidationError) as exc:
        quote_update(actor=actor, quote=quote, data={"notes": "x", "lines": [{"product": widget.pk, "quantity": "-1"}]})
    assert exc.value.message_dict == {"lines.0.quantity": ["Enter a quantity greater than zero."]}
    quote.refresh_from_db()
    assert (quote.notes, quote.total) == ("", Decimal("121.00"))
    assert QuoteLine.dangerously_unscoped.filter(quote=quote).count() == 1


def test_changing_the_currency_needs_the_lines_again(actor, contact):
    quote = create(actor, contact=contact.pk, lines=[{"description": "x", "unit_price": "1"}])
    with scope(organization=actor.organization), pytest.raises(ValidationError) as exc:
        quote_update(actor=actor, quote=quote, data={"currency": "USD"})
    assert exc.value.message_dict == {"currency": ["Give the lines again when you change the currency."]}
    quote.refresh_from_db()
    assert quote.currency == "EUR"


def test_only_a_draft_can_be_edited(actor, contact):
    quote = create(actor, contact=contact.pk, lines=[{"description": "x", "unit_price": "1"}])
    with scope(organization=actor.organization):
        quote_accept(actor=actor, quote=quote)
        with pytest.raises(ValidationError) as exc:
            quote_update(actor=actor, quote=quote, data={"notes": "late change"})
    assert exc.value.message_dict == {"status": ["Only draft quotes can be changed; this one is accepted."]}
    quote.refresh_from_db()
    assert quote.notes == ""


def test_send_then_accept_places_one_order_with_the_same_lines_and_wins_the_deal(actor, contact, widget):
    pipeline = make_pipeline(actor.organization)
    deal = make_deal(actor, title="Spring order", contact=contact.pk, amount="100")
    assert deal.pipeline_id == pipeline.pk
    quote = create(
        actor,
        deal=deal.pk,
        lines=[{"product": widget.pk, "quantity": "3"}, {"description": "Setup", "unit_price": "9.99"}],
    )
    assert quote.contact_id == contact.pk  # from the deal
    with scope(organization=actor.organization):
        quote_send(actor=actor, quote=quote)
        order = quote_accept(actor=actor, quote=quote)
        with pytest.raises(DocumentConflict) as exc:
            quote_accept(actor=actor, quote=quote)
    assert exc.value.message == "This quote has already been accepted."
    quote.refresh_from_db()
    order.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    assert quote.accepted_at is not None
    assert Order.dangerously_unscoped.filter(organization=actor.organization).count() == 1
    assert (order.number, order.channel, order.quote_id, order.contact_id, order.deal_id) == (
        "O-00001",
        OrderChannel.QUOTE,
        quote.pk,
        contact.pk,
        deal.pk,
    )
    assert (order.subtotal, order.discount_total, order.tax_total, order.total) == (
        quote.subtotal,
        quote.discount_total,
        quote.tax_total,
        quote.total,
    )
    assert order.total == Decimal("372.99")  # 300 + 63 tax + 9.99
    assert list(
        OrderLine.dangerously_unscoped.filter(order=order).order_by("position").values_list("description", "quantity")
    ) == [("Widget", Decimal("3.000")), ("Setup", Decimal("1.000"))]
    deal.refresh_from_db()
    assert (deal.status, deal.stage.name) == (DealStatus.WON, "Won")
    types = list(
        Event.dangerously_unscoped.filter(contact=contact, type__regex=r"^(quote|order)\.")
        .order_by("id")
        .values_list("type", flat=True)
    )
    assert types == ["quote.created", "quote.sent", "quote.accepted", "order.placed"]
    placed = Event.dangerously_unscoped.get(type="order.placed")
    assert placed.properties == {
        "order_id": order.pk,
        "number": "O-00001",
        "total": "372.99",
        "currency": "EUR",
        "channel": "quote",
        "lines": 2,
    }
    contact = Contact.dangerously_unscoped.get(pk=contact.pk)
    assert contact.lifecycle_stage == LifecycleStage.CUSTOMER


def test_a_declined_quote_cannot_be_accepted_and_only_drafts_are_sent_or_deleted(actor, contact):
    quote = create(actor, contact=contact.pk, lines=[{"description": "x", "unit_price": "1"}])
    with scope(organization=actor.organization):
        quote_decline(actor=actor, quote=quote)
        with pytest.raises(DocumentConflict) as accept:
            quote_accept(actor=actor, quote=quote)
        with pytest.raises(DocumentConflict) as send:
            quote_send(actor=actor, quote=quote)
        with pytest.raises(DocumentConflict) as delete:
            quote_delete(actor=actor, quote=quote)
    assert accept.value.message == "This quote was declined."
    assert send.value.message == "Only a draft can be sent; this quote is declined."
    assert delete.value.message == "Only a draft quote can be deleted."
    assert Order.dangerously_unscoped.count() == 0
    assert Quote.dangerously_unscoped.filter(pk=quote.pk).exists()


def test_a_draft_can_be_deleted(actor, contact):
    quote = create(actor, contact=contact.pk, lines=[{"description": "x", "unit_price": "1"}])
    with scope(organization=actor.organization):
        quote_delete(actor=actor, quote=quote)
    assert Quote.dangerously_unscoped.count() == 0
    assert QuoteLine.dangerously_unscoped.count() == 0
