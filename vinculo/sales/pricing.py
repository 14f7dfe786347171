"""Pricing of line items, the same for deals, quotes and orders: input lines are validated and
priced (a product's price from a price list, its description and tax rate by default), and totals
are computed. Amounts per line are never rounded; a document's subtotal, discount, tax and total
are each summed unrounded and rounded once (ROUND_HALF_EVEN to the currency's minor unit: cents,
or whole yen; amounts are stored to the cent, so a three-decimal currency is kept to the cent).

An order's unit price has up to four decimals (3 for 10.00 is 3.3333), given as text or as a
JSON number; a deal's or a quote's has two, given as text.

Orders also keep each line's own amounts (`LineAmounts`: before discount, discount, tax, total,
each rounded once) and the adjustments that apply to the whole order (`AdjustmentInput`: a
discount, shipping, a fee, a duty, a tip, an order-level tax). A shop's order brings its own amounts
for both, to the cent, and `order_totals` adds them up exactly.

Below both `deals.py` and `documents.py`, which store what is priced here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from vinculo.accounts.models import Organization
from vinculo.core.currencies import minor_unit
from vinculo.core.formatting import format_number
from vinculo.core.validation import (
    Errors,
    add_error,
    clean_decimal,
    clean_money,
    clean_percent,
    clean_text,
    clean_unit_price,
    record_by_id,
)
from vinculo.sales.models import (
    AdjustmentKind,
    LineItem,
    OrderAdjustment,
    OrderLine,
    PriceList,
    PriceListItem,
    Product,
)

CENT = Decimal("0.01")
HUGE = Decimal("1e15")
# shops send orders with hundreds of lines; a 1,000-line order must go through
MAX_LINES = 1000
MAX_ADJUSTMENTS = 200
MAX_QUANTITY = Decimal("999999999.999")
# a unit price rounded to four decimals is off by at most half of its last digit per unit
SUBTOTAL_SLACK = Decimal("0.00005")

LINE_FIELDS = ("product", "description", "quantity", "unit_price", "discount_percent", "tax_rate")
# what an order's line may also carry: the shop's own amounts and ids
ORDER_LINE_FIELDS = (
    *LINE_FIELDS,
    "sku",
    "external_id",
    "subtotal",
    "discount_amount",
    "tax_amount",
    "presentment_total",
)
ADJUSTMENT_FIELDS = (
    "kind",
    "description",
    "code",
    "external_id",
    "amount",
    "discount_amount",
    "tax_amount",
    "included_in_lines",
    "presentment_total",
)


@dataclass
class PricedLine:
    """A validated line; its amounts are exact (unrounded) Decimals."""

    product: Product | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)
    # an order's line may bring its own amounts (a shop's, to the cent) and ids
    sku: str = ""
    external_id: str = ""
    subtotal_amount: Decimal | None = None  # the amount before discount, to the cent, when the shop gives it
    discount_amount: Decimal | None = None
    tax_amount: Decimal | None = None
    presentment_total: Decimal | None = None

    @classmethod
    def from_stored(cls, line: LineItem) -> PricedLine:
        """A saved line (of a deal, a quote or an order) with its exact, unrounded amounts."""
        if isinstance(line, OrderLine):  # an order's line has its own amounts: keep them exact
            return cls(
                product=line.product,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                tax_rate=line.tax_rate,
                sku=line.sku,
                external_id=line.external_id,
                subtotal_amount=line.subtotal,
                discount_amount=line.discount_amount,
                tax_amount=line.tax_amount,
                presentment_total=line.presentment_total,
            )
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
        if self.subtotal_amount is not None:
            return self.subtotal_amount
        return self.quantity * self.unit_price

    @property
    def discount(self) -> Decimal:
        if self.discount_amount is not None:
            return self.discount_amount
        return self.gross * self.discount_percent / Decimal(100)

    @property
    def net(self) -> Decimal:
        return self.gross - self.discount

    @property
    def tax(self) -> Decimal:
        if self.tax_amount is not None:
            return self.tax_amount
        return self.net * self.tax_rate / Decimal(100)


@dataclass
class Totals:
    subtotal: Decimal = Decimal("0.00")
    discount_total: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    lines: list[PricedLine] = field(default_factory=list)


@dataclass
class LineAmounts:
    """One line's amounts, each rounded once: before discount, discount, tax, and its total."""

    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


