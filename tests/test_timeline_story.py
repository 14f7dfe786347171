"""The timeline reads like a story: every event type as a sentence in English and Spanish, naming
who did it and linking the records it names (only those the reader may open, never another
organisation's), money and times for the reader, the rest folded away as readable details; the
records of a page are resolved with one query per kind, whatever the number of events."""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from pathlib import Path
from typing import Any

import polib
import pytest
from django.db import transaction
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_scopes import scope

from vinculo.accounts.models import Membership, Role, User
from vinculo.accounts.system_actor import make_via
from vinculo.accounts.testing import api_client_for, login_client, make_member
from vinculo.contacts import services as contact_services
from vinculo.contacts.models import Contact
from vinculo.contacts.testing import make_company, make_contact
from vinculo.core.event_story import Viewer, event_stories
from vinculo.core.event_types import all_event_types
from vinculo.core.events import emit
from vinculo.core.models import Event
from vinculo.core.testing.queries import assert_same_queries
from vinculo.messaging.testing import make_subscription_type, record
from vinculo.sales.factories import ActivityFactory, OrderFactory, QuoteFactory
from vinculo.sales.models import Stage
from vinculo.sales.services.deals import deal_move
from vinculo.sales.testing import make_deal, make_pipeline
from vinculo.touchpoints.factories import WebFormFactory
from vinculo.touchpoints.models import EmailThread

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "vinculo" / "locale" / "es" / "LC_MESSAGES" / "django.po"
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _entry(body: str, event: Event) -> str:
    found = re.search(rf'<li class="timeline-entry" id="event-{event.pk}".*?\n</li>', body, re.S)
    assert found is not None, f"event {event.type} not on the page"
    return found.group(0)


def _text(fragment: str) -> str:
    """What a reader sees: tags and attributes gone, spaces folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _plain(fragment: str) -> str:
    """A sentence as read: its links' words, no tags."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _sentence(entry: str) -> str:
    found = re.search(r'<div class="event-sentence">(.*?)</div>', entry, re.S)
    assert found is not None, entry
    return found.group(1)


