"""`manage.py demo_sales --org-slug demo --deals N`: the sales side of the demo organisation.

`manage.py demo` calls it (by name, through call_command, when the sales app is installed: the
contacts app does not import sales). It builds, deterministically for a --seed (apart from "now"):
- the default pipeline (Qualification, Proposal, Negotiation, Won, Lost), lost reasons, exchange
  rates (USD, GBP, MXN to EUR, with a recent update of USD and GBP);
- a catalogue: products in two product lines (software licences and services; point-of-sale
  hardware) with Spanish and English names, a default EUR price list and a default USD one;
- sales territories (zones), two assignment rules and the fallback owner; follow-up rules on the
  Proposal and Negotiation stages;
- N deals spread over the stages, the members, the customers and 9 months of close dates, some won
  (and lost, with a reason); about a third of the open EUR/USD deals carry line items, and then the
  deal's amount is the net total of its lines;
- quotes on about 5 % of the deals, at least two in each state (drafts and sent ones on open deals,
  accepted on won deals, declined on lost ones), totalled by the services' own `compute_totals` and
  numbered through the DocumentCounter, so the next quote made in the app gets the next number;
- orders: one per accepted quote, plus e-commerce and sales-rep orders over the last 18 months,
  each with its `order.placed` event on the contact's timeline (the properties
  services/documents.py emits), their contacts becoming customers;
- activities (tasks, calls, meetings) in the reps' agendas, about one per 5 deals (at most
  20,000): overdue ones, today's, this week's, done ones with their outcome, some with reminders;
- monthly quotas for every rep, 6 months back and 3 ahead, sized on what each rep wins.

Speed: like the contacts demo it bypasses the services (one call per deal would take minutes at
300,000 deals) and writes what they write, in batches through the contacts demo's RowWriter (one
executemany per batch; measured: 5 times faster than bulk_create here). The work per deal is
constant; nothing is done per contact. No audit entries: generated data has no author.

Running it again on the same organisation adds deals, quotes, orders and activities (numbered
after the existing ones) and leaves the catalogue, zones, rules and quotas as they are;
`manage.py demo --if-empty` never runs it twice.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django_scopes import scopes_disabled

from vinculo.accounts.models import Membership, Organization, Role, Team
from vinculo.contacts.management.commands.demo import (  # the contacts demo's fast INSERT, event rows
    EVENT_COLUMNS,
    RowWriter,
    allocate_ids,
)
from vinculo.contacts.models import Contact, LifecycleStage
from vinculo.core.models import Event
from vinculo.sales.models import (
    Activity,
    ActivityKind,
    AssignmentRule,
    AssignmentSettings,
    AssignmentTarget,
    Deal,
    DealLineItem,
    DealStatus,
    DocumentCounter,
    ExchangeRate,
    FollowUpRule,
    ForecastCategory,
    LostReason,
    Order,
    OrderChannel,
    OrderLine,
    OrderStatus,
    Pipeline,
    PriceList,
    PriceListItem,
    Product,
    Quota,
    Quote,
    QuoteLine,
    QuoteStatus,
    Stage,
    StageKind,
    Zone,
)
from vinculo.sales.pricing import PricedLine, compute_totals, line_amounts, order_totals
from vinculo.sales.services.deals import net_total
from vinculo.sales.services.documents import PREFIXES
from vinculo.sales.services.pipelines import default_stages

BATCH = 5_000
DAYS = 548  # 18 months of orders, like the contacts demo's history
DEAL_COLUMNS = (
    "id",
    "organization_id",
    "pipeline_id",
    "stage_id",
    "status",
    "title",
    "contact_id",
    "company_id",
    "amount",
    "currency",
    "expected_close_date",
    "probability",
    "probability_reason",
    "owner_id",
    "forecast_category",
    "zone_id",
    "product_line",
    "lost_reason_id",
    "lost_note",
    "position",
    "stage_entered_at",
    "last_activity_at",
    "closed_at",
    "created_at",
    "updated_at",
)
LINE_COLUMNS = (
    "organization_id",
    "product_id",
    "description",
    "quantity",
    "unit_price",
    "discount_percent",
    "tax_rate",
    "position",
    "created_at",
    "updated_at",
)
DOCUMENT_COLUMNS = (
    "id",
    "organization_id",
    "number",
    "contact_id",
    "company_id",
    "deal_id",
    "currency",
    "owner_id",
    "subtotal",
    "discount_total",
    "tax_total",
    "total",
    "status",
    "created_at",
    "updated_at",
)
QUOTE_COLUMNS = (*DOCUMENT_COLUMNS, "valid_until", "accepted_at")
ORDER_COLUMNS = (*DOCUMENT_COLUMNS, "channel", "external_id", "quote_id", "placed_at", "computed_total")
ORDER_LINE_COLUMNS = ("order_id", *LINE_COLUMNS, "subtotal", "discount_amount", "tax_amount", "total")
ACTIVITY_COLUMNS = (
    "organization_id",
    "kind",
    "subject",
    "due_at",
    "duration_minutes",
    "assignee_id",
    "contact_id",
    "company_id",
    "deal_id",
    "location",
    "description",
    "done_at",
    "outcome",
    "reminder_minutes",
    "created_at",
    "updated_at",
)
LOST_REASONS = ("Price", "Went with a competitor", "No budget", "No decision", "Bad timing", "Missing feature")
LOST_NOTES = (
    "Chose the cheaper offer.",
    "Budget frozen until next year.",
    "Se quedan con su proveedor actual.",
    "No respondieron tras la demo.",
)
RATES = {"USD": Decimal("0.92"), "GBP": Decimal("1.17"), "MXN": Decimal("0.052")}
RECENT_RATES = {"USD": Decimal("0.86"), "GBP": Decimal("1.15")}  # valid from 3 months ago
CURRENCY_BY_COUNTRY = {"US": "USD", "GB": "GBP", "MX": "MXN"}
# share of the deals in each stage, in the order of DEFAULT_STAGES
STAGE_WEIGHTS = (30, 22, 13, 20, 15)
PRODUCTS = (
    "team kit",
    "spring order",
    "tents renewal",
    "trail running line",
    "store fit-out",
    "online shop bundle",
    "winter collection",
    "climbing gear",
)
OPEN_CATEGORIES = (ForecastCategory.PIPELINE,) * 3 + (ForecastCategory.BEST_CASE, ForecastCategory.COMMIT)

# --- the catalogue ----------------------------------------------------------------------------------

SOFTWARE, HARDWARE = "Software", "Hardware"
VAT = Decimal("21.00")


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    line: str
    eur: Decimal
    usd: Decimal
    quantities: tuple[int, int]  # what one deal usually buys


CATALOGUE = (
    ProductSpec(
        "SW-CRM-PRO", "Licencia CRM Profesional (anual, por usuario)", SOFTWARE, Decimal("480"), Decimal("540"), (5, 40)
    ),
    ProductSpec(
        "SW-CRM-ENT", "CRM Enterprise licence (annual, per user)", SOFTWARE, Decimal("900"), Decimal("990"), (10, 80)
    ),
    ProductSpec(
        "SW-ECOM", "Módulo de comercio electrónico (anual)", SOFTWARE, Decimal("2400"), Decimal("2650"), (1, 1)
    ),
    ProductSpec("SW-MKT", "Marketing automation add-on (annual)", SOFTWARE, Decimal("1800"), Decimal("1990"), (1, 1)),
    ProductSpec("SRV-IMPL", "Servicio de implantación (jornada)", SOFTWARE, Decimal("650"), Decimal("720"), (2, 15)),
    ProductSpec("SRV-TRAIN", "Training workshop (half day)", SOFTWARE, Decimal("450"), Decimal("499.90"), (1, 4)),
    ProductSpec("SRV-SUPPORT", "Soporte premium 24/7 (anual)", SOFTWARE, Decimal("3000"), Decimal("3300"), (1, 1)),
    ProductSpec("SRV-MIGR", "Data migration service", SOFTWARE, Decimal("1200"), Decimal("1350"), (1, 1)),
    ProductSpec("HW-POS-15", "Terminal punto de venta táctil 15″", HARDWARE, Decimal("899"), Decimal("989"), (1, 12)),
    ProductSpec("HW-SCAN", "Handheld barcode scanner", HARDWARE, Decimal("189.90"), Decimal("209.90"), (1, 20)),
    ProductSpec("HW-PRN", "Impresora de tickets térmica", HARDWARE, Decimal("249"), Decimal("279"), (1, 12)),
    ProductSpec("HW-TAB-10", "Rugged 10″ warehouse tablet", HARDWARE, Decimal("649"), Decimal("719"), (1, 10)),
    ProductSpec("HW-DRAWER", "Cajón portamonedas", HARDWARE, Decimal("119.50"), Decimal("129"), (1, 12)),
    ProductSpec("HW-LABEL", "Label printer", HARDWARE, Decimal("329"), Decimal("359"), (1, 6)),
    ProductSpec(
        "SRV-ONSITE", "Instalación y puesta en marcha en tienda", HARDWARE, Decimal("390"), Decimal("430"), (1, 5)
    ),
)
PRICE_LISTS = (("Tarifa general EUR", "EUR"), ("US list price", "USD"))
DISCOUNTS = (Decimal(0),) * 6 + (Decimal(5), Decimal(10), Decimal("12.5"), Decimal(15))

# --- territories, rules, follow-ups -----------------------------------------------------------------

ZONES = (
    ("Iberia", ["ES", "PT"]),
    ("DACH", ["DE", "AT", "CH"]),
    ("Americas", ["US", "MX", "AR", "BR", "CA", "CL", "CO", "PE"]),
    ("UK & Ireland", ["GB", "IE"]),
)
FOLLOW_UPS = (  # (index among the open stages, kind, subject, days after)
    (1, ActivityKind.TASK, "Send the proposal", 1),
    (2, ActivityKind.CALL, "Call to close", 2),
)

# --- activities ---------------------------------------------------------------------------------------

SUBJECTS = {
    "en": {
        ActivityKind.TASK: ("Send the proposal", "Prepare the demo", "Update the contract draft", "Check credit terms"),
        ActivityKind.CALL: ("Discovery call", "Follow-up call", "Call to close", "Check-in call"),
        ActivityKind.MEETING: ("Product demo", "Negotiation meeting", "Kick-off meeting", "Quarterly review"),
    },
    "es": {
        ActivityKind.TASK: (
            "Enviar la propuesta",
            "Preparar la demo",
            "Revisar el contrato",
            "Pedir datos de facturación",
        ),
        ActivityKind.CALL: (
            "Llamada de descubrimiento",
            "Llamada de seguimiento",
            "Llamar para cerrar",
            "Llamada de control",
        ),
        ActivityKind.MEETING: (
            "Demo del producto",
            "Reunión de negociación",
            "Reunión de arranque",
            "Revisión trimestral",
        ),
    },
}
OUTCOMES = {
    "en": (
        "Interested; wants prices for 20 more seats.",
        "No answer, left a voicemail.",
        "Agreed next step: a pilot in two stores.",
        "Decision postponed to next quarter.",
        "Sent the revised quote.",
    ),
    "es": (
        "Interesados; piden precio para 20 usuarios más.",
        "No contesta, dejé mensaje.",
        "Acordamos un piloto en dos tiendas.",
        "Deciden el próximo trimestre.",
        "Enviado el presupuesto revisado.",
    ),
}
LOCATIONS = ("Google Meet", "Zoom", "Customer's office", "Oficina del cliente", "Oficina de Madrid")
# which moment each activity falls on, cycled so that every agenda section has items
WHEN_PATTERN = ("done", "overdue", "today", "week", "done", "later", "week", "done", "today", "overdue") * 2
ACTIVITY_CAP = 20_000
MIN_QUOTES = 2  # of each status
ROLE_WEIGHTS: dict[str, int] = {
    Role.OWNER: 3,
    Role.MANAGER: 2,
    Role.SALES: 3,
}  # the demo login (owner) gets a busy agenda


@dataclass
class Rep:
    user_id: int
    role: str
    language: str


@dataclass
class Catalogue:
    products: dict[str, list[Product]] = field(default_factory=dict)  # by product line
    prices: dict[str, dict[int, Decimal]] = field(default_factory=dict)  # currency → product id → price
    specs: dict[int, ProductSpec] = field(default_factory=dict)


@dataclass
class DocSpec:
    """A quote or an order waiting for its number (numbers follow the dates)."""

    at: dt.datetime
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    currency: str
    owner_id: int | None
    status: str
    lines: list[PricedLine]
    pk: int = 0
    number: str = ""
    valid_until: dt.date | None = None
    accepted_at: dt.datetime | None = None
    channel: str = OrderChannel.SALES_REP
    external_id: str = ""
    quote: DocSpec | None = None


def build_sales(*, organization: Organization, deals: int, seed: int = 42) -> dict[str, int]:
    """Add the sales side to the organisation (see the module's docstring). Returns counts."""
    rng = random.Random(seed * 7919 + 3)
    now = timezone.now().replace(microsecond=0)
    today = now.date()
    org = organization
    with scopes_disabled(), transaction.atomic():
        pipeline = Pipeline.objects.filter(organization=org).order_by("-is_default", "id").first()
        if pipeline is None:
            pipeline = Pipeline.objects.create(organization=org, name="Sales", is_default=True)
            Stage.objects.bulk_create(
                Stage(organization=org, pipeline=pipeline, position=i, **spec)
                for i, spec in enumerate(default_stages())
            )
        stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))
        existing = set(LostReason.objects.filter(organization=org).values_list("name", flat=True))
        LostReason.objects.bulk_create(
            LostReason(organization=org, name=name) for name in LOST_REASONS if name not in existing
        )
        reasons = list(LostReason.objects.filter(organization=org).order_by("id"))
        _rates(org, today)
        reps = [
            Rep(user_id, role, language)
            for user_id, role, language in Membership.objects.filter(
                organization=org, role__in=("owner", "manager", "sales")
            )
            .order_by("id")
            .values_list("user_id", "role", "user__language")
        ]
        catalogue = _catalogue(org, now)
        zones = _zones(org)
        _assignment(org, zones, reps)
        follow_ups = _follow_up_rules(org, stages)
    owners = [rep.user_id for rep in reps]
    customers = _customers(org, deals)
    weights = STAGE_WEIGHTS[: len(stages)] if len(stages) == len(STAGE_WEIGHTS) else [1] * len(stages)
    positions = dict.fromkeys((s.pk for s in stages), 0)
    zone_by_country = {country: zone.pk for zone in zones for country in zone.countries}
    country_of = {pk: country for pk, _company, country, _name in customers}
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    writer = RowWriter(Deal, DEAL_COLUMNS)
    line_writer = RowWriter(DealLineItem, ("deal_id", *LINE_COLUMNS))
    created = lines_written = 0
    quotes: list[DocSpec] = []
    made: Counter[str] = Counter()
    open_deals: list[tuple[int, int | None, int | None, int | None]] = []  # id, contact, company, owner
    for offset in range(0, deals, BATCH):
        with scopes_disabled(), transaction.atomic():
            ids = allocate_ids(Deal, min(BATCH, deals - offset))
            rows: list[tuple[Any, ...]] = []
            line_rows: list[tuple[Any, ...]] = []
            for pk in ids:
                stage = rng.choices(stages, weights=weights)[0]
                deal = _deal(org, pipeline, stage, rng, now, owners, customers, reasons, positions)
                deal.pk = pk
                deal.zone_id = zone_by_country.get(country_of.get(deal.contact_id or 0, ""))
                quote_status = _quote_status(stage, open_stages, deal, catalogue, made, rng)
                wants_lines = deal.status == DealStatus.OPEN and rng.random() < 0.35
                if deal.currency in catalogue.prices and (wants_lines or quote_status):
                    lines = _lines(catalogue, deal.currency, rng)
                    deal.amount = net_total(compute_totals(lines))  # as deal_set_line_items sets it
                    deal.product_line = lines[0].product.product_line if lines[0].product else ""
                    line_rows.extend(_line_rows(org.pk, pk, lines, deal.created_at))
                    if quote_status:
                        quotes.append(_quote_for(deal, quote_status, lines, owners, now, rng))
                if deal.status == DealStatus.OPEN:
                    open_deals.append((pk, deal.contact_id, deal.company_id, deal.owner_id))
                rows.append(tuple(getattr(deal, column) for column in DEAL_COLUMNS))
            created += writer.write(rows)
            lines_written += line_writer.write(line_rows)
    with scopes_disabled(), transaction.atomic():
        orders = _orders(org, catalogue, customers, quotes, owners, deals, now, seed, rng)
        _write_documents(org, quotes, orders, seed)
        activities = _activities(org, reps, open_deals, deals, now, rng)
        quotas = _quotas(org, reps, today, rng)
    return {
        "deals": created,
        "stages": len(stages),
        "lost_reasons": len(reasons),
        "deal_lines": lines_written,
        "products": sum(len(p) for p in catalogue.products.values()),
        "quotes": len(quotes),
        "orders": len(orders),
        "activities": activities,
        "quotas": quotas,
        "follow_up_rules": follow_ups,
    }


