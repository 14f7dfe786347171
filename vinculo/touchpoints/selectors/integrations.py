"""Reads of integrations, their deliveries and contacts' social profiles (pages and API share them)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from vinculo.contacts.models import Contact
from vinculo.core.models import Event
from vinculo.sales.models import Order, OrderChannel
from vinculo.sales.selectors.documents import order_lookup
from vinculo.touchpoints.models import Integration, IntegrationKind, LeadFetch, SocialProfile, WebhookDelivery

RECENT_DELIVERIES = 50
ORDER_KINDS = (IntegrationKind.GENERIC_ORDERS, IntegrationKind.SHOPIFY, IntegrationKind.WOOCOMMERCE)


def integration_list() -> QuerySet[Integration]:
    """Every integration with its count of failed deliveries (one query)."""
    return Integration.objects.annotate(
        failed_count=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED))
    ).order_by("name", "id")


def delivery_list(*, integration: Integration | None = None, status: str = "") -> QuerySet[WebhookDelivery]:
    """Deliveries newest first, without their bodies (a list never needs them)."""
    deliveries = WebhookDelivery.objects.select_related("integration").defer("body").order_by("-created_at", "-id")
    if integration is not None:
        deliveries = deliveries.filter(integration=integration)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries


def lead_fetch_list(*, integration: Integration, state: str = "") -> QuerySet[LeadFetch]:
    """An integration's lead fetch jobs, newest first, with their contacts (one query a page)."""
    fetches = LeadFetch.objects.filter(integration=integration).select_related("contact").order_by("-created_at", "-id")
    return fetches.filter(state=state) if state else fetches


def delivery_lead_fetches(delivery: WebhookDelivery) -> QuerySet[LeadFetch]:
    """The fetch jobs a lead network's delivery queued (its leads announced by id)."""
    return LeadFetch.objects.filter(delivery=delivery).order_by("id")


def lead_fetch_counts(integration: Integration) -> dict[str, int]:
    """How many of the integration's lead fetch jobs are in each state (one query)."""
    rows = LeadFetch.objects.filter(integration=integration).order_by().values("state").annotate(n=Count("id"))
    return {row["state"]: row["n"] for row in rows}


def delivery_get(pk: int) -> WebhookDelivery:
    return WebhookDelivery.objects.select_related("integration").get(pk=pk)


def delivery_order(delivery: WebhookDelivery) -> Order | None:
    """The order an order delivery placed (or found), by its external id."""
    if delivery.integration.kind not in ORDER_KINDS or not delivery.external_id:
        return None
    external_id = f"{delivery.integration.kind}:{delivery.external_id}"
    return order_lookup(OrderChannel.ECOMMERCE, external_id).select_related("contact").first()


def delivery_leads(delivery: WebhookDelivery) -> list[Event]:
    """The `lead.captured` events of a lead delivery's leads (with their contacts)."""
    if delivery.integration.kind in ORDER_KINDS or not delivery.external_id:
        return []
    ids = [f"{delivery.integration.kind}:{i}" for i in delivery.external_id.split(",") if i]
    return list(Event.objects.filter(message_id__in=ids).select_related("contact").order_by("id"))


def social_profiles_of(contact: Contact) -> QuerySet[SocialProfile]:
    return SocialProfile.objects.filter(contact=contact).order_by("network", "id")


def social_profile_get(pk: int) -> SocialProfile:
    return SocialProfile.objects.select_related("contact").get(pk=pk)
