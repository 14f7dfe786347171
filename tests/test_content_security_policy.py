"""The Content-Security-Policy: every page forbids inline code, eval and framing, and loads scripts,
styles, fonts and images from Vínculo itself; nothing in the templates or scripts needs more.

The browser proves it page by page (tests/browser/test_content_security_policy.py); these tests
check the header and read the sources for what a browser would refuse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from vinculo.accounts.testing import login_client
from vinculo.core.testing.csp import policy_of

STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
ROOT = Path(settings.BASE_DIR) / "vinculo"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_the_sign_in_pages_carry_the_strict_policy(path):
    response = Client().get(path)
    assert response.status_code == 200
    assert policy_of(response) == STRICT


@pytest.mark.django_db
def test_an_organisations_pages_carry_the_strict_policy(actor):
    client = login_client(actor)
    for path in (f"/o/{actor.organization.slug}/contacts/", f"/o/{actor.organization.slug}/deals/board/"):
        response = client.get(path)
        assert response.status_code == 200
        assert policy_of(response) == STRICT, path


@pytest.mark.django_db
def test_an_htmx_fragment_and_the_api_carry_it_too(actor):
    client = login_client(actor)
    fragment = client.get(f"/o/{actor.organization.slug}/contacts/?q=x", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert policy_of(fragment) == STRICT
    api = client.get("/api/v1/me")
    assert api.status_code == 200
    assert policy_of(api) == STRICT


def _page_templates() -> list[Path]:
    """Every template a browser renders as a page or a fragment (e-mail bodies are not pages)."""
    return sorted(path for path in ROOT.glob("**/templates/**/*.html") if "email" not in path.relative_to(ROOT).parts)


INLINE_CODE = [
    (re.compile(r"\sstyle\s*="), "a style attribute (use a class of the static CSS)"),
    (re.compile(r"<style[\s>]"), "a <style> element (use the static CSS)"),
    (re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>"), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*="), "an inline event handler (listen from the static JS)"),
    (re.compile(r"\shx-on[:-]"), "hx-on (htmx evaluates it as code; listen from the static JS)"),
    (re.compile(r"""["']js:|["']javascript:|href=["']javascript:"""), "code in an attribute"),
]


def test_no_page_template_has_inline_code():
    templates = _page_templates()
    assert len(templates) > 100
    found = [
        f"{path.relative_to(ROOT)}:{number}: {why}"
        for path in templates
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for pattern, why in INLINE_CODE
        if pattern.search(line)
    ]
    assert found == []


def test_the_scripts_never_evaluate_strings_or_write_style_attributes():
    scripts = sorted(p for p in ROOT.glob("**/static/**/*.js") if "vendor" not in p.parts)
    assert len(scripts) >= 10
    forbidden = re.compile(
        r"\beval\(|new Function\(|setTimeout\(\s*[\"'`]|setAttribute\(\s*[\"']style|cssText|"
        r"(?:innerHTML|outerHTML|insertAdjacentHTML)\b.*style="
    )
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in scripts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line)
    ]
    assert found == []


@pytest.mark.django_db
def test_a_refused_form_answers_with_a_page_that_needs_no_inline_style():
    """Django's own CSRF failure page styles itself inline, which the policy refuses: ours does not."""
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "ana@example.com", "password": "x"})
    assert response.status_code == 403
    assert policy_of(response) == STRICT
    html = response.content.decode()
    assert "<style" not in html
    assert " style=" not in html
    assert '<h1 class="h4 mt-3">This form has expired</h1>' in html
    spanish = Client(enforce_csrf_checks=True, headers={"Accept-Language": "es"}).post("/accounts/login/")
    assert spanish.status_code == 403
    assert '<html lang="es"' in spanish.content.decode()
