"""Reads of tracking sites: the settings list, and the site behind a public key (public endpoint).

The tracker endpoint looks its site up on every batch: the answer is cached for a few seconds
(services.sites forgets it when the site changes), so accepting a batch costs no query for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Max, QuerySet

from vinculo.touchpoints.models import IngestBatch, TrackingSite

SITE_CACHE_SECONDS = 10
_MISSING = "missing"


def tracking_site_queryset() -> QuerySet[TrackingSite]:
    """The organisation's sites (inside its scope)."""
    return TrackingSite.objects.order_by("name", "id")


def _cache_key(public_key: str) -> str:
    return f"vinculo:track:site:{public_key}"


def tracking_site_for_key(public_key: str) -> TrackingSite | None:
    """The active site with this public key, in any organisation (the key is how a public request
    finds its organisation); None for an unknown or inactive key."""
    if not isinstance(public_key, str) or not public_key.startswith("pk_") or len(public_key) > 40:
        return None
    name = _cache_key(public_key)
    cached = cache.get(name)
    if cached == _MISSING:
        return None
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    site = (
        TrackingSite.dangerously_unscoped.select_related("organization")
        .filter(public_key=public_key, is_active=True)
        .first()
    )
    cache.set(name, site if site is not None else _MISSING, SITE_CACHE_SECONDS)
    return site


def forget_site(public_key: str) -> None:
    cache.delete(_cache_key(public_key))
    cache.delete(ORIGINS_CACHE_KEY)


ORIGINS_CACHE_KEY = "vinculo:track:origins"


def any_site_allows(origin: str) -> bool:
    """Whether some active site lists this origin (a CORS preflight carries no key, only its Origin)."""
    origins = cache.get(ORIGINS_CACHE_KEY)
    if origins is None:
        origins = set()
        for listed in TrackingSite.dangerously_unscoped.filter(is_active=True).values_list(
            "allowed_origins", flat=True
        ):
            origins.update(o for o in listed or [] if isinstance(o, str))
        cache.set(ORIGINS_CACHE_KEY, origins, SITE_CACHE_SECONDS)
    return origin in origins


@dataclass(frozen=True)
class LastEvent:
    """The newest event a site sent that Vínculo accepted: what "check installation" shows."""

    received_at: dt.datetime
    type: str  # page, track or identify
    name: str  # the event name of a track
    url: str


def last_events(sites: Iterable[TrackingSite]) -> dict[int, LastEvent]:
    """The last accepted event of each site that sent one, by site id: two queries however many
    sites (the newest batch of each, then those batches). Refused batches (an opt-in site before
    consent, a wrong origin) are never stored, so they do not count."""
    site_ids = [site.pk for site in sites]
    if not site_ids:
        return {}
    newest = IngestBatch.objects.filter(site_id__in=site_ids).values("site_id").annotate(last_id=Max("id")).order_by()
    batches = IngestBatch.objects.filter(pk__in=[row["last_id"] for row in newest]).only(
        "site_id", "events", "received_at"
    )
    found: dict[int, LastEvent] = {}
    for batch in batches:
        event = (batch.events or [{}])[-1]
        found[batch.site_id] = LastEvent(
            received_at=batch.received_at,
            type=str(event.get("type", "")),
            name=str(event.get("name", "")),
            url=str(event.get("url", "")),
        )
    return found
