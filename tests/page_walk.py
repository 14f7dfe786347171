"""The walk over every page that the browser page walkers share (the Content-Security-Policy walk,
the accessibility walk): one real record of every kind with the secrets of the links sent by e-mail,
and every route of the URL configuration filled with them, signed out for the sign-in pages, the
links sent by e-mail and the public side, signed in for the rest (tests/site_map.py lists them)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_scopes import scope
from playwright.sync_api import Page, expect

from tests.site_map import all_routes, fill, object_kind, one_of_every_kind
from vinculo.accounts.models import Membership
from vinculo.accounts.testing import PASSWORD
from vinculo.contacts.models import Contact
from vinculo.messaging.services.preferences import preferences_token, unsubscribe_token
from vinculo.sales.models import Deal
from vinculo.sales.services.activities import calendar_feed_get_or_create
from vinculo.touchpoints.models import FormSubmission, Integration, WebForm
from vinculo.touchpoints.services import forms as form_services

# Opened signed out: the sign-in pages, the links sent by e-mail, and the public side.
SIGNED_OUT = {
    "home",
    "accounts:login",
    "accounts:signup",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "accounts:invitation_accept",
}


def walk_records(owner: Membership, label: str) -> dict[str, Any]:
    """One record of every kind, the deal in this month's forecast, and the secrets of the links."""
    data = one_of_every_kind(owner, label)
    Deal.dangerously_unscoped.filter(pk=data["deal"]).update(
        expected_close_date=dt.date.today(), forecast_category="commit", probability=50, owner=owner.user
    )
    FormSubmission.dangerously_unscoped.filter(pk=data["form_submission"]).update(
        confirm_token="a-pending-confirmation", status=FormSubmission.Status.PENDING
    )
    with scope(organization=owner.organization):
        feed = calendar_feed_get_or_create(actor=owner)
    submission = FormSubmission.dangerously_unscoped.get(pk=data["form_submission"])
    contact = Contact.dangerously_unscoped.get(pk=data["contact"])
    user = owner.user
    public_key = WebForm.dangerously_unscoped.get(pk=data["web_form"]).public_key
    data["secrets"] = {
        "accounts:password_reset_confirm": {
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
        "accounts:invitation_accept": {"secret": urlsplit(data["invitation_url"]).path.rstrip("/").rsplit("/", 1)[1]},
        "ical:feed": {"token": feed.token},
        "public:web_form_confirm": {"token": form_services.confirm_token_for(submission)},
        "public:web_form_hosted": {"public_key": public_key},
        "public:web_form_embed": {"public_key": public_key},
        "public:web_form_submit": {"public_key": public_key},
        "public:webhook": {"token": Integration.dangerously_unscoped.get(pk=data["integration"]).token},
        "unsubscribe:preferences": {"token": preferences_token(contact)},
        "unsubscribe:one_click": {"token": unsubscribe_token(contact)},
    }
    return data


def page_walk(owner: Membership, data: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(url name, address, signed out?) of every route; the API's JSON operations are not pages."""
    walk = []
    for name, route, kwargs in all_routes():
        if route.startswith("/api/") and name != "api:openapi-view":
            continue
        values = {"org_slug": owner.organization.slug, **data["secrets"].get(name, {})}
        for kwarg in kwargs:
            if kwarg not in values:
                values[kwarg] = data[object_kind(name, kwarg)]  # fails for a route it cannot fill
        signed_out = name in SIGNED_OUT or name.startswith(("public:", "ical:", "unsubscribe:"))
        walk.append((name, fill(route, values), signed_out))
    return walk


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()  # the home page
