"""A lead that arrives without an owner is routed by the assignment rules (subscriber of contact.created)."""

from __future__ import annotations

from django_scopes import scope

from vinculo.accounts.system_actor import make_via, system_actor
from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_create
from vinculo.core.models import AuditEntry, Event
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


def test_a_lead_from_outside_is_routed_by_the_rule_and_says_so(actor, member, django_capture_on_commit_callbacks):
    org = actor.organization
    rep = member(role="sales", full_name="Marta Ruiz")
    AssignmentRule.dangerously_unscoped.create(
        organization=org, name="Spain", applies_to=AssignmentTarget.LEADS, countries=["ES"], user=rep.user
    )
    robot = system_actor(org, via=make_via("web_form", "Newsletter"))
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        lead = contact_create(actor=robot, data={"first_name": "Ana", "country": "ES", "lifecycle_stage": "lead"})

    assert Contact.dangerously_unscoped.get(pk=lead.pk).owner_id == rep.user_id
    assigned = Event.dangerously_unscoped.get(type="lead.assigned")
    assert (assigned.actor.is_system, assigned.properties["via"]) == (True, "assignment_rule:Spain")
    update = AuditEntry.dangerously_unscoped.get(object_id=lead.pk, action="update")
    assert (update.actor.is_system, update.via, update.changes) == (
        True,
        "assignment_rule:Spain",
        {"owner": [None, "Marta Ruiz"]},
    )


def test_a_lead_from_outside_that_no_rule_takes_stays_unowned(actor, django_capture_on_commit_callbacks):
    org = actor.organization
    robot = system_actor(org, via=make_via("web_form", "Newsletter"))
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        lead = contact_create(actor=robot, data={"first_name": "Ana", "lifecycle_stage": "lead"})

    assert Contact.dangerously_unscoped.get(pk=lead.pk).owner_id is None
    assigned = Event.dangerously_unscoped.get(type="lead.assigned")
    assert assigned.properties["via"] == "assignment_rules"
    assert assigned.properties["reason"] == "No rule matched and there is no fallback owner: it stays unowned."
