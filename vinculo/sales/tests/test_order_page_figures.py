"""An order's page shows the shop's figures: its lines with their amounts, the adjustments, the
addresses, the link to the order in the shop, a warning when the shop's figures do not add up;
and its refunds, with a form to record one (bad input next to the field, nothing saved)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope

from vinculo.contacts.services import contact_create
from vinculo.contacts.testing import make_contact
from vinculo.sales.models import Order, Refund
from vinculo.sales.services.documents import order_create

pytestmark = pytest.mark.django_db


def url(org, name, *args):
    return reverse(f"sales:{name}", args=[org.slug, *args])


@pytest.fixture
def order(actor):
    contact = make_contact(actor, first_name="Lucía", last_name="Pereira")
    with scope(organization=actor.organization):
        placed, _created = order_create(
            actor=actor,
            channel="api",
            data={
                "contact": contact.pk,
                "currency": "USD",
                "external_id": "6100200300400",
                "external_number": "#2041",
                "external_url": "https://lumen-opticas.myshopify.com/admin/orders/6100200300400",
                "lines": [{"description": "Aviator sunglasses", "sku": "LUM-AV-01", "unit_price": "89.99"}],
                "adjustments": [
                    {"kind": "shipping", "description": "Standard", "amount": "10.00"},
                    {"kind": "discount", "code": "SPRING", "amount": "-5.00"},
                ],
                "total": "100.00",
                "shipping_address": {"name": "Lucía Pereira", "street": "Praza do Obradoiro 1", "country": "ES"},
            },
        )
    return placed


def test_the_page_shows_the_figures_the_shop_link_the_address_and_the_warning(client_in, org, order):
    page = client_in.get(url(org, "order_detail", order.pk)).content.decode()
    assert (
        "The shop&#x27;s figures do not add up: its total is 100.00 USD, but the lines and adjustments add up to "
        "94.99 USD. The shop&#x27;s total is kept."
    ) in page
    assert (
        '<a href="https://lumen-opticas.myshopify.com/admin/orders/6100200300400" target="_blank" '
        'rel="noopener noreferrer" id="order-shop-link">'
    ) in page
    assert "#2041" in page
    assert "Praza do Obradoiro 1" in page
    assert "Shipping: Standard" in page
    assert "<code>SPRING</code>" in page
    assert (
        '<dd class="col-5 col-sm-3 text-end text-nowrap fw-semibold mb-1" id="document-total">100.00 USD</dd>' in page
    )


def test_a_refund_recorded_from_the_page(client_in, org, order):
    response = client_in.post(url(org, "order_refund", order.pk), {"amount": "25.00", "reason": "Scratched"})
    assert response["Location"] == url(org, "order_detail", order.pk)
    order.refresh_from_db()
    assert (order.status, str(order.refunded_total)) == ("partially_refunded", "25.00")
    page = client_in.get(url(org, "order_detail", order.pk)).content.decode()
    assert '<dd class="col-5 col-sm-3 text-end text-nowrap mb-1" id="order-refunded">−25.00 USD</dd>' in page
    assert '<dd class="col-5 col-sm-3 text-end text-nowrap fw-semibold mb-0" id="order-net">75.00 USD</dd>' in page
    assert "Scratched" in page


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Give the amount refunded, or the lines and shipping it was for."),
        ("100.01", "At most 100.00 USD can still be refunded on this order."),
        ("abc", "Enter a number."),
    ],
)
def test_a_bad_refund_comes_back_next_to_the_field_and_saves_nothing(client_in, org, order, amount, message):
    response = client_in.post(url(org, "order_refund", order.pk), {"amount": amount, "reason": "x"})
    assert response.status_code == 422
    page = response.content.decode()
    assert f'<div class="invalid-feedback">{message}</div>' in page
    assert f'value="{amount}"' in page
    assert not Refund.dangerously_unscoped.exists()


def test_another_organisations_order_page_and_refund_are_404(client_in, org, other_actor):
    with scope(organization=other_actor.organization):
        theirs = contact_create(actor=other_actor, data={"first_name": "Forastero"})
        their_order, _created = order_create(
            actor=other_actor, data={"contact": theirs.pk, "lines": [{"description": "x", "unit_price": "10"}]}
        )
    assert client_in.get(url(org, "order_detail", their_order.pk)).status_code == 404
    assert client_in.post(url(org, "order_refund", their_order.pk), {"amount": "1"}).status_code == 404
    assert Order.dangerously_unscoped.get(pk=their_order.pk).refunded_total == 0


def test_a_read_only_member_cannot_refund(org, order, read_only):
    from vinculo.accounts.testing import login_client

    client = login_client(read_only)
    response = client.post(url(org, "order_refund", order.pk), {"amount": "1"})
    assert response.status_code == 403
    assert not Refund.dangerously_unscoped.exists()
