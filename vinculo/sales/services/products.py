"""Writes of the catalogue: products, price lists (one currency each, one default per currency) and
their items (the unit price of a product in a list).

Uniqueness (a product's SKU, a list's name, one price per product and list) is checked for a clear
field error and enforced by the database constraints for the race the check cannot see.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_write
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.validation import (
    Errors,
    add_error,
    clean_bool,
    clean_currency,
    clean_money,
    clean_percent,
    clean_text,
    record_by_id,
    reject_unknown,
)
from vinculo.sales.models import PriceList, PriceListItem, Product
from vinculo.sales.pricing import within_range

CENT = Decimal("0.01")
PRODUCT_TEXT = {"name": 200, "sku": 64, "product_line": 100, "description": 5000}
PRODUCT_FIELDS = (*PRODUCT_TEXT, "tax_rate", "default_price", "is_active")
PRICE_LIST_FIELDS = ("name", "currency", "is_default")
ITEM_FIELDS = ("product", "unit_price")


# --- products -------------------------------------------------------------------------------------


def _apply_product(product: Product, data: Mapping[str, Any], errors: Errors) -> None:
    reject_unknown(data, PRODUCT_FIELDS, errors)
    for name, max_length in PRODUCT_TEXT.items():
        if name in data:
            value = clean_text(data[name], name, errors, max_length=max_length, required=name == "name")
            if value is not None:
                setattr(product, name, value)
    if "tax_rate" in data and within_range(data["tax_rate"], "tax_rate", errors):
        rate = clean_percent("0" if data["tax_rate"] in (None, "") else data["tax_rate"], "tax_rate", errors)
        if rate is not None:
            product.tax_rate = rate.quantize(CENT)
    if "default_price" in data:
        # in the organisation's base currency; empty (or null) for none: then only price lists price it
        if data["default_price"] in (None, ""):
            product.default_price = None
        elif within_range(data["default_price"], "default_price", errors):
            price = clean_money(data["default_price"], "default_price", errors)
            if price is not None:
                product.default_price = price
    if data.get("is_active") is not None:
        active = clean_bool(data["is_active"], "is_active", errors)
        if active is not None:
            product.is_active = active
    if product.sku and "sku" not in errors:
        taken = Product.objects.filter(sku=product.sku).exclude(pk=product.pk).exists()
        if taken:
            add_error(errors, "sku", _("Another product already has this SKU."))


def _product_snapshot(product: Product) -> dict[str, Any]:
    return snapshot(product, list(PRODUCT_FIELDS))


@transaction.atomic
def product_create(*, actor: Membership, data: Mapping[str, Any]) -> Product:
    require_write(actor)
    product = Product(organization=actor.organization)
    errors: Errors = {}
    _apply_product(product, data, errors)
    if "name" not in data:
        add_error(errors, "name", _("This field is required."))
    if errors:
        raise ValidationError(errors)
    product.save()
    audit_create(instance=product, actor=actor.user, values=_product_snapshot(product), organization=actor.organization)
    return product


@transaction.atomic
def product_update(*, actor: Membership, product: Product, data: Mapping[str, Any]) -> Product:
    require_write(actor)
    product = Product.objects.select_for_update().get(pk=product.pk)
    before = _product_snapshot(product)
    errors: Errors = {}
    _apply_product(product, data, errors)
    if errors:
        raise ValidationError(errors)
    product.save()
    audit_update(
        instance=product,
        actor=actor.user,
        changes=diff(before, _product_snapshot(product)),
        organization=actor.organization,
    )
    return product


@transaction.atomic
def product_delete(*, actor: Membership, product: Product) -> None:
    """Delete a product and its prices; quote and order lines keep their description and amounts."""
    require_write(actor)
    audit_delete(instance=product, actor=actor.user, values=_product_snapshot(product), organization=actor.organization)
    product.delete()


# --- price lists ----------------------------------------------------------------------------------


def _apply_price_list(price_list: PriceList, data: Mapping[str, Any], errors: Errors) -> None:
    reject_unknown(data, PRICE_LIST_FIELDS, errors)
    if "name" in data:
        name = clean_text(data["name"], "name", errors, max_length=100, required=True)
        if name is not None:
            price_list.name = name
            if PriceList.objects.filter(name__iexact=name).exclude(pk=price_list.pk).exists():
                add_error(errors, "name", _("Another price list already has this name."))
    if "currency" in data:
        currency = clean_currency(data["currency"], "currency", errors)
        if currency is not None:
            if price_list.pk and currency != price_list.currency and price_list.items.exists():
                add_error(errors, "currency", _("This list already has prices: its currency cannot change."))
            else:
                price_list.currency = currency
    if data.get("is_default") is not None:
        default = clean_bool(data["is_default"], "is_default", errors)
        if default is not None:
            price_list.is_default = default


def _one_default(price_list: PriceList) -> None:
    """A default list replaces the previous default of its currency."""
    if price_list.is_default:
        PriceList.objects.filter(currency=price_list.currency, is_default=True).exclude(pk=price_list.pk).update(
            is_default=False
        )


@transaction.atomic
def price_list_create(*, actor: Membership, data: Mapping[str, Any]) -> PriceList:
    """A new price list; the first list of a currency becomes that currency's default."""
    require_write(actor)
    price_list = PriceList(organization=actor.organization)
    errors: Errors = {}
    _apply_price_list(price_list, data, errors)
    for required in ("name", "currency"):
        if required not in data:
            add_error(errors, required, _("This field is required."))
    if errors:
        raise ValidationError(errors)
    if not PriceList.objects.filter(currency=price_list.currency).exists():
        price_list.is_default = True
    price_list.save()
    _one_default(price_list)
    audit_create(
        instance=price_list,
        actor=actor.user,
        values=snapshot(price_list, list(PRICE_LIST_FIELDS)),
        organization=actor.organization,
    )
    return price_list


