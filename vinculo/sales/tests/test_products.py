"""Products and price lists: services, pages and API, uniqueness, one default list per currency,
bad input refused with nothing changed, another organisation's records out of reach, list queries."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from vinculo.core.models import AuditEntry
from vinculo.sales.models import PriceList, PriceListItem, Product
from vinculo.sales.services.products import (
    price_list_create,
    price_list_item_create,
    price_list_update,
    product_create,
    product_update,
)
from vinculo.sales.testing import make_product


def url(org, name, *args):
    return reverse(f"sales:{name}", args=[org.slug, *args])


def post_json(client, path, body, method="post"):
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


# --- services -------------------------------------------------------------------------------------


def test_a_product_is_created_and_audited(actor):
    with scope(organization=actor.organization):
        product = product_create(
            actor=actor,
            data={"name": " Licencia anual ", "sku": "LIC-1", "product_line": "Software", "tax_rate": "21"},
        )
    product.refresh_from_db()
    assert (product.name, product.sku, product.product_line, product.tax_rate, product.is_active) == (
        "Licencia anual",
        "LIC-1",
        "Software",
        Decimal("21.00"),
        True,
    )
    entry = AuditEntry.dangerously_unscoped.get(object_type="sales.product", object_id=product.pk)
    assert entry.changes["name"] == [None, "Licencia anual"]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": ""}, {"name": ["This field is required."]}),
        ({"name": "x", "tax_rate": "101"}, {"tax_rate": ["Must be at most 100."]}),
        ({"name": "x", "tax_rate": "-1"}, {"tax_rate": ["Must be at least 0."]}),
        ({"name": "x", "sku": "TAKEN"}, {"sku": ["Another product already has this SKU."]}),
        ({"name": "x", "colour": "red"}, {"colour": ["Unknown field."]}),
    ],
)
def test_bad_products_are_refused(actor, data, errors):
    make_product(actor.organization, "First", sku="TAKEN")
    with scope(organization=actor.organization), pytest.raises(ValidationError) as exc:
        product_create(actor=actor, data=data)
    assert exc.value.message_dict == errors
    assert Product.dangerously_unscoped.filter(organization=actor.organization).count() == 1


def test_the_same_sku_in_another_organisation_is_fine(actor, other_actor):
    make_product(other_actor.organization, "Theirs", sku="SKU-1")
    with scope(organization=actor.organization):
        product = product_create(actor=actor, data={"name": "Mine", "sku": "SKU-1"})
        product_update(actor=actor, product=product, data={"sku": "SKU-1", "name": "Mine 2"})
    product.refresh_from_db()
    assert (product.name, product.sku) == ("Mine 2", "SKU-1")


def test_the_first_list_of_a_currency_is_its_default_and_a_new_default_replaces_the_old(actor):
    with scope(organization=actor.organization):
        eur = price_list_create(actor=actor, data={"name": "Tarifa", "currency": "eur"})
        partners = price_list_create(actor=actor, data={"name": "Partners", "currency": "EUR"})
        usd = price_list_create(actor=actor, data={"name": "US", "currency": "USD"})
        price_list_update(actor=actor, price_list=partners, data={"is_default": True})
    defaults = dict(PriceList.dangerously_unscoped.values_list("name", "is_default"))
    assert (eur.currency, usd.is_default) == ("EUR", True)
    assert defaults == {"Tarifa": False, "Partners": True, "US": True}


def test_price_list_items_are_unique_per_product_and_refuse_bad_input(actor, other_actor):
    widget = make_product(actor.organization, "Widget", price="10.00")
    theirs = make_product(other_actor.organization, "Forastero")
    price_list = PriceList.dangerously_unscoped.get(organization=actor.organization)
    cases: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
        ({"product": widget.pk, "unit_price": "5"}, {"product": ["This product already has a price in this list."]}),
        ({"product": theirs.pk, "unit_price": "5"}, {"product": ["No such product."]}),
        (
            {"product": "", "unit_price": ""},
            {"product": ["This field is required."], "unit_price": ["This field is required."]},
        ),
    ]
    with scope(organization=actor.organization):
        other = product_create(actor=actor, data={"name": "Other"})
        cases.append(({"product": other.pk, "unit_price": "-1"}, {"unit_price": ["Cannot be negative."]}))
        for data, errors in cases:
            with pytest.raises(ValidationError) as exc:
                price_list_item_create(actor=actor, price_list=price_list, data=data)
            assert exc.value.message_dict == errors
    assert list(
        PriceListItem.dangerously_unscoped.filter(price_list=price_list).values_list("unit_price", flat=True)
    ) == [Decimal("10.00")]


def test_a_price_list_cannot_change_currency_once_it_has_prices(actor):
    make_product(actor.organization, "Widget")
    price_list = PriceList.dangerously_unscoped.get(organization=actor.organization)
    with scope(organization=actor.organization), pytest.raises(ValidationError) as exc:
        price_list_update(actor=actor, price_list=price_list, data={"currency": "USD"})
    assert exc.value.message_dict == {"currency": ["This list already has prices: its currency cannot change."]}
    price_list.refresh_from_db()
    assert price_list.currency == "EUR"


def test_a_read_only_member_cannot_create_products(member):
    reader = member(role="read_only")
    from django.core.exceptions import PermissionDenied

    with scope(organization=reader.organization), pytest.raises(PermissionDenied):
        product_create(actor=reader, data={"name": "x"})
    assert Product.dangerously_unscoped.count() == 0


# --- pages ----------------------------------------------------------------------------------------


def test_product_pages_create_show_edit_and_delete(client_in, org):
    response = client_in.post(
        url(org, "product_create"), {"name": "Widget", "sku": "W-1", "tax_rate": "21", "is_active": "on"}
    )
    product = Product.dangerously_unscoped.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == url(org, "product_detail", product.pk)
    page = client_in.get(response["Location"]).content.decode()
    assert "Widget" in page
    assert "W-1" in page
    response = client_in.post(
        url(org, "product_edit", product.pk), {"name": "Widget Pro", "sku": "W-1", "tax_rate": "10"}
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.tax_rate, product.is_active) == ("Widget Pro", Decimal("10.00"), False)
    assert client_in.get(url(org, "product_delete", product.pk)).status_code == 200
    response = client_in.post(url(org, "product_delete", product.pk))
    assert response["Location"] == url(org, "product_list")
    assert Product.dangerously_unscoped.count() == 0


def test_a_bad_product_form_comes_back_with_errors_and_keeps_the_input(client_in, org):
    response = client_in.post(url(org, "product_create"), {"name": "Widget", "tax_rate": "150"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Must be at most 100." in html
    assert 'value="150"' in html
    assert Product.dangerously_unscoped.count() == 0


def test_price_list_pages_add_change_and_remove_a_price(client_in, org):
    widget = make_product(org, "Widget", price="10.00")
    gadget = Product.dangerously_unscoped.create(organization=org, name="Gadget")
    price_list = PriceList.dangerously_unscoped.get(organization=org)
    response = client_in.post(
        url(org, "price_list_add_item", price_list.pk), {"product": gadget.pk, "unit_price": "7.5"}
    )
    assert response.status_code == 302
    response = client_in.post(url(org, "price_list_add_item", price_list.pk), {"product": widget.pk, "unit_price": "1"})
    assert response.status_code == 422
    assert "This product already has a price in this list." in response.content.decode()
    item = PriceListItem.dangerously_unscoped.get(product=gadget)
    assert item.unit_price == Decimal("7.50")
    response = client_in.post(url(org, "price_list_item_edit", item.pk), {"unit_price": "-2"})
    assert response.status_code == 422
    assert "Cannot be negative." in response.content.decode()
    client_in.post(url(org, "price_list_item_edit", item.pk), {"unit_price": "8.00"})
    item.refresh_from_db()
    assert item.unit_price == Decimal("8.00")
    page = client_in.get(url(org, "price_list_detail", price_list.pk)).content.decode()
    assert "8.00 EUR" in page
    assert "10.00 EUR" in page
    client_in.post(url(org, "price_list_item_delete", item.pk))
    assert not PriceListItem.dangerously_unscoped.filter(pk=item.pk).exists()


def test_price_list_create_and_edit_pages(client_in, org):
    response = client_in.post(url(org, "price_list_create"), {"name": "USD list", "currency": "usd"})
    price_list = PriceList.dangerously_unscoped.get(organization=org)
    assert response["Location"] == url(org, "price_list_detail", price_list.pk)
    assert (price_list.currency, price_list.is_default) == ("USD", True)
    response = client_in.post(url(org, "price_list_edit", price_list.pk), {"name": "", "currency": "XX"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "This field is required." in html
    assert "Enter an ISO 4217 currency code, e.g. EUR." in html
    price_list.refresh_from_db()
    assert price_list.name == "USD list"


@pytest.mark.parametrize("name", ["product_list", "price_list_list"])
def test_catalogue_lists_take_the_same_queries_for_any_number_of_rows(client_in, org, name):
    for i in range(2):
        make_product(org, f"P{i}", currency=f"EU{i}" if name == "price_list_list" else "EUR")
    client_in.get(url(org, name))
    with CaptureQueriesContext(connection) as few:
        assert client_in.get(url(org, name)).status_code == 200
    for i in range(2, 6):
        make_product(org, f"P{i}", currency=f"EU{i}" if name == "price_list_list" else "EUR")
    with CaptureQueriesContext(connection) as many:
        response = client_in.get(url(org, name))
    expected = "EU5 list" if name == "price_list_list" else "P5"
    assert expected in response.content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)


# --- API ------------------------------------------------------------------------------------------


def test_product_api_crud(api_client, org):
    response = post_json(api_client, "/api/v1/products", {"name": "Widget", "sku": "W-1", "tax_rate": "21"})
    assert response.status_code == 201
    product = response.json()
    assert (product["name"], product["sku"], product["tax_rate"], product["is_active"]) == (
        "Widget",
        "W-1",
        "21.00",
        True,
    )
    pid = product["id"]
    response = post_json(api_client, f"/api/v1/products/{pid}", {"is_active": False}, method="patch")
    assert (response.status_code, response.json()["is_active"]) == (200, False)
    assert api_client.get("/api/v1/products?active=false").json()["items"][0]["id"] == pid
    response = post_json(api_client, "/api/v1/products", {"name": "Copy", "sku": "W-1"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "sku", "message": "Another product already has this SKU."}]
    assert api_client.delete(f"/api/v1/products/{pid}").status_code == 204
    assert api_client.get(f"/api/v1/products/{pid}").status_code == 404


def test_price_list_api_with_items(api_client, org):
    widget = make_product(org, "Widget", price="10.00", currency="GBP")
    response = post_json(api_client, "/api/v1/price-lists", {"name": "Euro", "currency": "EUR"})
    assert response.status_code == 201
    list_id = response.json()["id"]
    assert response.json()["is_default"] is True
    response = post_json(
        api_client, f"/api/v1/price-lists/{list_id}/items", {"product": widget.pk, "unit_price": "12.50"}
    )
    assert response.status_code == 201
    item = response.json()
    assert (item["unit_price"], item["currency"], item["product"]) == (
        "12.50",
        "EUR",
        {"id": widget.pk, "name": "Widget"},
    )
    response = post_json(api_client, f"/api/v1/price-list-items/{item['id']}", {"unit_price": "13"}, method="patch")
    assert response.json()["unit_price"] == "13.00"
    items = api_client.get(f"/api/v1/price-lists/{list_id}/items").json()["items"]
    assert [i["unit_price"] for i in items] == ["13.00"]
    response = post_json(api_client, f"/api/v1/price-lists/{list_id}/items", {"product": widget.pk, "unit_price": "1"})
    assert response.status_code == 422
    assert api_client.delete(f"/api/v1/price-list-items/{item['id']}").status_code == 204
    assert api_client.delete(f"/api/v1/price-lists/{list_id}").status_code == 204
    assert not PriceList.dangerously_unscoped.filter(pk=list_id).exists()


def test_another_organisations_catalogue_is_404_in_the_api(api_client, other_actor):
    theirs = make_product(other_actor.organization, "Forastero")
    item = PriceListItem.dangerously_unscoped.get(product=theirs)
    assert api_client.get(f"/api/v1/products/{theirs.pk}").status_code == 404
    assert post_json(api_client, f"/api/v1/products/{theirs.pk}", {"name": "x"}, method="patch").status_code == 404
    assert api_client.get(f"/api/v1/price-lists/{item.price_list_id}/items").status_code == 404
    assert (
        post_json(api_client, f"/api/v1/price-list-items/{item.pk}", {"unit_price": "1"}, method="patch").status_code
        == 404
    )
    assert api_client.get("/api/v1/products").json()["items"] == []
    theirs.refresh_from_db()
    assert theirs.name == "Forastero"


@pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/price-lists"])
def test_catalogue_api_lists_take_the_same_queries_for_any_number_of_rows(api_client, org, path):
    make_product(org, "P0", currency="EUR")
    api_client.get(path)
    with CaptureQueriesContext(connection) as few:
        api_client.get(path)
    for i in range(1, 5):
        make_product(org, f"P{i}", currency=f"US{i}")
    with CaptureQueriesContext(connection) as many:
        response = api_client.get(path)
    assert len(response.json()["items"]) == 5
    assert len(many.captured_queries) == len(few.captured_queries)
