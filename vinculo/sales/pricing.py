"""Pricing of line items, the same for deals, quotes and orders: input lines are validated and
priced (a product's price from a price list, its description and tax rate by default), and totals
are computed. Amounts per line are never rounded; a document's subtotal, discount, tax and total
are each summed unrounded and rounded once (ROUND_HALF_EVEN to cents).

Below both `deals.py` and `documents.py`, which store what is priced here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from vinculo.core.validation import (
    Errors,
    add_error,
    clean_decimal,
    clean_money,
    clean_percent,
    clean_text,
    record_by_id,
)
from vinculo.sales.models import LineItem, PriceList, PriceListItem, Product

CENT = Decimal("0.01")
HUGE = Decimal("1e15")
MAX_LINES = 200
MAX_QUANTITY = Decimal("999999999.999")

LINE_FIELDS = ("product", "description", "quantity", "unit_price", "discount_percent", "tax_rate")


@dataclass
class PricedLine:
    """A validated line; its amounts are exact (unrounded) Decimals."""

    product: Product | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)

    @classmethod
    def from_stored(cls, line: LineItem) -> PricedLine:
        """A saved line (of a deal, a quote or an order) with its exact, unrounded amounts."""
        return cls(
            product=line.product,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            tax_rate=line.tax_rate,
        )

    @property
    def gross(self) -> Decimal:
        return self.quantity * self.unit_price

    @property
    def discount(self) -> Decimal:
        return self.gross * self.discount_percent / Decimal(100)

    @property
    def net(self) -> Decimal:
        return self.gross - self.discount

    @property
    def tax(self) -> Decimal:
        return self.net * self.tax_rate / Decimal(100)


@dataclass
class Totals:
    subtotal: Decimal = Decimal("0.00")
    discount_total: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    lines: list[PricedLine] = field(default_factory=list)


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def compute_totals(lines: Sequence[PricedLine]) -> Totals:
    """Sum the exact line amounts, then round each sum once."""
    subtotal = sum((line.gross for line in lines), Decimal(0))
    discount = sum((line.discount for line in lines), Decimal(0))
    tax = sum((line.tax for line in lines), Decimal(0))
    return Totals(
        subtotal=_round(subtotal),
        discount_total=_round(discount),
        tax_total=_round(tax),
        total=_round(subtotal - discount + tax),
        lines=list(lines),
    )


def given(value: Any) -> bool:
    """Whether an input value was given (None and "" mean not)."""
    return value not in (None, "")


def within_range(value: Any, field: str, errors: Errors) -> bool:
    """False (with an error) for a number too large for any amount, which the shared cleaners
    could not even round (Decimal.quantize raises beyond its precision)."""
    if isinstance(value, bool) or value is None:
        return True
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return True  # not a number: the cleaner says so
    if number.is_finite() and abs(number) >= HUGE:
        add_error(errors, field, _("Too large."))
        return False
    return True


def _record_id(value: Any) -> int | None:
    """An id as a positive integer that fits a database column, or None (True is not 1)."""
    if isinstance(value, bool):
        return None
    try:
        pk = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk < 2**63 else None


def _clean_quantity(value: Any, name: str, errors: Errors) -> Decimal | None:
    if not given(value):
        return Decimal(1)
    if not within_range(value, name, errors):
        return None
    quantity = clean_decimal(value, name, errors, places=3, minimum=Decimal("-1e12"), maximum=MAX_QUANTITY)
    if quantity is not None and quantity <= 0:
        add_error(errors, name, _("Enter a quantity greater than zero."))
        return None
    return quantity


def _percent(value: Any, field: str, errors: Errors) -> Decimal | None:
    if not given(value):
        return Decimal(0)
    if not within_range(value, field, errors):
        return None
    return clean_percent(value, field, errors)


def price_list_for(currency: str | None, value: Any, errors: Errors) -> PriceList | None:
    """The price list named in the input (it must be in the document's currency), else the
    default list of the currency."""
    if given(value):
        price_list = record_by_id(PriceList.objects.all(), value, "price_list", errors, _("No such price list."))
        if price_list is not None and currency and price_list.currency != currency:
            add_error(
                errors,
                "price_list",
                _("Mismatched currencies: this price list is in %(list)s and the document in %(document)s.")
                % {"list": price_list.currency, "document": currency},
            )
            return None
        return price_list
    if not currency:
        return None
    return PriceList.objects.filter(currency=currency, is_default=True).order_by("id").first()


def price_lines(*, lines: Any, currency: str | None, price_list: PriceList | None, errors: Errors) -> list[PricedLine]:
    """Validate the input lines (dicts) and price them; errors go under `lines.<i>.<field>`.

    A product line without a unit price takes the price of `price_list` (the currency's default);
    its description and tax rate default to the product's.
    """
    if not isinstance(lines, list | tuple):
        add_error(errors, "lines", _("Give a list."))
        return []
    if not lines:
        add_error(errors, "lines", _("Add at least one line."))
        return []
    if len(lines) > MAX_LINES:
        add_error(errors, "lines", _("At most %(n)s lines.") % {"n": MAX_LINES})
        return []
    product_ids: set[int] = set()
    for line in lines:
        if isinstance(line, Mapping):
            pk = _record_id(line.get("product"))
            if pk is not None:
                product_ids.add(pk)
    products = Product.objects.in_bulk(list(product_ids)) if product_ids else {}
    prices: dict[int, Decimal] = {}
    if price_list is not None and products:
        prices = dict(
            PriceListItem.objects.filter(price_list=price_list, product_id__in=list(products)).values_list(
                "product_id", "unit_price"
            )
        )
    priced: list[PricedLine] = []
    for index, line in enumerate(lines):
        prefix = f"lines.{index}"
        if not isinstance(line, Mapping):
            add_error(errors, prefix, _("Give an object."))
            continue
        for key in set(line) - set(LINE_FIELDS):
            add_error(errors, f"{prefix}.{key}", _("Unknown field."))
        product = None
        if given(line.get("product")):
            pk = _record_id(line["product"])
            product = products.get(pk) if pk is not None else None
            if product is None:
                add_error(errors, f"{prefix}.product", _("No such product."))
        description = clean_text(
            line.get("description"),
            f"{prefix}.description",
            errors,
            max_length=300,
            required=not given(line.get("product")),
        )
        if not description and product is not None:
            description = product.name[:300]
        quantity = _clean_quantity(line.get("quantity"), f"{prefix}.quantity", errors)
        unit_price: Decimal | None = None
        if given(line.get("unit_price")):
            if within_range(line["unit_price"], f"{prefix}.unit_price", errors):
                unit_price = clean_money(line["unit_price"], f"{prefix}.unit_price", errors)
        elif product is not None:
            unit_price = prices.get(product.pk)
            if unit_price is None and currency and "price_list" not in errors:
                add_error(
                    errors,
                    f"{prefix}.product",
                    _("%(product)s has no price in %(currency)s.") % {"product": product.name, "currency": currency},
                )
        elif f"{prefix}.product" not in errors:
            add_error(errors, f"{prefix}.unit_price", _("This field is required."))
        discount = _percent(line.get("discount_percent"), f"{prefix}.discount_percent", errors)
        if given(line.get("tax_rate")):
            tax_rate = _percent(line["tax_rate"], f"{prefix}.tax_rate", errors)
        else:
            tax_rate = product.tax_rate if product is not None else Decimal(0)
        if None in (description, quantity, unit_price, discount, tax_rate):
            continue
        priced.append(
            PricedLine(
                product=product,
                description=description or "",
                quantity=quantity,  # type: ignore[arg-type]
                unit_price=unit_price,  # type: ignore[arg-type]
                discount_percent=discount,  # type: ignore[arg-type]
                tax_rate=tax_rate,  # type: ignore[arg-type]
            )
        )
    return priced


def save_line_rows(model: Any, parent: str, document: Any, lines: Iterable[PricedLine]) -> None:
    """Store priced lines as rows of `model` (a deal's, a quote's or an order's lines), in order."""
    model.objects.bulk_create(
        [
            model(
                organization_id=document.organization_id,
                product=line.product,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                tax_rate=line.tax_rate,
                position=position,
                **{parent: document},
            )
            for position, line in enumerate(lines)
        ]
    )
