"""Identity stitching: retroactive, across devices, leads from the web, conflicts never merged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django_scopes import scope

from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_create
from vinculo.core.models import AuditEntry, Event
from vinculo.touchpoints.models import Identity, IdentityConflict, IngestBatch, Visitor, WebSession
from vinculo.touchpoints.services.ingest import ingest_batch_process
from vinculo.touchpoints.services.stitching import identity_conflict_resolve, parse_identifier
from vinculo.touchpoints.testing.tracking import identify, make_site, page, post_batch

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def send(site, events):
    """Post a batch and process it as the task would."""
    response = post_batch(site, events)
    assert response.status_code == 202, response.content
    ingest_batch_process(batch_id=IngestBatch.dangerously_unscoped.latest("id").pk)


def test_parse_identifier():
    assert parse_identifier(" Ana@Example.COM ") == ("email", "ana@example.com")
    assert parse_identifier("user-42") == ("user_id", "user-42")
    assert parse_identifier("not@an email") == ("user_id", "not@an email")


def test_identify_creates_a_web_lead_and_attaches_the_anonymous_history(org, actor):
    site = make_site(org)
    send(site, [page(at="2026-03-02T10:00:00Z"), page(at="2026-03-02T10:01:00Z", url="https://shop.example/p")])

    send(
        site,
        [identify("Ana@Example.com", at="2026-03-02T10:02:00Z", traits={"first_name": "Ana", "last_name": "Ruiz"})],
    )

    with scope(organization=org):
        contact = Contact.objects.get()
        assert (contact.first_name, contact.last_name, contact.email) == ("Ana", "Ruiz", "ana@example.com")
        assert (contact.source, contact.lifecycle_stage) == ("web", "lead")
        assert contact.owner_id is None  # no member created it: the assignment rules route it
        created = Event.objects.get(type="contact.created")
        assert (created.actor.is_system, created.properties["via"]) == (True, "website:Shop")
        assert AuditEntry.objects.get(object_id=contact.pk, object_type="contacts.contact").via == "website:Shop"
        assert Identity.objects.get().contact == contact
        visitor = Visitor.objects.get()
        assert visitor.contact == contact
        assert visitor.identified_at == dt.datetime(2026, 3, 2, 10, 2, tzinfo=dt.UTC)
        web = Event.objects.filter(anonymous_id="anon-1").order_by("occurred_at", "type")
        assert [(e.type, e.contact_id) for e in web] == [
            ("page.viewed", contact.pk),
            ("session.started", contact.pk),
            ("page.viewed", contact.pk),
            ("visitor.identified", contact.pk),
        ]
        assert WebSession.objects.get().contact == contact
        identified = Event.objects.get(type="visitor.identified")
        assert identified.properties == {
            "identifier": "ana@example.com",
            "kind": "email",
            "traits": {"first_name": "Ana", "last_name": "Ruiz"},
            "created_contact": True,
        }
        assert Event.objects.filter(type="contact.created", contact=contact).count() == 1
        contact.refresh_from_db()
        assert contact.last_activity_at == dt.datetime(2026, 3, 2, 10, 2, tzinfo=dt.UTC)


def test_another_device_with_the_same_identifier_joins_the_same_contact(org):
    site = make_site(org)
    send(site, [page(anonymous_id="laptop"), identify("ana@example.com", anonymous_id="laptop")])
    send(site, [page(anonymous_id="phone", at="2026-03-02T11:00:00Z")])

    send(site, [identify("ana@example.com", anonymous_id="phone", at="2026-03-02T11:01:00Z")])

    with scope(organization=org):
        contact = Contact.objects.get()
        assert sorted(Visitor.objects.values_list("anonymous_id", "contact_id")) == [
            ("laptop", contact.pk),
            ("phone", contact.pk),
        ]
        assert Event.objects.filter(type="page.viewed", contact=contact).count() == 2
        assert Event.objects.filter(type="page.viewed", contact__isnull=True).count() == 0


def test_identify_finds_an_existing_contact_by_any_of_its_addresses(org, actor):
    site = make_site(org)
    with scope(organization=org):
        known = contact_create(
            actor=actor, data={"first_name": "Ana", "emails": ["ana@work.example", "ana@home.example"]}
        )

    send(site, [page(), identify("ANA@home.example")])

    with scope(organization=org):
        assert list(Contact.objects.values_list("pk", flat=True)) == [known.pk]
        assert Visitor.objects.get().contact_id == known.pk


def test_a_user_id_with_an_email_trait_finds_the_contact(org, actor):
    site = make_site(org)
    with scope(organization=org):
        known = contact_create(actor=actor, data={"first_name": "Ana", "emails": ["ana@example.com"]})

    send(site, [identify("user-42", traits={"email": "ana@example.com"})])
    send(site, [identify("user-42", anonymous_id="tablet")])  # the user id alone now finds her

    with scope(organization=org):
        assert Contact.objects.count() == 1
        assert Identity.objects.get(kind="user_id").contact_id == known.pk
        assert set(Visitor.objects.values_list("contact_id", flat=True)) == {known.pk}


def test_no_lead_is_created_when_the_site_does_not_want_them(org):
    site = make_site(org, create_leads=False)

    send(site, [page(), identify("ana@example.com")])

    with scope(organization=org):
        assert Contact.objects.count() == 0
        assert Visitor.objects.get().contact_id is None
        assert Event.objects.get(type="visitor.identified").contact_id is None


def test_a_tied_visitor_identifying_as_someone_else_is_a_conflict_never_a_merge(org, actor):
    site = make_site(org)
    with scope(organization=org):
        bob = contact_create(actor=actor, data={"first_name": "Bob", "emails": ["bob@example.com"]})
    send(site, [page(), identify("ana@example.com")])

    send(site, [identify("bob@example.com", at="2026-03-02T10:05:00Z")])
    send(site, [identify("bob@example.com", at="2026-03-02T10:06:00Z")])  # again: still one conflict

    with scope(organization=org):
        ana = Contact.objects.get(email="ana@example.com")
        assert Contact.objects.count() == 2  # nobody merged
        visitor = Visitor.objects.get()
        assert visitor.contact_id == ana.pk
        conflict = IdentityConflict.objects.get()
        assert (conflict.contact_id, conflict.other_contact_id, conflict.identifier, conflict.status) == (
            ana.pk,
            bob.pk,
            "bob@example.com",
            "open",
        )
        emitted = Event.objects.get(type="identity.conflict")
        assert emitted.contact_id == ana.pk
        assert emitted.properties["other_contact_id"] == bob.pk
        assert Event.objects.filter(contact=bob, source="web").count() == 0


def test_resolving_a_conflict_can_move_the_browser(org, actor):
    site = make_site(org)
    with scope(organization=org):
        contact_create(actor=actor, data={"first_name": "Bob", "emails": ["bob@example.com"]})
    send(site, [identify("ana@example.com"), identify("bob@example.com", at="2026-03-02T10:05:00Z")])

    with scope(organization=org):
        conflict = IdentityConflict.objects.get()
        resolved = identity_conflict_resolve(actor=actor, conflict=conflict, move_to_other=True)
        assert (resolved.status, resolved.resolved_by_id) == ("resolved", actor.user_id)
        assert Visitor.objects.get().contact_id == conflict.other_contact_id
