"""Reads of tracking sites: the settings list, and the site behind a public key (public endpoint).

The tracker endpoint looks its site up on every batch: the answer is cached for a few seconds
(services.sites forgets it when the site changes), so accepting a batch costs no query for it.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import QuerySet

from vinculo.touchpoints.models import TrackingSite

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
