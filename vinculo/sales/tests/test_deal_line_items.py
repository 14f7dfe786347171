"""A deal's products (line items): priced in the deal's currency, the deal's amount set to their net
total through deal_update (audited, `deal.amount_changed`), the API and the line editor page."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.testing import login_client
from vinculo.core.models import AuditEntry, Event
from vinculo.core.testing import count_queries
from vinculo.sales.models import Deal, DealLineItem
from vinculo.sales.services.deals import deal_set_line_items
from vinculo.sales.testing import make_deal, make_pipeline, make_product


@pytest.fixture
def widget(org):
    return make_product(org, "Widget", price="10.00", tax_rate=Decimal("21"))


@pytest.fixture
def gadget(org):
    return make_product(org, "Gadget", price="250.00", tax_rate=Decimal("10"))


def set_lines(actor, deal, lines):
    with scope(organization=actor.organization):
        return deal_set_line_items(actor=actor, deal=deal, lines=lines)


def stored(deal) -> list[tuple[Any, ...]]:
    return list(
        DealLineItem.dangerously_unscoped.filter(deal=deal)
        .order_by("position")
        .values_list("product_id", "description", "quantity", "unit_price", "discount_percent", "tax_rate", "position")
    )


def state(deal) -> tuple[Any, ...]:
    """What a refused change must leave alone."""
    return (
        stored(deal),
        Deal.dangerously_unscoped.get(pk=deal.pk).amount,
        Event.dangerously_unscoped.count(),
        AuditEntry.dangerously_unscoped.count(),
    )


# --- service --------------------------------------------------------------------------------------


def test_lines_are_priced_from_the_default_list_and_the_amount_becomes_their_net(actor, deal, widget, gadget):
    totals = set_lines(
        actor,
        deal,
        [
            {"product": widget.pk, "quantity": "3"},
            {"product": gadget.pk, "discount_percent": "10"},
            {"description": "Installation", "unit_price": "99.99", "tax_rate": "0"},
        ],
    )

    assert stored(deal) == [
        (widget.pk, "Widget", Decimal("3.000"), Decimal("10.00"), Decimal("0.00"), Decimal("21.00"), 0),
        (gadget.pk, "Gadget", Decimal("1.000"), Decimal("250.00"), Decimal("10.00"), Decimal("10.00"), 1),
        (None, "Installation", Decimal("1.000"), Decimal("99.99"), Decimal("0.00"), Decimal("0.00"), 2),
    ]
    # 30 + 250 + 99.99 = 379.99; discount 25; net 354.99; tax 6.30 + 22.50
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.total) == (
        Decimal("379.99"),
        Decimal("25.00"),
        Decimal("28.80"),
        Decimal("383.79"),
    )
    deal.refresh_from_db()
    assert deal.amount == Decimal("354.99")
    event = Event.dangerously_unscoped.get(type="deal.amount_changed")
    assert event.properties == {
        "deal_id": deal.pk,
        "title": "Renewal",
        "from": "500.00",
        "to": "354.99",
        "currency": "EUR",
    }
    audit = AuditEntry.dangerously_unscoped.get(action="update", object_id=deal.pk)
    assert audit.changes == {"amount": ["500.00", "354.99"]}
    assert audit.actor_id == actor.user_id


def test_the_net_is_rounded_once_half_even(actor, deal, widget):
    # two lines of 10.00 less 33.33 % = 6.667 each: 13.334 → 13.33 (13.34 if each line were rounded)
    totals = set_lines(
        actor,
        deal,
        [{"product": widget.pk, "discount_percent": "33.33"}, {"product": widget.pk, "discount_percent": "33.33"}],
    )
    deal.refresh_from_db()
    assert deal.amount == Decimal("13.33")
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.total) == (
        Decimal("20.00"),
        Decimal("6.67"),
        Decimal("2.80"),
        Decimal("16.13"),
    )

    set_lines(actor, deal, [{"description": "Sample", "quantity": "0.125", "unit_price": "1.00"}])
    deal.refresh_from_db()
    assert deal.amount == Decimal("0.12")  # 0.125 → 0.12 (half even), not 0.13


def test_saving_lines_again_replaces_them_and_an_unchanged_net_emits_nothing(actor, deal, widget, gadget):
    set_lines(actor, deal, [{"product": widget.pk}, {"product": gadget.pk}])
    set_lines(actor, deal, [{"product": gadget.pk, "quantity": "1"}, {"product": widget.pk}])

    assert [row[0] for row in stored(deal)] == [gadget.pk, widget.pk]
    assert DealLineItem.dangerously_unscoped.count() == 2
    assert [e.properties["to"] for e in Event.dangerously_unscoped.filter(type="deal.amount_changed")] == ["260.00"]
    assert AuditEntry.dangerously_unscoped.filter(action="update", object_id=deal.pk).count() == 1


def test_an_empty_list_removes_the_lines_and_keeps_the_amount(actor, deal, widget):
    set_lines(actor, deal, [{"product": widget.pk, "quantity": "2"}])
    events, audits = Event.dangerously_unscoped.count(), AuditEntry.dangerously_unscoped.count()

    totals = set_lines(actor, deal, [])

    assert stored(deal) == []
    assert totals.total == Decimal("0.00")
    deal.refresh_from_db()
    assert deal.amount == Decimal("20.00")
    assert (Event.dangerously_unscoped.count(), AuditEntry.dangerously_unscoped.count()) == (events, audits)


@pytest.mark.parametrize(
    ("line", "errors"),
    [
        ({"quantity": "-1"}, {"lines.0.quantity": ["Enter a quantity greater than zero."]}),
        ({"quantity": "0"}, {"lines.0.quantity": ["Enter a quantity greater than zero."]}),
        ({"quantity": "abc"}, {"lines.0.quantity": ["Enter a number."]}),
        ({"discount_percent": "100.01"}, {"lines.0.discount_percent": ["Must be at most 100."]}),
        ({"discount_percent": "-5"}, {"lines.0.discount_percent": ["Must be at least 0."]}),
        ({"unit_price": "1.234"}, {"lines.0.unit_price": ["At most two decimal places."]}),
        ({"colour": "red"}, {"lines.0.colour": ["Unknown field."]}),
    ],
)
def test_bad_lines_are_refused_and_change_nothing(actor, deal, widget, line, errors):
    set_lines(actor, deal, [{"product": widget.pk, "quantity": "4"}])
    before = state(deal)

    with pytest.raises(ValidationError) as exc:
        set_lines(actor, deal, [{"product": widget.pk, **line}])

    assert exc.value.message_dict == errors
    assert state(deal) == before


def test_a_product_without_a_price_in_the_deals_currency_is_refused(actor, pipeline, widget, org):
    usd_deal = make_deal(actor, title="Export", amount="70.00", currency="USD")
    make_product(org, "Cable", price="5.00", currency="USD")  # a USD default list, without the widget
    before = state(usd_deal)

    with pytest.raises(ValidationError) as exc:
        set_lines(actor, usd_deal, [{"description": "Setup", "unit_price": "5"}, {"product": widget.pk}])

    assert exc.value.message_dict == {"lines.1.product": ["Widget has no price in USD."]}
    assert state(usd_deal) == before


def test_another_organisations_product_is_no_such_product(actor, deal, other_org):
    foreign = make_product(other_org, "Foreign widget", price="1.00")
    before = state(deal)

    with pytest.raises(ValidationError) as exc:
        set_lines(actor, deal, [{"product": foreign.pk}])

    assert exc.value.message_dict == {"lines.0.product": ["No such product."]}
    assert state(deal) == before


def test_lines_adding_up_beyond_the_largest_amount_are_refused(actor, deal):
    before = state(deal)
    with pytest.raises(ValidationError) as exc:
        set_lines(actor, deal, [{"description": "Fleet", "quantity": "999999999", "unit_price": "999999"}])
    assert exc.value.message_dict == {"lines": ["These lines add up to more than the largest amount a deal can hold."]}
    assert state(deal) == before


def test_not_a_list_is_refused(actor, deal):
    with pytest.raises(ValidationError) as exc:
        set_lines(actor, deal, "Widget")
    assert exc.value.message_dict == {"lines": ["Give a list."]}


def test_a_read_only_member_cannot_set_lines(member, deal, widget):
    viewer = member(role="read_only")
    before = state(deal)
    with pytest.raises(PermissionDenied):
        set_lines(viewer, deal, [{"product": widget.pk}])
    assert state(deal) == before


# --- API ------------------------------------------------------------------------------------------


def put(client, deal_id, body):
    return client.put(f"/api/v1/deals/{deal_id}/line-items", data=json.dumps(body), content_type="application/json")


def test_api_put_then_get_the_lines_totals_and_amount(api_client, deal, widget):
    response = put(
        api_client,
        deal.pk,
        {
            "lines": [
                {"product": widget.pk, "quantity": "2.5", "discount_percent": 10},
                {"description": "Setup", "unit_price": "15"},
            ]
        },
    )

    assert response.status_code == 200, response.content
    lines = DealLineItem.dangerously_unscoped.filter(deal=deal).order_by("position")
    expected = {
        "deal_id": deal.pk,
        "currency": "EUR",
        "lines": [
            {
                "id": lines[0].pk,
                "product": {"id": widget.pk, "name": "Widget"},
                "description": "Widget",
                "quantity": "2.500",
                "unit_price": "10.00",
                "discount_percent": "10.00",
                "tax_rate": "21.00",
            },
            {
                "id": lines[1].pk,
                "product": None,
                "description": "Setup",
                "quantity": "1.000",
                "unit_price": "15.00",
                "discount_percent": "0.00",
                "tax_rate": "0.00",
            },
        ],
        "subtotal": "40.00",
        "discount_total": "2.50",
        "net_total": "37.50",
        "tax_total": "4.72",  # 21 % of 22.50 = 4.725 → 4.72 (half even)
        "total": "42.22",  # 37.50 + 4.725 = 42.225 → 42.22
        "amount": "37.50",
    }
    assert response.json() == expected
    got = api_client.get(f"/api/v1/deals/{deal.pk}/line-items")
    assert got.status_code == 200
    assert got.json() == expected


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"lines": [{"quantity": "abc", "description": "x", "unit_price": "1"}]},
            [("lines.0.quantity", "Enter a number.")],
        ),
        (
            {"lines": [{"quantity": "-2", "description": "x", "unit_price": "1"}]},
            [("lines.0.quantity", "Enter a quantity greater than zero.")],
        ),
        ({"lines": [{"description": "x", "unit_price": "1", "colour": "red"}]}, [("lines.0.colour", "Unknown field.")]),
        ({"lines": "Widget"}, [("lines", "Give a list.")]),
        ({}, [("lines", "This field is required.")]),
    ],
)
def test_api_refuses_bad_lines_with_field_names(api_client, deal, body, errors):
    before = state(deal)
    response = put(api_client, deal.pk, body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["detail"] == "Some fields are not valid."
    assert [(e["field"], e["message"]) for e in payload["errors"]] == errors
    assert state(deal) == before


def test_api_service_error_shape(api_client, deal):
    response = put(api_client, deal.pk, {"lines": [{"product": 987654321}]})
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Some fields are not valid.",
        "errors": [{"field": "lines.0.product", "message": "No such product."}],
    }


def test_api_another_organisations_deal_is_404(api_client, other_actor, widget):
    make_pipeline(other_actor.organization)
    foreign = make_deal(other_actor, title="Foreign", amount="5.00")
    before = state(foreign)
    assert api_client.get(f"/api/v1/deals/{foreign.pk}/line-items").status_code == 404
    response = put(api_client, foreign.pk, {"lines": [{"product": widget.pk}]})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": []}
    assert state(foreign) == before


def test_api_read_only_token_cannot_set_lines(member, deal, widget):
    client = login_client(member(role="read_only"))  # the API also answers a signed-in session
    before = state(deal)
    assert client.get(f"/api/v1/deals/{deal.pk}/line-items").status_code == 200
    assert put(client, deal.pk, {"lines": [{"product": widget.pk}]}).status_code == 403
    assert state(deal) == before


def test_api_get_query_count_does_not_grow_with_the_lines(api_client, actor, deal, widget, gadget):
    set_lines(actor, deal, [{"product": widget.pk}])
    api_client.get(f"/api/v1/deals/{deal.pk}/line-items")  # the token's first use is recorded once
    with count_queries() as one:
        assert api_client.get(f"/api/v1/deals/{deal.pk}/line-items").status_code == 200
    set_lines(
        actor, deal, [{"product": widget.pk}, {"product": gadget.pk}] * 10 + [{"description": "x", "unit_price": "1"}]
    )
    with count_queries() as many:
        response = api_client.get(f"/api/v1/deals/{deal.pk}/line-items")
    assert len(response.json()["lines"]) == 21
    assert len(many) == len(one)


# --- pages ----------------------------------------------------------------------------------------


def page(org, name, *args):
    return reverse(f"sales:{name}", args=[org.slug, *args])


def form(lines):
    return {
        f"line_{key}": [line.get(key, "") for line in lines]
        for key in ("product", "description", "quantity", "unit_price", "discount_percent", "tax_rate")
    }


def test_the_deal_page_shows_the_edit_products_action_and_the_editor_shows_the_lines(
    client_in, org, actor, deal, widget
):
    set_lines(actor, deal, [{"product": widget.pk, "quantity": "3", "discount_percent": "5"}])
    editor_url = page(org, "deal_line_items", deal.pk)

    detail = client_in.get(page(org, "deal_detail", deal.pk)).content.decode()
    assert f'href="{editor_url}"' in detail
    assert "Edit products" in detail

    response = client_in.get(editor_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{widget.pk}" selected>Widget</option>' in html
    assert 'name="line_quantity" value="3"' in html
    assert 'name="line_discount_percent" value="5.00"' in html
    assert f'hx-get="{page(org, "quote_line_row")}"' in html  # "Add line" appends the quote editor's row
    assert f'hx-post="{page(org, "deal_line_items_preview", deal.pk)}"' in html


def test_posting_the_editor_saves_and_the_deal_page_shows_lines_and_amount(client_in, org, deal, widget):
    response = client_in.post(
        page(org, "deal_line_items", deal.pk),
        form([{"product": str(widget.pk), "quantity": "4"}, {}, {"description": "Training", "unit_price": "60"}]),
    )

    assert response.status_code == 302
    assert response["Location"] == page(org, "deal_detail", deal.pk)
    assert [row[1] for row in stored(deal)] == ["Widget", "Training"]  # the empty row is dropped
    deal.refresh_from_db()
    assert deal.amount == Decimal("100.00")
    html = client_in.get(response["Location"]).content.decode()
    assert '<dd class="col-7 fw-semibold" id="deal-amount">100.00 EUR</dd>' in html
    assert "<td>Training</td>" in html
    assert '<dd class="col-5 text-end text-nowrap fw-semibold mb-1" id="deal-line-net">100.00 EUR</dd>' in html


def test_posting_bad_lines_answers_422_with_errors_next_to_them_and_keeps_the_input(
    client_in, org, actor, deal, widget
):
    set_lines(actor, deal, [{"product": widget.pk}])
    before = state(deal)

    response = client_in.post(
        page(org, "deal_line_items", deal.pk),
        form(
            [
                {"product": str(widget.pk), "quantity": "-3"},
                {"description": "Extra", "unit_price": "5", "discount_percent": "150"},
            ]
        ),
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "Please correct the errors below." in html
    assert 'name="line_quantity" value="-3" placeholder="1" class="form-control form-control-sm is-invalid"' in html
    assert '<div class="invalid-feedback d-block">Enter a quantity greater than zero.</div>' in html
    assert 'value="Extra"' in html
    assert '<div class="invalid-feedback d-block">Must be at most 100.</div>' in html
    assert state(deal) == before


def test_the_preview_shows_the_net_that_would_become_the_amount(client_in, org, deal, widget):
    response = client_in.post(
        page(org, "deal_line_items_preview", deal.pk), form([{"product": str(widget.pk), "quantity": "2"}])
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert '<dd class="col-6 text-end fw-semibold mb-1" data-total="net">20.00 EUR</dd>' in html
    assert 'data-total="total">24.20 EUR</dd>' in html
    assert 'data-total="amount">500.00 EUR</dd>' in html
    assert DealLineItem.dangerously_unscoped.count() == 0


def test_a_read_only_member_does_not_see_the_action_and_gets_403(member, org, deal, widget):
    client = login_client(member(role="read_only"))
    before = state(deal)

    detail = client.get(page(org, "deal_detail", deal.pk))
    assert detail.status_code == 200
    assert page(org, "deal_line_items", deal.pk) not in detail.content.decode()
    assert client.get(page(org, "deal_line_items", deal.pk)).status_code == 403
    response = client.post(page(org, "deal_line_items", deal.pk), form([{"product": str(widget.pk)}]))
    assert response.status_code == 403
    assert state(deal) == before


def test_another_organisations_deal_is_404_on_the_pages(client_in, org, other_actor):
    make_pipeline(other_actor.organization)
    foreign = make_deal(other_actor, title="Foreign", amount="5.00")
    assert client_in.get(page(org, "deal_line_items", foreign.pk)).status_code == 404
    assert (
        client_in.post(
            page(org, "deal_line_items", foreign.pk), form([{"description": "x", "unit_price": "1"}])
        ).status_code
        == 404
    )
    assert client_in.post(page(org, "deal_line_items_preview", foreign.pk), form([])).status_code == 404
    assert stored(foreign) == []
