"""Test helpers and fixtures of the sales app (registered from the root conftest.py).

`pipeline` (the default pipeline of `org`, with DEFAULT_STAGES) and `deal` (Renewal, 500.00 in
it); `make_pipeline`, `make_deal`, `make_product` for more. Factories: vinculo/sales/factories.py.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from django_scopes import scope

from vinculo.accounts.models import Membership, Organization
from vinculo.sales.factories import DEFAULT_STAGES, PipelineFactory, ProductFactory
from vinculo.sales.models import Pipeline, Product, Stage
from vinculo.sales.services.deals import deal_create

__all__ = ["DEFAULT_STAGES", "make_deal", "make_pipeline", "make_product", "stage_named"]


def make_pipeline(
    org: Organization, name: str = "Sales", stages: list[tuple[str, int, str]] | None = None, *, default: bool = True
) -> Pipeline:
    pipeline = PipelineFactory(organization=org, name=name, is_default=default, stages=stages or None)
    return cast(Pipeline, pipeline)


def stage_named(pipeline: Pipeline, name: str) -> Stage:
    return Stage.dangerously_unscoped.get(pipeline=pipeline, name=name)


def make_deal(actor: Membership, **data: Any) -> Any:
    data.setdefault("title", "Deal")
    with scope(organization=actor.organization):
        return deal_create(actor=actor, data=data)


def make_product(
    org: Organization, name: str = "Widget", price: str = "100.00", currency: str = "EUR", **extra: Any
) -> Product:
    product = ProductFactory(organization=org, name=name, price=price, price__currency=currency, **extra)
    return cast(Product, product)


@pytest.fixture
def pipeline(org: Organization) -> Pipeline:
    """The default pipeline of `org`, with DEFAULT_STAGES."""
    return make_pipeline(org)


@pytest.fixture
def deal(actor: Membership, pipeline: Pipeline) -> Any:
    """Renewal, 500.00, in the first stage of `pipeline`, made by `deal_create`."""
    return make_deal(actor, title="Renewal", amount="500.00")
