"""Order pages: a rep enters an order (the contact becomes a customer), bad input comes back next to
the lines with nothing saved, status buttons follow the allowed transitions; roles and visibility."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.testing import login_client
from vinculo.contacts.models import LifecycleStage
from vinculo.contacts.services import contact_create
from vinculo.contacts.testing import make_contact
from vinculo.core.models import Event
from vinculo.sales.models import DealStatus, DocumentCounter, Order, OrderChannel, OrderStatus, Quote
from vinculo.sales.services.documents import order_create, quote_accept, quote_create
from vinculo.sales.testing import make_deal, make_pipeline, make_product


@pytest.fixture
def contact(actor):
    return make_contact(actor, first_name="Marta", last_name="Ruiz")


def url(org, name, *args):
    return reverse(f"sales:{name}", args=[org.slug, *args])


def lines(*rows):
    data: dict[str, list[str]] = {}
    for key in ("product", "description", "quantity", "unit_price", "discount_percent", "tax_rate"):
        data[f"line_{key}"] = [row.get(key, "") for row in rows]
    return data


def test_a_rep_enters_an_order_and_the_contact_becomes_a_customer(client_in, actor, org, contact):
    coffee = make_product(org, "Café", price="12.50", tax_rate=Decimal("10"))
    page = client_in.get(url(org, "order_create") + f"?contact={contact.pk}").content.decode()
    assert f'<option value="{contact.pk}" selected>Marta Ruiz</option>' in page
    assert 'name="valid_until"' not in page
    response = client_in.post(
        url(org, "order_create"),
        {"contact": contact.pk, "currency": "EUR", **lines({"product": str(coffee.pk), "quantity": "4"})},
    )
    order = Order.dangerously_unscoped.get(organization=org)
    assert response["Location"] == url(org, "order_detail", order.pk)
    assert (order.number, order.channel, order.total, order.owner_id) == (
        "O-00001",
        OrderChannel.SALES_REP,
        Decimal("55.00"),
        actor.user_id,
    )
    contact.refresh_from_db()
    assert contact.lifecycle_stage == LifecycleStage.CUSTOMER
    detail = client_in.get(response["Location"]).content.decode()
    assert "Order O-00001" in detail
    assert "<td>Café</td>" in detail


def test_a_bad_order_form_keeps_the_input_and_saves_nothing(client_in, org, contact):
    response = client_in.post(
        url(org, "order_create"),
        {"contact": contact.pk, "currency": "EUR", **lines({"description": "Caja", "unit_price": "-4"})},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert '<div class="invalid-feedback d-block">Cannot be negative.</div>' in html
    assert 'value="Caja"' in html
    assert Order.dangerously_unscoped.count() == 0
    assert DocumentCounter.dangerously_unscoped.count() == 0
    contact.refresh_from_db()
    assert contact.lifecycle_stage == LifecycleStage.LEAD


def test_status_buttons_follow_the_transitions(client_in, actor, org, contact):
    with scope(organization=org):
        order, _created = order_create(
            actor=actor, data={"contact": contact.pk, "lines": [{"description": "x", "unit_price": "3"}]}
        )
    page = client_in.get(url(org, "order_detail", order.pk)).content.decode()
    assert [value for value in ("paid", "fulfilled", "cancelled", "refunded") if f'value="{value}"' in page] == [
        "paid",
        "fulfilled",
        "cancelled",
    ]
    response = client_in.post(url(org, "order_status", order.pk), {"status": "cancelled"}, follow=True)
    assert "Order O-00001 is now cancelled." in response.content.decode()
    response = client_in.post(url(org, "order_status", order.pk), {"status": "paid"}, follow=True)
    assert "An order that is cancelled cannot become paid." in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_accepting_a_quote_whose_pipeline_has_no_won_stage_leaves_the_deal_open(actor, org, contact):
    make_pipeline(org, "No win", stages=[("Talk", 10, "open"), ("Lost", 0, "lost")])
    deal = make_deal(actor, title="Open-ended", contact=contact.pk)
    with scope(organization=org):
        quote = quote_create(actor=actor, data={"deal": deal.pk, "lines": [{"description": "x", "unit_price": "1"}]})
        quote_accept(actor=actor, quote=quote)
    deal.refresh_from_db()
    assert (deal.status, deal.stage.name) == (DealStatus.OPEN, "Talk")
    assert Order.dangerously_unscoped.filter(deal=deal).count() == 1


def test_a_sales_rep_sees_only_their_own_and_their_teams_documents(actor, org, member, contact):
    rep = member(role="sales")
    with scope(organization=org):
        quote_create(
            actor=actor, data={"contact": contact.pk, "lines": [{"description": "owner's", "unit_price": "1"}]}
        )
        unowned = contact_create(actor=rep, data={"first_name": "Libre", "owner": None})
        mine = quote_create(
            actor=rep, data={"contact": unowned.pk, "lines": [{"description": "rep's", "unit_price": "1"}]}
        )
    client = login_client(rep)
    html = client.get(url(org, "quote_list")).content.decode()
    assert "Q-00002" in html
    assert "Q-00001" not in html
    owners = Quote.dangerously_unscoped.get(number="Q-00001")
    assert client.get(url(org, "quote_detail", owners.pk)).status_code == 404
    assert client.get(url(org, "quote_detail", mine.pk)).status_code == 200


def test_a_read_only_member_cannot_write_documents(org, member, contact):
    reader = member(role="read_only")
    api = login_client(reader)  # the API takes the session too
    body = {"contact": contact.pk, "lines": [{"description": "x", "unit_price": "1"}]}
    response = api.post("/api/v1/orders", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 403
    page = login_client(reader).post(
        url(org, "quote_create"), {"contact": contact.pk, **lines({"description": "x", "unit_price": "1"})}
    )
    assert page.status_code == 403
    assert Order.dangerously_unscoped.count() == 0
    assert Quote.dangerously_unscoped.count() == 0
    assert not Event.dangerously_unscoped.filter(type__in=["order.placed", "quote.created"]).exists()
