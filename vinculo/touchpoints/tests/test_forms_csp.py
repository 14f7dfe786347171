"""The Content-Security-Policy of the public form pages: as strict as every page (no inline code, not
framed: the embed snippet renders the form on the host page itself, never in a frame), except that
the hosted page may send its visitor on to the form's thank-you address after the submission."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from vinculo.core.testing.csp import policy_of
from vinculo.touchpoints.models import WebForm
from vinculo.touchpoints.testing.forms import GOOD, make_form, token

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


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def test_the_hosted_page_of_a_form_without_redirect_has_the_strict_policy(actor, org):
    form = make_form(actor)
    response = Client().get(f"/f/{form.public_key}/")
    assert response.status_code == 200
    assert policy_of(response) == STRICT
    assert response["X-Frame-Options"] == "DENY"


def test_the_hosted_page_may_submit_on_to_the_forms_thank_you_address(actor, org):
    form = make_form(actor, redirect_url="https://www.example.com/thanks?from=form")
    response = Client().get(f"/f/{form.public_key}/")
    assert policy_of(response) == {**STRICT, "form-action": ["'self'", "https://www.example.com"]}


def test_the_page_with_errors_keeps_the_thank_you_address_allowed(actor, org):
    form = make_form(actor, redirect_url="http://shop.example.org:8080/gracias")
    response = Client().post(f"/f/{form.public_key}/submit", {"_ts": token(form), **GOOD, "email": "ana@"})
    assert response.status_code == 422
    assert policy_of(response) == {**STRICT, "form-action": ["'self'", "http://shop.example.org:8080"]}


def test_the_embed_and_the_confirmation_page_have_the_strict_policy(actor, org):
    form = make_form(actor, redirect_url="https://www.example.com/thanks")
    embed = Client().get(f"/f/{form.public_key}/embed")
    assert embed.status_code == 200
    assert policy_of(embed) == STRICT  # the host page's own policy governs the rendered form
    confirm = Client().get("/f/confirm/not-a-token/")
    assert confirm.status_code == 404
    assert policy_of(confirm) == STRICT


def test_a_thank_you_address_goes_into_the_policy_only_as_a_clean_origin(actor, org):
    form = make_form(actor, redirect_url="https://bücher.example:8443/danke")
    response = Client().get(f"/f/{form.public_key}/")
    assert policy_of(response)["form-action"] == ["'self'", "https://xn--bcher-kva.example:8443"]
    # an address saved before validation, or by hand, that would smuggle in a directive adds nothing
    WebForm.dangerously_unscoped.filter(pk=form.pk).update(redirect_url="https://shop.example;script-src */x")
    response = Client().get(f"/f/{form.public_key}/")
    assert policy_of(response) == STRICT