# --- settings: rates, catalogue, zones, rules -------------------------------------------------------


def _rates(org: Organization, today: dt.date) -> None:
    recent = (today.replace(day=1) - dt.timedelta(days=80)).replace(day=1)
    for currency, rate in RATES.items():
        if currency == org.base_currency:
            continue
        ExchangeRate.objects.get_or_create(
            organization=org, currency=currency, valid_from=dt.date(today.year - 1, 1, 1), defaults={"rate": rate}
        )
        if currency in RECENT_RATES:
            ExchangeRate.objects.get_or_create(
                organization=org, currency=currency, valid_from=recent, defaults={"rate": RECENT_RATES[currency]}
            )


def _catalogue(org: Organization, now: dt.datetime) -> Catalogue:
    """The products and their EUR and USD prices, created once (matched by SKU and list name)."""
    known = set(Product.objects.filter(organization=org).values_list("sku", flat=True))
    Product.objects.bulk_create(
        Product(organization=org, sku=s.sku, name=s.name, product_line=s.line, tax_rate=VAT, created_at=now)
        for s in CATALOGUE
        if s.sku not in known
    )
    by_sku = {p.sku: p for p in Product.objects.filter(organization=org, sku__in=[s.sku for s in CATALOGUE])}
    catalogue = Catalogue()
    for spec in CATALOGUE:
        product = by_sku[spec.sku]
        catalogue.products.setdefault(spec.line, []).append(product)
        catalogue.specs[product.pk] = spec
    for name, currency in PRICE_LISTS:
        has_default = PriceList.objects.filter(organization=org, currency=currency, is_default=True).exists()
        price_list, _created = PriceList.objects.get_or_create(
            organization=org, name=name, defaults={"currency": currency, "is_default": not has_default}
        )
        priced = set(PriceListItem.objects.filter(price_list=price_list).values_list("product_id", flat=True))
        PriceListItem.objects.bulk_create(
            PriceListItem(
                organization=org,
                price_list=price_list,
                product=product,
                unit_price=getattr(catalogue.specs[product.pk], currency.lower()),
            )
            for product in by_sku.values()
            if product.pk not in priced
        )
        prices = dict(
            PriceListItem.objects.filter(price_list=price_list, product__in=list(by_sku.values())).values_list(
                "product_id", "unit_price"
            )
        )
        if price_list.currency == currency and len(prices) == len(by_sku):  # else no lines in this currency
            catalogue.prices[currency] = prices
    return catalogue


