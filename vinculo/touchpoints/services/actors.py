"""Who writes what a webhook or a lead fetch brings in: the system actor, by way of the integration
("by the Shopify webhook “My shop”" in the audit trail and on the timeline)."""

from __future__ import annotations

from vinculo.accounts.models import Membership
from vinculo.accounts.system_actor import make_via, system_actor
from vinculo.touchpoints.models import Integration, IntegrationKind

# how a webhook reads in the audit trail: "by the Shopify webhook “My shop”"
PLATFORMS = {
    IntegrationKind.SHOPIFY: "Shopify",
    IntegrationKind.WOOCOMMERCE: "WooCommerce",
    IntegrationKind.FACEBOOK_LEADS: "Facebook Lead Ads",
    IntegrationKind.LINKEDIN_LEADS: "LinkedIn Lead Gen Forms",
}


def processing_actor(integration: Integration) -> Membership:
    """Webhooks act as the system actor, by way of their integration (the services need an actor
    to check roles and to sign the audit trail)."""
    platform = PLATFORMS.get(integration.kind)  # type: ignore[call-overload]
    via = (
        make_via("platform_webhook", integration.name, platform=platform)
        if platform
        else make_via("webhook", integration.name)
    )
    return system_actor(integration.organization, via=via)
