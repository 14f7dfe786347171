"""Automatic writes are signed by the system actor (accounts/system_actor.py): the audit trail and
the event log record its `via`, and a contact's history and timeline say "by the web form …"."""

from __future__ import annotations

from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.system_actor import make_via, system_actor
from vinculo.contacts.services import contact_create, contact_update
from vinculo.core.models import AuditEntry, Event


def test_an_automatic_write_is_signed_by_the_system_with_its_via(org, django_capture_on_commit_callbacks):
    robot = system_actor(org, via=make_via("web_form", "Newsletter"))
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        contact = contact_create(actor=robot, data={"first_name": "Ana", "owner": None})

    with scope(organization=org):
        entry = AuditEntry.objects.get(object_type="contacts.contact", object_id=contact.pk)
        event = Event.objects.get(type="contact.created")
    assert (entry.actor_id, entry.via) == (robot.user.pk, "web_form:Newsletter")
    assert event.actor_id == robot.user.pk
    assert event.properties == {"name": "Ana", "source": "manual", "via": "web_form:Newsletter"}
    assert contact.owner_id is None


def test_a_members_write_has_no_via(actor, org):
    with scope(organization=org):
        contact = contact_create(actor=actor, data={"first_name": "Ana"})
        entry = AuditEntry.objects.get(object_type="contacts.contact", object_id=contact.pk)
        event = Event.objects.get(type="contact.created")
    assert (entry.actor_id, entry.via) == (actor.user_id, "")
    assert "via" not in event.properties


def test_history_and_timeline_say_what_did_it(actor, org, client_in):
    robot = system_actor(org, via=make_via("web_form", "Newsletter"))
    with scope(organization=org):
        contact = contact_create(actor=robot, data={"first_name": "Ana", "owner": None})
        contact_update(actor=actor, contact=contact, data={"job_title": "CTO"})

    history = client_in.get(reverse("contacts:contact_history", args=[org.slug, contact.pk])).content.decode()
    assert '<span class="fw-semibold">by the web form “Newsletter”</span>' in history
    assert f'<span class="fw-semibold">{actor.user.full_name}</span>' in history
    assert "Vínculo</span>" not in history

    timeline = client_in.get(reverse("contacts:contact_detail", args=[org.slug, contact.pk])).content.decode()
    link = f'<a href="/o/{org.slug}/contacts/{contact.pk}/">Ana</a>'
    assert f'<div class="event-sentence">The web form “Newsletter” added {link} to the contacts</div>' in timeline
    assert f'<div class="event-sentence">{actor.user.full_name} changed job title of {link}</div>' in timeline
    assert "web_form:Newsletter" not in timeline  # not listed again among the properties
