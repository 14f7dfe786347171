"""Files listed on timeline entries (the attachments of an e-mail received or sent, a quote's PDF).

An event lists its files in its `attachments` property: `{"source", "id", "name", "type", "size"}`
each, plus `note` for a file that was not kept. `contacts` cannot import the apps that keep the
files (layering), so each registers how one of its files is downloaded, by `source`, from its
AppConfig.ready(); the timeline links a file only when its source is known.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

UrlBuilder = Callable[[str, int], str]  # (organisation slug, file id) -> the download URL

_sources: dict[str, UrlBuilder] = {}


def register_file_source(source: str, url: UrlBuilder) -> None:
    """Add (or replace) how files of `source` are downloaded."""
    _sources[source] = url


@dataclass(frozen=True)
class TimelineFile:
    name: str
    content_type: str
    size: int
    url: str
    note: str


def timeline_files(attachments: Any, org_slug: str) -> list[TimelineFile]:
    """An event's `attachments` property as the timeline lists it (malformed items are left out)."""
    if not isinstance(attachments, list):
        return []
    files = []
    for item in attachments:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            continue
        note = str(item.get("note") or "")
        builder = _sources.get(str(item.get("source", "")))
        file_id = item.get("id")
        url = builder(org_slug, file_id) if builder and isinstance(file_id, int) and not note else ""
        size = item.get("size")
        files.append(
            TimelineFile(
                name=item["name"],
                content_type=str(item.get("type") or ""),
                size=size if isinstance(size, int) else 0,
                url=url,
                note=note,
            )
        )
    return files
