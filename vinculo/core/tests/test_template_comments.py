"""Django's `{# … #}` comment is one line only: spread over two, it is printed in the page (base.html
once printed its note about htmx on every page)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def test_no_template_comment_spans_two_lines():
    spread = []
    for path in sorted(Path(settings.BASE_DIR, "vinculo").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            start = line.find("{#")
            if start != -1 and "#}" not in line[start:]:
                spread.append(f"{path.relative_to(settings.BASE_DIR)}:{number}")
    assert spread == []
