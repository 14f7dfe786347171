"""Countries (ISO 3166-1 alpha-2, through django-countries): the choices of a country select, the
check of a typed code, and the country a time zone belongs to (a sensible default for a new
organisation from its owner's browser)."""

from __future__ import annotations

import functools
import zoneinfo
from importlib import resources
from pathlib import Path

from django_countries import countries

__all__ = ["country_choices", "country_of_time_zone", "is_country"]


def country_choices() -> list[tuple[str, str]]:
    """("", "—") then every country, named in the active language, in its alphabetical order."""
    return [("", "—"), *((str(code), str(name)) for code, name in countries)]


def is_country(code: str) -> bool:
    """Whether `code` (already upper-case) is an ISO 3166-1 alpha-2 country code."""
    return len(code) == 2 and bool(countries.name(code))


def _zone_tab() -> str:
    """tzdata's zone.tab: the system's (zoneinfo's search path), else the tzdata package's."""
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / "zone.tab"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    try:
        return (resources.files("tzdata") / "zoneinfo" / "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return ""


@functools.cache
def _countries_of_zones() -> dict[str, str]:
    """Time zone name → country code, from zone.tab's lines ("ES <coordinates> Europe/Madrid …")."""
    found: dict[str, str] = {}
    for line in _zone_tab().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            found.setdefault(fields[2].strip(), fields[0].strip().upper())
    return found


def country_of_time_zone(time_zone: str) -> str:
    """The country of a time zone ("Europe/Madrid" → "ES"); "" for one of no single country (UTC)."""
    code = _countries_of_zones().get((time_zone or "").strip(), "")
    return code if is_country(code) else ""
