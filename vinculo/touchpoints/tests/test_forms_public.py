"""The public side of web forms over HTTP: the hosted page, the embed (JSON + CORS), submissions
(form-encoded and JSON), spam answers, the rate limit, the double opt-in link (also through a real
SMTP server), and that a form key only ever reaches its own organisation."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django_scopes import scope

from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.messaging.models import Consent, ContactSubscription, SuppressedAddress
from vinculo.touchpoints.models import FormSubmission
from vinculo.touchpoints.services import forms as services
from vinculo.touchpoints.testing.forms import GOOD, make_form, token

ORIGIN = "https://www.example.com"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def post(client: Client, form: Any, data: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(f"/f/{form.public_key}/submit", {"_ts": token(form), **data}, **kwargs)


def post_json(
    client: Client, form: Any, data: dict[str, Any], headers: dict[str, str] | None = None, **extra: Any
) -> Any:
    body = json.dumps({"_ts": token(form), **data})
    return client.post(f"/f/{form.public_key}/submit", body, content_type="application/json", headers=headers, **extra)


# --- the hosted page ----------------------------------------------------------------------------


def test_the_hosted_page_shows_the_form_in_the_organisations_name(actor, org):
    form = make_form(actor)
    response = Client().get(f"/f/{form.public_key}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert f'<p class="text-body-secondary small mb-2" id="org-name">{org.name}</p>' in html
    assert '<h1 class="h4 mb-3">Contact us</h1>' in html
    assert 'name="email"' in html
    assert 'type="email"' in html
    assert 'name="consent.terms"' in html
    assert "I accept the privacy policy." in html
    assert 'name="homepage"' in html  # the honeypot
    assert re.search(r'name="_ts" value="[^"]+"', html)
    assert f'name="_page" value="http://testserver/f/{form.public_key}/"' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert response["Cache-Control"] == "no-store"


def test_the_hosted_page_speaks_spanish_by_accept_language_or_lang(actor, org):
    form = make_form(actor)
    by_header = Client().get(f"/f/{form.public_key}/", headers={"Accept-Language": "es-ES,es;q=0.9"})
    by_param = Client().get(f"/f/{form.public_key}/?lang=es", headers={"Accept-Language": "en"})
    for response in (by_header, by_param):
        assert '<html lang="es">' in response.content.decode()
        assert 'name="_lang" value="es"' in response.content.decode()
    response = post(Client(), form, {"_lang": "es", "email": ""})
    assert response.status_code == 422
    assert "Este campo es obligatorio." in response.content.decode()


def test_a_wrong_or_inactive_key_is_404(actor, org):
    form = make_form(actor)
    client = Client()
    assert client.get("/f/no-such-key/").status_code == 404
    assert client.post("/f/no-such-key/submit", {"email": "a@example.com"}).status_code == 404
    assert client.get("/f/no-such-key/embed").status_code == 404
    with scope(organization=org):
        services.web_form_update(actor=actor, form=form, data={"is_active": False})
    assert client.get(f"/f/{form.public_key}/").status_code == 404
    assert post(client, form, GOOD).status_code == 404
    assert Contact.dangerously_unscoped.count() == 0


# --- submissions over HTTP ------------------------------------------------------------------------


def test_a_good_submission_shows_the_thank_you_and_records_the_proof(actor, org):
    form = make_form(actor, success_message="¡Gracias, Ana!")
    response = post(
        Client(),
        form,
        {**GOOD, "_page": "https://www.example.com/landing?utm_source=x"},
        headers={"User-Agent": "Mozilla/5.0 (Phone)"},
        REMOTE_ADDR="198.51.100.20",
    )
    assert response.status_code == 200
    assert '<p class="mb-0 lead" id="form-message" role="status">¡Gracias, Ana!</p>' in response.content.decode()
    submission = FormSubmission.dangerously_unscoped.get()
    assert (submission.status, submission.ip, submission.user_agent, submission.page_url) == (
        "accepted",
        "198.51.100.20",
        "Mozilla/5.0 (Phone)",
        "https://www.example.com/landing?utm_source=x",
    )
    assert list(
        Consent.dangerously_unscoped.order_by("id").values_list("subscription_type__key", "ip", "page_url")
    ) == [
        ("newsletter", "198.51.100.20", "https://www.example.com/landing?utm_source=x"),
        ("terms", "198.51.100.20", "https://www.example.com/landing?utm_source=x"),
    ]
    assert Contact.dangerously_unscoped.get().email == "ana@example.com"


def test_a_redirect_url_sends_the_visitor_there(actor, org):
    form = make_form(actor, redirect_url="https://www.example.com/thanks")
    response = post(Client(), form, GOOD)
    assert (response.status_code, response["Location"]) == (302, "https://www.example.com/thanks")


def test_bad_input_on_the_hosted_page_shows_errors_next_to_fields_and_keeps_input(actor, org):
    form = make_form(actor)
    response = post(Client(), form, {**GOOD, "email": "ana@", "consent.terms": ""})
    assert response.status_code == 422
    html = response.content.decode()
    key = form.public_key
    assert (
        f'<div class="invalid-feedback vf-error" id="vf-{key}-email-error">“ana@” is not a valid e-mail address.</div>'
        in html
    )
    assert (
        f'<div class="invalid-feedback vf-error" id="vf-{key}-consent-terms-error">Tick this box to continue.</div>'
        in html
    )
    assert 'value="ana@"' in html
    assert 'value="Ana"' in html
    assert "Call me, please.</textarea>" in html
    assert '<option value="big" selected>' in html
    assert re.search(r'name="consent.newsletter" id="[^"]+" checked', html)
    assert FormSubmission.dangerously_unscoped.count() == 0
    assert Contact.dangerously_unscoped.count() == 0


def test_json_submissions_answer_json(actor, org):
    form = make_form(actor)
    bad = post_json(Client(), form, {"email": "nope", "phone": "+34 1"})
    assert bad.status_code == 422
    assert bad.json() == {
        "detail": "Please correct the fields marked.",
        "errors": [
            {"field": "email", "message": "“nope” is not a valid e-mail address."},
            {"field": "phone", "message": "“+34 1” is not a phone number."},
            {"field": "consent.terms", "message": "Tick this box to continue."},
        ],
    }
    good = post_json(Client(), form, {**GOOD, "consent.terms": True, "consent.newsletter": False})
    assert good.status_code == 200
    assert good.json() == {"detail": "Thank you! We have received your details.", "status": "ok", "redirect_url": ""}
    assert list(Consent.dangerously_unscoped.values_list("subscription_type__key", flat=True)) == ["terms"]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe"],
)
def test_malformed_json_is_a_400_and_changes_nothing(actor, org, body):
    form = make_form(actor)
    response = Client().post(f"/f/{form.public_key}/submit", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Send a JSON object of field names and values.", "errors": []}
    assert FormSubmission.dangerously_unscoped.count() == 0


def test_an_oversized_json_body_is_a_413(actor, org):
    form = make_form(actor)
    body = json.dumps({"email": "a@example.com", "message": "x" * 70_000})
    response = Client().post(f"/f/{form.public_key}/submit", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "The form data is too large.", "errors": []}
    assert FormSubmission.dangerously_unscoped.count() == 0


FIVE_THOUSAND = {f"f{i}": "x" for i in range(5000)}
TOO_MANY_FIELDS = {"detail": "Too many fields: at most 2000.", "errors": []}


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_5000_fields_posted_by_a_script_are_the_json_400_and_store_nothing(actor, org, encoding):
    """Issue 9: 5,000 fields answered Django's bare HTML 400 instead of the endpoint's JSON error
    (which the embedding page may read: CORS as for any answer of the endpoint)."""
    form = make_form(actor, allowed_origins=[ORIGIN])
    data = {"_ts": token(form), **GOOD, "consent.terms": "on", **FIVE_THOUSAND}
    kwargs: dict[str, Any] = {"headers": {"Accept": "application/json", "Origin": ORIGIN}}
    if encoding == "urlencoded":
        kwargs["content_type"] = "application/x-www-form-urlencoded"
    body = urlencode(data) if encoding == "urlencoded" else data

    response = Client().post(f"/f/{form.public_key}/submit", body, **kwargs)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json() == TOO_MANY_FIELDS
    assert FormSubmission.dangerously_unscoped.count() == 0
    assert Contact.dangerously_unscoped.count() == 0


def test_5000_fields_in_a_json_submission_are_the_same_400_and_store_nothing(actor, org):
    form = make_form(actor)
    data = {"_ts": token(form), **GOOD, "consent.terms": True, **{str(i): 0 for i in range(5000)}}  # under 64 KB

    response = Client().post(f"/f/{form.public_key}/submit", json.dumps(data), content_type="application/json")

    assert response.status_code == 400
    assert response.json() == TOO_MANY_FIELDS
    assert FormSubmission.dangerously_unscoped.count() == 0


def test_5000_fields_posted_from_the_hosted_page_answer_a_400_page_in_the_forms_look(actor, org):
    form = make_form(actor)
    data = {"_ts": token(form), **GOOD, "consent.terms": "on", **FIVE_THOUSAND}

    response = Client().post(
        f"/f/{form.public_key}/submit", urlencode(data), content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert f'<p class="text-body-secondary small mb-2" id="org-name">{org.name}</p>' in html
    assert '<p class="mb-0 lead" id="form-message" role="status">Too many fields: at most 2000.</p>' in html
    assert FormSubmission.dangerously_unscoped.count() == 0


def test_spam_is_answered_like_a_success(actor, org, settings):
    settings.VINCULO_FORM_MIN_FILL_SECONDS = 600  # "too fast" whatever the load on the machine
    form = make_form(actor)
    honeypot = post_json(Client(), form, {**GOOD, "homepage": "http://buy.example"})
    too_fast = Client().post(
        f"/f/{form.public_key}/submit",
        json.dumps({**GOOD, "_ts": services.fill_token(form)}),
        content_type="application/json",
    )
    for response in (honeypot, too_fast):
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
    assert sorted(FormSubmission.dangerously_unscoped.values_list("status", "data___spam")) == [
        ("spam", "honeypot"),
        ("spam", "too_fast"),
    ]
    assert Contact.dangerously_unscoped.count() == 0
    assert Event.dangerously_unscoped.count() == 0


def test_the_rate_limit_per_form_and_address(actor, org, settings):
    settings.VINCULO_FORM_RATE_PER_IP = 3
    form = make_form(actor)
    client = Client()
    statuses = [post(client, form, {"email": ""}, REMOTE_ADDR="192.0.2.1").status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    refused = post(client, form, GOOD, REMOTE_ADDR="192.0.2.1")
    assert refused.status_code == 429
    assert "Too many submissions from your address. Please try again in a few minutes." in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 600
    assert post_json(client, form, GOOD, REMOTE_ADDR="192.0.2.1").json() == {
        "detail": "Too many submissions from your address. Please try again in a few minutes.",
        "errors": [],
    }
    assert Contact.dangerously_unscoped.count() == 0
    other_address = post(client, form, GOOD, REMOTE_ADDR="192.0.2.2")
    assert other_address.status_code == 200
    assert Contact.dangerously_unscoped.count() == 1


def test_the_rate_limit_for_all_addresses_of_one_form(actor, org, settings):
    settings.VINCULO_FORM_RATE_PER_FORM = 2
    form = make_form(actor)
    statuses = [post(Client(), form, {"email": ""}, REMOTE_ADDR=f"192.0.2.{i}").status_code for i in range(3)]
    assert statuses == [422, 422, 429]


def test_page_views_are_rate_limited_per_address(actor, org, settings):
    settings.VINCULO_FORM_VIEW_RATE_PER_IP = 2
    form = make_form(actor, allowed_origins=[ORIGIN])
    client = Client()
    hosted = [client.get(f"/f/{form.public_key}/", REMOTE_ADDR="192.0.2.9").status_code for _ in range(3)]
    assert hosted == [200, 200, 429]
    refused = client.get(f"/f/{form.public_key}/", REMOTE_ADDR="192.0.2.9")
    assert "Too many requests from your address. Please try again in a few minutes." in refused.content.decode()
    assert client.get(f"/f/{form.public_key}/", REMOTE_ADDR="192.0.2.10").status_code == 200
    embed = client.get(f"/f/{form.public_key}/embed", REMOTE_ADDR="192.0.2.9", headers={"Origin": ORIGIN})
    assert (embed.status_code, embed["Access-Control-Allow-Origin"]) == (429, ORIGIN)
    assert embed.json() == {
        "detail": "Too many requests from your address. Please try again in a few minutes.",
        "errors": [],
    }
    confirms = [client.get("/f/confirm/x/", REMOTE_ADDR="192.0.2.9").status_code for _ in range(3)]
    assert confirms == [404, 404, 429]


# --- embed and CORS -------------------------------------------------------------------------------


def test_the_embed_script_is_served(db):
    response = Client().get("/f/embed.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert b"data-vinculo-form" in response.content


def test_the_embed_json_for_an_allowed_origin(actor, org):
    form = make_form(actor, allowed_origins=[ORIGIN], success_message="Thanks!")
    response = Client().get(f"/f/{form.public_key}/embed?lang=en", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response["Vary"]
    body = response.json()
    assert set(body) == {"html", "action", "success_message", "redirect_url", "network_error"}
    assert body["action"] == f"http://testserver/f/{form.public_key}/submit"
    assert body["success_message"] == "Thanks!"
    assert f'data-vinculo-key="{form.public_key}"' in body["html"]
    assert 'name="_ts"' in body["html"]


def test_a_refused_origin_gets_no_cors_and_cannot_submit(actor, org):
    form = make_form(actor, allowed_origins=[ORIGIN])
    client = Client()
    embed = client.get(f"/f/{form.public_key}/embed", headers={"Origin": "https://evil.example"})
    assert embed.status_code == 403
    assert "Access-Control-Allow-Origin" not in embed
    submit = post_json(client, form, GOOD, headers={"Origin": "https://evil.example"})
    assert submit.status_code == 403
    assert submit.json() == {"detail": "This origin may not use this form.", "errors": []}
    assert "Access-Control-Allow-Origin" not in submit
    assert FormSubmission.dangerously_unscoped.count() == 0
    allowed = post_json(client, form, GOOD, headers={"Origin": ORIGIN})
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == ORIGIN


def test_the_hosted_page_posts_from_its_own_origin(actor, org):
    form = make_form(actor)  # no allowed origins at all
    response = post(Client(), form, GOOD, headers={"Origin": "http://testserver"})
    assert response.status_code == 200


def test_preflight_for_allowed_and_refused_origins(actor, org):
    form = make_form(actor, allowed_origins=[ORIGIN])
    headers = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = Client().options(f"/f/{form.public_key}/submit", headers=headers)
    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == ORIGIN
    assert allowed["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert allowed["Access-Control-Allow-Headers"] == "Content-Type"
    refused = Client().options(f"/f/{form.public_key}/submit", headers={**headers, "Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused


# --- double opt-in over HTTP ------------------------------------------------------------------------


def _confirm_path(body: str) -> str:
    return re.search(r"https?://[^/\s]+(/f/confirm/\S+/)", body)[1]  # type: ignore[index]


def test_double_opt_in_from_the_hosted_page_to_the_confirmation(actor, org, django_capture_on_commit_callbacks):
    form = make_form(actor, double_opt_in=True, notify_owner=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(Client(), form, GOOD)
    assert response.status_code == 200
    assert "Please check your inbox" in response.content.decode()
    assert len(mail.outbox) == 1
    path = _confirm_path(str(mail.outbox[0].body))
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    assert FormSubmission.dangerously_unscoped.get().status == "pending"  # a GET (a mail scanner) confirms nothing
    confirmed = client.post(path)
    assert confirmed.status_code == 200
    assert "Thank you! Your e-mail address is confirmed." in confirmed.content.decode()
    submission = FormSubmission.dangerously_unscoped.get()
    assert submission.status == "confirmed"
    assert Event.dangerously_unscoped.filter(type="consent.confirmed").count() == 2
    again = client.get(path)
    assert "Your e-mail address is already confirmed. Thank you!" in again.content.decode()


def test_wrong_and_expired_confirmation_links(actor, org):
    form = make_form(actor, double_opt_in=True)
    post(Client(), form, GOOD)
    submission = FormSubmission.dangerously_unscoped.get()
    assert Client().get("/f/confirm/forged-token/").status_code == 404
    assert Client().post("/f/confirm/forged-token/").status_code == 404
    old = services.confirm_token_for(submission, issued_at=0)
    expired = Client().post(f"/f/confirm/{old}/")
    assert expired.status_code == 410
    assert "This confirmation link has expired. Please fill in the form again." in expired.content.decode()
    assert FormSubmission.dangerously_unscoped.get().status == "pending"


def test_double_opt_in_through_a_real_smtp_server(actor, org, smtp_server, django_capture_on_commit_callbacks):
    form = make_form(actor, double_opt_in=True, notify_owner=False)
    with django_capture_on_commit_callbacks(execute=True):
        post(Client(), form, {**GOOD, "_lang": "es"})
    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.rcpt_tos == ["ana@example.com"]
    # a long non-ASCII subject is folded onto a continuation line: the parsed value keeps its leading space
    assert received.message["Subject"].strip() == f"Confirma tu dirección de correo electrónico para {org.name}"
    assert received.message["Content-Language"] == "es"
    response = Client().post(_confirm_path(str(received.body)))
    assert response.status_code == 200
    assert FormSubmission.dangerously_unscoped.get().status == "confirmed"


def test_the_double_opt_in_mail_carries_one_click_unsubscribe_for_that_contact_only(
    actor, org, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://crm.example.org"
    form = make_form(actor, double_opt_in=True, notify_owner=False)
    with django_capture_on_commit_callbacks(execute=True):
        post(Client(), form, {**GOOD, "email": "bea@example.com", "first_name": "Bea"})
        post(Client(), form, GOOD)
    received = next(m for m in smtp_server.received if m.rcpt_tos == ["ana@example.com"])
    header = received.message["List-Unsubscribe"].strip()  # a long value is folded onto a continuation line
    assert re.fullmatch(r"<https://crm\.example\.org/u/[^/>\s]+/>", header)
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.search(r"https://crm\.example\.org/p/\S+/", str(received.body))
    path = header[len("<https://crm.example.org") : -1]
    response = Client().post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    ana = Contact.dangerously_unscoped.get(organization=org, first_name="Ana")
    states = ContactSubscription.dangerously_unscoped.order_by("contact__first_name", "subscription_type__key")
    assert list(states.values_list("contact__first_name", "subscription_type__key", "status")) == [
        ("Ana", "newsletter", "unsubscribed"),
        ("Ana", "partners", "unsubscribed"),  # an active type never answered: refused as well
        ("Ana", "terms", "unsubscribed"),
        ("Bea", "newsletter", "pending"),
        ("Bea", "terms", "pending"),
    ]
    withdrawn = Consent.dangerously_unscoped.filter(status="withdrawn")
    assert sorted(withdrawn.values_list("contact_id", "subscription_type__key", "channel")) == [
        (ana.pk, "newsletter", "unsubscribe_link"),
        (ana.pk, "partners", "unsubscribe_link"),
        (ana.pk, "terms", "unsubscribe_link"),
    ]
    assert list(SuppressedAddress.dangerously_unscoped.values_list("address", "reason")) == [
        ("ana@example.com", "unsubscribed")
    ]


# --- one organisation's key never reaches another's data ----------------------------------------------


def test_a_form_key_of_one_organisation_never_touches_another(actor, org, other_actor, other_org):
    with scope(organization=other_org):
        theirs = contact_create(actor=other_actor, data={"first_name": "Ana", "emails": ["ana@example.com"]})
    before = theirs.updated_at
    form = make_form(actor)
    response = post(Client(), form, GOOD)
    assert response.status_code == 200
    mine = Contact.dangerously_unscoped.get(organization=org)
    assert mine.pk != theirs.pk
    theirs.refresh_from_db()
    assert (theirs.last_name, theirs.updated_at) == ("", before)
    assert Contact.dangerously_unscoped.filter(organization=other_org).count() == 1
    assert not FormSubmission.dangerously_unscoped.filter(organization=other_org).exists()
    assert not Consent.dangerously_unscoped.filter(organization=other_org).exists()
    assert not Event.dangerously_unscoped.filter(organization=other_org, type__startswith="form.").exists()
    assert set(FormSubmission.dangerously_unscoped.values_list("organization", flat=True)) == {org.pk}


def test_a_confirmation_link_only_confirms_its_own_submission(actor, org, other_actor, other_org):
    mine = make_form(actor, double_opt_in=True)
    theirs = make_form(other_actor, double_opt_in=True)
    post(Client(), mine, GOOD)
    post(Client(), theirs, GOOD)
    my_submission = FormSubmission.dangerously_unscoped.get(organization=org)
    assert Client().post(f"/f/confirm/{services.confirm_token_for(my_submission)}/").status_code == 200
    assert FormSubmission.dangerously_unscoped.get(organization=org).status == "confirmed"
    assert FormSubmission.dangerously_unscoped.get(organization=other_org).status == "pending"
