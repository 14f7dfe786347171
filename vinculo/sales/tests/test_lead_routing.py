"""A lead that arrives without an owner is routed by the assignment rules (subscriber of contact.created)."""

from __future__ import annotations

from django_scopes import scope

from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.sales.models import AssignmentRule, AssignmentTarget


def test_an_unowned_new_lead_goes_to_the_rep_the_rules_choose(actor, member, django_capture_on_commit_callbacks):
    org = actor.organization
    rep = member(role="sales", full_name="Marta Ruiz")
    AssignmentRule.dangerously_unscoped.create(
        organization=org, name="Spain", applies_to=AssignmentTarget.LEADS, countries=["ES"], user=rep.user
    )
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        lead = contact_create(actor=actor, data={"first_name": "Ana", "country": "ES", "owner": None})

    assert Contact.dangerously_unscoped.get(pk=lead.pk).owner_id == rep.user_id
    assigned = Event.dangerously_unscoped.get(type="lead.assigned")
    assert assigned.contact_id == lead.pk
    assert assigned.properties["owner"] == "Marta Ruiz"
    assert assigned.properties["rule"] == "Spain"


def test_a_lead_with_an_owner_or_a_customer_is_left_alone(actor, member, django_capture_on_commit_callbacks):
    org = actor.organization
    rep = member(role="sales")
    AssignmentRule.dangerously_unscoped.create(organization=org, name="All", user=rep.user)
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        owned = contact_create(actor=actor, data={"first_name": "Luis"})  # the creator owns it
        customer = contact_create(actor=actor, data={"first_name": "Eva", "owner": None, "lifecycle_stage": "customer"})

    assert Contact.dangerously_unscoped.get(pk=owned.pk).owner_id == actor.user_id
    assert Contact.dangerously_unscoped.get(pk=customer.pk).owner_id is None
    assert not Event.dangerously_unscoped.filter(type="lead.assigned").exists()