def _zones(org: Organization) -> list[Zone]:
    known = set(Zone.objects.filter(organization=org).values_list("name", flat=True))
    Zone.objects.bulk_create(
        Zone(organization=org, name=name, countries=countries) for name, countries in ZONES if name not in known
    )
    return list(Zone.objects.filter(organization=org, name__in=[name for name, _c in ZONES]).order_by("id"))


def _assignment(org: Organization, zones: list[Zone], reps: list[Rep]) -> None:
    """Iberia to one Spanish-speaking rep, the Americas round robin in the sales team, the rest to
    the fallback owner (the manager, else the first rep)."""
    if not reps:
        return
    zone = {z.name: z for z in zones}
    sales = [r for r in reps if r.role == Role.SALES] or reps
    iberia_rep = next((r for r in sales if r.language == "es"), sales[0])
    manager = next((r for r in reps if r.role == Role.MANAGER), reps[0])
    team = Team.objects.filter(organization=org).order_by("id").first()
    rules = [
        {"name": "Iberia", "zone": zone.get("Iberia"), "user_id": iberia_rep.user_id},
        {"name": "Americas", "zone": zone.get("Americas"), "team": team, "capacity": 400}
        if team is not None
        else {"name": "Americas", "zone": zone.get("Americas"), "user_id": sales[-1].user_id},
    ]
    known = set(AssignmentRule.objects.filter(organization=org).values_list("name", flat=True))
    start = AssignmentRule.objects.filter(organization=org).count()
    AssignmentRule.objects.bulk_create(
        AssignmentRule(organization=org, position=start + i, applies_to=AssignmentTarget.BOTH, **rule)
        for i, rule in enumerate(r for r in rules if r["name"] not in known)
    )
    AssignmentSettings.objects.get_or_create(organization=org, defaults={"fallback_owner_id": manager.user_id})


