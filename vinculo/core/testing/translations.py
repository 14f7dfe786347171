"""Translations written but not yet compiled into vinculo/locale: `docs/i18n-pending/*.po` files
hold the Spanish of new messages until they are merged into the catalogue. `pending_translations()`
adds one such file's messages to Django's loaded catalogue of a language for the length of a test,
so that the Spanish pages can be tested before the merge (after it, it changes nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polib
from django.utils.translation import trans_real

CONTEXT_SEPARATOR = "\x04"  # how gettext keys a message with a context


def pending_messages(path: Path) -> dict[str | tuple[str, int], str]:
    """The translated messages of a .po file, keyed as gettext keys them."""
    messages: dict[str | tuple[str, int], str] = {}
    for entry in polib.pofile(str(path)):
        if entry.obsolete or entry.fuzzy:
            continue
        key = f"{entry.msgctxt}{CONTEXT_SEPARATOR}{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural:
            for index, text in entry.msgstr_plural.items():
                if text:
                    messages[(key, int(index))] = text
        elif entry.msgstr:
            messages[key] = entry.msgstr
    return messages


@contextmanager
def pending_translations(path: Path, language: str = "es") -> Iterator[None]:
    """Django's catalogue of `language` with the messages of `path` added, then as it was."""
    catalog = trans_real.translation(language)._catalog  # type: ignore[attr-defined]
    first: dict[str | tuple[str, int], str] = catalog._catalogs[0]
    saved = dict(first)
    first.update(pending_messages(path))
    try:
        yield
    finally:
        first.clear()
        first.update(saved)
