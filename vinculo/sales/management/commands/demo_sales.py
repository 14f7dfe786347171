"""`manage.py demo_sales --org-slug demo --deals N`: the sales side of the demo organisation.

`manage.py demo` calls it (by name, through call_command, when the sales app is installed: the
contacts app does not import sales). It builds the default pipeline (Qualification, Proposal,
Negotiation, Won, Lost), a list of lost reasons, exchange rates for the demo's other currencies,
and N deals spread over the stages, the members, the customers and 9 months of close dates, some
won and some lost. Deterministic for a --seed, apart from "now".

Speed: like the contacts demo it bypasses the services (one call per deal would take minutes at
300,000 deals) and writes what they write, in batches through the contacts demo's RowWriter (one
executemany per batch; measured: 5 times faster than bulk_create here): stage, status and the
stage's probability, forecast category, closed date and lost reason of closed deals, card
positions per column. No audit entries or events: generated data has no author (the contacts'
timelines already carry deal stage changes from the contacts demo).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from vinculo.accounts.models import Membership, Organization
from vinculo.contacts.management.commands.demo import RowWriter  # the contacts demo's fast INSERT
from vinculo.contacts.models import Contact
from vinculo.sales.models import (
    Deal,
    DealStatus,
    ExchangeRate,
    ForecastCategory,
    LostReason,
    Pipeline,
    Stage,
    StageKind,
)
from vinculo.sales.services.pipelines import default_stages

BATCH = 5_000
DEAL_COLUMNS = (
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
    "lost_reason_id",
    "position",
    "stage_entered_at",
    "last_activity_at",
    "closed_at",
    "created_at",
    "updated_at",
)
LOST_REASONS = ("Price", "Went with a competitor", "No budget", "No decision", "Bad timing", "Missing feature")
RATES = {"USD": Decimal("0.92"), "GBP": Decimal("1.17"), "MXN": Decimal("0.052")}
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


def build_sales(*, organization: Organization, deals: int, seed: int = 42) -> dict[str, int]:
    """Add the pipeline, lost reasons, rates and `deals` deals to the organisation. Returns counts."""
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
        for currency, rate in RATES.items():
            if currency != org.base_currency:
                ExchangeRate.objects.get_or_create(
                    organization=org,
                    currency=currency,
                    valid_from=dt.date(today.year - 1, 1, 1),
                    defaults={"rate": rate},
                )
        owners = list(
            Membership.objects.filter(organization=org, role__in=("owner", "manager", "sales"))
            .order_by("id")
            .values_list("user_id", flat=True)
        )
    customers = _customers(org, deals)
    weights = STAGE_WEIGHTS[: len(stages)] if len(stages) == len(STAGE_WEIGHTS) else [1] * len(stages)
    positions = dict.fromkeys((s.pk for s in stages), 0)
    writer = RowWriter(Deal, DEAL_COLUMNS)
    created = 0
    for offset in range(0, deals, BATCH):
        rows: list[tuple[Any, ...]] = []
        for _n in range(min(BATCH, deals - offset)):
            stage = rng.choices(stages, weights=weights)[0]
            deal = _deal(org, pipeline, stage, rng, now, owners, customers, reasons, positions)
            rows.append(tuple(getattr(deal, column) for column in DEAL_COLUMNS))
        with scopes_disabled(), transaction.atomic():
            created += writer.write(rows)
    return {"deals": created, "stages": len(stages), "lost_reasons": len(reasons)}


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
    return deal


class Command(BaseCommand):
    help = "Add the sales side to a demo organisation: a pipeline, lost reasons, exchange rates and deals."

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
            f"{counts['lost_reasons']} lost reasons, in {time.monotonic() - started:,.1f} s."
        )
