"""Reads of the catalogue: products and price lists, with what their pages and endpoints show."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from vinculo.sales.models import PriceList, PriceListItem, Product


def _get(queryset: QuerySet[Any], pk: Any) -> Any:
    """The record, or 404 when it does not exist or belongs to another organisation."""
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


def product_list(*, q: str = "", active: bool | None = None, product_line: str = "") -> QuerySet[Product]:
    """Products by name; `q` matches name, SKU or product line."""
    queryset = Product.objects.all()
    if q:
        queryset = queryset.filter(Q(name__icontains=q) | Q(sku__icontains=q) | Q(product_line__icontains=q))
    if active is not None:
        queryset = queryset.filter(is_active=active)
    if product_line:
        queryset = queryset.filter(product_line__iexact=product_line)
    return queryset.order_by("name", "id")


def product_get(*, pk: Any) -> Product:
    return _get(Product.objects.all(), pk)


def product_prices(*, product: Product) -> list[PriceListItem]:
    """The product's price in each list, by currency."""
    return list(
        PriceListItem.objects.filter(product=product)
        .select_related("price_list")
        .order_by("price_list__currency", "price_list__name", "id")
    )


def product_choices(*, include: set[int] | None = None) -> list[Product]:
    """The products a line may name: the active ones, plus those already chosen."""
    queryset = Product.objects.filter(Q(is_active=True) | Q(pk__in=include or set()))
    return list(queryset.order_by("name", "id")[:500])


def price_list_list() -> QuerySet[PriceList]:
    return PriceList.objects.annotate(item_count=Count("items")).order_by("currency", "name", "id")


def price_list_get(*, pk: Any) -> PriceList:
    return _get(PriceList.objects.all(), pk)


def price_list_items(*, price_list: PriceList) -> QuerySet[PriceListItem]:
    return (
        PriceListItem.objects.filter(price_list=price_list)
        .select_related("product", "price_list")
        .order_by("product__name", "id")
    )


def price_list_item_get(*, pk: Any) -> PriceListItem:
    return _get(PriceListItem.objects.select_related("product", "price_list"), pk)


def price_list_choices() -> list[PriceList]:
    return list(PriceList.objects.order_by("currency", "name", "id")[:200])
