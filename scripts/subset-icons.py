#!/usr/bin/env python3
"""Build the icon font Vínculo serves: only the Bootstrap Icons its pages use.

The vendored font (vinculo/static/vendor/bootstrap-icons, about 2,000 icons, 131 KiB) stays the
source; this writes vinculo/static/vinculo/icons/ with a subset of it (the icons named in the
templates, scripts and Python code, and every event type's icon from the catalogue) and the CSS of
those icons only. Run it after using a new icon (`make icons`); a test fails while the subset
misses an icon the code names.

    .venv/bin/python scripts/subset-icons.py [--check]

With --check it writes nothing and exits 1 when the subset is stale.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VENDOR = ROOT / "vinculo/static/vendor/bootstrap-icons"
OUT = ROOT / "vinculo/static/vinculo/icons"
ICON_CLASS = re.compile(r"\bbi-([a-z0-9]+(?:-[a-z0-9]+)*)")
RULE = re.compile(r'\.bi-([a-z0-9-]+)::before\{content:"\\([0-9a-f]+)"\}')
SOURCES = ("*.html", "*.js", "*.py", "*.css")
# template variables that end up in a class (`bi-{{ event.type|event_icon }}`) are read from the
# event-type catalogue; a class built any other way must be named literally somewhere
SKIP_DIRS = {"vendor", "icons", "locale", "migrations", "__pycache__"}


def vendor_icons() -> dict[str, int]:
    css = (VENDOR / "bootstrap-icons.min.css").read_text()
    return {name: int(code, 16) for name, code in RULE.findall(css)}


def named_in_code() -> set[str]:
    names: set[str] = set()
    for pattern in SOURCES:
        for path in (ROOT / "vinculo").rglob(pattern):
            if SKIP_DIRS.intersection(path.relative_to(ROOT).parts):
                continue
            names.update(ICON_CLASS.findall(path.read_text(errors="replace")))
    return names


def catalogue_icons() -> set[str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from vinculo.core.event_types import all_event_types

    return {event_type.icon for event_type in all_event_types() if event_type.icon}


def wanted() -> tuple[dict[str, int], set[str]]:
    """The icons to keep (name → code point) and the names that are no icon of the font."""
    icons = vendor_icons()
    names = named_in_code() | catalogue_icons()
    unknown = {name for name in names if name not in icons}
    return {name: icons[name] for name in sorted(names) if name in icons}, unknown


def css(kept: dict[str, int], version: str) -> str:
    head = (
        "/* Bootstrap Icons (MIT, https://icons.getbootstrap.com/): the icons Vínculo uses, built by\n"
        "   scripts/subset-icons.py from vinculo/static/vendor/bootstrap-icons. */\n"
        '@font-face{font-display:block;font-family:bootstrap-icons;src:url("icons.woff2?'
        + version
        + '") format("woff2")}\n'
        '.bi::before,[class*=" bi-"]::before,[class^=bi-]::before{display:inline-block;'
        "font-family:bootstrap-icons!important;font-style:normal;font-weight:400!important;"
        "font-variant:normal;text-transform:none;line-height:1;vertical-align:-.125em;"
        "-webkit-font-smoothing:antialiased;-moz-osx-font-smoothing:grayscale}\n"
    )
    return head + "".join(f'.bi-{name}::before{{content:"\\{code:x}"}}\n' for name, code in kept.items())


def subset_font(codes: list[int]) -> bytes:
    import logging
    from io import BytesIO

    from fontTools import subset

    logging.getLogger("fontTools").setLevel(logging.ERROR)  # the vendor font's harmless table notes
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(VENDOR / "fonts/bootstrap-icons.woff2"), options)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=codes)
    subsetter.subset(font)
    buffer = BytesIO()
    subset.save_font(font, buffer, options)
    return buffer.getvalue()


def main(argv: list[str]) -> int:
    kept, unknown = wanted()
    if unknown:
        print("not icons of Bootstrap Icons: " + ", ".join(sorted(unknown)), file=sys.stderr)
        return 1
    current = OUT / "icons.css"
    if "--check" in argv:
        have = set(RULE.findall(current.read_text().replace("\n", ""))) if current.exists() else set()
        missing = sorted(set(kept) - {name for name, _code in have})
        if missing:
            print("the icon subset misses: " + ", ".join(missing) + " (run scripts/subset-icons.py)", file=sys.stderr)
            return 1
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    font = subset_font(sorted(kept.values()))
    (OUT / "icons.woff2").write_bytes(font)
    current.write_text(css(kept, hashlib.sha256(font).hexdigest()[:12]))
    print(f"{len(kept)} icons, {(OUT / 'icons.woff2').stat().st_size:,} bytes of font")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