@dataclass
class AdjustmentInput:
    """A validated order adjustment; `total` is its effect on the order's total."""

    kind: str
    description: str = ""
    code: str = ""
    external_id: str = ""
    amount: Decimal = Decimal("0.00")
    discount_amount: Decimal = Decimal("0.00")
    tax_amount: Decimal = Decimal("0.00")
    included_in_lines: bool = False
    presentment_total: Decimal | None = None

    @property
    def total(self) -> Decimal:
        return self.amount - self.discount_amount + self.tax_amount


@functools.cache
def quantum(currency: str = "") -> Decimal:
    """The rounding step of a currency: its minor unit, at most the cent amounts are stored in."""
    return Decimal(1).scaleb(-min(minor_unit(currency), 2)) if currency else CENT


def round_money(amount: Decimal, currency: str = "") -> Decimal:
    """`amount` rounded once to the currency's minor unit (half-even), written to the cent."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_EVEN).quantize(CENT)


def unit_price_out(value: Decimal) -> Decimal:
    """A stored four-decimal unit price as written: 19.9900 → 19.99, 13.3333 as it is."""
    return value.quantize(CENT) if value == value.quantize(CENT) else value.normalize()


def _round(amount: Decimal, currency: str = "") -> Decimal:
    return round_money(amount, currency)


def compute_totals(lines: Sequence[PricedLine], currency: str = "") -> Totals:
    """Sum the exact line amounts, then round each sum once (to the currency's minor unit)."""
    subtotal = sum((line.gross for line in lines), Decimal(0))
    discount = sum((line.discount for line in lines), Decimal(0))
    tax = sum((line.tax for line in lines), Decimal(0))
    return Totals(
        subtotal=_round(subtotal, currency),
        discount_total=_round(discount, currency),
        tax_total=_round(tax, currency),
        total=_round(subtotal - discount + tax, currency),
        lines=list(lines),
    )


def line_amounts(line: PricedLine, currency: str = "", *, taxes_included: bool = False) -> LineAmounts:
    """A line's own amounts, each rounded once: what an order stores per line (and what a refund of
    the line gives back). With `taxes_included` the tax is inside the price and not added again."""
    subtotal = round_money(line.gross, currency)
    net = round_money(line.net, currency)
    tax = round_money(line.tax, currency)
    return LineAmounts(subtotal=subtotal, discount=subtotal - net, tax=tax, total=net if taxes_included else net + tax)


def order_totals(
    lines: Sequence[PricedLine],
    adjustments: Sequence[AdjustmentInput],
    currency: str = "",
    *,
    taxes_included: bool = False,
) -> Totals:
    """An order's totals: the sums of its lines' own amounts (each rounded once, `line_amounts`)
    and of its counted adjustments, so that the lines and adjustments add up to the total exactly.

    `discount_total` and `tax_total` gather every discount and tax (the lines', the shipping's,
    the order-level ones)."""
    subtotal = discount = tax = total = Decimal("0.00")
    for line in lines:
        amounts = line_amounts(line, currency, taxes_included=taxes_included)
        subtotal += amounts.subtotal
        discount += amounts.discount
        tax += amounts.tax
        total += amounts.total
    for adjustment in adjustments:
        if adjustment.included_in_lines:
            continue
        total += adjustment.amount - adjustment.discount_amount
        discount += adjustment.discount_amount
        tax += adjustment.tax_amount
        if not taxes_included:
            total += adjustment.tax_amount
        if adjustment.kind == AdjustmentKind.DISCOUNT:
            discount -= adjustment.amount
        elif adjustment.kind == AdjustmentKind.TAX:
            tax += adjustment.amount
    return Totals(subtotal=subtotal, discount_total=discount, tax_total=tax, total=total, lines=list(lines))


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


def product_prices(
    products: Mapping[int, Product], *, currency: str | None, price_list: PriceList | None
) -> dict[int, Decimal]:
    """The unit price of each product that has one in `currency`: its price in `price_list`, else
    its own default price when `currency` is the organisation's base currency (the default price
    is in that currency). The one rule for the lines of deals, quotes and orders and for the price
    a quote line shows as soon as its product is picked."""
    if not products:
        return {}
    prices: dict[int, Decimal] = {}
    if price_list is not None:
        prices = dict(
            PriceListItem.objects.filter(price_list=price_list, product_id__in=list(products)).values_list(
                "product_id", "unit_price"
            )
        )
    unpriced = [p for pk, p in products.items() if pk not in prices and p.default_price is not None]
    if unpriced and currency:
        base = Organization.objects.values_list("base_currency", flat=True).get(pk=unpriced[0].organization_id)
        if currency == base:
            prices.update({p.pk: p.default_price for p in unpriced if p.default_price is not None})
    return prices


def _order_line_extras(line: Mapping[str, Any], prefix: str, errors: Errors) -> dict[str, Any]:
    """An order line's own ids and amounts (ORDER_LINE_FIELDS beyond LINE_FIELDS)."""
    extras: dict[str, Any] = {
        "sku": clean_text(line.get("sku"), f"{prefix}.sku", errors, max_length=64) or "",
        "external_id": clean_text(_as_text(line.get("external_id")), f"{prefix}.external_id", errors, max_length=64)
        or "",
    }
    for name in ("subtotal", "discount_amount", "tax_amount", "presentment_total"):
        if given(line.get(name)) and within_range(line[name], f"{prefix}.{name}", errors):
            extras["subtotal_amount" if name == "subtotal" else name] = clean_money(
                line[name], f"{prefix}.{name}", errors
            )
    return extras


def _as_text(value: Any) -> Any:
    """An id given as a JSON number (shops' ids are numbers) as text; anything else as it is."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def price_lines(
    *,
    lines: Any,
    currency: str | None,
    price_list: PriceList | None,
    errors: Errors,
    order: bool = False,
    products: Mapping[int, Product] | None = None,
) -> list[PricedLine]:
    """Validate the input lines (dicts) and price them; errors go under `lines.<i>.<field>`.

    A product line without a unit price takes the price of `price_list` (the currency's default),
    else the product's default price in the organisation's base currency (`product_prices`);
    its description and tax rate default to the product's. An order's lines (`order`) may also give
    their SKU, external id and the exact discount and tax amounts (ORDER_LINE_FIELDS). `products`:
    the products already read by the caller (a batch reads them once for all its orders).
    """
    allowed = ORDER_LINE_FIELDS if order else LINE_FIELDS
    if not isinstance(lines, list | tuple):
        add_error(errors, "lines", _("Give a list."))
        return []
    if not lines:
        add_error(errors, "lines", _("Add at least one line."))
        return []
    if len(lines) > MAX_LINES:
        add_error(errors, "lines", _("At most %(n)s lines.") % {"n": MAX_LINES})
        return []
    if products is None:
        product_ids: set[int] = set()
        for line in lines:
            if isinstance(line, Mapping):
                pk = _record_id(line.get("product"))
                if pk is not None:
                    product_ids.add(pk)
        products = Product.objects.in_bulk(list(product_ids)) if product_ids else {}
    prices = product_prices(products, currency=currency, price_list=price_list)
    priced: list[PricedLine] = []
    for index, line in enumerate(lines):
        prefix = f"lines.{index}"
        if not isinstance(line, Mapping):
            add_error(errors, prefix, _("Give an object."))
            continue
        for key in line:
            if key not in allowed:
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
                clean = clean_unit_price if order else clean_money
                unit_price = clean(line["unit_price"], f"{prefix}.unit_price", errors)
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
        extras = _order_line_extras(line, prefix, errors) if order else {}
        if None in (description, quantity, unit_price, discount, tax_rate) or any(
            given(line.get(name)) and extras.get(key) is None
            for name, key in (
                ("subtotal", "subtotal_amount"),
                ("discount_amount", "discount_amount"),
                ("tax_amount", "tax_amount"),
                ("presentment_total", "presentment_total"),
            )
        ):
            continue
        priced_line = PricedLine(
            product=product,
            description=description or "",
            quantity=quantity,  # type: ignore[arg-type]
            unit_price=unit_price,  # type: ignore[arg-type]
            discount_percent=discount,  # type: ignore[arg-type]
            tax_rate=tax_rate,  # type: ignore[arg-type]
            **extras,
        )
        if (
            priced_line.subtotal_amount is not None
            and abs(priced_line.subtotal_amount - priced_line.quantity * priced_line.unit_price)
            > priced_line.quantity * SUBTOTAL_SLACK + CENT / 2
        ):
            add_error(
                errors,
                f"{prefix}.subtotal",
                _("Does not match the quantity × the unit price (%(amount)s).")
                % {"amount": format_number(priced_line.quantity * priced_line.unit_price, 2)},
            )
            continue
        if priced_line.discount_amount is not None and priced_line.discount_amount > priced_line.gross:
            add_error(
                errors,
                f"{prefix}.discount_amount",
                _("The discount is larger than the line (%(amount)s).")
                % {"amount": format_number(priced_line.gross, 2)},
            )
            continue
        priced.append(priced_line)
    return priced


def clean_adjustments(value: Any, errors: Errors) -> list[AdjustmentInput]:
    """An order's adjustments (a list of objects, ADJUSTMENT_FIELDS); errors under
    `adjustments.<i>.<field>`. Amounts are to the cent; a discount's `amount` is negative (it takes
    off the total), every other kind's is positive, except a fee (shops allow negative fees)."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        add_error(errors, "adjustments", _("Give a list."))
        return []
    if len(value) > MAX_ADJUSTMENTS:
        add_error(errors, "adjustments", _("At most %(n)s adjustments.") % {"n": MAX_ADJUSTMENTS})
        return []
    result: list[AdjustmentInput] = []
    for index, raw in enumerate(value):
        prefix = f"adjustments.{index}"
        if not isinstance(raw, Mapping):
            add_error(errors, prefix, _("Give an object."))
            continue
        before = sum(len(messages) for messages in errors.values())
        for key in raw:
            if key not in ADJUSTMENT_FIELDS:
                add_error(errors, f"{prefix}.{key}", _("Unknown field."))
        kind = raw.get("kind")
        if kind not in AdjustmentKind.values:
            add_error(
                errors,
                f"{prefix}.kind",
                _("Choose one of %(expected)s.") % {"expected": ", ".join(AdjustmentKind.values)},
            )
        amounts: dict[str, Decimal | None] = {}
        for name in ("amount", "discount_amount", "tax_amount", "presentment_total"):
            if not given(raw.get(name)):
                amounts[name] = None if name == "presentment_total" else Decimal("0.00")
                if name == "amount":
                    add_error(errors, f"{prefix}.amount", _("This field is required."))
                continue
            if within_range(raw[name], f"{prefix}.{name}", errors):
                amounts[name] = clean_money(
                    raw[name], f"{prefix}.{name}", errors, allow_negative=name in ("amount", "presentment_total")
                )
        amount = amounts.get("amount")
        if amount is not None and kind in AdjustmentKind.values:
            if kind == AdjustmentKind.DISCOUNT and amount > 0:
                add_error(
                    errors, f"{prefix}.amount", _("A discount takes off the total: give it as a negative amount.")
                )
            elif kind not in (AdjustmentKind.DISCOUNT, AdjustmentKind.FEE, AdjustmentKind.OTHER) and amount < 0:
                add_error(errors, f"{prefix}.amount", _("Cannot be negative."))
        included = raw.get("included_in_lines", False)
        if not isinstance(included, bool):
            add_error(errors, f"{prefix}.included_in_lines", _("Enter true or false."))
        description = clean_text(raw.get("description"), f"{prefix}.description", errors, max_length=300)
        code = clean_text(raw.get("code"), f"{prefix}.code", errors, max_length=100)
        external_id = clean_text(_as_text(raw.get("external_id")), f"{prefix}.external_id", errors, max_length=64)
        if sum(len(messages) for messages in errors.values()) != before:
            continue
        result.append(
            AdjustmentInput(
                kind=str(kind),
                description=description or "",
                code=code or "",
                external_id=external_id or "",
                amount=amount or Decimal("0.00"),
                discount_amount=amounts.get("discount_amount") or Decimal("0.00"),
                tax_amount=amounts.get("tax_amount") or Decimal("0.00"),
                included_in_lines=bool(included),
                presentment_total=amounts.get("presentment_total"),
            )
        )
    return result


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


def order_line_values(order: Any, lines: Iterable[PricedLine]) -> list[dict[str, Any]]:
    """An order's line rows as {column: value} (for a batch's INSERT), each with its own amounts
    rounded once in the order's currency."""
    rows = []
    for position, line in enumerate(lines):
        amounts = line_amounts(line, order.currency, taxes_included=order.taxes_included)
        rows.append(
            {
                "organization_id": order.organization_id,
                "order_id": order.pk,
                "product_id": line.product.pk if line.product is not None else None,
                "description": line.description,
                "sku": line.sku,
                "external_id": line.external_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_percent": _percent_of(amounts.discount, amounts.subtotal, line.discount_percent, line),
                "tax_rate": line.tax_rate,
                "subtotal": amounts.subtotal,
                "discount_amount": amounts.discount,
                "tax_amount": amounts.tax,
                "total": amounts.total,
                "presentment_total": line.presentment_total,
                "position": position,
            }
        )
    return rows


def order_line_rows(order: Any, lines: Iterable[PricedLine]) -> list[OrderLine]:
    """An order's line rows (unsaved)."""
    return [OrderLine(**values) for values in order_line_values(order, lines)]


def _percent_of(discount: Decimal, subtotal: Decimal, given_percent: Decimal, line: PricedLine) -> Decimal:
    """The discount as a percentage for display: the given one, or the amount's share of the line."""
    if line.discount_amount is None or subtotal <= 0:
        return given_percent
    return min((discount * 100 / subtotal).quantize(CENT, rounding=ROUND_HALF_EVEN), Decimal(100))


def adjustment_values(order: Any, adjustments: Iterable[AdjustmentInput]) -> list[dict[str, Any]]:
    """An order's adjustment rows as {column: value}."""
    return [
        {
            "organization_id": order.organization_id,
            "order_id": order.pk,
            "kind": adjustment.kind,
            "description": adjustment.description,
            "code": adjustment.code,
            "external_id": adjustment.external_id,
            "amount": adjustment.amount,
            "discount_amount": adjustment.discount_amount,
            "tax_amount": adjustment.tax_amount,
            "total": adjustment.total,
            "included_in_lines": adjustment.included_in_lines,
            "presentment_total": adjustment.presentment_total,
            "position": position,
        }
        for position, adjustment in enumerate(adjustments)
    ]


def adjustment_rows(order: Any, adjustments: Iterable[AdjustmentInput]) -> list[OrderAdjustment]:
    """An order's adjustment rows (unsaved)."""
    return [OrderAdjustment(**values) for values in adjustment_values(order, adjustments)]
