"""The quotes API: create with lines (errors as lines.<i>.<field>), edit drafts only, send, accept
into an order (409 the second time), decline, delete drafts, tenancy and list query counts."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django_scopes import scope

from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.core.testing import count_queries
from vinculo.core.testing.fuzz import fuzz_api
from vinculo.sales.models import DocumentCounter, Order, PriceList, Quote, QuoteStatus
from vinculo.sales.testing import make_product


@pytest.fixture
def widget(org):
    return make_product(org, "Widget", price="100.00", tax_rate=Decimal("21"))


def send(client, path, body=None, method="post"):
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, data=json.dumps(body or {}), content_type="application/json")


def test_create_send_accept_and_a_second_accept_is_a_conflict(api_client, contact, widget):
    response = send(
        api_client,
        "/api/v1/quotes",
        {
            "contact": contact.pk,
            "valid_until": "2026-12-31",
            "lines": [{"product": widget.pk, "quantity": "2", "discount_percent": "5"}],
        },
    )
    assert response.status_code == 201, response.content
    quote = response.json()
    assert (quote["number"], quote["status"], quote["valid_until"]) == ("Q-00001", "draft", "2026-12-31")
    assert (quote["subtotal"], quote["discount_total"], quote["tax_total"], quote["total"]) == (
        "200.00",
        "10.00",
        "39.90",
        "229.90",
    )
    assert quote["lines"][0]["product"] == {"id": widget.pk, "name": "Widget"}
    qid = quote["id"]
    assert send(api_client, f"/api/v1/quotes/{qid}/send").json()["status"] == "sent"
    accepted = send(api_client, f"/api/v1/quotes/{qid}/accept")
    assert accepted.status_code == 201
    order = accepted.json()
    assert (order["number"], order["channel"], order["total"], order["quote"]) == (
        "O-00001",
        "quote",
        "229.90",
        {"id": qid, "name": "Q-00001"},
    )
    again = send(api_client, f"/api/v1/quotes/{qid}/accept")
    assert again.status_code == 409
    assert again.json() == {"detail": "This quote has already been accepted.", "errors": []}
    assert Order.dangerously_unscoped.count() == 1
    assert Event.dangerously_unscoped.filter(type="order.placed").count() == 1


def test_line_errors_name_the_line_and_field(api_client, contact):
    response = send(
        api_client,
        "/api/v1/quotes",
        {
            "contact": contact.pk,
            "lines": [
                {"description": "a", "unit_price": "1"},
                {"description": "b", "unit_price": "1"},
                {"description": "c", "unit_price": "1", "quantity": "-1", "tax_rate": "120"},
            ],
        },
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Some fields are not valid.",
        "errors": [
            {"field": "lines.2.quantity", "message": "Enter a quantity greater than zero."},
            {"field": "lines.2.tax_rate", "message": "Must be at most 100."},
        ],
    }
    assert Quote.dangerously_unscoped.count() == 0
    assert DocumentCounter.dangerously_unscoped.count() == 0


def test_a_price_list_of_another_currency_is_refused(api_client, org, contact, widget):
    eur = PriceList.dangerously_unscoped.get(organization=org)
    response = send(
        api_client,
        "/api/v1/quotes",
        {"contact": contact.pk, "currency": "USD", "price_list": eur.pk, "lines": [{"product": widget.pk}]},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "price_list", "message": "Mismatched currencies: this price list is in EUR and the document in USD."}
    ]
    assert Quote.dangerously_unscoped.count() == 0


def test_only_drafts_are_edited_or_deleted(api_client, contact):
    qid = send(
        api_client, "/api/v1/quotes", {"contact": contact.pk, "lines": [{"description": "x", "unit_price": "1"}]}
    ).json()["id"]
    response = send(
        api_client,
        f"/api/v1/quotes/{qid}",
        {"notes": "Edited", "lines": [{"description": "y", "unit_price": "2"}]},
        "patch",
    )
    assert (response.status_code, response.json()["notes"], response.json()["total"]) == (200, "Edited", "2.00")
    send(api_client, f"/api/v1/quotes/{qid}/decline")
    response = send(api_client, f"/api/v1/quotes/{qid}", {"notes": "Too late"}, "patch")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "status", "message": "Only draft quotes can be changed; this one is declined."}
    ]
    response = api_client.delete(f"/api/v1/quotes/{qid}")
    assert response.status_code == 409
    assert response.json()["detail"] == "Only a draft quote can be deleted."
    quote = Quote.dangerously_unscoped.get(pk=qid)
    assert (quote.status, quote.notes) == (QuoteStatus.DECLINED, "Edited")


def test_another_organisations_quote_is_404(api_client, other_actor):
    with scope(organization=other_actor.organization):
        theirs = contact_create(actor=other_actor, data={"first_name": "Forastero"})
    from vinculo.sales.services.documents import quote_create

    with scope(organization=other_actor.organization):
        quote = quote_create(
            actor=other_actor, data={"contact": theirs.pk, "lines": [{"description": "x", "unit_price": "1"}]}
        )
    for method, path in [
        ("get", f"/api/v1/quotes/{quote.pk}"),
        ("post", f"/api/v1/quotes/{quote.pk}/accept"),
        ("post", f"/api/v1/quotes/{quote.pk}/send"),
        ("patch", f"/api/v1/quotes/{quote.pk}"),
        ("delete", f"/api/v1/quotes/{quote.pk}"),
    ]:
        assert send(api_client, path, {}, method).status_code == 404, path
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT
    assert Order.dangerously_unscoped.count() == 0


def test_the_quote_list_endpoint_takes_the_same_queries_for_any_number_of_rows(api_client, contact):
    def add(n):
        for _ in range(n):
            send(
                api_client,
                "/api/v1/quotes",
                {"contact": contact.pk, "lines": [{"description": "x", "unit_price": "1"}]},
            )

    add(2)
    with count_queries() as few:
        api_client.get("/api/v1/quotes")
    add(4)
    with count_queries() as many:
        response = api_client.get("/api/v1/quotes?status=draft")
    assert [item["number"] for item in response.json()["items"]] == [f"Q-0000{i}" for i in range(6, 0, -1)]
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.fuzz
def test_fuzzing_the_catalogue_and_documents_api_finds_no_server_error_and_no_schema_violation(actor, contact, widget):
    from vinculo.accounts.testing import api_client_for
    from vinculo.sales.models import PriceListItem

    with scope(organization=actor.organization):
        quote = quote_create_for_fuzz(actor, contact)
    item = PriceListItem.dangerously_unscoped.get(product=widget)
    headers = {"Authorization": api_client_for(actor).defaults["HTTP_AUTHORIZATION"]}
    known_ids = {
        "product_id": widget.pk,
        "price_list_id": item.price_list_id,
        "price_list_item_id": item.pk,
        "quote_id": quote.pk,
        "order_id": Order.dangerously_unscoped.get().pk,
    }
    fuzz_api(
        headers, r"^/api/v1/(products|price-lists|price-list-items|quotes|orders)", max_examples=5, known_ids=known_ids
    )


def quote_create_for_fuzz(actor, contact):
    from vinculo.sales.services.documents import order_create, quote_create

    order_create(actor=actor, data={"contact": contact.pk, "lines": [{"description": "x", "unit_price": "1"}]})
    return quote_create(actor=actor, data={"contact": contact.pk, "lines": [{"description": "x", "unit_price": "1"}]})
