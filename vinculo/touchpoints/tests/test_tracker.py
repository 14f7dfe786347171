"""The committed tracker build: small, self-contained, with its public API (built by
scripts/build-tracker.sh from tracker.src.js; nothing is built at run time)."""

from __future__ import annotations

import gzip
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static" / "touchpoints"
BUILD = STATIC / "vinculo.js"
SOURCE = STATIC / "tracker.src.js"


def test_the_minified_tracker_gzips_to_at_most_5000_bytes():
    minified = BUILD.read_bytes()

    assert len(gzip.compress(minified)) <= 5000
    assert len(minified) < len(SOURCE.read_bytes())  # it is the minified build, not the source


def test_the_build_has_the_public_api_and_no_dependencies():
    text = BUILD.read_text()

    for name in ("page:", "track:", "identify:", "consent:", "flush:", "push:", "vinculo_aid", "/api/v1/track/batch"):
        assert name in text, name
    for needed in (
        "sendBeacon",
        "doNotTrack",
        "randomUUID",
        "pushState",
        "popstate",
        "pagehide",
        "visibilitychange",
        "SameSite=Lax",
    ):
        assert needed in text, needed
    assert "import " not in text
    assert "require(" not in text


def test_the_build_reads_the_consent_mode_from_the_server_not_the_page():
    text = BUILD.read_text()

    for needed in ('"/config"', "consent_mode", "honor_dnt", '"cookieless"', '"implied"', "consent=!0"):
        assert needed in text, needed
    assert "data-consent" not in text
    assert "data-dnt" not in text


def test_the_build_script_uses_terser():
    script = (Path(__file__).resolve().parents[3] / "scripts" / "build-tracker.sh").read_text()

    assert "npx --yes terser@5 tracker.src.js" in script
