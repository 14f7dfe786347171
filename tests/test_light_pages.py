"""Light pages: HTML compressed for browsers that accept it, the icon font cut to the icons Vínculo
uses (and complete: every icon the code names is in it), an app icon instead of a 404 on
/favicon.ico."""

from __future__ import annotations

import gzip
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
from django.urls import reverse
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "vinculo/static/vinculo/icons"
RULE = re.compile(r'\.bi-([a-z0-9-]+)::before\{content:"\\([0-9a-f]+)"\}')


def _subset_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("subset_icons", ROOT / "scripts/subset-icons.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _served_icons() -> dict[str, int]:
    return {name: int(code, 16) for name, code in RULE.findall((ICONS / "icons.css").read_text())}


def test_every_icon_the_code_names_is_an_icon_of_the_font_and_in_the_served_subset():
    script = _subset_script()
    wanted, unknown = script.wanted()
    assert unknown == set()
    assert {"person", "building", "kanban", "diagram-3-fill", "caret-down-fill", "caret-up-fill", "globe"} <= set(
        wanted
    )
    served = _served_icons()
    assert {name: served.get(name) for name in wanted} == wanted  # the same code point for each


def test_the_subset_font_draws_every_served_icon_and_is_small():
    font = TTFont(ICONS / "icons.woff2")
    drawn = set(font.getBestCmap())
    assert set(_served_icons().values()) <= drawn
    assert (ICONS / "icons.woff2").stat().st_size < 20 * 1024  # the whole font is 131 KiB


def test_an_icon_built_from_the_catalogue_or_a_network_is_in_the_subset():
    from vinculo.core.event_types import all_event_types
    from vinculo.touchpoints.models import NETWORK_ICONS

    served = _served_icons()
    assert {event_type.icon for event_type in all_event_types() if event_type.icon} - set(served) == set()
    assert {icon.removeprefix("bi-") for icon in NETWORK_ICONS.values()} - set(served) == set()


@pytest.mark.django_db
def test_a_page_names_the_subset_and_the_app_icons(client, actor):
    client.force_login(actor.user)
    html = client.get(reverse("contacts:contact_list", args=[actor.organization.slug])).content.decode()
    assert "/static/vinculo/icons/icons.css" in html
    assert "bootstrap-icons.min.css" not in html
    assert '<link rel="icon" href="/static/vinculo/favicon.svg" type="image/svg+xml">' in html
    assert '<link rel="apple-touch-icon" href="/static/vinculo/apple-touch-icon.png">' in html


def test_favicon_ico_leads_to_the_app_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/vinculo/favicon-32.png"


@pytest.mark.django_db
def test_pages_are_sent_compressed_to_browsers_that_accept_it(client, actor):
    client.force_login(actor.user)
    url = reverse("contacts:contact_list", args=[actor.organization.slug])

    plain = client.get(url)
    assert plain.status_code == 200
    assert "Content-Encoding" not in plain

    compressed = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert compressed.status_code == 200
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    html = gzip.decompress(compressed.content).decode()
    assert html.startswith("<!doctype html>")
    assert html.rstrip().endswith("</html>")
    assert len(compressed.content) * 3 < len(html)


@pytest.mark.django_db
def test_api_answers_are_compressed_too(api_client):
    response = api_client.get("/api/v1/openapi.json", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content).startswith(b'{"openapi": ')
