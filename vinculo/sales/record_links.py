"""How the timeline names deals, stages, quotes, orders and activities: their current titles and
pages, for a page of events in one query per kind (vinculo.core.event_story). A record the viewer
may not see is left out, so the sentence names it from the event and does not link it. Loaded by
CoreConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.urls import reverse

from vinculo.accounts.selectors import visible_to
from vinculo.core.event_story import RecordLink, Viewer, register_resolver, register_value_labeler
from vinculo.sales.models import ActivityKind, DealStatus, Order, OrderChannel, OrderStatus, Quote, Stage
from vinculo.sales.selectors.activities import activity_queryset
from vinculo.sales.selectors.deals import deal_queryset


def choice_label(choices: type[DealStatus | OrderStatus | OrderChannel | ActivityKind]) -> Callable[[str], str]:
    labels = dict(choices.choices)
    return lambda value: str(labels.get(value, value))


def deal_links(viewer: Viewer, ids: set[int]) -> Mapping[int, RecordLink]:
    deals = deal_queryset(actor=viewer.membership).filter(organization_id=viewer.organization_id, pk__in=ids)
    return {
        pk: RecordLink(title, reverse("sales:deal_detail", args=[viewer.org_slug, pk]))
        for pk, title in deals.values_list("id", "title")
    }


def stage_links(viewer: Viewer, ids: set[int]) -> Mapping[int, RecordLink]:
    """Stages have no page of their own: their current names."""
    stages = Stage.objects.filter(organization_id=viewer.organization_id, pk__in=ids)
    return {pk: RecordLink(name) for pk, name in stages.values_list("id", "name")}


def quote_links(viewer: Viewer, ids: set[int]) -> Mapping[int, RecordLink]:
    quotes = visible_to(Quote.objects.all(), viewer.membership).filter(
        organization_id=viewer.organization_id, pk__in=ids
    )
    return {
        pk: RecordLink(number, reverse("sales:quote_detail", args=[viewer.org_slug, pk]))
        for pk, number in quotes.values_list("id", "number")
    }


def order_links(viewer: Viewer, ids: set[int]) -> Mapping[int, RecordLink]:
    orders = visible_to(Order.objects.all(), viewer.membership).filter(
        organization_id=viewer.organization_id, pk__in=ids
    )
    return {
        pk: RecordLink(number, reverse("sales:order_detail", args=[viewer.org_slug, pk]))
        for pk, number in orders.values_list("id", "number")
    }


def activity_links(viewer: Viewer, ids: set[int]) -> Mapping[int, RecordLink]:
    activities = activity_queryset(actor=viewer.membership).filter(organization_id=viewer.organization_id, pk__in=ids)
    return {
        pk: RecordLink(subject, reverse("sales:activity_detail", args=[viewer.org_slug, pk]))
        for pk, subject in activities.values_list("id", "subject")
    }


register_resolver("deal", deal_links)
register_resolver("stage", stage_links)
register_resolver("quote", quote_links)
register_resolver("order", order_links)
register_resolver("activity", activity_links)
register_value_labeler("deal.stage_changed", "status", choice_label(DealStatus))
register_value_labeler("order.status_changed", "from", choice_label(OrderStatus))
register_value_labeler("order.status_changed", "to", choice_label(OrderStatus))
register_value_labeler("order.placed", "channel", choice_label(OrderChannel))
for _type in ("activity.created", "activity.completed"):
    register_value_labeler(_type, "kind", choice_label(ActivityKind))
