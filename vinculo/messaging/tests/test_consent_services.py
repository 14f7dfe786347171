"""Consent services: subscription types, the ledger and its current state, double opt-in, and the
set-based check `contacts_consenting` (one query for any number of contacts)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_create
from vinculo.core.models import AuditEntry, Event
from vinculo.messaging.models import Consent, ConsentChannel, ContactSubscription, SubscriptionType
from vinculo.messaging.selectors.consent import contact_consent_status, contacts_consenting
from vinculo.messaging.services.consent import (
    ConsentProof,
    consent_confirm,
    consent_record,
    contact_consent_record,
    subscription_type_create,
    subscription_type_delete,
    subscription_type_update,
)
from vinculo.messaging.testing import make_subscription_type, record


def people(actor, n: int) -> list[Contact]:
    with scope(organization=actor.organization):
        return [contact_create(actor=actor, data={"first_name": f"P{i}"}) for i in range(n)]


def states(org) -> list[tuple[str, str, str]]:
    with scope(organization=org):
        return list(
            ContactSubscription.objects.order_by("contact_id", "subscription_type__key").values_list(
                "contact__first_name", "subscription_type__key", "status"
            )
        )


# --- subscription types -----------------------------------------------------------------------------


def test_an_admin_creates_a_subscription_type_with_its_lawful_basis(actor, org):
    with scope(organization=org):
        created = subscription_type_create(
            actor=actor,
            data={"key": "News", "name": "Newsletter", "description": "Monthly.", "lawful_basis": "consent"},
        )
        product = subscription_type_create(
            actor=actor,
            data={"key": "product-updates", "name": "Product updates", "lawful_basis": "legitimate_interest"},
        )
    assert (
        created.key,
        created.name,
        created.description,
        created.lawful_basis,
        created.opt_mode,
        created.is_active,
    ) == (
        "news",
        "Newsletter",
        "Monthly.",
        "consent",
        "opt_in",
        True,
    )
    assert (product.lawful_basis, product.opt_mode) == ("legitimate_interest", "opt_out")
    with scope(organization=org):
        entry = AuditEntry.objects.filter(object_id=str(created.pk)).get()
    assert entry.changes["key"] == [None, "news"]


def test_bad_subscription_types_are_refused_field_by_field_and_nothing_is_saved(actor, org):
    make_subscription_type(org, "newsletter")
    with scope(organization=org), pytest.raises(ValidationError) as caught:
        subscription_type_create(
            actor=actor,
            data={"key": "newsletter", "name": "", "lawful_basis": "whim", "opt_mode": "maybe", "colour": "red"},
        )
    assert caught.value.message_dict == {
        "key": ["Another subscription type already has this key."],
        "name": ["This field is required."],
        "lawful_basis": ["Choose one of: consent, legitimate_interest, contract, legal_obligation."],
        "opt_mode": ["Choose one of: opt_in, opt_out."],
        "colour": ["Unknown field."],
    }
    with scope(organization=org), pytest.raises(ValidationError) as caught:
        subscription_type_create(
            actor=actor, data={"key": "a b", "name": "X", "lawful_basis": "consent", "opt_mode": "opt_out"}
        )
    assert caught.value.message_dict == {
        "key": ["Use lower-case letters, digits, _ and -, starting with a letter or digit."],
        "opt_mode": ["Consent must be given: a type based on consent is opt-in."],
    }
    with scope(organization=org):
        assert list(SubscriptionType.objects.values_list("key", flat=True)) == ["newsletter"]


def test_the_same_key_may_exist_in_another_organisation(actor, other_actor):
    make_subscription_type(other_actor.organization, "newsletter")
    with scope(organization=actor.organization):
        created = subscription_type_create(actor=actor, data={"key": "newsletter", "name": "Newsletter"})
    assert created.organization_id == actor.organization_id


def test_only_owners_and_admins_change_subscription_types(org, member):
    for role in (Role.MANAGER, Role.MARKETING, Role.SALES, Role.READ_ONLY):
        with scope(organization=org), pytest.raises(PermissionDenied):
            subscription_type_create(actor=member(role), data={"key": "news", "name": "News"})
    with scope(organization=org):
        assert subscription_type_create(actor=member(Role.ADMIN), data={"key": "news", "name": "News"}).key == "news"


def test_a_type_keeps_its_key_once_consent_was_recorded_and_cannot_then_be_deleted(actor, org):
    newsletter = make_subscription_type(org, "newsletter")
    unused = make_subscription_type(org, "unused")
    (ana,) = people(actor, 1)
    record(ana, newsletter)
    with scope(organization=org):
        with pytest.raises(ValidationError) as caught:
            subscription_type_update(actor=actor, subscription_type=newsletter, data={"key": "news"})
        assert caught.value.message_dict == {"key": ["The key cannot change once consent was recorded for it."]}
        renamed = subscription_type_update(
            actor=actor, subscription_type=newsletter, data={"name": "Monthly news", "is_active": False}
        )
        assert (renamed.key, renamed.name, renamed.is_active) == ("newsletter", "Monthly news", False)
        with pytest.raises(ValidationError) as caught:
            subscription_type_delete(actor=actor, subscription_type=newsletter)
        assert caught.value.messages == ["Consent was recorded for this subscription type: deactivate it instead."]
        subscription_type_delete(actor=actor, subscription_type=unused)
        assert list(SubscriptionType.objects.values_list("key", flat=True)) == ["newsletter"]


# --- the ledger ----------------------------------------------------------------------------------------


def test_recording_consent_writes_the_ledger_row_the_current_state_and_the_event(actor, org):
    newsletter = make_subscription_type(org, "newsletter")
    (ana,) = people(actor, 1)
    proof = ConsentProof(
        text="Send me the newsletter.",
        text_version="3",
        source="web_form:7",
        form_name="Contact us",
        submission_ref=42,
        ip="203.0.113.7",
        page_url="https://www.example.com/contact",
        user_agent="Mozilla/5.0",
    )
    with scope(organization=org):
        consent = consent_record(
            organization=org,
            contact=ana,
            subscription_type=newsletter,
            granted=True,
            channel=ConsentChannel.FORM,
            proof=proof,
            actor=actor.user,
        )
        row = Consent.objects.values(
            "contact_id",
            "subscription_type__key",
            "status",
            "channel",
            "text",
            "text_version",
            "source",
            "form_name",
            "submission_ref",
            "ip",
            "page_url",
            "user_agent",
            "actor_id",
            "needs_confirmation",
        ).get()
        event = Event.objects.get(type="consent.granted")
    assert row == {
        "contact_id": ana.pk,
        "subscription_type__key": "newsletter",
        "status": "granted",
        "channel": "form",
        "text": "Send me the newsletter.",
        "text_version": "3",
        "source": "web_form:7",
        "form_name": "Contact us",
        "submission_ref": 42,
        "ip": "203.0.113.7",
        "page_url": "https://www.example.com/contact",
        "user_agent": "Mozilla/5.0",
        "actor_id": actor.user_id,
        "needs_confirmation": False,
    }
    assert states(org) == [("P0", "newsletter", "subscribed")]
    assert (event.contact_id, event.actor_id, event.source) == (ana.pk, actor.user_id, "form")
    assert event.properties == {
        "subscription_type": "newsletter",
        "subscription_type_id": newsletter.pk,
        "version": "3",
        "consent_id": consent.pk,
        "channel": "form",
        "status": "granted",
    }


def test_a_withdrawal_is_a_new_ledger_row_and_unsubscribes(actor, org):
    newsletter = make_subscription_type(org, "newsletter")
    (ana,) = people(actor, 1)
    granted = record(ana, newsletter)
    withdrawn = record(ana, newsletter, granted=False, reason="Asked by phone.", actor=actor.user)
    with scope(organization=org):
        assert list(Consent.objects.order_by("id").values_list("status", "reason")) == [
            ("granted", ""),
            ("withdrawn", "Asked by phone."),
        ]
        assert ContactSubscription.objects.get().consent_id == withdrawn.pk
        assert list(
            Event.objects.filter(type__startswith="consent.")
            .order_by("id")
            .values_list("type", "properties__consent_id")
        ) == [
            ("consent.granted", granted.pk),
            ("consent.withdrawn", withdrawn.pk),
        ]
    assert states(org) == [("P0", "newsletter", "unsubscribed")]


def test_a_grant_of_an_inactive_type_is_refused_and_a_withdrawal_is_not(actor, org):
    old = make_subscription_type(org, "old", is_active=False)
    (ana,) = people(actor, 1)
    with pytest.raises(ValidationError) as caught:
        record(ana, old)
    assert caught.value.message_dict == {"subscription_type": ["This subscription type is not active."]}
    record(ana, old, granted=False)
    assert states(org) == [("P0", "old", "unsubscribed")]


def test_consent_of_another_organisations_type_is_refused(actor, other_actor):
    theirs = make_subscription_type(other_actor.organization, "newsletter")
    (ana,) = people(actor, 1)
    with scope(organization=actor.organization), pytest.raises(ValueError):
        consent_record(
            organization=actor.organization, contact=ana, subscription_type=theirs, granted=True, channel="manual"
        )
    assert Consent.dangerously_unscoped.count() == 0


def test_double_opt_in_waits_until_confirmed_and_does_not_undo_a_subscription(actor, org):
    newsletter = make_subscription_type(org, "newsletter")
    ana, bea = people(actor, 2)
    record(bea, newsletter)  # already subscribed
    proof = ConsentProof(text="News, please.", submission_ref=9)
    record(ana, newsletter, needs_confirmation=True, proof=proof, channel=ConsentChannel.FORM)
    record(bea, newsletter, needs_confirmation=True, proof=proof, channel=ConsentChannel.FORM)
    assert states(org) == [("P0", "newsletter", "pending"), ("P1", "newsletter", "subscribed")]
    with scope(organization=org):
        assert set(contacts_consenting(Contact.objects.all(), newsletter)) == {bea}
        confirmed = consent_confirm(organization=org, submission_ref=9)
        assert [c.contact_id for c in confirmed] == [ana.pk, bea.pk]
        assert consent_confirm(organization=org, submission_ref=9) == []
        assert set(contacts_consenting(Contact.objects.all(), newsletter)) == {ana, bea}
        assert Event.objects.filter(type="consent.confirmed").count() == 2
    assert states(org) == [("P0", "newsletter", "subscribed"), ("P1", "newsletter", "subscribed")]


def test_a_confirmation_after_a_withdrawal_does_not_subscribe_again(actor, org):
    newsletter = make_subscription_type(org, "newsletter")
    (ana,) = people(actor, 1)
    record(ana, newsletter, needs_confirmation=True, proof=ConsentProof(text="x", submission_ref=5))
    record(ana, newsletter, granted=False)
    with scope(organization=org):
        consent_confirm(organization=org, submission_ref=5)
    assert states(org) == [("P0", "newsletter", "unsubscribed")]


# --- staff and the API record consent --------------------------------------------------------------------


def test_staff_record_a_withdrawal_by_key(actor, org):
    make_subscription_type(org, "newsletter")
    (ana,) = people(actor, 1)
    with scope(organization=org):
        consent = contact_consent_record(
            actor=actor, contact=ana, data={"subscription_type": "newsletter", "granted": False, "reason": "Phone"}
        )
    assert (consent.status, consent.channel, consent.reason, consent.actor_id) == (
        "withdrawn",
        "manual",
        "Phone",
        actor.user_id,
    )


def test_an_unknown_subscription_type_is_a_field_error_and_nothing_is_saved(actor, org, other_actor):
    make_subscription_type(other_actor.organization, "partners")
    make_subscription_type(org, "old", is_active=False)
    (ana,) = people(actor, 1)
    for key, message in (
        ("partners", "There is no subscription type with the key “partners”."),
        ("", "There is no subscription type with the key “”."),
        ("old", "The subscription type “Old” is not active."),
    ):
        with scope(organization=org), pytest.raises(ValidationError) as caught:
            contact_consent_record(
                actor=actor, contact=ana, data={"subscription_type": key, "granted": True, "text": "Yes"}
            )
        assert caught.value.message_dict == {"subscription_type": [message]}
    with scope(organization=org), pytest.raises(ValidationError) as caught:
        contact_consent_record(actor=actor, contact=ana, data={"subscription_type": "old", "channel": "form"})
    assert caught.value.message_dict == {
        "granted": ["This field is required."],
        "channel": ["Choose one of: manual, api, import."],
    }
    assert Consent.dangerously_unscoped.count() == 0
    assert ContactSubscription.dangerously_unscoped.count() == 0
    assert Event.dangerously_unscoped.filter(type__startswith="consent.").count() == 0


def test_a_grant_by_staff_needs_the_text_agreed_to_and_a_role_that_may_change_the_contact(actor, org, member):
    make_subscription_type(org, "newsletter")
    (ana,) = people(actor, 1)
    with scope(organization=org), pytest.raises(ValidationError) as caught:
        contact_consent_record(actor=actor, contact=ana, data={"subscription_type": "newsletter", "granted": True})
    assert caught.value.message_dict == {"text": ["This field is required."]}
    with scope(organization=org), pytest.raises(PermissionDenied):
        contact_consent_record(
            actor=member(Role.READ_ONLY), contact=ana, data={"subscription_type": "newsletter", "granted": False}
        )
    assert Consent.dangerously_unscoped.count() == 0


# --- who may be written to ------------------------------------------------------------------------------


def test_contacts_consenting_honours_the_lawful_basis_in_one_query(actor, org):
    newsletter = make_subscription_type(org, "newsletter")  # consent, opt-in
    updates = make_subscription_type(org, "updates", lawful_basis="legitimate_interest", opt_mode="opt_out")
    invoices = make_subscription_type(org, "invoices", lawful_basis="contract", opt_mode="opt_in")
    ana, bea, carla, dani = people(actor, 4)
    record(ana, newsletter)
    record(bea, newsletter)
    record(bea, newsletter, granted=False)
    record(carla, updates, granted=False)
    record(dani, updates)
    record(dani, invoices)
    with scope(organization=org):
        everybody = Contact.objects.order_by("first_name")
        with CaptureQueriesContext(connection) as queries:
            consenting = {
                key: [c.first_name for c in contacts_consenting(everybody, t)]
                for key, t in (("newsletter", newsletter), ("updates", updates), ("invoices", invoices))
            }
        assert len(queries) == 3
        assert consenting == {"newsletter": ["P0"], "updates": ["P0", "P1", "P3"], "invoices": ["P3"]}
        assert contacts_consenting(everybody.filter(first_name__in=["P1", "P3"]), updates).count() == 2


def test_an_inactive_type_has_nobody_consenting(actor, org):
    newsletter = make_subscription_type(org, "newsletter")
    (ana,) = people(actor, 1)
    record(ana, newsletter)
    with scope(organization=org):
        newsletter.is_active = False
        assert list(contacts_consenting(Contact.objects.all(), newsletter)) == []


def test_contacts_consenting_never_reaches_another_organisations_states(actor, other_actor):
    mine = make_subscription_type(actor.organization, "newsletter")
    theirs = make_subscription_type(other_actor.organization, "newsletter")
    (ana,) = people(actor, 1)
    (otto,) = people(other_actor, 1)
    record(otto, theirs)
    with scope(organization=actor.organization):
        assert list(contacts_consenting(Contact.objects.all(), mine)) == []
        record(ana, mine)
        assert list(contacts_consenting(Contact.objects.all(), mine)) == [ana]


def test_contact_consent_status_lists_every_active_type_and_what_the_contact_said(actor, org):
    newsletter = make_subscription_type(org, "newsletter", name="Newsletter")
    make_subscription_type(org, "updates", name="Updates", lawful_basis="legitimate_interest", opt_mode="opt_out")
    old = make_subscription_type(org, "old", name="Old offers")
    make_subscription_type(org, "hidden", name="Hidden", is_active=False)
    (ana,) = people(actor, 1)
    granted = record(ana, newsletter)
    record(ana, old, granted=False)
    with scope(organization=org):
        SubscriptionType.objects.filter(pk=old.pk).update(is_active=False)
        statuses = contact_consent_status(ana)
    assert [(s.subscription_type.key, s.status, s.consenting, s.consent and s.consent.pk) for s in statuses] == [
        ("newsletter", "subscribed", True, granted.pk),
        ("old", "unsubscribed", False, statuses[1].consent.pk),
        ("updates", "", True, None),
    ]
