"""How the timeline names subscription types (by their current names, for a page of events in one
query: vinculo.core.event_story) and reads a consent's channel and status. Loaded by
CoreConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from vinculo.core.event_story import RecordLink, Viewer, register_resolver, register_value_labeler
from vinculo.messaging.models import Consent, ConsentChannel, SubscriptionType


def subscription_type_links(viewer: Viewer, ids: set[int]) -> Mapping[int, RecordLink]:
    """Subscription types have no page of their own: their names."""
    types = SubscriptionType.objects.filter(organization_id=viewer.organization_id, pk__in=ids)
    return {pk: RecordLink(name) for pk, name in types.values_list("id", "name")}


def channel_label(value: str) -> str:
    return str(dict(ConsentChannel.choices).get(value, value))


STATUS_LABELS = {**dict(Consent.Status.choices), "pending": _("Waiting for confirmation by e-mail")}


def status_label(value: str) -> str:
    return str(STATUS_LABELS.get(value, value))


register_resolver("subscription_type", subscription_type_links)
for _type in ("consent.granted", "consent.withdrawn"):
    register_value_labeler(_type, "channel", channel_label)
    register_value_labeler(_type, "status", status_label)
