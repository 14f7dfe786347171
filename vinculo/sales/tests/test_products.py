"""Products and price lists: services, pages and API, uniqueness, one default list per currency,
bad input refused with nothing changed, another organisation's records out of reach, list queries."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

from vinculo.core.models import AuditEntry
from vinculo.core.testing import assert_same_queries
from vinculo.core.testing.crud import CrudApiSpec, CrudPagesSpec
from vinculo.sales.factories import ProductFactory
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


def test_the_price_list_page_takes_the_same_queries_for_any_number_of_rows(client_in, org):
    """(The product list's query count: TestProductPages.)"""
    for i in range(2):
        make_product(org, f"P{i}", currency=f"EU{i}")
    response = assert_same_queries(
        lambda: client_in.get(url(org, "price_list_list")),
        lambda: [make_product(org, f"P{i}", currency=f"EU{i}") for i in range(2, 6)],
    )
    assert response.status_code == 200
    assert "EU5 list" in response.content.decode()


# --- API ------------------------------------------------------------------------------------------


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


def test_the_price_list_api_takes_the_same_queries_for_any_number_of_rows(api_client, org):
    """(The product list's query count: TestProductApi.)"""
    make_product(org, "P0", currency="EUR")
    response = assert_same_queries(
        lambda: api_client.get("/api/v1/price-lists"),
        lambda: [make_product(org, f"P{i}", currency=f"US{i}") for i in range(1, 5)],
    )
    assert len(response.json()["items"]) == 5


# --- pages and API from declarations (vinculo/core/testing/crud.py) -------------------------------


class TestProductPages(CrudPagesSpec):
    model = Product
    factory = ProductFactory
    url_list = "sales:product_list"
    url_create = "sales:product_create"
    url_detail = "sales:product_detail"
    url_edit = "sales:product_edit"
    url_delete = "sales:product_delete"
    create_data: ClassVar = {"name": "Widget", "sku": "W-1", "tax_rate": "21", "is_active": "on"}
    created: ClassVar = {"name": "Widget", "sku": "W-1", "tax_rate": Decimal("21.00"), "is_active": True}
    bad_create_data: ClassVar = {"name": "Widget", "tax_rate": "150"}
    bad_create_error = "Must be at most 100."
    update_data: ClassVar = {"name": "Widget Pro", "sku": "W-1", "tax_rate": "10"}  # is_active unticked
    updated: ClassVar = {"name": "Widget Pro", "tax_rate": Decimal("10.00"), "is_active": False}

    def test_the_detail_page_shows_the_sku(self, client_in, org):
        product = ProductFactory(organization=org, name="Widget", sku="W-1")
        page = client_in.get(url(org, "product_detail", product.pk)).content.decode()
        assert "Widget" in page
        assert "W-1" in page


class TestProductApi(CrudApiSpec):
    model = Product
    factory = ProductFactory
    api_path = "/api/v1/products"
    create_payload: ClassVar = {"name": "Widget", "sku": "W-1", "tax_rate": "21"}
    created_json: ClassVar = {"name": "Widget", "sku": "W-1", "tax_rate": "21.00", "is_active": True}
    update_payload: ClassVar = {"is_active": False}
    updated_json: ClassVar = {"is_active": False}
    existing: ClassVar = {"sku": "W-1"}
    bad_payloads: ClassVar = [({"name": "Copy", "sku": "W-1"}, "sku", "Another product already has this SKU.")]

    def test_inactive_products_are_listed_with_active_false(self, api_client, org):
        product = ProductFactory(organization=org, is_active=False)
        ProductFactory(organization=org)
        assert [item["id"] for item in api_client.get("/api/v1/products?active=false").json()["items"]] == [product.pk]
