""" "Submitted form F" (vinculo/touchpoints/condition_kinds.py): from the organisation's
`form.submitted` events and their `form_id`, with an optional window; another organisation's form
is refused and its events never count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_scopes import scope

from vinculo.contacts.conditions import compile_definition, validate_definition
from vinculo.contacts.factories import ContactFactory
from vinculo.contacts.models import Contact
from vinculo.core.models import Event
from vinculo.touchpoints.factories import WebFormFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def forms(org: Any, other_org: Any) -> dict[str, Any]:
    """Ana sent the demo form 3 days ago, Luis the newsletter form 60 days ago, Eva nothing (but the
    other organisation's row says she sent its form, with the demo form's id)."""
    demo = WebFormFactory(organization=org, name="Demo")
    newsletter = WebFormFactory(organization=org, name="Newsletter")
    theirs = WebFormFactory(organization=other_org, name="Theirs")
    ana, luis, eva = (ContactFactory(organization=org, first_name=name) for name in ("Ana", "Luis", "Eva"))
    for organization, contact, form_id, days in (
        (org, ana, demo.pk, 3),
        (org, luis, newsletter.pk, 60),
        (other_org, eva, demo.pk, 1),
        (other_org, eva, theirs.pk, 1),
    ):
        Event.dangerously_unscoped.create(
            organization=organization,
            contact=contact,
            type="form.submitted",
            properties={"form": "x", "form_id": form_id},
            occurred_at=timezone.now() - dt.timedelta(days=days),
        )
    return {"demo": demo, "newsletter": newsletter, "theirs": theirs}


def one(org: Any, **leaf: Any) -> list[str]:
    with scope(organization=org):
        q = compile_definition({"all": [{"kind": "form_submitted", **leaf}]}, org)
        return sorted(Contact.objects.filter(q).values_list("first_name", flat=True))


def test_submitted_form(org, forms):
    demo, newsletter = forms["demo"].pk, forms["newsletter"].pk
    assert one(org, op="has_any", value=[demo]) == ["Ana"]
    assert one(org, op="has_any", value=[demo, newsletter]) == ["Ana", "Luis"]
    assert one(org, op="has_any", value=[demo, newsletter], days=30) == ["Ana"]
    assert one(org, op="has_none", value=[demo]) == ["Eva", "Luis"]
    assert one(org, op="has_none", value=[newsletter], days=30) == ["Ana", "Eva", "Luis"]


def test_bad_forms_and_windows(org, forms):
    theirs = forms["theirs"].pk
    with scope(organization=org):
        assert validate_definition({"all": [{"kind": "form_submitted", "op": "has_any", "value": [theirs]}]}, org) == {
            "conditions.0.value": f"No such record: {theirs}."
        }
        assert validate_definition(
            {"all": [{"kind": "form_submitted", "op": "has_any", "value": [forms["demo"].pk], "days": -1}]}, org
        ) == {"conditions.0.days": "Enter a number of days from 0 to 36500."}
        assert validate_definition(
            {"all": [{"kind": "form_submitted", "op": "has_any", "value": [forms["demo"].pk], "count": 2}]}, org
        ) == {"conditions.0": "Unknown key: count."}