def _page(client: Client, contact: Contact) -> str:
    response = client.get(reverse("contacts:contact_detail", args=[contact.organization.slug, contact.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _speak(membership: Membership, language: str, time_zone: str = "Europe/Madrid") -> None:
    User.objects.filter(pk=membership.user_id).update(language=language, time_zone=time_zone)


def _emit(org: Any, type_name: str, contact: Contact | None, actor: User | None = None, **properties: Any) -> Event:
    with scope(organization=org), transaction.atomic():
        return emit(organization=org, type=type_name, contact=contact, actor=actor, properties=properties)


# --- the whole catalogue -------------------------------------------------------------------------------


def _sample_value(name: str, prop_type: str, ids: dict[str, int]) -> Any:
    if name in ids:
        return ids[name]
    if name == "currency":
        return "EUR"
    if name == "changes":
        return {"city": ["", "Madrid"], "phone": ["+34600000001", "+34600000002"]}
    if name == "attachments":
        return []
    return {
        "string": f"Sample {name.replace('_', ' ')}",
        "integer": 7,
        "decimal": "1250.50",
        "boolean": True,
        "datetime": "2026-12-09T15:00:00+00:00",
        "date": "2026-12-09",
        "url": "https://shop.example/pricing?utm_source=news",
        "email": "lucia@acme-iberica.test",
        "object": {"name": "Lucia", "plan": {"tier": "gold", "since": "2026-12-09T15:00:00+00:00"}, "user_id": 5},
        "array": [{"text": "I agree", "granted": True, "consent_id": 9}, {"text": "News", "granted": False}],
    }[prop_type]


def _msgids(path: Path) -> set[str]:
    return {entry.msgid for entry in polib.pofile(str(path)) if entry.msgstr}


def test_every_event_type_reads_as_a_sentence_in_english_and_spanish(actor, org):
    """Each declared type, with a sample of its typed properties: a sentence in both languages,
    translated in the pending file or the catalogue, and nothing a person should not read."""
    translated = _msgids(LOCALE)
    with translation.override("en"):  # the source language: the msgids
        sentences = {t.name: str(t.sentence) for t in all_event_types()}
    assert all(sentences.values())
    assert {name: sentence for name, sentence in sentences.items() if sentence not in translated} == {}
    contact = make_contact(actor, first_name="Lucia", last_name="Pérez")
    other = make_contact(actor, first_name="Marta")
    company = make_company(actor, name="Acme Ibérica")
    viewer = Viewer(actor, org.pk, org.slug)
    with scope(organization=org):
        Contact.objects.filter(pk=contact.pk).update(company=company)
        events = []
        for declared in all_event_types():
            type_name = "web.added_to_cart" if declared.is_pattern else declared.name
            ids = {"other_contact_id": other.pk, "contact_id": contact.pk, "company_id": company.pk}
            properties = {
                name: _sample_value(name, prop_type, ids)
                for name, prop_type in declared.properties.items()
                if not (prop_type == "integer" and name.endswith("_id") and name not in ids)
            }
            events.append(
                Event.objects.create(
                    organization=org,
                    type=type_name,
                    contact=contact,
                    company=company,
                    actor=actor.user,
                    properties={**properties, "via": ""},
                    source="web" if declared.kind == "web" else "crm",
                )
            )
        request = type("Request", (), {"membership": actor, "org": org})()
        for language in ("en", "es"):
            with translation.override(language):
                stories = event_stories(events, viewer)
                for event, story in zip(events, stories, strict=True):
                    assert story.text, f"{event.type} has no sentence in {language}"
                    entry = render_to_string("contacts/_event.html", {"event": event, "org": org, "request": request})
                    shown = _text(entry)
                    assert "_id" not in entry, (event.type, entry)
                    assert "{" not in shown, (event.type, shown)
                    assert not ISO_TIMESTAMP.search(shown), (event.type, shown)
        with translation.override("en"):
            english = [s.text for s in event_stories(events, viewer)]
        with translation.override("es"):
            spanish = [s.text for s in event_stories(events, viewer)]
    untranslated = [e.type for e, en, es in zip(events, english, spanish, strict=True) if en == es]
    assert untranslated == []


# --- exact sentences ---------------------------------------------------------------------------------


@pytest.fixture
def ana(org: Any) -> Membership:
    membership = make_member(org, Role.OWNER, full_name="Ana Ruiz")
    return membership


@pytest.fixture
def acme(ana: Membership, org: Any) -> dict[str, Any]:
    """Lucia of Acme Ibérica, with the deal Acme 50 seats in the default pipeline."""
    make_pipeline(org)
    company = make_company(ana, name="Acme Ibérica")
    lucia = make_contact(ana, first_name="Lucia", last_name="Pérez", company=company.pk)
    with scope(organization=org):
        stages = {s.name: s for s in Stage.objects.all()}
    deal = make_deal(ana, title="Acme 50 seats", amount="12500.00", contact=lucia.pk, currency="EUR")
    return {"company": company, "lucia": lucia, "deal": deal, "stages": stages}


def _deal_href(org: Any, deal: Any) -> str:
    return f'<a href="/o/{org.slug}/deals/{deal.pk}/">{deal.title}</a>'


def test_a_deal_moved_and_won_reads_with_its_stages_and_amount(ana, org, acme):
    deal, stages, lucia = acme["deal"], acme["stages"], acme["lucia"]
    with scope(organization=org):
        deal_move(actor=ana, deal=deal, stage=stages["Proposal"].pk)
        deal_move(actor=ana, deal=deal, stage=stages["Won"].pk)
        moved, won = Event.objects.filter(type="deal.stage_changed").order_by("id")
    client = login_client(ana)
    _speak(ana, "en")

    body = _page(client, lucia)

    assert _sentence(_entry(body, moved)) == (
        f"Ana Ruiz moved {_deal_href(org, deal)} from Qualification to Proposal — 12,500.00 EUR"
    )
    assert (
        _sentence(_entry(body, won)) == f"Ana Ruiz moved {_deal_href(org, deal)} from Proposal to Won — 12,500.00 EUR"
    )
    details = _entry(body, won)
    assert '<dt class="col-sm-4 col-lg-3 fw-normal text-body-secondary text-truncate">Status</dt>' in details
    assert '<dd class="col-sm-8 col-lg-9 mb-0 text-break">Won</dd>' in details
    assert '<dd class="col-sm-8 col-lg-9 mb-0 text-break">Sales</dd>' in details  # the pipeline

    _speak(ana, "es")
    body = _page(client, lucia)

    assert _sentence(_entry(body, won)) == (
        f"Ana Ruiz movió {_deal_href(org, deal)} de Proposal a Won — 12\xa0500,00 EUR"
    )
    assert '<summary class="text-body-secondary">Detalles</summary>' in _entry(body, won)


def test_a_renamed_deal_and_stage_read_with_their_current_names(ana, org, acme):
    deal, stages, lucia = acme["deal"], acme["stages"], acme["lucia"]
    with scope(organization=org):
        deal_move(actor=ana, deal=deal, stage=stages["Proposal"].pk)
        moved = Event.objects.get(type="deal.stage_changed")
        Stage.objects.filter(pk=stages["Proposal"].pk).update(name="Offer sent")
        type(deal).objects.filter(pk=deal.pk).update(title="Acme 60 seats")

    body = _page(login_client(ana), lucia)

    assert _sentence(_entry(body, moved)) == (
        f'Ana Ruiz moved <a href="/o/{org.slug}/deals/{deal.pk}/">Acme 60 seats</a> from Qualification to Offer sent'
        " — 12,500.00 EUR"
    )


def test_contact_created_and_updated_name_who_and_what_changed(ana, org):
    lucia = make_contact(ana, first_name="Lucia", lifecycle_stage="lead")
    with scope(organization=org):
        contact_services.contact_update(
            actor=ana, contact=lucia, data={"job_title": "CTO", "lifecycle_stage": "customer"}
        )
        created = Event.objects.get(type="contact.created")
        updated = Event.objects.get(type="contact.updated")
    client = login_client(ana)
    link = f'<a href="/o/{org.slug}/contacts/{lucia.pk}/">Lucia</a>'

    body = _page(client, lucia)

    assert _sentence(_entry(body, created)) == f"Ana Ruiz added {link} to the contacts"
    assert _sentence(_entry(body, updated)) == f"Ana Ruiz changed job title and lifecycle stage of {link}"
    assert "<del>Lead</del>" in _entry(body, updated)
    _speak(ana, "es")
    body = _page(client, lucia)
    assert _sentence(_entry(body, created)) == f"Ana Ruiz añadió a {link} a los contactos"
    assert _sentence(_entry(body, updated)).startswith("Ana Ruiz cambió ")
    assert _sentence(_entry(body, updated)).endswith(f" de {link}")
    assert " y " in _sentence(_entry(body, updated))


def test_orders_forms_and_page_views_read_from_the_customer_side(ana, org, acme):
    lucia = acme["lucia"]
    with scope(organization=org):
        order = OrderFactory(organization=org, number="SO-1042", contact=lucia)
        form = WebFormFactory(organization=org, name="Newsletter")
    placed = _emit(
        org, "order.placed", lucia, order_id=order.pk, number="SO-1042", total="1250.5", currency="EUR", channel="web"
    )
    sent = _emit(
        org,
        "form.submitted",
        lucia,
        form="Old name",
        form_id=form.pk,
        submission_id=3,
        page="https://acme.example/news",
        new_contact=False,
        via=make_via("web_form", "Newsletter"),
    )
    viewed = _emit(
        org,
        "page.viewed",
        lucia,
        url="https://acme.example/pricing",
        title="Pricing",
        path="/pricing",
        utm_source="news",
    )
    client = login_client(ana)
    lucia_link = f'<a href="/o/{org.slug}/contacts/{lucia.pk}/">Lucia Pérez</a>'

    body = _page(client, lucia)

    assert _sentence(_entry(body, placed)) == (
        f'{lucia_link} placed the order <a href="/o/{org.slug}/orders/{order.pk}/">SO-1042</a> for 1,250.50 EUR'
    )
    assert _sentence(_entry(body, sent)) == (
        f'{lucia_link} sent the form <a href="/o/{org.slug}/web-forms/{form.pk}/">Newsletter</a>'
    )
    assert "by the web form “Newsletter”" in _text(_entry(body, sent))  # who did it, since the sentence does not say
    assert _sentence(_entry(body, viewed)) == (
        f'{lucia_link} viewed <a href="https://acme.example/pricing" rel="noopener noreferrer nofollow">Pricing</a>'
    )
    assert "UTM source news" in _text(_entry(body, viewed))
    _speak(ana, "es")
    body = _page(client, lucia)
    assert _plain(_sentence(_entry(body, placed))) == "Lucia Pérez hizo el pedido SO-1042 por 1\xa0250,50 EUR"
    assert _plain(_sentence(_entry(body, sent))) == "Lucia Pérez envió el formulario Newsletter"
    assert _plain(_sentence(_entry(body, viewed))) == "Lucia Pérez visitó Pricing"
    assert "Fuente UTM news" in _text(_entry(body, viewed))


def test_e_mail_sent_and_received_link_their_thread(ana, org, acme):
    lucia = acme["lucia"]
    with scope(organization=org):
        thread = EmailThread.objects.create(organization=org, subject="Renewal")
        thread.contacts.add(lucia)
    out = _emit(
        org,
        "email.sent",
        lucia,
        ana.user,
        subject="Your renewal",
        to="lucia@acme-iberica.test",
        thread_id=thread.pk,
        email_message_id=4,
        snippet="Hi Lucia",
    )
    back = _emit(org, "email.received", lucia, subject="Re: Your renewal", **{"from": "lucia@acme-iberica.test"})
    thread_link = f'<a href="/o/{org.slug}/email/{thread.pk}/">Your renewal</a>'

    body = _page(login_client(ana), lucia)

    assert _sentence(_entry(body, out)) == f"Ana Ruiz e-mailed lucia@acme-iberica.test: “{thread_link}”"
    assert _sentence(_entry(body, back)) == "lucia@acme-iberica.test wrote: “Re: Your renewal”"  # no thread: not linked
    _speak(ana, "es")
    body = _page(login_client(ana), lucia)
    assert _plain(_sentence(_entry(body, out))) == "Ana Ruiz escribió a lucia@acme-iberica.test: «Your renewal»"
    assert _plain(_sentence(_entry(body, back))) == "lucia@acme-iberica.test escribió: «Re: Your renewal»"


def test_identify_traits_are_details_never_json(ana, org, acme):
    lucia = acme["lucia"]
    identified = _emit(
        org,
        "visitor.identified",
        lucia,
        identifier="lucia@acme-iberica.test",
        kind="email",
        traits={"name": "Lucia", "plan": {"tier": "gold"}, "signed_up_at": "2026-12-09T15:00:00+00:00"},
        created_contact=False,
    )
    _speak(ana, "en", "Europe/Madrid")

    entry = _entry(_page(login_client(ana), lucia), identified)

    assert _plain(_sentence(entry)) == "Lucia Pérez identified on the website as lucia@acme-iberica.test"
    assert "Traits › Name</dt>" in entry
    assert "Traits › Plan › Tier</dt>" in entry
    assert (
        '<time datetime="2026-12-09T16:00:00+01:00" title="2026-12-09T16:00:00+01:00">9 Dec 2026, 16:00</time>' in entry
    )
    assert "Contact created</dt>" in entry
    assert ">no</dd>" in entry
    assert "{" not in _text(entry)
    _speak(ana, "es", "Europe/Madrid")
    entry = _entry(_page(login_client(ana), lucia), identified)
    assert "9 dic 2026, 16:00</time>" in entry
    assert "Rasgos › Nombre</dt>" in entry


def test_the_entry_time_is_the_readers_time_in_their_language(ana, org, acme):
    lucia = acme["lucia"]
    with scope(organization=org), transaction.atomic():
        event = emit(
            organization=org,
            type="page.viewed",
            contact=lucia,
            properties={"url": "https://acme.example/"},
            occurred_at=dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC),
        )
    _speak(ana, "en", "Europe/Madrid")
    assert "9 Dec 2026, 16:00</time>" in _entry(_page(login_client(ana), lucia), event)
    _speak(ana, "es", "America/Mexico_City")
    assert "9 dic 2026, 09:00</time>" in _entry(_page(login_client(ana), lucia), event)


def test_a_note_and_an_automatic_assignment_read_with_who_did_them(ana, org, acme):
    lucia = acme["lucia"]
    with scope(organization=org):
        contact_services.note_create(actor=ana, contact=lucia, body="Called, wants a demo")
        note = Event.objects.get(type="note.added")
    assigned = _emit(
        org, "lead.assigned", lucia, owner="Ana Ruiz", rule="Spain", via=make_via("assignment_rule", "Spain")
    )
    with scope(organization=org):
        stories = event_stories([note, Event.objects.get(pk=assigned.pk)], Viewer(ana, org.pk, org.slug))
    assert stories[0].text == "Ana Ruiz added a note: Called, wants a demo"
    assert stories[1].text == "The assignment rule “Spain” assigned Lucia Pérez to Ana Ruiz"
    with translation.override("es"), scope(organization=org):
        stories = event_stories([note], Viewer(ana, org.pk, org.slug))
    assert stories[0].text == "Ana Ruiz añadió una nota: Called, wants a demo"


# --- who may see what --------------------------------------------------------------------------------


def test_a_record_of_another_organisation_is_never_named_or_linked(ana, org, acme, other_actor):
    make_pipeline(other_actor.organization)
    other_deal = make_deal(other_actor, title="Secret merger", amount="1.00")
    lucia = acme["lucia"]
    unnamed = _emit(org, "deal.deleted", lucia, ana.user, deal_id=other_deal.pk)
    named = _emit(org, "deal.owner_changed", lucia, ana.user, deal_id=other_deal.pk, title="Old title", to="Ana Ruiz")

    body = _page(login_client(ana), lucia)

    assert "Secret merger" not in body
    assert f"/deals/{other_deal.pk}/" not in body
    assert "event-sentence" not in _entry(body, unnamed)  # nothing to name it by: the label alone
    assert _sentence(_entry(body, named)) == "Ana Ruiz reassigned Old title to Ana Ruiz"


def test_a_deal_hidden_from_a_rep_is_named_from_the_event_and_not_linked(ana, org, acme, member_factory):
    rep = member_factory(Role.SALES, full_name="Rafa Gil")
    deal, lucia = acme["deal"], acme["lucia"]
    with scope(organization=org):
        type(deal).objects.filter(pk=deal.pk).update(owner=ana.user)
        Contact.objects.filter(pk=lucia.pk).update(owner=None)
    moved = _emit(
        org,
        "deal.amount_changed",
        lucia,
        ana.user,
        deal_id=deal.pk,
        title="Acme 50 seats",
        currency="EUR",
        **{"from": "12500.00", "to": "14000.00"},
    )

    owner_view = _sentence(_entry(_page(login_client(ana), lucia), moved))
    rep_view = _sentence(_entry(_page(login_client(rep), lucia), moved))

    assert owner_view == f"Ana Ruiz changed the amount of {_deal_href(org, deal)} from 12,500.00 EUR to 14,000.00 EUR"
    assert rep_view == "Ana Ruiz changed the amount of Acme 50 seats from 12,500.00 EUR to 14,000.00 EUR"


# --- one query per kind of record, whatever the number of events ---------------------------------------


def test_a_page_of_events_resolves_its_records_in_one_query_per_kind(ana, org, acme):
    lucia, stages = acme["lucia"], acme["stages"]
    client = login_client(ana)
    numbers = itertools.count(1)

    def add_events(count: int) -> None:
        with scope(organization=org):
            for n in itertools.islice(numbers, count):
                deal = make_deal(ana, title=f"Deal {n}", amount="10.00", contact=lucia.pk)
                deal_move(actor=ana, deal=deal, stage=stages["Proposal"].pk)
                order = OrderFactory(organization=org, number=f"SO-{n}", contact=lucia)
                quote = QuoteFactory(organization=org, number=f"Q-{n}", contact=lucia)
                activity = ActivityFactory(organization=org, subject=f"Call {n}", contact=lucia)
                form = WebFormFactory(organization=org, name=f"Form {n}")
                with transaction.atomic():
                    emit(
                        organization=org,
                        type="order.placed",
                        contact=lucia,
                        properties={"order_id": order.pk, "number": order.number, "total": "5", "currency": "EUR"},
                    )
                    emit(
                        organization=org,
                        type="quote.created",
                        contact=lucia,
                        actor=ana.user,
                        properties={"quote_id": quote.pk, "number": quote.number, "total": "5", "currency": "EUR"},
                    )
                    emit(
                        organization=org,
                        type="activity.created",
                        contact=lucia,
                        actor=ana.user,
                        properties={"activity_id": activity.pk, "subject": activity.subject},
                    )
                    emit(
                        organization=org,
                        type="form.submitted",
                        contact=lucia,
                        properties={"form_id": form.pk, "form": form.name},
                    )

    add_events(1)
    body = assert_same_queries(lambda: _page(client, lucia), lambda: add_events(4))

    assert body.count('class="event-sentence"') >= 20
    assert f'<a href="/o/{org.slug}/orders/' in body


# --- the API says the same, as plain text ------------------------------------------------------------


def test_the_api_timeline_carries_the_sentence_as_plain_text(ana, org, acme):
    deal, stages, lucia = acme["deal"], acme["stages"], acme["lucia"]
    with scope(organization=org):
        deal_move(actor=ana, deal=deal, stage=stages["Won"].pk)
    client = api_client_for(ana)
    url = f"/api/v1/contacts/{lucia.pk}/timeline?kinds=sales"

    english = client.get(url).json()["items"]
    spanish = client.get(url, headers={"Accept-Language": "es"}).json()["items"]

    assert [item["event"]["sentence"] for item in english] == [
        "Ana Ruiz moved Acme 50 seats from Qualification to Won — 12,500.00 EUR",
        "Ana Ruiz created the deal Acme 50 seats in Qualification — 12,500.00 EUR",
    ]
    assert [item["event"]["sentence"] for item in spanish] == [
        "Ana Ruiz movió Acme 50 seats de Qualification a Won — 12\xa0500,00 EUR",
        "Ana Ruiz creó el negocio Acme 50 seats en Qualification — 12\xa0500,00 EUR",
    ]


# --- what arrives from outside ---------------------------------------------------------------------------


def test_odd_or_hostile_properties_are_escaped_never_linked_and_never_raw(ana, org, acme):
    lucia = acme["lucia"]
    with scope(organization=org):  # as an old row or an import may hold them: emit() is not asked
        viewed = Event.objects.create(
            organization=org,
            type="page.viewed",
            contact=lucia,
            properties={"url": "javascript:alert(1)", "title": "<b>Hi</b>"},
        )
        odd = Event.objects.create(
            organization=org,
            type="order.placed",
            contact=lucia,
            properties={"order_id": "12", "number": ["A", "B"], "total": "lots", "currency": "EUR", "lines": True},
        )

    body = _page(login_client(ana), lucia)

    entry = _entry(body, viewed)
    assert _sentence(entry) == (
        f'<a href="/o/{org.slug}/contacts/{lucia.pk}/">Lucia Pérez</a> viewed &lt;b&gt;Hi&lt;/b&gt;'
    )
    assert "javascript:" not in entry.split("event-sentence", 1)[1].split("</div>", 1)[0]
    entry = _entry(body, odd)
    assert "event-sentence" not in entry  # no number to name the order by: the label and the details
    assert _text(entry).endswith("Lines yes Number A, B Total lots")
    assert "order_id" not in entry


def test_the_deal_page_tells_the_same_story(ana, org, acme):
    deal, stages = acme["deal"], acme["stages"]
    with scope(organization=org):
        deal_move(actor=ana, deal=deal, stage=stages["Proposal"].pk)
        moved = Event.objects.get(type="deal.stage_changed")

    response = login_client(ana).get(reverse("sales:deal_detail", args=[org.slug, deal.pk]))

    assert response.status_code == 200
    assert _sentence(_entry(response.content.decode(), moved)) == (
        f"Ana Ruiz moved {_deal_href(org, deal)} from Qualification to Proposal — 12,500.00 EUR"
    )


def test_a_consent_names_the_subscription_type_and_reads_its_channel(ana, org, acme):
    lucia = acme["lucia"]
    newsletter = make_subscription_type(org, "newsletter", name="Monthly newsletter")
    record(lucia, newsletter, channel="form")
    with scope(organization=org):
        granted = Event.objects.get(type="consent.granted")
    client = login_client(ana)

    entry = _entry(_page(client, lucia), granted)

    assert _plain(_sentence(entry)) == "Lucia Pérez gave consent to Monthly newsletter"
    assert "Channel</dt>" in entry
    assert ">Form</dd>" in entry
    _speak(ana, "es")
    entry = _entry(_page(client, lucia), granted)
    assert _plain(_sentence(entry)) == "Lucia Pérez dio su consentimiento para Monthly newsletter"