def _follow_up_rules(org: Organization, stages: list[Stage]) -> int:
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    for index, kind, subject, days in FOLLOW_UPS:
        if index < len(open_stages):
            FollowUpRule.objects.get_or_create(
                organization=org,
                stage=open_stages[index],
                subject=subject,
                defaults={"kind": kind, "days_after": days},
            )
    return FollowUpRule.objects.filter(organization=org).count()


# --- deals ------------------------------------------------------------------------------------------


def _customers(org: Organization, deals: int) -> list[tuple[int, int | None, str, str]]:
    """(contact id, company id, country, name) of up to `deals` contacts, companies first."""
    with scopes_disabled():
        return [
            (pk, company_id, str(country or ""), f"{company or last_name or first_name}")
            for pk, company_id, country, company, first_name, last_name in Contact.objects.filter(organization=org)
            .order_by("-company_id", "id")
            .values_list("id", "company_id", "country", "company__name", "first_name", "last_name")[: max(deals, 1)]
        ]


def _deal(
    org: Organization,
    pipeline: Pipeline,
    stage: Stage,
    rng: random.Random,
    now: dt.datetime,
    owners: list[int],
    customers: list[tuple[int, int | None, str, str]],
    reasons: list[LostReason],
    positions: dict[int, int],
) -> Deal:
    contact_id, company_id, country, name = rng.choice(customers) if customers else (None, None, "", "Walk-in")
    currency = CURRENCY_BY_COUNTRY.get(country, org.base_currency)
    amount = Decimal(rng.randrange(20, 2500) * 50) + Decimal(rng.choice((0, 0, 0, 50))) / 100
    created_at = now - dt.timedelta(days=rng.randint(1, 270), minutes=rng.randint(0, 1440))
    close = (created_at + dt.timedelta(days=rng.randint(20, 150))).date()
    positions[stage.pk] += 1
    deal = Deal(
        organization=org,
        pipeline=pipeline,
        stage=stage,
        title=f"{name[:80]}: {rng.choice(PRODUCTS)}",
        contact_id=contact_id,
        company_id=company_id,
        amount=amount,
        currency=currency,
        expected_close_date=close,
        probability=stage.probability,
        owner_id=rng.choice(owners) if owners and rng.random() > 0.05 else None,
        position=positions[stage.pk],
        stage_entered_at=created_at + dt.timedelta(days=rng.randint(0, 15)),
        last_activity_at=now - dt.timedelta(days=rng.randint(0, 40)) if rng.random() < 0.7 else None,
        created_at=created_at,
        updated_at=max(created_at, now - dt.timedelta(days=rng.randint(0, 60))),
    )
    if stage.kind == StageKind.OPEN:
        deal.status = DealStatus.OPEN
        deal.forecast_category = rng.choice(OPEN_CATEGORIES)
        if rng.random() < 0.1:
            deal.probability = min(95, stage.probability + rng.choice((10, 15, 20)))
            deal.probability_reason = rng.choice(("Verbal yes from the buyer", "Budget approved", "Pilot went well"))
    else:
        closed_at = min(now, dt.datetime.combine(close, dt.time(12), tzinfo=dt.UTC))
        deal.closed_at = max(closed_at, created_at)
        deal.status = DealStatus.WON if stage.kind == StageKind.WON else DealStatus.LOST
        deal.forecast_category = ForecastCategory.CLOSED if stage.kind == StageKind.WON else ForecastCategory.OMITTED
        if stage.kind == StageKind.LOST and reasons:
            deal.lost_reason = rng.choice(reasons)
            if rng.random() < 0.3:
                deal.lost_note = rng.choice(LOST_NOTES)
    return deal