@transaction.atomic
def price_list_update(*, actor: Membership, price_list: PriceList, data: Mapping[str, Any]) -> PriceList:
    require_write(actor)
    price_list = PriceList.objects.select_for_update().get(pk=price_list.pk)
    before = snapshot(price_list, list(PRICE_LIST_FIELDS))
    errors: Errors = {}
    _apply_price_list(price_list, data, errors)
    if errors:
        raise ValidationError(errors)
    price_list.save()
    _one_default(price_list)
    audit_update(
        instance=price_list,
        actor=actor.user,
        changes=diff(before, snapshot(price_list, list(PRICE_LIST_FIELDS))),
        organization=actor.organization,
    )
    return price_list


@transaction.atomic
def price_list_delete(*, actor: Membership, price_list: PriceList) -> None:
    require_write(actor)
    audit_delete(
        instance=price_list,
        actor=actor.user,
        values=snapshot(price_list, list(PRICE_LIST_FIELDS)),
        organization=actor.organization,
    )
    price_list.delete()


# --- price list items -----------------------------------------------------------------------------


def _apply_item(item: PriceListItem, data: Mapping[str, Any], errors: Errors) -> None:
    reject_unknown(data, ITEM_FIELDS, errors)
    if "product" in data:
        product = record_by_id(Product.objects.all(), data["product"], "product", errors, _("No such product."))
        if product is None and "product" not in errors:
            add_error(errors, "product", _("This field is required."))
        elif product is not None:
            item.product = product
    if "unit_price" in data and within_range(data["unit_price"], "unit_price", errors):
        price = clean_money(data["unit_price"], "unit_price", errors)
        if price is None and "unit_price" not in errors:
            add_error(errors, "unit_price", _("This field is required."))
        elif price is not None:
            item.unit_price = price.quantize(CENT)
    if item.product_id is not None and "product" not in errors:
        taken = (
            PriceListItem.objects.filter(price_list_id=item.price_list_id, product_id=item.product_id)
            .exclude(pk=item.pk)
            .exists()
        )
        if taken:
            add_error(errors, "product", _("This product already has a price in this list."))


def _item_snapshot(item: PriceListItem) -> dict[str, Any]:
    return snapshot(item, ["price_list", "product", "unit_price"])


@transaction.atomic
def price_list_item_create(*, actor: Membership, price_list: PriceList, data: Mapping[str, Any]) -> PriceListItem:
    require_write(actor)
    item = PriceListItem(organization=actor.organization, price_list=price_list)
    errors: Errors = {}
    for required in ("product", "unit_price"):
        if data.get(required) in (None, ""):
            add_error(errors, required, _("This field is required."))
    if not errors:
        _apply_item(item, data, errors)
    if errors:
        raise ValidationError(errors)
    item.save()
    audit_create(instance=item, actor=actor.user, values=_item_snapshot(item), organization=actor.organization)
    return item


@transaction.atomic
def price_list_item_update(*, actor: Membership, item: PriceListItem, data: Mapping[str, Any]) -> PriceListItem:
    require_write(actor)
    item = PriceListItem.objects.select_for_update().select_related("product", "price_list").get(pk=item.pk)
    before = _item_snapshot(item)
    errors: Errors = {}
    _apply_item(item, data, errors)
    if errors:
        raise ValidationError(errors)
    item.save()
    audit_update(
        instance=item, actor=actor.user, changes=diff(before, _item_snapshot(item)), organization=actor.organization
    )
    return item


@transaction.atomic
def price_list_item_delete(*, actor: Membership, item: PriceListItem) -> None:
    require_write(actor)
    audit_delete(instance=item, actor=actor.user, values=_item_snapshot(item), organization=actor.organization)
    item.delete()
