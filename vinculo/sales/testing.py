"""Test helpers of the sales app: a pipeline with the usual stages, a deal, a product with a price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django_scopes import scope

from vinculo.accounts.models import Membership, Organization
from vinculo.sales.models import Pipeline, PriceList, PriceListItem, Product, Stage, StageKind
from vinculo.sales.services.deals import deal_create

DEFAULT_STAGES = [
    ("Qualification", 10, StageKind.OPEN),
    ("Proposal", 40, StageKind.OPEN),
    ("Negotiation", 70, StageKind.OPEN),
    ("Won", 100, StageKind.WON),
    ("Lost", 0, StageKind.LOST),
]


def make_pipeline(
    org: Organization, name: str = "Sales", stages: list[tuple[str, int, str]] | None = None, *, default: bool = True
) -> Pipeline:
    pipeline = Pipeline.dangerously_unscoped.create(organization=org, name=name, is_default=default)
    for position, (stage_name, probability, kind) in enumerate(stages or DEFAULT_STAGES):
        Stage.dangerously_unscoped.create(
            organization=org, pipeline=pipeline, name=stage_name, position=position, probability=probability, kind=kind
        )
    return pipeline


def stage_named(pipeline: Pipeline, name: str) -> Stage:
    return Stage.dangerously_unscoped.get(pipeline=pipeline, name=name)


def make_deal(actor: Membership, **data: Any) -> Any:
    data.setdefault("title", "Deal")
    with scope(organization=actor.organization):
        return deal_create(actor=actor, data=data)


def make_product(
    org: Organization, name: str = "Widget", price: str = "100.00", currency: str = "EUR", **extra: Any
) -> Product:
    product = Product.dangerously_unscoped.create(organization=org, name=name, **extra)
    price_list, _created = PriceList.dangerously_unscoped.get_or_create(
        organization=org, name=f"{currency} list", defaults={"currency": currency, "is_default": True}
    )
    PriceListItem.dangerously_unscoped.create(
        organization=org, price_list=price_list, product=product, unit_price=Decimal(price)
    )
    return product
