"""Reads of the sales settings: pipelines with their stages, lost reasons, exchange rates."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from vinculo.sales.models import ExchangeRate, LostReason, Pipeline, Stage


def _get(queryset: QuerySet[Any], pk: Any) -> Any:
    """The row with this id in the (scoped) queryset, or 404 for missing, foreign or malformed ids."""
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


def pipeline_list(*, with_counts: bool = False) -> QuerySet[Pipeline]:
    """Every pipeline in order, with its stages prefetched (and their deal counts when asked)."""
    stages = Stage.objects.order_by("position", "id")
    if with_counts:
        stages = stages.annotate(deal_count=Count("deals"))
    return Pipeline.objects.order_by("position", "id").prefetch_related(Prefetch("stages", queryset=stages))


def pipeline_get(*, pk: Any) -> Pipeline:
    return _get(pipeline_list(), pk)  # type: ignore[no-any-return]


def pipeline_default() -> Pipeline | None:
    return pipeline_list().order_by("-is_default", "position", "id").first()


def stage_get(*, pk: Any) -> Stage:
    return _get(Stage.objects.select_related("pipeline"), pk)  # type: ignore[no-any-return]


def stage_list(*, pipeline: Pipeline) -> QuerySet[Stage]:
    return Stage.objects.filter(pipeline=pipeline).order_by("position", "id")


def lost_reason_list(*, active_only: bool = False) -> QuerySet[LostReason]:
    reasons = LostReason.objects.order_by("name", "id")
    return reasons.filter(is_active=True) if active_only else reasons


def lost_reason_get(*, pk: Any) -> LostReason:
    return _get(LostReason.objects.all(), pk)  # type: ignore[no-any-return]


def exchange_rate_list() -> QuerySet[ExchangeRate]:
    return ExchangeRate.objects.order_by("currency", "-valid_from", "-id")


def exchange_rate_get(*, pk: Any) -> ExchangeRate:
    return _get(ExchangeRate.objects.all(), pk)  # type: ignore[no-any-return]