def _lines(catalogue: Catalogue, currency: str, rng: random.Random) -> list[PricedLine]:
    """One to four products of one product line, priced from the currency's default list."""
    prices = catalogue.prices[currency]
    line = rng.choice((SOFTWARE, SOFTWARE, HARDWARE))
    products = rng.sample(catalogue.products[line], rng.randint(1, 4))
    priced = []
    for product in products:
        low, high = catalogue.specs[product.pk].quantities
        priced.append(
            PricedLine(
                product=product,
                description=product.name,
                quantity=Decimal(rng.randint(low, high)),
                unit_price=prices[product.pk],
                discount_percent=rng.choice(DISCOUNTS),
                # EUR sales carry Spanish VAT; US sales are exports, without it
                tax_rate=product.tax_rate if currency == "EUR" else Decimal(0),
            )
        )
    return priced


def _line_rows(org_id: int, parent_id: int, lines: Sequence[PricedLine], at: dt.datetime) -> list[tuple[Any, ...]]:
    return [
        (
            parent_id,
            org_id,
            line.product.pk if line.product else None,
            line.description,
            line.quantity,
            line.unit_price,
            line.discount_percent,
            line.tax_rate,
            position,
            at,
            at,
        )
        for position, line in enumerate(lines)
    ]


def _quote_status(
    stage: Stage, open_stages: list[Stage], deal: Deal, catalogue: Catalogue, made: Counter[str], rng: random.Random
) -> str | None:
    """Whether this deal gets a quote, and in which state: ~5 % of all deals, and at least
    MIN_QUOTES of each state (drafts in Proposal, sent ones in Negotiation, accepted on won deals,
    declined on lost ones) so that a small demo shows them all. `made` counts them."""
    if deal.contact_id is None or deal.currency not in catalogue.prices:
        return None
    r = rng.random()
    status: str | None = None
    if stage.kind == StageKind.WON:
        status = QuoteStatus.ACCEPTED if r < 0.1 or made[QuoteStatus.ACCEPTED] < MIN_QUOTES else None
    elif stage.kind == StageKind.LOST:
        status = QuoteStatus.DECLINED if r < 0.08 or made[QuoteStatus.DECLINED] < MIN_QUOTES else None
    else:
        index = open_stages.index(stage) if stage in open_stages else 0
        if index == 1 and (r < 0.1 or made[QuoteStatus.DRAFT] < MIN_QUOTES):
            status = QuoteStatus.DRAFT if r < 0.05 or made[QuoteStatus.DRAFT] < MIN_QUOTES else QuoteStatus.SENT
        elif index >= 2 and (r < 0.15 or made[QuoteStatus.SENT] < MIN_QUOTES):
            status = QuoteStatus.DRAFT if r < 0.04 and made[QuoteStatus.SENT] >= MIN_QUOTES else QuoteStatus.SENT
    if status is not None:
        made[status] += 1
    return status


