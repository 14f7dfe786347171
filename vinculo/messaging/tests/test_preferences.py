"""The preference centre (/p/<token>/) and one-click unsubscribe (/u/<token>/, RFC 8058): signed
links bound to organisation, contact and type; exact ledger rows, states and suppression."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils.html import strip_tags
from django_scopes import scope

from vinculo.contacts.models import Contact
from vinculo.core.models import Event
from vinculo.messaging.models import Consent, ContactSubscription, SuppressedAddress
from vinculo.messaging.services import preferences as services
from vinculo.messaging.services.suppression import suppression_add
from vinculo.messaging.testing import make_subscription_type, record

ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = "application/x-www-form-urlencoded"


def make_contact(org: Any, email: str = "ana@example.com", **values: Any) -> Contact:
    with scope(organization=org):
        return Contact.objects.create(organization=org, first_name="Ana", email=email, **values)


@pytest.fixture
def setup(org):
    news = make_subscription_type(org, "newsletter", name="Newsletter")
    events = make_subscription_type(org, "events", name="Events")
    contact = make_contact(org)
    record(contact, news)
    record(contact, events)
    return contact, news, events


def states(contact: Contact) -> dict[str, str]:
    with scope(organization=contact.organization):
        rows = ContactSubscription.objects.filter(contact=contact)
        return dict(rows.values_list("subscription_type__key", "status"))


def ledger(contact: Contact) -> list[tuple[str, str, str]]:
    with scope(organization=contact.organization):
        rows = Consent.objects.filter(contact=contact).order_by("id")
        return list(rows.values_list("subscription_type__key", "status", "channel"))


def suppressed(org: Any) -> list[tuple[str, str]]:
    with scope(organization=org):
        return list(SuppressedAddress.objects.values_list("address", "reason"))


def path_of(url: str) -> str:
    return urlsplit(url).path


def one_click(contact: Contact, subscription_type: Any = None) -> str:
    return path_of(services.contact_links(contact, subscription_type).unsubscribe_url)


def preferences(contact: Contact) -> str:
    return path_of(services.contact_links(contact).preferences_url)


# --- links --------------------------------------------------------------------------------------------


def test_links_are_absolute_on_the_site_url_and_salted_per_purpose(settings, setup):
    settings.SITE_URL = "https://crm.example.org"
    contact, news, _events = setup
    links = services.contact_links(contact, news)
    assert links.unsubscribe_url.startswith("https://crm.example.org/u/")
    assert links.preferences_url.startswith("https://crm.example.org/p/")
    u_token = links.unsubscribe_url.split("/")[-2]
    p_token = links.preferences_url.split("/")[-2]
    target = services.unsubscribe_link_target(u_token)
    assert target is not None
    assert (target.organization, target.contact, target.subscription_type) == (contact.organization, contact, news)
    assert services.preference_link_target(u_token) is None  # a one-click token does not open the centre
    assert services.unsubscribe_link_target(p_token) is None
    assert Client().get(f"/p/{u_token}/").status_code == 404
    assert Client().post(f"/u/{p_token}/", ONE_CLICK, content_type=FORM).status_code == 404


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "1.1.0:x", lambda t: "x"]
)
def test_a_tampered_token_is_404_and_changes_nothing(setup, mangle):
    contact, news, _events = setup
    token = one_click(contact, news).split("/")[2]
    before = ledger(contact)
    assert Client().post(f"/u/{mangle(token)}/", ONE_CLICK, content_type=FORM).status_code == 404
    assert Client().get(f"/p/{mangle(token)}/").status_code == 404
    assert ledger(contact) == before


def test_a_token_of_organisation_a_never_acts_on_organisation_b(setup, other_org):
    contact, _news, _events = setup
    theirs = make_contact(other_org, "bea@example.com")
    their_type = make_subscription_type(other_org, "newsletter", name="Their news")
    record(theirs, their_type)
    # genuine signatures naming another organisation's contact or type find nothing
    foreign_contact = services._sign(services.UNSUBSCRIBE_SALT, contact.organization_id, theirs.pk, 0)
    foreign_type = services._sign(services.UNSUBSCRIBE_SALT, contact.organization_id, contact.pk, their_type.pk)
    foreign_centre = services._sign(services.PREFERENCES_SALT, contact.organization_id, theirs.pk)
    for token in (foreign_contact, foreign_type):
        assert Client().post(f"/u/{token}/", ONE_CLICK, content_type=FORM).status_code == 404
    page = Client().get(f"/p/{foreign_centre}/")
    assert page.status_code == 404
    assert "Their news" not in page.content.decode()
    assert Client().post(f"/p/{foreign_centre}/", {"everything": "1"}).status_code == 404
    # org A's own link changes org A's contact only
    assert Client().post(one_click(contact), ONE_CLICK, content_type=FORM).status_code == 200
    assert states(theirs) == {"newsletter": "subscribed"}
    assert suppressed(other_org) == []
    assert ledger(theirs) == [("newsletter", "granted", "manual")]


# --- one-click ----------------------------------------------------------------------------------------


def test_one_click_unsubscribes_from_the_messages_type_once(setup):
    contact, news, _events = setup
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT="Mail provider/1.0", REMOTE_ADDR="203.0.113.9")
    url = one_click(contact, news)
    first = client.post(url, ONE_CLICK, content_type=FORM)
    assert (first.status_code, first.content.decode()) == (200, "You are unsubscribed.")
    again = client.post(url, ONE_CLICK, content_type=FORM)
    assert again.status_code == 200
    assert states(contact) == {"newsletter": "unsubscribed", "events": "subscribed"}
    assert ledger(contact) == [
        ("newsletter", "granted", "manual"),
        ("events", "granted", "manual"),
        ("newsletter", "withdrawn", "unsubscribe_link"),
    ]
    with scope(organization=contact.organization):
        row = Consent.objects.filter(contact=contact).order_by("id").last()
        event = Event.objects.get(type="consent.withdrawn")
    assert row is not None
    assert (row.ip, row.user_agent, row.source, row.created_at is not None) == (
        "203.0.113.9",
        "Mail provider/1.0",
        "list_unsubscribe",
        True,
    )
    assert (event.contact_id, event.properties["channel"], event.properties["subscription_type"]) == (
        contact.pk,
        "unsubscribe_link",
        "newsletter",
    )
    assert suppressed(contact.organization) == []


def test_one_click_of_a_message_without_a_type_unsubscribes_from_everything(setup):
    contact, _news, _events = setup
    assert Client().post(one_click(contact), ONE_CLICK, content_type=FORM).status_code == 200
    assert Client().post(one_click(contact), ONE_CLICK, content_type=FORM).status_code == 200
    assert states(contact) == {"newsletter": "unsubscribed", "events": "unsubscribed"}
    assert [r for r in ledger(contact) if r[1] == "withdrawn"] == [
        ("events", "withdrawn", "unsubscribe_link"),
        ("newsletter", "withdrawn", "unsubscribe_link"),
    ]
    assert suppressed(contact.organization) == [("ana@example.com", "unsubscribed")]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", FORM),
        ("List-Unsubscribe=Yes", FORM),
        ("List-Unsubscribe=One-Click&also=1", FORM),
        ("list-unsubscribe=one-click", FORM),
        ('{"List-Unsubscribe": "One-Click"}', "application/json"),
    ],
)
def test_any_other_body_is_400_and_changes_nothing(setup, body, content_type):
    contact, news, _events = setup
    response = Client().post(one_click(contact, news), body, content_type=content_type)
    assert response.status_code == 400
    assert response.content.decode() == ("This address unsubscribes only with the body “List-Unsubscribe=One-Click”.")
    assert states(contact) == {"newsletter": "subscribed", "events": "subscribed"}
    assert len(ledger(contact)) == 2


def test_a_get_of_the_one_click_address_shows_the_preference_centre_and_unsubscribes_nothing(setup):
    contact, news, _events = setup
    page = Client().get(one_click(contact, news))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Your e-mail preferences" in html
    assert 'value="newsletter" id="type-newsletter" checked' in html
    assert states(contact) == {"newsletter": "subscribed", "events": "subscribed"}
    assert len(ledger(contact)) == 2


# --- preference centre ------------------------------------------------------------------------------


def test_the_centre_is_in_the_contacts_language_else_the_organisations(setup, org):
    contact, _news, _events = setup
    org.language = "es"
    org.save(update_fields=["language"])
    assert '<html lang="es">' in Client().get(preferences(contact)).content.decode()
    contact.language = "en"
    with scope(organization=org):
        contact.save(update_fields=["language"])
    assert '<html lang="en">' in Client().get(preferences(contact), HTTP_ACCEPT_LANGUAGE="es").content.decode()


def test_the_centre_lists_active_types_with_the_contacts_state_and_saves_changes(setup, org):
    contact, _news, _events = setup
    make_subscription_type(org, "old", name="Old", is_active=False)
    make_subscription_type(org, "tips", name="Tips", lawful_basis="legitimate_interest", opt_mode="opt_out")
    client = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="Browser")
    html = client.get(preferences(contact)).content.decode()
    assert html.count('name="subscribed"') == 3
    assert "Old" not in html
    assert 'value="tips" id="type-tips" checked' in html
    assert "/o/" not in html  # no Vínculo navigation
    saved = client.post(preferences(contact), {"subscribed": ["events"]})
    assert saved.status_code == 200
    assert "Your preferences are saved." in saved.content.decode()
    assert states(contact) == {"newsletter": "unsubscribed", "events": "subscribed", "tips": "unsubscribed"}
    assert ledger(contact)[2:] == [
        ("newsletter", "withdrawn", "preference_centre"),
        ("tips", "withdrawn", "preference_centre"),
    ]
    client.post(preferences(contact), {"subscribed": ["events", "newsletter"]})
    assert ledger(contact)[4:] == [("newsletter", "granted", "preference_centre")]
    with scope(organization=org):
        grant = Consent.objects.filter(contact=contact).order_by("id").last()
    assert grant is not None
    assert (grant.text, grant.ip, grant.user_agent, grant.is_pending) == (
        "Subscribed to “Newsletter” in the preference centre.",
        "198.51.100.7",
        "Browser",
        False,
    )
    assert states(contact)["newsletter"] == "subscribed"


def test_an_unknown_type_is_400_and_changes_nothing(setup, org):
    contact, _news, _events = setup
    make_subscription_type(org, "old", name="Old", is_active=False)
    for key in ("nope", "old"):
        response = Client().post(preferences(contact), {"subscribed": ["events", key]})
        assert response.status_code == 400
        assert f"There is no subscription type with the key “{key}”." in response.content.decode()
    assert states(contact) == {"newsletter": "subscribed", "events": "subscribed"}
    assert len(ledger(contact)) == 2


def test_unsubscribe_from_everything_then_subscribe_again(setup, org):
    contact, _news, _events = setup
    old = make_subscription_type(org, "old", name="Old")
    record(contact, old)
    old.is_active = False
    with scope(organization=org):
        old.save(update_fields=["is_active"])
    page = Client().post(preferences(contact), {"everything": "1", "subscribed": ["events"]})
    assert page.status_code == 200
    assert "You are unsubscribed from everything" in page.content.decode()
    assert states(contact) == {"newsletter": "unsubscribed", "events": "unsubscribed", "old": "unsubscribed"}
    assert sorted(r for r in ledger(contact) if r[1] == "withdrawn") == [
        ("events", "withdrawn", "preference_centre"),
        ("newsletter", "withdrawn", "preference_centre"),
        ("old", "withdrawn", "preference_centre"),
    ]
    assert suppressed(org) == [("ana@example.com", "unsubscribed")]
    Client().post(preferences(contact), {"subscribed": ["events"]})
    assert states(contact)["events"] == "subscribed"
    assert suppressed(org) == []


def test_subscribing_again_never_lifts_a_bounce(setup, org):
    contact, news, _events = setup
    Client().post(one_click(contact, news), ONE_CLICK, content_type=FORM)
    suppression_add(organization=org, address="ana@example.com", reason="hard_bounce")
    Client().post(preferences(contact), {"subscribed": ["events", "newsletter"]})
    assert states(contact)["newsletter"] == "subscribed"
    assert suppressed(org) == [("ana@example.com", "hard_bounce")]


# --- the contact's timeline -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "sentence"),
    [("en", "Ana withdrew consent to Newsletter"), ("es", "Ana retiró su consentimiento para Newsletter")],
)
def test_an_unsubscribe_is_on_the_contacts_timeline(setup, actor, org, language, sentence):
    contact, news, _events = setup
    Client().post(one_click(contact, news), ONE_CLICK, content_type=FORM)
    actor.user.language = language
    actor.user.save(update_fields=["language"])
    client = Client()
    client.force_login(actor.user)
    page = client.get(f"/o/{org.slug}/contacts/{contact.pk}/timeline/", HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    assert sentence in " ".join(strip_tags(page.content.decode()).split())
