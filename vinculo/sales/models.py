"""Sales: pipelines and their stages, deals with line items, products and price lists, quotes and
orders, activities (the reps' agendas), follow-up rules, assignment rules, quotas and exchange rates.

Money is `Decimal` with an ISO 4217 currency next to it; totals of quotes and orders are computed
by the services (rounded once) and stored, so lists never recompute them.
"""

from __future__ import annotations

import secrets
import uuid
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from vinculo.core.models import OrgScopedModel

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
RATE: dict[str, Any] = {"max_digits": 18, "decimal_places": 8}
PERCENT: dict[str, Any] = {"max_digits": 5, "decimal_places": 2}
QUANTITY: dict[str, Any] = {"max_digits": 12, "decimal_places": 3}
# a price per unit may have four decimals (3 for 10.00 is 3.3333); amounts are to the cent
UNIT_PRICE: dict[str, Any] = {"max_digits": 16, "decimal_places": 4}


def _user_fk(verbose: Any, related_name: str = "+") -> Any:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name=related_name,
        verbose_name=verbose,
    )


class Pipeline(OrgScopedModel):
    """A sales process: an ordered list of stages a deal moves through."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_default = models.BooleanField(_("default pipeline"), default=False)

    class Meta:
        ordering: ClassVar = ["position", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "name"], name="pipeline_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Stage(OrgScopedModel):
    """A step of a pipeline with its default win probability; won and lost stages close a deal."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages", verbose_name=_("pipeline"))
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=10, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    kind = models.CharField(_("kind"), max_length=8, choices=StageKind.choices, default=StageKind.OPEN)

    class Meta:
        ordering: ClassVar = ["pipeline", "position", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique_name"),
            models.CheckConstraint(condition=models.Q(probability__lte=100), name="stage_probability_max_100"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class LostReason(OrgScopedModel):
    """Why deals are lost, chosen when a deal enters a lost stage (for the effectiveness report)."""

    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "name"], name="lost_reason_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ExchangeRate(OrgScopedModel):
    """How many units of the organisation's base currency one unit of `currency` is worth, from a day on.

    Totals across currencies use the latest rate valid on the day in question.
    """

    currency = models.CharField(_("currency"), max_length=3)
    rate = models.DecimalField(
        _("rate to base currency"), **RATE, validators=[MinValueValidator(Decimal("0.00000001"))]
    )
    valid_from = models.DateField(_("valid from"))

    class Meta:
        ordering: ClassVar = ["currency", "-valid_from", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "currency", "valid_from"], name="exchange_rate_unique_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} ({self.valid_from})"


class Zone(OrgScopedModel):
    """A named sales territory: a set of countries, optionally narrowed to regions."""

    name = models.CharField(_("name"), max_length=100)
    countries = models.JSONField(_("countries"), default=list, blank=True, help_text=_("ISO 3166 codes"))
    regions = models.JSONField(_("regions"), default=list, blank=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "name"], name="zone_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Product(OrgScopedModel):
    """Something the company sells. Prices per currency live in price lists; `default_price`, in
    the organisation's base currency, prices a line in that currency when no price list does."""

    name = models.CharField(_("name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64, blank=True, default="")
    product_line = models.CharField(_("product line"), max_length=100, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="", max_length=5000)
    tax_rate = models.DecimalField(
        _("tax rate (%)"), **PERCENT, default=Decimal("0"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    default_price = models.DecimalField(
        _("default price"), **MONEY, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organization", "sku"], condition=~models.Q(sku=""), name="product_unique_sku"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["organization", "product_line"], name="product_org_line")]

    def __str__(self) -> str:
        return self.name


class PriceList(OrgScopedModel):
    """Prices of products in one currency (e.g. "EUR list", "USD partners")."""

    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3)
    is_default = models.BooleanField(_("default for its currency"), default=False)

    class Meta:
        ordering: ClassVar = ["currency", "name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "name"], name="price_list_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class PriceListItem(OrgScopedModel):
    """The unit price of one product in one price list."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    unit_price = models.DecimalField(_("unit price"), **MONEY, validators=[MinValueValidator(0)])

    class Meta:
        ordering: ClassVar = ["price_list", "product", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["price_list", "product"], name="price_list_item_unique"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="price_list_item_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.unit_price}"


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", _("Closed")
    OMITTED = "omitted", _("Omitted")


class DealStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Deal(OrgScopedModel):
    """An opportunity: what may be sold, to whom, for how much, when, and how likely.

    `probability` is the stage's default unless `probability_reason` explains an override.
    `status` mirrors the kind of the stage (open, won, lost) so that lists and reports filter on
    one indexed column. `position` orders the cards inside a board column.
    """

    title = models.CharField(_("title"), max_length=200)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals", verbose_name=_("pipeline"))
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals", verbose_name=_("stage"))
    status = models.CharField(_("status"), max_length=8, choices=DealStatus.choices, default=DealStatus.OPEN)
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="deals"
    )
    company = models.ForeignKey(
        "contacts.Company", on_delete=models.SET_NULL, null=True, blank=True, related_name="deals"
    )
    amount = models.DecimalField(_("amount"), **MONEY, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    probability_reason = models.CharField(_("why this probability"), max_length=200, blank=True, default="")
    owner = _user_fk(_("owner"))
    forecast_category = models.CharField(
        _("forecast category"), max_length=16, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    next_step = models.CharField(_("next step"), max_length=200, blank=True, default="")
    source = models.CharField(_("source"), max_length=32, blank=True, default="")
    campaign = models.CharField(_("campaign"), max_length=100, blank=True, default="")
    zone = models.ForeignKey(Zone, on_delete=models.SET_NULL, null=True, blank=True, related_name="deals")
    product_line = models.CharField(_("product line"), max_length=100, blank=True, default="")
    lost_reason = models.ForeignKey(
        LostReason,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
        verbose_name=_("lost reason"),
    )
    lost_note = models.CharField(_("lost note"), max_length=500, blank=True, default="")
    position = models.IntegerField(default=0)
    stage_entered_at = models.DateTimeField(_("in this stage since"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    assigned_by_rule = models.ForeignKey(
        "sales.AssignmentRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assignment_reason = models.CharField(_("why this owner"), max_length=300, blank=True, default="")

    class Meta:
        ordering: ClassVar = ["position", "-created_at", "-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(probability__lte=100), name="deal_probability_max_100"),
        ]
        indexes: ClassVar = [
            # the board: one column = one stage's open deals in card order
            models.Index(fields=["stage", "status", "position", "id"], name="deal_board_column"),
            # the home page: my open deals going stale (this month's closing ones: deal_forecast_open)
            models.Index(
                fields=["organization", "owner", "status", "updated_at", "last_activity_at"], name="deal_owner_stale"
            ),
            # the forecast's two aggregates read only these indexes (no table lookups), measured at
            # 100,000 deals in one year on SQLite: 150 ms → 40 ms each
            models.Index(
                fields=[
                    "organization",
                    "status",
                    "expected_close_date",
                    "owner",
                    "pipeline",
                    "currency",
                    "forecast_category",
                    "amount",
                    "probability",
                ],
                name="deal_forecast_open",
            ),
            models.Index(
                fields=["organization", "status", "closed_at", "owner", "pipeline", "currency", "amount"],
                name="deal_forecast_won",
            ),
            models.Index(fields=["organization", "owner", "status"], name="deal_org_owner_status"),
            models.Index(fields=["organization", "-created_at", "-id"], name="deal_org_created"),
            models.Index(fields=["organization", "closed_at"], name="deal_org_closed"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.probability / Decimal(100)).quantize(Decimal("0.01"))


class LineItem(OrgScopedModel):
    """A product (or free text) with quantity, unit price, discount % and tax rate.

    Amounts per line are not rounded; the document's totals are rounded once (services).
    """

    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), **QUANTITY, default=Decimal("1"), validators=[MinValueValidator(0)])
    unit_price = models.DecimalField(_("unit price"), **MONEY, validators=[MinValueValidator(0)])
    discount_percent = models.DecimalField(
        _("discount (%)"), **PERCENT, default=Decimal("0"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    tax_rate = models.DecimalField(
        _("tax rate (%)"), **PERCENT, default=Decimal("0"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        ordering: ClassVar = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.description}"


class DealLineItem(LineItem):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="line_items")

    class Meta(LineItem.Meta):
        pass


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class SalesDocument(OrgScopedModel):
    """What quotes and orders share: a number, the customer, the currency and the stored totals."""

    number = models.CharField(_("number"), max_length=32)
    contact = models.ForeignKey("contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    company = models.ForeignKey("contacts.Company", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    deal = models.ForeignKey(Deal, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    currency = models.CharField(_("currency"), max_length=3)
    owner = _user_fk(_("owner"))
    notes = models.TextField(_("notes"), blank=True, default="", max_length=5000)
    subtotal = models.DecimalField(_("subtotal"), **MONEY, default=Decimal("0"))
    discount_total = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    tax_total = models.DecimalField(_("tax"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.number


class Quote(SalesDocument):
    """A priced offer to a customer; accepted, it becomes an Order."""

    status = models.CharField(_("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "number"], name="quote_unique_number"),
        ]
        indexes: ClassVar = [models.Index(fields=["organization", "-created_at", "-id"], name="quote_org_created")]


class QuoteLine(LineItem):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineItem.Meta):
        pass


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    PAID = "paid", _("Paid")
    FULFILLED = "fulfilled", _("Fulfilled")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")


class OrderChannel(models.TextChoices):
    SALES_REP = "sales_rep", _("Sales rep")
    QUOTE = "quote", _("Accepted quote")
    API = "api", _("API")
    ECOMMERCE = "ecommerce", _("E-commerce")


class Order(SalesDocument):
    """A purchase. `external_id` identifies it in the channel it came from (idempotent imports).

    An order from a shop keeps the shop's own figures: `total` is the shop's total, its lines carry
    their own discount and tax amounts, and what applies to the whole order (a discount code,
    shipping with its tax, fees, duties, tips, an order-level tax) is an `OrderAdjustment`.
    `computed_total` is what the lines and the counted adjustments add up to: when it differs from
    `total` the shop's figures do not add up, and the order says so (`figures_warning`).
    `refunded_total` is the sum of its refunds, so that revenue is counted net of them without
    reading every refund.
    """

    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    channel = models.CharField(
        _("channel"), max_length=16, choices=OrderChannel.choices, default=OrderChannel.SALES_REP
    )
    external_id = models.CharField(_("external id"), max_length=128, blank=True, default="")
    external_number = models.CharField(_("number in the shop"), max_length=64, blank=True, default="")
    external_url = models.URLField(_("page in the shop's admin"), max_length=500, blank=True, default="")
    quote = models.OneToOneField(Quote, on_delete=models.SET_NULL, null=True, blank=True, related_name="order")
    placed_at = models.DateTimeField(_("placed"))
    customer_email = models.CharField(_("customer e-mail"), max_length=254, blank=True, default="")
    billing_address = models.JSONField(_("billing address"), default=dict, blank=True)
    shipping_address = models.JSONField(_("shipping address"), default=dict, blank=True)
    taxes_included = models.BooleanField(_("prices include tax"), default=False)
    discount_codes = models.JSONField(_("discount codes"), default=list, blank=True)
    presentment_currency = models.CharField(_("customer's currency"), max_length=3, blank=True, default="")
    presentment_total = models.DecimalField(_("total in the customer's currency"), **MONEY, null=True, blank=True)
    computed_total = models.DecimalField(_("lines and adjustments"), **MONEY, default=Decimal("0"))
    refunded_total = models.DecimalField(_("refunded"), **MONEY, default=Decimal("0"))
    deleted_at_source = models.DateTimeField(_("deleted in the shop"), null=True, blank=True)
    # per input field, a digest of what created the order: a resend is compared with it (409)
    source_digest = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering: ClassVar = ["-placed_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "number"], name="order_unique_number"),
            models.UniqueConstraint(
                fields=["organization", "channel", "external_id"],
                condition=~models.Q(external_id=""),
                name="order_unique_external_id",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["organization", "-placed_at", "-id"], name="order_org_placed"),
            models.Index(fields=["contact", "-placed_at"], name="order_contact_placed"),
        ]

    @property
    def net_total(self) -> Decimal:
        """What the customer paid and kept: the total less the refunds."""
        return self.total - self.refunded_total

    @property
    def figures_add_up(self) -> bool:
        return self.computed_total == self.total


class OrderLine(LineItem):
    """A line of an order with its own amounts, rounded once to the currency's minor unit: for a
    shop's order exactly the shop's (`subtotal` = quantity × unit price before discounts, then the
    line's discount and tax), so that the lines and adjustments add up to the shop's total."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    unit_price = models.DecimalField(_("unit price"), **UNIT_PRICE, validators=[MinValueValidator(0)])
    sku = models.CharField(_("SKU"), max_length=64, blank=True, default="")
    external_id = models.CharField(_("external id"), max_length=64, blank=True, default="")
    subtotal = models.DecimalField(_("amount before discount"), **MONEY, default=Decimal("0"))
    discount_amount = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    tax_amount = models.DecimalField(_("tax"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))
    presentment_total = models.DecimalField(_("total in the customer's currency"), **MONEY, null=True, blank=True)

    class Meta(LineItem.Meta):
        pass


class AdjustmentKind(models.TextChoices):
    DISCOUNT = "discount", _("Discount")
    SHIPPING = "shipping", _("Shipping")
    FEE = "fee", _("Fee")
    DUTY = "duty", _("Duty")
    TIP = "tip", _("Tip")
    TAX = "tax", _("Tax")
    OTHER = "other", _("Other")


class OrderAdjustment(OrgScopedModel):
    """What applies to a whole order rather than to a line: a discount (with its code), shipping
    (with its own discount and tax), a fee, a duty, a tip, an order-level tax.

    `total` is its effect on the order's total (negative for a discount). A row that only names
    what the lines already carry (a coupon a shop spread over the lines) has `included_in_lines`
    and is not counted again.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="adjustments")
    kind = models.CharField(_("kind"), max_length=10, choices=AdjustmentKind.choices)
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    code = models.CharField(_("code"), max_length=100, blank=True, default="")
    external_id = models.CharField(_("external id"), max_length=64, blank=True, default="")
    amount = models.DecimalField(_("amount"), **MONEY, default=Decimal("0"))
    discount_amount = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    tax_amount = models.DecimalField(_("tax"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))
    included_in_lines = models.BooleanField(_("already in the lines"), default=False)
    presentment_total = models.DecimalField(_("total in the customer's currency"), **MONEY, null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["position", "id"]
        verbose_name = _("order adjustment")
        verbose_name_plural = _("order adjustments")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.total}"


class Refund(OrgScopedModel):
    """Money given back on an order, in full or in part: `amount` is what went back to the
    customer, with the lines (and quantities) it was for and the shipping it returned. A shop's
    refund keeps its id (`external_id`): the same refund sent twice is stored once."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    external_id = models.CharField(_("external id"), max_length=128, blank=True, default="")
    amount = models.DecimalField(_("amount"), **MONEY, validators=[MinValueValidator(0)])
    currency = models.CharField(_("currency"), max_length=3)
    shipping_amount = models.DecimalField(_("shipping refunded"), **MONEY, default=Decimal("0"))
    reason = models.CharField(_("reason"), max_length=500, blank=True, default="")
    refunded_at = models.DateTimeField(_("refunded"))

    class Meta:
        ordering: ClassVar = ["refunded_at", "id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organization", "order", "external_id"],
                condition=~models.Q(external_id=""),
                name="refund_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class RefundLine(OrgScopedModel):
    """A line of an order refunded: how many units and for how much (before tax, then its tax)."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    quantity = models.DecimalField(_("quantity"), **QUANTITY, default=Decimal("0"))
    amount = models.DecimalField(_("amount"), **MONEY, default=Decimal("0"))
    tax_amount = models.DecimalField(_("tax"), **MONEY, default=Decimal("0"))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.description}"


class DocumentCounter(OrgScopedModel):
    """The last number given to a kind of document ("quote", "order"), incremented with F()."""

    kind = models.CharField(max_length=16)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["kind"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "kind"], name="document_counter_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


def new_ical_uid() -> str:
    return uuid.uuid4().hex


class ActivityKind(models.TextChoices):
    TASK = "task", _("Task")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")


class Activity(OrgScopedModel):
    """A task, call or meeting in someone's agenda, optionally about a contact, company or deal."""

    kind = models.CharField(_("kind"), max_length=8, choices=ActivityKind.choices, default=ActivityKind.TASK)
    subject = models.CharField(_("subject"), max_length=200)
    due_at = models.DateTimeField(_("when"))
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), default=30, validators=[MaxValueValidator(24 * 60)]
    )
    assignee = _user_fk(_("assignee"))
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    company = models.ForeignKey(
        "contacts.Company", on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, null=True, blank=True, related_name="activities")
    location = models.CharField(_("location"), max_length=200, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="", max_length=5000)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True, default="", max_length=5000)
    reminder_minutes = models.PositiveIntegerField(_("remind minutes before"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    follow_up_rule = models.ForeignKey(
        "sales.FollowUpRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_key = models.CharField(max_length=100, blank=True, default="")  # e.g. "follow-up:<rule>:<event>"
    ical_uid = models.CharField(max_length=64, default=new_ical_uid, editable=False)
    sequence = models.PositiveIntegerField(default=0)  # RFC 5545 SEQUENCE, bumped on every change

    class Meta:
        ordering: ClassVar = ["due_at", "id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints: ClassVar = [
            # what a rule or task creates is created once, however often it runs (idempotent)
            models.UniqueConstraint(
                fields=["organization", "source_key"], condition=~models.Q(source_key=""), name="activity_unique_source"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["organization", "assignee", "done_at", "due_at"], name="activity_agenda"),
            models.Index(fields=["deal", "due_at"], name="activity_deal"),
            models.Index(fields=["contact", "due_at"], name="activity_contact"),
        ]

    def __str__(self) -> str:
        return self.subject


class FollowUpRule(OrgScopedModel):
    """When a deal enters `stage`, put this activity in the deal owner's agenda `days_after` later."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="follow_up_rules")
    kind = models.CharField(_("kind"), max_length=8, choices=ActivityKind.choices, default=ActivityKind.TASK)
    subject = models.CharField(_("subject"), max_length=200)
    days_after = models.PositiveSmallIntegerField(_("days after"), default=1, validators=[MaxValueValidator(365)])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering: ClassVar = ["stage", "days_after", "id"]

    def __str__(self) -> str:
        return self.subject


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(OrgScopedModel):
    """A user's private iCal feed of their agenda in one organisation, reached by a rotatable secret."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, default=new_feed_token, unique=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "user"], name="calendar_feed_unique_user"),
        ]

    def __str__(self) -> str:
        return f"feed of {self.user_id}"


class AssignmentTarget(models.TextChoices):
    LEADS = "leads", _("New leads")
    DEALS = "deals", _("New deals")
    BOTH = "both", _("Leads and deals")


class AssignmentRule(OrgScopedModel):
    """One ordered rule routing new leads/deals: conditions (territory, product line), then either a
    fixed rep or round robin among a team, respecting each rep's capacity and availability."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    applies_to = models.CharField(
        _("applies to"), max_length=8, choices=AssignmentTarget.choices, default=AssignmentTarget.BOTH
    )
    countries = models.JSONField(_("countries"), default=list, blank=True)
    regions = models.JSONField(_("regions"), default=list, blank=True)
    zone = models.ForeignKey(Zone, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    product_line = models.CharField(_("product line"), max_length=100, blank=True, default="")
    team = models.ForeignKey("accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    user = _user_fk(_("rep"))
    capacity = models.PositiveIntegerField(_("max open deals per rep"), null=True, blank=True)
    last_assigned_user = _user_fk(_("last assigned"))

    class Meta:
        ordering: ClassVar = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class OutOfOffice(OrgScopedModel):
    """A rep is away on these days: round robin skips them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))

    class Meta:
        ordering: ClassVar = ["-starts_on", "id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="out_of_office_range"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.starts_on}–{self.ends_on}"


class AssignmentSettings(OrgScopedModel):
    """The fallback owner when no rule matches (one row per organisation)."""

    fallback_owner = _user_fk(_("fallback owner"))

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization"], name="assignment_settings_one_per_org"),
        ]

    def __str__(self) -> str:
        return f"assignment settings {self.organization_id}"


class Quota(OrgScopedModel):
    """A rep's revenue target for one month or quarter, in the organisation's base currency."""

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(_("period"), max_length=8, choices=Period.choices, default=Period.MONTH)
    starts_on = models.DateField(_("starts on"))
    amount = models.DecimalField(_("amount"), **MONEY, validators=[MinValueValidator(0)])

    class Meta:
        ordering: ClassVar = ["-starts_on", "user", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "user", "period", "starts_on"], name="quota_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.period} {self.starts_on}: {self.amount}"
