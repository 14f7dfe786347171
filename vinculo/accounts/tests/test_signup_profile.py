"""Sign-up, the profile page and the language switch."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from vinculo.accounts.models import Membership, Organization, Role, User
from vinculo.core.models import AuditEntry

GOOD = {
    "full_name": "Lucía Fernández",
    "email": "Lucia@Example.com",
    "password": "a perfectly fine passphrase",
    "organization_name": "Fernández Importaciones",
    "language": "es",
}


def counts() -> tuple[int, int, int]:
    return User.objects.count(), Organization.objects.count(), Membership.objects.count()


def test_sign_up_creates_user_organisation_and_owner_membership(db):
    client = Client()
    response = client.post(reverse("accounts:signup"), GOOD)

    membership = Membership.objects.select_related("user", "organization").get()
    assert response.status_code == 302
    assert response["Location"] == reverse("org:home", args=[membership.organization.slug])
    assert membership.role == Role.OWNER
    assert membership.user.email == "lucia@example.com"
    assert membership.user.full_name == "Lucía Fernández"
    assert membership.user.language == "es"
    assert membership.organization.name == "Fernández Importaciones"
    assert membership.organization.slug == "fernandez-importaciones"
    assert membership.organization.language == "es"
    assert membership.organization.base_currency == "EUR"
    # no time zone sent (a browser without the page's script): UTC, and so no country
    assert (membership.user.time_zone, membership.organization.time_zone) == ("UTC", "UTC")
    assert str(membership.organization.country) == ""
    assert membership.user.password.startswith("argon2")
    assert AuditEntry.dangerously_unscoped.filter(
        organization=membership.organization, object_type="accounts.organization", action="create"
    ).exists()
    # logged in
    assert client.get(reverse("org:settings", args=[membership.organization.slug])).status_code == 200


def test_sign_up_stores_the_browsers_time_zone_and_language_on_the_user_and_the_organisation(db):
    response = Client().post(reverse("accounts:signup"), {**GOOD, "time_zone": "Europe/Madrid", "language": "es"})

    assert response.status_code == 302
    membership = Membership.objects.select_related("user", "organization").get()
    assert (membership.user.time_zone, membership.user.language) == ("Europe/Madrid", "es")
    assert (membership.organization.time_zone, membership.organization.language) == ("Europe/Madrid", "es")
    # the country of the time zone: Spanish phone numbers will read in national format
    assert membership.organization.country.code == "ES"


def test_sign_up_page_offers_the_time_zone_picker_and_the_browsers_language(db):
    english = Client().get(reverse("accounts:signup"), headers={"accept-language": "en-GB,en;q=0.8"})
    spanish = Client().get(reverse("accounts:signup"), headers={"accept-language": "es-ES,es;q=0.9,en;q=0.5"})

    html = english.content.decode()
    assert '<select name="time_zone"' in html
    assert "data-browser-time-zone" in html
    assert '<option value="" selected>Detect automatically (UTC if unknown)</option>' in html
    assert '<option value="Europe/Madrid">Europe/Madrid</option>' in html
    assert '/static/accounts/signup.js"' in html
    assert english.context["form"]["language"].value() == "en"
    assert spanish.context["form"]["language"].value() == "es"


def test_sign_up_honours_next(db):
    response = Client().post(reverse("accounts:signup"), {**GOOD, "next": "/accounts/profile/"})
    assert response["Location"] == "/accounts/profile/"


def test_sign_up_ignores_next_to_another_site(db):
    response = Client().post(reverse("accounts:signup"), {**GOOD, "next": "https://evil.example.com/"})
    assert response["Location"].startswith("/o/")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": "taken@example.com"}, "email", "already exists"),
        ({"email": "TAKEN@example.com"}, "email", "already exists"),
        ({"email": "not-an-email"}, "email", "valid e-mail"),
        ({"password": "short"}, "password", "too short"),
        ({"password": "password123"}, "password", "too common"),
        ({"password": "12345678901234"}, "password", "entirely numeric"),
        ({"organization_name": ""}, "organization_name", "required"),
        ({"organization_name": "   "}, "organization_name", "required"),
        ({"full_name": ""}, "full_name", "required"),
        ({"language": "xx"}, "language", "valid choice"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Unknown time zone. Choose one from the list."),
        ({"time_zone": "europe/madrid"}, "time_zone", "Unknown time zone. Choose one from the list."),
    ],
)
def test_sign_up_bad_input_is_422_with_field_error_and_nothing_created(db, change, field, message):
    User.objects.create_user(email="taken@example.com", password="whatever passphrase", full_name="Taken")
    before = counts()

    response = Client().post(reverse("accounts:signup"), {**GOOD, **change})

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    if field != "full_name":
        assert 'value="Lucía Fernández"' in html  # what the user typed is kept
    assert 'value="a perfectly fine passphrase"' not in html  # except the password
    assert counts() == before


def test_profile_page_saves_name_language_and_time_zone(actor):
    client = Client()
    client.force_login(actor.user)
    assert client.get(reverse("accounts:profile")).status_code == 200

    response = client.post(
        reverse("accounts:profile"), {"full_name": "Ana B.", "language": "es", "time_zone": "Europe/Madrid"}
    )

    assert response.status_code == 302
    actor.user.refresh_from_db()
    assert (actor.user.full_name, actor.user.language, actor.user.time_zone) == ("Ana B.", "es", "Europe/Madrid")


def test_profile_bad_input_is_422_and_keeps_input(actor):
    client = Client()
    client.force_login(actor.user)
    before = (actor.user.full_name, actor.user.language, actor.user.time_zone)

    response = client.post(
        reverse("accounts:profile"), {"full_name": "Typed Name", "language": "en", "time_zone": "Mars/Olympus"}
    )

    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["time_zone"]
    assert 'value="Typed Name"' in response.content.decode()
    actor.user.refresh_from_db()
    assert (actor.user.full_name, actor.user.language, actor.user.time_zone) == before


def test_anonymous_language_switch_uses_a_cookie(db):
    client = Client()
    assert '<html lang="en"' in client.get(reverse("accounts:login")).content.decode()

    response = client.post(reverse("accounts:language"), {"language": "es", "next": reverse("accounts:login")})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    page = client.get(reverse("accounts:login"))
    assert '<html lang="es"' in page.content.decode()
    assert page["Content-Language"] == "es"


def test_logged_in_language_switch_is_stored_on_the_user(actor, org):
    client = Client()
    client.force_login(actor.user)
    settings_page = reverse("org:settings", args=[org.slug])

    client.post(reverse("accounts:language"), {"language": "es", "next": settings_page})

    actor.user.refresh_from_db()
    assert actor.user.language == "es"
    # it follows the user to another browser, which has no cookie
    other_browser = Client()
    other_browser.force_login(actor.user)
    page = other_browser.get(settings_page)
    assert '<html lang="es"' in page.content.decode()
    assert page["Content-Language"] == "es"


def test_unknown_language_is_refused(actor):
    client = Client()
    client.force_login(actor.user)
    response = client.post(reverse("accounts:language"), {"language": "klingon"})
    assert response.status_code == 400
    actor.user.refresh_from_db()
    assert actor.user.language == "en"


def test_new_organisation_page(actor):
    actor.user.time_zone = "Europe/London"
    actor.user.save(update_fields=["time_zone"])
    client = Client()
    client.force_login(actor.user)
    bad = client.post(reverse("accounts:organization_create"), {"name": "Second", "base_currency": "ZZZ"})
    assert bad.status_code == 422
    assert "ISO 4217" in bad.content.decode()
    assert 'value="Second"' in bad.content.decode()

    response = client.post(reverse("accounts:organization_create"), {"name": "Second", "base_currency": "usd"})

    assert response.status_code == 302
    membership = Membership.objects.get(user=actor.user, organization__name="Second")
    assert membership.role == Role.OWNER
    assert membership.organization.base_currency == "USD"
    # its time zone and country are its owner's
    assert (membership.organization.time_zone, membership.organization.country.code) == ("Europe/London", "GB")


def test_one_client_may_try_twenty_sign_ups_an_hour_then_waits_and_nothing_is_created(db):
    """The form says when an address already has an account (as sign-up forms do): a client may
    try a few, not walk a list of addresses."""
    from vinculo.accounts.views import SIGNUPS_PER_CLIENT_PER_HOUR

    tries = [
        Client().post(reverse("accounts:signup"), {**GOOD, "email": "taken@example.com"}, REMOTE_ADDR="192.0.2.5")
        for _ in range(SIGNUPS_PER_CLIENT_PER_HOUR)
    ]
    assert [r.status_code for r in tries] == [302] + [422] * (SIGNUPS_PER_CLIENT_PER_HOUR - 1)
    assert counts() == (1, 1, 1)

    held = Client().post(reverse("accounts:signup"), {**GOOD, "email": "new@example.com"}, REMOTE_ADDR="192.0.2.5")
    assert held.status_code == 429
    assert 1 <= int(held["Retry-After"]) <= 3600
    assert "Too many sign-ups from your network." in held.content.decode()
    assert counts() == (1, 1, 1)
    other = Client().post(reverse("accounts:signup"), {**GOOD, "email": "new@example.com"}, REMOTE_ADDR="192.0.2.6")
    assert other.status_code == 302  # another network is not held back
    assert counts() == (2, 2, 2)
