"""factory-boy factories of the sales app (rows written directly: see core/testing/factories.py).

`PipelineFactory` gives a pipeline the usual stages (DEFAULT_STAGES of vinculo/sales/testing.py);
`DealFactory` puts a deal in the first stage of a pipeline of its organisation.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from vinculo.accounts.factories import OrganizationFactory
from vinculo.core.testing.factories import OrgScopedFactory
from vinculo.sales.models import (
    Activity,
    Deal,
    Order,
    Pipeline,
    PriceList,
    PriceListItem,
    Product,
    Quote,
    Stage,
    StageKind,
)

DEFAULT_STAGES = [
    ("Qualification", 10, StageKind.OPEN),
    ("Proposal", 40, StageKind.OPEN),
    ("Negotiation", 70, StageKind.OPEN),
    ("Won", 100, StageKind.WON),
    ("Lost", 0, StageKind.LOST),
]


class PipelineFactory(OrgScopedFactory):
    """A pipeline with DEFAULT_STAGES (or `stages=[(name, probability, kind), …]`)."""

    class Meta:
        model = Pipeline
        skip_postgeneration_save = True  # the stages are rows of their own

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Pipeline {n}")
    is_default = True

    @factory.post_generation
    def stages(pipeline: Pipeline, create: bool, extracted: list[tuple[str, int, str]] | None, **kwargs: Any) -> None:
        if not create:
            return
        for position, (name, probability, kind) in enumerate(DEFAULT_STAGES if extracted is None else extracted):
            StageFactory(
                organization=pipeline.organization,
                pipeline=pipeline,
                name=name,
                position=position,
                probability=probability,
                kind=kind,
            )


class StageFactory(OrgScopedFactory):
    class Meta:
        model = Stage

    pipeline = factory.SubFactory(PipelineFactory, stages=[])
    organization = factory.LazyAttribute(lambda stage: stage.pipeline.organization)
    name = factory.Sequence(lambda n: f"Stage {n}")
    position = factory.Sequence(lambda n: n)
    probability = 10
    kind = StageKind.OPEN


def _first_stage(deal: Any) -> Stage:
    return Stage.dangerously_unscoped.filter(pipeline=deal.pipeline).order_by("position", "id").first()  # type: ignore[return-value]


class DealFactory(OrgScopedFactory):
    """An open deal in the first stage of its pipeline (a new pipeline unless given)."""

    class Meta:
        model = Deal

    organization = factory.SubFactory(OrganizationFactory)
    pipeline = factory.SubFactory(PipelineFactory, organization=factory.SelfAttribute("..organization"))
    stage = factory.LazyAttribute(_first_stage)
    title = factory.Sequence(lambda n: f"Deal {n}")
    amount = Decimal("1000.00")
    currency = "EUR"
    probability = factory.LazyAttribute(lambda deal: deal.stage.probability)


class ProductFactory(OrgScopedFactory):
    """A product; `price="100.00"` also lists it in the default price list of `currency`."""

    class Meta:
        model = Product
        skip_postgeneration_save = True  # the price is a row of its own

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Product {n}")

    @factory.post_generation
    def price(product: Product, create: bool, extracted: str | None, currency: str = "EUR", **kwargs: Any) -> None:
        if not create or extracted is None:
            return
        price_list, _created = PriceList.dangerously_unscoped.get_or_create(
            organization=product.organization,
            name=f"{currency} list",
            defaults={"currency": currency, "is_default": True},
        )
        PriceListItem.dangerously_unscoped.create(
            organization=product.organization, price_list=price_list, product=product, unit_price=Decimal(extracted)
        )


class QuoteFactory(OrgScopedFactory):
    class Meta:
        model = Quote

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"Q-F{n:05d}")
    currency = "EUR"


class OrderFactory(OrgScopedFactory):
    class Meta:
        model = Order

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"O-F{n:05d}")
    currency = "EUR"
    placed_at = factory.LazyFunction(timezone.now)


class ActivityFactory(OrgScopedFactory):
    class Meta:
        model = Activity

    organization = factory.SubFactory(OrganizationFactory)
    subject = factory.Sequence(lambda n: f"Call {n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