def _quote_for(
    deal: Deal, status: str, lines: list[PricedLine], owners: list[int], now: dt.datetime, rng: random.Random
) -> DocSpec:
    end = deal.closed_at or now
    at = deal.created_at + (end - deal.created_at) * rng.uniform(0.2, 0.8)
    at = at.replace(microsecond=0)
    quote = DocSpec(
        at=at,
        contact_id=deal.contact_id,
        company_id=deal.company_id,
        deal_id=deal.pk,
        currency=deal.currency,
        owner_id=deal.owner_id or (rng.choice(owners) if owners else None),
        status=status,
        lines=lines,
        valid_until=(at + dt.timedelta(days=30)).date(),
    )
    if status == QuoteStatus.ACCEPTED:
        quote.accepted_at = deal.closed_at
    return quote


# --- quotes and orders ------------------------------------------------------------------------------


def _orders(
    org: Organization,
    catalogue: Catalogue,
    customers: list[tuple[int, int | None, str, str]],
    quotes: list[DocSpec],
    owners: list[int],
    deals: int,
    now: dt.datetime,
    seed: int,
    rng: random.Random,
) -> list[DocSpec]:
    """An order per accepted quote, and e-commerce and sales-rep orders of EUR and USD customers
    over the last 18 months (one per 10 and one per 20 deals)."""
    orders = []
    for quote in quotes:
        if quote.status == QuoteStatus.ACCEPTED and quote.accepted_at is not None:
            orders.append(
                DocSpec(
                    at=quote.accepted_at,
                    contact_id=quote.contact_id,
                    company_id=quote.company_id,
                    deal_id=quote.deal_id,
                    currency=quote.currency,
                    owner_id=quote.owner_id,
                    status=OrderStatus.FULFILLED if rng.random() < 0.7 else OrderStatus.PAID,
                    lines=quote.lines,
                    channel=OrderChannel.QUOTE,
                    quote=quote,
                )
            )
    buyers = [c for c in customers if CURRENCY_BY_COUNTRY.get(c[2], org.base_currency) in catalogue.prices]
    if not buyers:
        return orders
    for n in range(min(deals // 10 + deals // 20, 20_000)):
        ecommerce = n % 3 != 2
        contact_id, company_id, country, _name = rng.choice(buyers)
        at = now - dt.timedelta(seconds=rng.randint(3600, DAYS * 86400))
        age = (now - at).days
        if age < 3:
            status = OrderStatus.PLACED
        elif age < 10:
            status = rng.choice((OrderStatus.PAID, OrderStatus.FULFILLED))
        else:
            status = rng.choice((OrderStatus.FULFILLED,) * 12 + (OrderStatus.CANCELLED, OrderStatus.REFUNDED))
        currency = CURRENCY_BY_COUNTRY.get(country, org.base_currency)
        lines = _lines(catalogue, currency, rng)
        if ecommerce:  # a web shop sells a few items at list price
            for line in lines:
                line.quantity = Decimal(min(int(line.quantity), 3))
                line.discount_percent = Decimal(0)
        orders.append(
            DocSpec(
                at=at,
                contact_id=contact_id,
                company_id=company_id,
                deal_id=None,
                currency=currency,
                owner_id=None if ecommerce else (rng.choice(owners) if owners else None),
                status=status,
                lines=lines,
                channel=OrderChannel.ECOMMERCE if ecommerce else OrderChannel.SALES_REP,
                external_id=f"SHOP-{seed}-{n + 1:07d}" if ecommerce else "",
            )
        )
    return orders


def _number(org: Organization, kind: str, documents: list[DocSpec]) -> None:
    """Numbers after the counter's value, in date order; the counter ends at the last one given."""
    counter, _created = DocumentCounter.objects.select_for_update().get_or_create(organization=org, kind=kind)
    documents.sort(key=lambda d: d.at)
    for k, document in enumerate(documents, start=counter.value + 1):
        document.number = f"{PREFIXES[kind]}-{k:05d}"
    DocumentCounter.objects.filter(pk=counter.pk).update(value=counter.value + len(documents))


def _document_row(org_id: int, d: DocSpec) -> tuple[Any, ...]:
    totals = compute_totals(d.lines)
    updated = d.accepted_at or d.at
    return (
        d.pk,
        org_id,
        d.number,
        d.contact_id,
        d.company_id,
        d.deal_id,
        d.currency,
        d.owner_id,
        totals.subtotal,
        totals.discount_total,
        totals.tax_total,
        totals.total,
        d.status,
        d.at,
        updated,
    )


def _order_total(d: DocSpec) -> Decimal:
    """An order's total as the order services compute it: the sum of its lines' rounded amounts."""
    return order_totals(d.lines, [], d.currency).total


def _order_row(org_id: int, d: DocSpec) -> tuple[Any, ...]:
    totals = order_totals(d.lines, [], d.currency)
    row = list(_document_row(org_id, d))
    row[8:12] = [totals.subtotal, totals.discount_total, totals.tax_total, totals.total]
    return tuple(row)


def _write_documents(org: Organization, quotes: list[DocSpec], orders: list[DocSpec], seed: int) -> None:
    _number(org, "quote", quotes)
    _number(org, "order", orders)
    for d, pk in zip(quotes, allocate_ids(Quote, len(quotes)), strict=True):
        d.pk = pk
    for d, pk in zip(orders, allocate_ids(Order, len(orders)), strict=True):
        d.pk = pk
    RowWriter(Quote, QUOTE_COLUMNS).write((*_document_row(org.pk, q), q.valid_until, q.accepted_at) for q in quotes)
    RowWriter(QuoteLine, ("quote_id", *LINE_COLUMNS)).write(
        row for q in quotes for row in _line_rows(org.pk, q.pk, q.lines, q.at)
    )
    RowWriter(Order, ORDER_COLUMNS).write(
        (*_order_row(org.pk, o), o.channel, o.external_id, o.quote.pk if o.quote else None, o.at, _order_total(o))
        for o in orders
    )
    RowWriter(OrderLine, ORDER_LINE_COLUMNS).write(
        (*row, amounts.subtotal, amounts.discount, amounts.tax, amounts.total)
        for o in orders
        for row, amounts in zip(
            _line_rows(org.pk, o.pk, o.lines, o.at),
            (line_amounts(line, o.currency) for line in o.lines),
            strict=True,
        )
    )
    # `order.placed` on the customer's timeline, as services/documents.py::_place emits it
    RowWriter(Event, EVENT_COLUMNS).write(
        (
            org.pk,
            o.contact_id,
            o.company_id,
            "order.placed",
            "crm",
            {
                "order_id": o.pk,
                "number": o.number,
                "total": f"{_order_total(o):.2f}",
                "currency": o.currency,
                "channel": o.channel,
                "lines": len(o.lines),
            },
            o.owner_id,
            o.at,
            o.at,
            o.at,
            o.at,
            f"demo-sales-{seed}-order-{o.pk}",
        )
        for o in orders
    )
    buyers = sorted({o.contact_id for o in orders if o.contact_id is not None})
    for start in range(0, len(buyers), 500):
        Contact.objects.filter(organization=org, id__in=buyers[start : start + 500]).exclude(
            lifecycle_stage=LifecycleStage.CUSTOMER
        ).update(lifecycle_stage=LifecycleStage.CUSTOMER)


# --- agendas and quotas -----------------------------------------------------------------------------


def _activities(
    org: Organization,
    reps: list[Rep],
    open_deals: list[tuple[int, int | None, int | None, int | None]],
    deals: int,
    now: dt.datetime,
    rng: random.Random,
) -> int:
    """About one activity per 5 deals (at least 60, at most ACTIVITY_CAP) in the reps' agendas."""
    if not reps:
        return 0
    language = {r.user_id: r.language if r.language in SUBJECTS else "en" for r in reps}
    weights = [ROLE_WEIGHTS.get(r.role, 1) for r in reps]
    today = now.date()
    rows = []
    for n in range(min(ACTIVITY_CAP, max(60, deals // 5))):
        kind = rng.choice((ActivityKind.TASK, ActivityKind.TASK, ActivityKind.CALL, ActivityKind.MEETING))
        assignee = rng.choices(reps, weights=weights)[0].user_id
        deal_id = contact_id = company_id = None
        r = rng.random()
        if open_deals and r < 0.5:
            deal_id, contact_id, company_id, owner_id = rng.choice(open_deals)
            assignee = owner_id or assignee
            if contact_id is not None:
                company_id = None
        elif open_deals and r < 0.7:
            _deal_id, contact_id, _company, _owner = rng.choice(open_deals)
        when = WHEN_PATTERN[n % len(WHEN_PATTERN)]
        hour, minute = rng.randint(8, 18), rng.choice((0, 15, 30, 45))
        if when in ("done", "overdue"):
            day = today - dt.timedelta(days=rng.randint(1, 20))
        elif when == "today":
            day = today
        elif when == "week":
            day = today + dt.timedelta(days=rng.randint(1, 6))
        else:
            day = today + dt.timedelta(days=rng.randint(7, 30))
        due = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)
        done = when == "done" or (when == "today" and due < now and rng.random() < 0.5)
        lang = language.get(assignee, "en") if assignee is not None else "en"
        rows.append(
            (
                org.pk,
                kind,
                rng.choice(SUBJECTS[lang][kind]),
                due,
                {ActivityKind.CALL: 15, ActivityKind.MEETING: rng.choice((30, 60, 90))}.get(kind, 30),
                assignee,
                contact_id,
                company_id,
                deal_id,
                rng.choice(LOCATIONS) if kind == ActivityKind.MEETING else "",
                "",
                min(now, due + dt.timedelta(minutes=rng.randint(0, 240))) if done else None,
                rng.choice(OUTCOMES[lang]) if done else "",
                rng.choice((15, 30, 60)) if due > now and rng.random() < 0.4 else None,
                min(now, due - dt.timedelta(days=rng.randint(1, 10))),
                min(now, due + dt.timedelta(hours=4)) if done else min(now, due - dt.timedelta(days=1)),
            )
        )
    return RowWriter(Activity, ACTIVITY_COLUMNS).write(rows)


def _quotas(org: Organization, reps: list[Rep], today: dt.date, rng: random.Random) -> int:
    """Monthly quotas per rep from 6 months back to 3 ahead, about what the rep has been winning a
    month (in the base currency, at the demo's rates), so the forecast shows a real attainment."""
    if not reps:
        return 0
    first = today.replace(day=1)
    months = [_add_months(first, k) for k in range(-6, 4)]
    since = dt.datetime.combine(months[0], dt.time(0), tzinfo=dt.UTC)
    won: dict[int, Decimal] = defaultdict(Decimal)
    for owner_id, currency, amount in (
        Deal.objects.filter(organization=org, status=DealStatus.WON, closed_at__gte=since, owner__isnull=False)
        .values("owner_id", "currency")
        .annotate(amount=Sum("amount"))
        .values_list("owner_id", "currency", "amount")
    ):
        rate = Decimal(1) if currency == org.base_currency else RECENT_RATES.get(currency, RATES.get(currency, 0))
        won[owner_id] += (amount or Decimal(0)) * rate
    existing = set(
        Quota.objects.filter(organization=org, period=Quota.Period.MONTH, starts_on__in=months).values_list(
            "user_id", "starts_on"
        )
    )
    quotas = []
    for rep in reps:
        monthly = max(Decimal(20_000), won[rep.user_id] / 7)
        for month in months:
            amount = (monthly * Decimal(rng.uniform(0.8, 1.25))).quantize(Decimal(1000))
            if (rep.user_id, month) not in existing:
                quotas.append(
                    Quota(
                        organization=org, user_id=rep.user_id, period=Quota.Period.MONTH, starts_on=month, amount=amount
                    )
                )
    return len(Quota.objects.bulk_create(quotas))


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


class Command(BaseCommand):
    help = (
        "Add the sales side to a demo organisation: a pipeline, a catalogue, rules, deals, quotes, orders, "
        "activities and quotas."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org-slug", required=True, help="The organisation to add deals to.")
        parser.add_argument("--deals", type=int, default=None, help="How many deals (default: one per 3 contacts).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default: %(default)s).")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org_slug"]).first()
        if organization is None:
            raise CommandError(f"No organisation with the address “{options['org_slug']}”.")
        deals = options["deals"]
        if deals is None:
            with scopes_disabled():
                deals = Contact.objects.filter(organization=organization).count() // 3
        if deals < 0:
            raise CommandError("--deals cannot be negative.")
        started = time.monotonic()
        counts = build_sales(organization=organization, deals=deals, seed=options["seed"])
        self.stdout.write(
            f"Sales: {counts['deals']:,} deals over {counts['stages']} stages, "
            f"{counts['lost_reasons']} lost reasons, {counts['products']} products, {counts['quotes']:,} quotes, "
            f"{counts['orders']:,} orders, {counts['activities']:,} activities, {counts['quotas']} quotas, "
            f"in {time.monotonic() - started:,.1f} s."
        )
