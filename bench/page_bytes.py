"""Bytes on the wire for a signed-in page, as a browser with an empty cache (cold) and with the
static files cached (warm) receives them.

- page.bytes.cold.<page>: the page's HTML as the server sends it to a browser that accepts gzip,
  plus every stylesheet and script it names and the fonts those stylesheets load, each compressed as
  the static file server sends it (WhiteNoise serves the gzip copy collectstatic writes);
- page.bytes.warm.<page>: the HTML alone (static files carry a content hash in their name and a
  far-future cache lifetime, so a warm browser asks for none of them);
- page.bytes.cold / page.bytes.warm: the median over the pages. Target: cold ≤ 150 KiB.
Images are left out (Vínculo's pages use none but the icon). Sizes do not depend on the machine.
"""

from __future__ import annotations

import gzip
import re
import statistics
from pathlib import Path

from django.contrib.staticfiles import finders
from django.test import Client
from django_scopes import scope

from bench.harness import Context, bench_member, emit, note

ASSET = re.compile(r'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="(/static/[^"?#]+)')
FONT = re.compile(r'url\("?([^")?#]+\.woff2)')


def _static_path(url: str) -> Path | None:
    found = finders.find(url.removeprefix("/static/"))
    return Path(found) if isinstance(found, str) else None


def _wire_size(path: Path) -> int:
    """What WhiteNoise sends for a static file: its gzip copy when that is smaller (not for fonts
    such as woff2, compressed already)."""
    raw = path.read_bytes()
    if path.suffix in {".woff2", ".png", ".jpg"}:
        return len(raw)
    return min(len(raw), len(gzip.compress(raw, compresslevel=9)))


def _assets(html: str) -> list[Path]:
    paths: list[Path] = []
    for url in dict.fromkeys(ASSET.findall(html)):
        path = _static_path(url)
        if path is None:
            continue
        paths.append(path)
        if path.suffix == ".css":
            for font in FONT.findall(path.read_text(errors="replace")):
                font_path = (path.parent / font).resolve()
                if font_path.exists():
                    paths.append(font_path)
    return paths


def run(ctx: Context) -> None:
    from vinculo.contacts.models import Company, Contact
    from vinculo.sales.models import Deal, Order

    org, actor = bench_member()
    with scope(organization=org):
        contact = Contact.objects.order_by("-id").first()
        company = Company.objects.order_by("-id").first()
        deal = Deal.objects.order_by("-id").first()
        order = Order.objects.order_by("-id").first()
    base = f"/o/{org.slug}"
    pages = {
        "contacts": f"{base}/contacts/",
        "contact": f"{base}/contacts/{contact.pk}/" if contact else None,
        "companies": f"{base}/companies/",
        "company": f"{base}/companies/{company.pk}/" if company else None,
        "board": f"{base}/deals/board/",
        "deal": f"{base}/deals/{deal.pk}/" if deal else None,
        "agenda": f"{base}/agenda/",
        "orders": f"{base}/orders/",
        "order": f"{base}/orders/{order.pk}/" if order else None,
        "forecast": f"{base}/sales/forecast/",
        "settings": f"{base}/settings/",
    }
    browser = Client(HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    browser.force_login(actor.user)
    cold: list[float] = []
    warm: list[float] = []
    for name, url in pages.items():
        if url is None:
            continue
        response = browser.get(url)
        if response.status_code != 200:
            note(f"page.bytes.{name}: {url} answered {response.status_code}; not measured")
            continue
        body = response.content
        html = gzip.decompress(body).decode() if response.get("Content-Encoding") == "gzip" else body.decode()
        html_bytes = len(body) + sum(len(f"{key}: {value}\r\n") for key, value in response.items())
        asset_bytes = sum(_wire_size(path) for path in _assets(html))
        cold.append((html_bytes + asset_bytes) / 1024)
        warm.append(html_bytes / 1024)
        emit(f"page.bytes.cold.{name}", round(cold[-1], 1), "KiB")
        emit(f"page.bytes.warm.{name}", round(warm[-1], 1), "KiB")
        emit(f"page.bytes.uncompressed.{name}", round(len(html.encode()) / 1024, 1), "KiB")
    if cold:
        emit("page.bytes.cold", round(statistics.median(cold), 1), "KiB")
        emit("page.bytes.warm", round(statistics.median(warm), 1), "KiB")
