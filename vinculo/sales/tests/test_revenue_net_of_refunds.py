"""Every revenue figure counts net of refunds: the forecast's won, the effectiveness report's
revenue and average deal size, a customer's value on their page. Exact figures on the reports'
own data sets, with a 200.00 EUR refund on the order of Ana's 1,000.00 EUR won deal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scope

from vinculo.contacts.testing import make_contact
from vinculo.sales.models import Deal, OrderStatus
from vinculo.sales.selectors.revenue import CustomerValue, customer_value
from vinculo.sales.services.documents import order_create, order_mark_deleted, order_set_status
from vinculo.sales.services.refunds import refund_record
from vinculo.sales.tests import test_effectiveness as effectiveness_report
from vinculo.sales.tests import test_forecast as forecast_report

pytestmark = pytest.mark.django_db
D = Decimal


def _refund_the_won_deal(actor, amount: str, *, currency: str = "EUR") -> None:
    deal = Deal.dangerously_unscoped.get(amount=D("1000.00"), currency="EUR", status="won")
    contact = make_contact(actor, first_name="Cliente")
    with scope(organization=actor.organization):
        order, _created = order_create(
            actor=actor,
            data={
                "deal": deal.pk,
                "contact": contact.pk,
                "currency": currency,
                "lines": [{"description": "Licences", "unit_price": "1000.00"}],
            },
        )
        refund_record(actor=actor, order=order, data={"amount": amount})


@pytest.fixture
def forecast_data(actor, org, member):
    return forecast_report.data.__wrapped__(actor, org, member)


@pytest.fixture
def effectiveness_data(actor, org, member):
    return effectiveness_report.data.__wrapped__(actor, org, member)


def test_the_forecasts_won_is_net_of_refunds(actor, org, forecast_data):
    _refund_the_won_deal(actor, "200.00")
    result = forecast_report.run(org, **forecast_report.Q2)
    assert [(r.label, r.figures.won, r.figures.attainment) for r in result.rows] == [
        ("Ana", D("1250.00"), D("41.7")),
        ("Luis", D("0.00"), D("0.0")),
    ]
    assert [(b.label, b.figures.won) for b in result.buckets] == [
        ("Apr 2026", D("800.00")),
        ("May 2026", D("450.00")),
        ("Jun 2026", D("0.00")),
    ]
    assert result.total.won == D("1250.00")
    pipelines = forecast_report.run(org, group_by="pipeline", **forecast_report.Q2)
    assert [(r.label, r.figures.won) for r in pipelines.rows] == [("Partners", D("0.00")), ("Sales", D("1250.00"))]


def test_a_refund_of_an_order_in_another_currency_than_its_deal_is_not_taken_off(actor, org, forecast_data):
    _refund_the_won_deal(actor, "200.00", currency="USD")
    assert forecast_report.run(org, **forecast_report.Q2).total.won == D("1450.00")


def test_the_effectiveness_revenue_is_net_of_refunds(actor, org, effectiveness_data):
    _refund_the_won_deal(actor, "200.00")
    report = effectiveness_report.run(org, "owner")
    assert [(r.label, r.figures.won, r.figures.revenue, r.figures.average_deal_size) for r in report.rows] == [
        ("Ana", 2, D("1250.00"), D("625.00")),
        ("Luis", 1, D("0.00"), None),
    ]
    assert (report.total.revenue, report.total.average_deal_size) == (D("1250.00"), D("625.00"))
    by_month = effectiveness_report.run(org, "month")
    assert [(r.label, r.figures.revenue) for r in by_month.rows] == [
        ("Apr 2026", D("800.00")),
        ("May 2026", D("450.00")),
        ("Jun 2026", D("0.00")),
    ]


def _order(actor, contact, price: str, currency: str = "EUR"):
    with scope(organization=actor.organization):
        order, _created = order_create(
            actor=actor,
            data={"contact": contact.pk, "currency": currency, "lines": [{"description": "x", "unit_price": price}]},
        )
    return order


def test_a_customers_value_is_net_of_refunds_and_leaves_out_cancelled_and_deleted_orders(actor, client_in, org):
    from django.db.models import Q
    from django.urls import reverse

    contact = make_contact(actor, first_name="Marta", last_name="Ruiz")
    kept = _order(actor, contact, "120.00")
    _order(actor, contact, "80.00")
    _order(actor, contact, "50.00", currency="USD")
    cancelled = _order(actor, contact, "999.00")
    deleted = _order(actor, contact, "555.00")
    with scope(organization=org):
        refund_record(actor=actor, order=kept, data={"amount": "20.00"})
        order_set_status(actor=actor, order=cancelled, status=OrderStatus.CANCELLED)
        order_mark_deleted(actor=actor, order=deleted, deleted=True)
        value = customer_value(Q(contact=contact))
    assert value == [
        CustomerValue("EUR", 2, D("200.00"), D("20.00")),
        CustomerValue("USD", 1, D("50.00"), D("0.00")),
    ]
    assert value[0].net == D("180.00")
    page = client_in.get(reverse("contacts:contact_detail", args=[org.slug, contact.pk])).content.decode()
    start = page.find("customer-value")
    assert "Spent, 2 orders · net of 20.00 EUR refunded" in page, page[start : start + 900]
    assert '<span class="text-nowrap fw-semibold">180.00 EUR</span>' in page
