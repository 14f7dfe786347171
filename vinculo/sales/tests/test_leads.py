"""Converting a lead: company, prospect stage and deal in one transaction, the same contact row."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_scopes import scope

from vinculo.contacts.models import Company, Contact
from vinculo.contacts.services import company_create, contact_create, note_create
from vinculo.core.models import Event
from vinculo.sales.models import Deal
from vinculo.sales.services.leads import lead_convert
from vinculo.sales.testing import stage_named


@pytest.fixture
def lead(actor):
    with scope(organization=actor.organization):
        contact = contact_create(actor=actor, data={"first_name": "Lucía", "last_name": "Romero"})
        note_create(actor=actor, contact=contact, body="Met at the trade fair")
    return contact


def test_converting_creates_the_company_and_the_deal_and_keeps_the_history(actor, pipeline, lead, in_org_scope):
    with scope(organization=actor.organization):
        result = lead_convert(
            actor=actor,
            contact=lead,
            company_name="Romero Distribuciones",
            deal={"title": "First order", "amount": "2500.00", "stage": stage_named(pipeline, "Proposal").pk},
        )
    contact = Contact.dangerously_unscoped.get(pk=lead.pk)
    company = Company.dangerously_unscoped.get(name="Romero Distribuciones")
    deal = Deal.dangerously_unscoped.get()
    assert (contact.lifecycle_stage, contact.company_id) == ("prospect", company.pk)
    assert (deal.title, deal.amount, deal.stage.name, deal.contact_id, deal.company_id) == (
        "First order",
        Decimal("2500.00"),
        "Proposal",
        lead.pk,
        company.pk,
    )
    assert result.company is not None
    assert result.deal is not None
    assert (result.contact.pk, result.company.pk, result.deal.pk) == (lead.pk, company.pk, deal.pk)
    event = Event.dangerously_unscoped.get(type="lead.converted")
    assert event.contact_id == lead.pk
    assert event.properties == {
        "contact_id": lead.pk,
        "company_id": company.pk,
        "company": "Romero Distribuciones",
        "company_created": True,
        "deal_id": deal.pk,
        "deal": "First order",
    }
    # the same contact row: its notes and earlier events are still its own
    assert Event.dangerously_unscoped.filter(contact_id=lead.pk, type="contact.created").count() == 1
    assert contact.notes.get().body == "Met at the trade fair"


def test_converting_links_an_existing_company_without_a_deal(actor, pipeline, lead):
    with scope(organization=actor.organization):
        company = company_create(actor=actor, data={"name": "Atlas"})
        result = lead_convert(actor=actor, contact=lead, company=company.pk)
    contact = Contact.dangerously_unscoped.get(pk=lead.pk)
    assert (contact.lifecycle_stage, contact.company_id, result.deal) == ("prospect", company.pk, None)
    assert Deal.dangerously_unscoped.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "errors"),
    [
        (
            {"company": 1, "company_name": "New"},
            {"company": ["Choose an existing company or name a new one, not both."]},
        ),
        ({"company": 987654321}, {"company": ["No such company."]}),
        ({"company_name": "New", "deal": {"amount": "10"}}, {"deal.title": ["This field is required."]}),
        ({"company_name": "New", "deal": {"title": "X", "colour": "red"}}, {"deal.colour": ["Unknown field."]}),
        ({"company_name": "New", "deal": {"title": "X", "amount": "-5"}}, {"deal.amount": ["Cannot be negative."]}),
        (
            {"company_name": "New", "deal": {"title": "X", "currency": "EURO"}},
            {"deal.currency": ["Enter an ISO 4217 currency code, e.g. EUR."]},
        ),
        (
            {"company_name": "New", "deal": {"title": "X", "expected_close_date": "soon"}},
            {"deal.expected_close_date": ["Enter a date as YYYY-MM-DD."]},
        ),
    ],
)
def test_bad_input_changes_nothing(actor, pipeline, lead, kwargs, errors):
    with scope(organization=actor.organization), pytest.raises(ValidationError) as exc:
        lead_convert(actor=actor, contact=lead, **kwargs)
    assert exc.value.message_dict == errors
    contact = Contact.dangerously_unscoped.get(pk=lead.pk)
    assert (contact.lifecycle_stage, contact.company_id) == ("lead", None)
    assert Company.dangerously_unscoped.count() == 0  # the new company went with the rollback
    assert Deal.dangerously_unscoped.count() == 0
    assert Event.dangerously_unscoped.filter(type="lead.converted").count() == 0


def test_only_leads_convert(actor, pipeline, lead):
    with scope(organization=actor.organization):
        lead_convert(actor=actor, contact=lead)
        with pytest.raises(ValidationError) as exc:
            lead_convert(actor=actor, contact=lead)
    assert exc.value.message_dict == {"__all__": ["Only leads can be converted; this contact is a prospect."]}


def test_a_rep_cannot_convert_someone_elses_lead(actor, member, pipeline, lead):
    rep = member(role="sales")
    with scope(organization=actor.organization), pytest.raises(PermissionDenied):
        lead_convert(actor=rep, contact=lead, company_name="X")
    assert Contact.dangerously_unscoped.get(pk=lead.pk).lifecycle_stage == "lead"
