"""Fold the Spanish translations waiting in docs/i18n-pending/*.po (written by work done in
parallel) into vinculo/locale/es/LC_MESSAGES/django.po: run `make messages` first, then this, then
`make messages` again. A pending translation replaces an empty or fuzzy entry of the same msgid."""

from __future__ import annotations

import pathlib
import sys

import polib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "vinculo/locale/es/LC_MESSAGES/django.po"


def main() -> int:
    pending: dict[tuple[str, str], polib.POEntry] = {}
    for path in sorted((ROOT / "docs/i18n-pending").glob("*.po")):
        text = path.read_text(encoding="utf-8")
        header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        for entry in polib.pofile(header + text):
            if entry.msgstr or entry.msgstr_plural:
                pending[(entry.msgctxt or "", entry.msgid)] = entry
    catalogue = polib.pofile(str(CATALOGUE), wrapwidth=0)
    filled = 0
    for entry in catalogue:
        source = pending.get((entry.msgctxt or "", entry.msgid))
        if source is None or (entry.translated() and "fuzzy" not in entry.flags):
            continue
        entry.msgstr = source.msgstr
        if source.msgstr_plural:
            entry.msgstr_plural = dict(source.msgstr_plural)
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = None
        entry.previous_msgid_plural = None
        filled += 1
    catalogue.save()
    missing = [e.msgid for e in catalogue if not e.translated() or "fuzzy" in e.flags]
    print(f"filled {filled}; still untranslated or fuzzy: {len(missing)}")
    for msgid in missing:
        print(f"  {msgid!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
