"""One rule for e-mail addresses: every door that takes one gives the same answer for the same
address (syntax and internationalised domains checked, special-use domains such as .test and
.example accepted, no DNS look-up), and stores it the same way."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.models import Invitation, Membership, User
from vinculo.accounts.testing import api_client_for
from vinculo.contacts.models import ContactEmail
from vinculo.core.validation import normalize_email_address
from vinculo.messaging.services.suppression import suppression_add
from vinculo.touchpoints.models import FormSubmission
from vinculo.touchpoints.testing.forms import GOOD, make_form, token

TABLE = [
    ("lucia@acme-iberica.test", "lucia@acme-iberica.test"),
    ("ana@probe-co.test", "ana@probe-co.test"),
    ("Pepe@Example.com", "pepe@example.com"),
    ("info@shop.example", "info@shop.example"),
    ("nadie@nowhere.invalid", "nadie@nowhere.invalid"),
    ("dev@box.localhost", "dev@box.localhost"),
    ("jose@ñandú.es", "jose@ñandú.es"),  # an internationalised domain
    ("jose@xn--and-6ma2c.es", "jose@ñandú.es"),  # the same domain in its ASCII form
    ("ana+crm@mail.acme.co.uk", "ana+crm@mail.acme.co.uk"),
    ("ana@gmail", None),  # no dot in the domain
    ("ana.example.com", None),
    ("ana@@example.com", None),
    ("ana maría@example.com", None),
    ("ana@-acme.com", None),
    ("ana@acme..com", None),
    (".ana@acme.com", None),
    ("ana@printer.local", None),  # multicast DNS names are not e-mail domains
    ("ana@[192.0.2.1]", None),
    ("josé@ñandú.es", None),  # a mailbox name beyond ASCII needs SMTPUTF8, which mail cannot count on
]


@pytest.mark.parametrize(("address", "stored"), TABLE)
def test_the_rule_itself(address: str, stored: str | None):
    assert normalize_email_address(address) == stored


def _contact_form(client: Client, org_slug: str, address: str) -> bool:
    response = client.post(
        reverse("contacts:contact_create", args=[org_slug]),
        {"first_name": "Lucía", "emails": [address, ""], "lifecycle_stage": "lead", "source": "manual"},
    )
    assert response.status_code in (302, 422), response.status_code
    return response.status_code == 302


def _contact_api(client: Client, address: str) -> bool:
    response = client.post(
        "/api/v1/contacts", {"first_name": "Lucía", "emails": [address]}, content_type="application/json"
    )
    assert response.status_code in (201, 422), response.content
    if response.status_code == 422:
        assert [e["field"] for e in response.json()["errors"]] == ["emails"], response.content
    return response.status_code == 201


def _sign_up(address: str) -> bool:
    response = Client().post(
        reverse("accounts:signup"),
        {
            "full_name": "Ana",
            "email": address,
            "password": "a perfectly fine passphrase",
            "organization_name": "Probe Co",
            "language": "en",
        },
    )
    assert response.status_code in (302, 422), response.status_code
    if response.status_code == 422:
        assert list(response.context["form"].errors) == ["email"]
    return response.status_code == 302


def _invitation(client: Client, org_slug: str, address: str) -> bool:
    response = client.post(reverse("org:invitations", args=[org_slug]), {"email": address, "role": "sales"})
    assert response.status_code in (302, 422), response.status_code
    return response.status_code == 302


def _web_form(form: Any, address: str) -> bool:
    response = Client().post(f"/f/{form.public_key}/submit", {"_ts": token(form), **GOOD, "email": address})
    assert response.status_code in (200, 422), response.status_code
    return response.status_code == 200


def _suppression(org: Any, address: str) -> bool:
    try:
        suppression_add(organization=org, address=address, reason="manual")
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("address", "stored"), TABLE)
def test_every_door_gives_the_same_answer(address, stored, actor, org, client_in, other_actor):
    form = make_form(actor)
    # the API in another organisation, as an address belongs to one contact per organisation
    api_client = api_client_for(other_actor)

    answers = {
        "contact form": _contact_form(client_in, org.slug, address),
        "contact API": _contact_api(api_client, address),
        "sign-up": _sign_up(address),
        "invitation": _invitation(client_in, org.slug, address),
        "web form": _web_form(form, address),
        "suppression list": _suppression(org, address),
    }

    assert answers == dict.fromkeys(answers, stored is not None)
    with scope(organization=org):
        emails = list(ContactEmail.objects.values_list("email", flat=True))
        submissions = list(FormSubmission.objects.values_list("status", flat=True))
    with scope(organization=other_actor.organization):
        emails_by_api = list(ContactEmail.objects.values_list("email", flat=True))
    if stored is None:
        assert emails == emails_by_api == []
        assert submissions == []
        assert set(User.objects.values_list("pk", flat=True)) == {actor.user_id, other_actor.user_id}
        with scope(organization=org):
            assert not Invitation.objects.exists()
        return
    # the web form found the contact of the contact form by its address
    assert emails == emails_by_api == [stored]
    assert submissions == ["accepted"]
    assert Membership.objects.get(user__email=address.lower()).role == "owner"  # of the new organisation
    with scope(organization=org):
        assert Invitation.objects.get().email == address.lower()
