"""Quote pages: the line editor (HTMX rows, server-side totals preview), create and edit with errors
next to the lines (422, nothing saved), detail, accept into an order, print view, PDF, list queries."""

from __future__ import annotations

import re
import zlib
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django_scopes import scope

from vinculo.contacts.testing import make_contact
from vinculo.core.testing import count_queries
from vinculo.sales import pdf
from vinculo.sales.models import DocumentCounter, Order, Quote, QuoteLine, QuoteStatus
from vinculo.sales.services.documents import quote_accept, quote_create
from vinculo.sales.testing import make_product


@pytest.fixture
def contact(actor):
    """José García, with an e-mail address (the shared `contact` has none)."""
    return make_contact(actor, first_name="José", last_name="García", emails=["jose@example.com"])


@pytest.fixture
def widget(org):
    return make_product(org, "Widget", price="100.00", tax_rate=Decimal("21"))


def url(org, name, *args):
    return reverse(f"sales:{name}", args=[org.slug, *args])


def form_data(contact, lines, **extra):
    data: dict[str, Any] = {
        "contact": str(contact.pk),
        "company": "",
        "deal": "",
        "currency": "EUR",
        "price_list": "",
        "notes": "",
    }
    data.update(extra)
    for key in ("product", "description", "quantity", "unit_price", "discount_percent", "tax_rate"):
        data[f"line_{key}"] = [line.get(key, "") for line in lines]
    return data


def make_quote(actor, contact, lines=None, **data):
    with scope(organization=actor.organization):
        return quote_create(
            actor=actor,
            data={"contact": contact.pk, "lines": lines or [{"description": "Consulting", "unit_price": "10"}], **data},
        )


def test_the_new_quote_page_offers_the_contact_and_the_products(client_in, org, contact, widget):
    response = client_in.get(url(org, "quote_create") + f"?contact={contact.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{contact.pk}" selected>José García</option>' in html
    assert f'<option value="{widget.pk}">Widget</option>' in html
    assert html.count("data-line-row") == 1


def test_add_line_returns_one_empty_row(client_in, org, widget):
    response = client_in.get(url(org, "quote_line_row"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("data-line-row") == 1
    assert 'name="line_quantity" value=""' in html


def test_the_totals_preview_is_computed_by_the_server(client_in, org, contact, widget):
    data = form_data(
        contact,
        [
            {"product": str(widget.pk), "quantity": "2", "discount_percent": "10"},
            {"description": "Setup", "unit_price": "50.00", "tax_rate": "21"},
            {},
        ],
    )
    response = client_in.post(url(org, "quote_preview"), data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<dd class="col-6 text-end mb-1" data-total="subtotal">250.00 EUR</dd>' in html
    assert 'data-total="discount">−20.00 EUR</dd>' in html
    assert 'data-total="tax">48.30 EUR</dd>' in html
    assert 'data-total="total">278.30 EUR</dd>' in html
    assert Quote.dangerously_unscoped.count() == 0


def test_creating_a_quote_from_the_page(client_in, org, contact, widget):
    data = form_data(contact, [{"product": str(widget.pk), "quantity": "2"}, {}], notes="Gracias")
    response = client_in.post(url(org, "quote_create"), data)
    quote = Quote.dangerously_unscoped.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == url(org, "quote_detail", quote.pk)
    assert (quote.number, quote.total, quote.notes) == ("Q-00001", Decimal("242.00"), "Gracias")
    detail = client_in.get(response["Location"]).content.decode()
    assert "Quote Q-00001" in detail
    assert (
        '<dd class="col-5 col-sm-3 text-end text-nowrap fw-semibold mb-0" id="document-total">242.00 EUR</dd>' in detail
    )


def test_bad_lines_come_back_next_to_their_inputs_and_nothing_is_saved(client_in, org, contact, widget):
    data = form_data(
        contact,
        [
            {"description": "ok", "unit_price": "1"},
            {"description": "Bad", "unit_price": "1", "quantity": "-3"},
            {"description": "Worse", "unit_price": "1", "discount_percent": "150"},
        ],
        currency="EUR",
    )
    response = client_in.post(url(org, "quote_create"), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert html.count("data-line-row") == 3
    assert '<div class="invalid-feedback d-block">Enter a quantity greater than zero.</div>' in html
    assert '<div class="invalid-feedback d-block">Must be at most 100.</div>' in html
    assert 'value="-3"' in html  # what was typed is kept
    assert Quote.dangerously_unscoped.count() == 0
    assert QuoteLine.dangerously_unscoped.count() == 0
    assert DocumentCounter.dangerously_unscoped.count() == 0


def test_a_quote_without_lines_or_customer_is_refused(client_in, org, contact):
    data = {**form_data(contact, [{}]), "contact": ""}
    response = client_in.post(url(org, "quote_create"), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Add at least one line." in html
    assert "Choose a contact or a company." in html
    assert Quote.dangerously_unscoped.count() == 0


def test_a_product_without_a_price_in_the_currency_is_shown_on_its_line(client_in, org, contact, widget):
    response = client_in.post(
        url(org, "quote_create"), form_data(contact, [{"product": str(widget.pk)}], currency="USD")
    )
    assert response.status_code == 422
    assert '<div class="invalid-feedback d-block">Widget has no price in USD.</div>' in response.content.decode()
    assert Quote.dangerously_unscoped.count() == 0


def test_editing_a_draft_and_refusing_to_edit_an_accepted_quote(client_in, actor, org, contact):
    quote = make_quote(actor, contact)
    page = client_in.get(url(org, "quote_edit", quote.pk)).content.decode()
    assert 'value="Consulting"' in page
    response = client_in.post(
        url(org, "quote_edit", quote.pk), form_data(contact, [{"description": "New", "unit_price": "7.50"}])
    )
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.total == Decimal("7.50")
    with scope(organization=org):
        quote_accept(actor=actor, quote=quote)
    response = client_in.post(
        url(org, "quote_edit", quote.pk), form_data(contact, [{"description": "Late", "unit_price": "1"}])
    )
    assert response.status_code == 302
    assert response["Location"] == url(org, "quote_detail", quote.pk)
    quote.refresh_from_db()
    assert quote.total == Decimal("7.50")
    assert list(QuoteLine.dangerously_unscoped.filter(quote=quote).values_list("description", flat=True)) == ["New"]


def test_accepting_from_the_page_places_the_order_once(client_in, actor, org, contact):
    quote = make_quote(actor, contact)
    response = client_in.post(url(org, "quote_accept", quote.pk))
    order = Order.dangerously_unscoped.get(quote=quote)
    assert response.status_code == 302
    assert response["Location"] == url(org, "order_detail", order.pk)
    page = client_in.get(response["Location"]).content.decode()
    assert "Quote Q-00001 accepted: order O-00001 placed." in page
    again = client_in.post(url(org, "quote_accept", quote.pk), follow=True)
    assert "This quote has already been accepted." in again.content.decode()
    assert Order.dangerously_unscoped.count() == 1
    timeline = client_in.get(reverse("contacts:contact_detail", args=[org.slug, contact.pk])).content.decode()
    assert "Order placed" in timeline
    assert "O-00001" in timeline


def test_send_and_decline_from_the_page(client_in, actor, org, contact):
    quote = make_quote(actor, contact)
    client_in.post(url(org, "quote_send", quote.pk))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    client_in.post(url(org, "quote_decline", quote.pk))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED


def test_the_print_view_shows_the_organisation_customer_lines_and_totals(client_in, actor, org, contact):
    quote = make_quote(
        actor, contact, lines=[{"description": "Consultoría", "unit_price": "1234.50", "tax_rate": "21"}]
    )
    response = client_in.get(url(org, "quote_print", quote.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<div class="h4 mb-1 org-name">{org.name}</div>' in html
    assert "<div>José García</div>" in html
    assert "<td>Consultoría</td>" in html
    assert '<td class="text-end fw-semibold">1,493.74 EUR</td>' in html
    assert "@media print" in (
        pytest.importorskip("pathlib").Path("vinculo/sales/static/sales/documents.css").read_text()
    )


# --- the PDF --------------------------------------------------------------------------------------


def _pdf_text(content: bytes) -> str:
    """The text drawn in a PDF made by fpdf2: each string shown is decoded through the ToUnicode
    map of the font selected before it (glyph ids with an embedded TTF, Latin-1 with a core font)."""
    streams: dict[int, bytes] = {}
    objects = {int(m[1]): m[2] for m in re.finditer(rb"(?s)\n(\d+) 0 obj\n(.*?)\nendobj", content)}
    for number, body in objects.items():
        match = re.search(rb"(?s)stream\n(.*)\nendstream", body)
        if match:
            data = match[1]
            if b"/FlateDecode" in body:
                data = zlib.decompress(data)
            streams[number] = data
    fonts: dict[bytes, dict[int, str] | None] = {}
    for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", content):
        font_object = objects.get(int(ref), b"")
        to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", font_object)
        if to_unicode is None:
            fonts[name] = None
            continue
        cmap: dict[int, str] = {}
        for code, uni in re.findall(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]+)>", streams[int(to_unicode[1])]):
            cmap[int(code, 16)] = bytes.fromhex(uni.decode()).decode("utf-16-be")
        fonts[name] = cmap
    text: list[str] = []
    for data in streams.values():
        if b" Tj" not in data:
            continue
        cmap_of_font: dict[int, str] | None = None
        for token in re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", data, re.S):
            if token[1]:
                cmap_of_font = fonts.get(token[1])
                continue
            raw = re.sub(
                rb"\\([nrtbf()\\]|[0-7]{1,3})",
                lambda m: {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(
                    m[1], bytes([int(m[1], 8)]) if m[1][:1].isdigit() else m[1]
                ),
                token[2],
            )
            if cmap_of_font is None:
                text.append(raw.decode("latin-1"))
            else:
                text.append(
                    "".join(cmap_of_font.get(int.from_bytes(raw[i : i + 2], "big"), "?") for i in range(0, len(raw), 2))
                )
    return "\n".join(text)


def test_the_pdf_is_a_pdf_named_after_the_quote(client_in, actor, org, contact):
    quote = make_quote(actor, contact)
    response = client_in.get(url(org, "quote_pdf", quote.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="quote-Q-00001.pdf"'
    assert response.content.startswith(b"%PDF-")
    assert "Quote Q-00001" in _pdf_text(response.content)


@pytest.mark.skipif(not pdf.fonts_available(), reason="fonts-liberation is not installed")
def test_the_pdf_prints_accents_the_euro_sign_and_amounts_as_the_pages_do(actor, org, contact):
    quote = make_quote(
        actor,
        contact,
        lines=[{"description": "Diseño gráfico", "unit_price": "1234.50", "tax_rate": "21"}],
        notes="Señal del 30 % (370 €)",
    )
    with scope(organization=org):
        quote = Quote.objects.prefetch_related("lines").select_related("contact", "company").get(pk=quote.pk)
        content = pdf.quote_pdf(quote=quote, organization=org, compress=False)
    text = _pdf_text(content).splitlines()
    assert content.startswith(b"%PDF-")
    assert "Quote Q-00001" in text
    assert "José García" in text
    assert "Diseño gráfico" in text
    assert "1,234.50 EUR" in text  # unit price and net
    assert "1,493.74 EUR" in text  # the total: 1493.745 rounded half-even
    assert "Señal del 30 % (370 €)" in text


def test_without_the_font_the_pdf_falls_back_to_latin_1(actor, org, contact):
    quote = make_quote(actor, contact, lines=[{"description": "Diseño “gráfico”", "unit_price": "5"}])
    with scope(organization=org):
        quote = Quote.objects.prefetch_related("lines").select_related("contact", "company").get(pk=quote.pk)
        content = pdf.quote_pdf(quote=quote, organization=org, compress=False, unicode_font=False)
    text = _pdf_text(content).splitlines()
    assert content.startswith(b"%PDF-")
    assert "Quote Q-00001" in text
    assert "José García" in text
    assert "Diseño ?gráfico?" in text
    assert "5.00 EUR" in text


# --- query counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["quote_list", "order_list"])
def test_document_lists_take_the_same_queries_for_any_number_of_rows(client_in, actor, org, contact, name):
    def add(n):
        for _ in range(n):
            quote = make_quote(actor, contact)
            if name == "order_list":
                with scope(organization=org):
                    quote_accept(actor=actor, quote=quote)

    add(2)
    client_in.get(url(org, name))
    with count_queries() as few:
        assert client_in.get(url(org, name)).status_code == 200
    add(4)
    with count_queries() as many:
        response = client_in.get(url(org, name))
    assert response.content.decode().count("Q-0000" if name == "quote_list" else "O-0000") == 6
    assert len(many.captured_queries) == len(few.captured_queries)
