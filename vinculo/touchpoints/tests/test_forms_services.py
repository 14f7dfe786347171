"""Web form services: definitions (validation, consent versions), submissions (contact upsert,
consent proof in the messaging ledger, spam), double opt-in, consent validity and withdrawal."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.contacts.models import Company, Contact, ContactEmail
from vinculo.contacts.services import contact_create
from vinculo.core.models import AuditEntry, Event
from vinculo.core.testing import org_scope
from vinculo.messaging.models import Consent, SubscriptionType
from vinculo.messaging.services.consent import subscription_type_delete
from vinculo.touchpoints.models import FormSubmission, WebForm
from vinculo.touchpoints.services import forms as services
from vinculo.touchpoints.testing.forms import (
    FIELDS,
    GOOD,
    META,
    consent_is_valid,
    consent_types,
    make_form,
    submit,
    token,
    withdraw,
)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


# --- definitions --------------------------------------------------------------------------------


def test_a_form_is_created_with_versioned_consents_and_the_creator_as_owner(actor, org):
    form = make_form(actor, allowed_origins=["https://WWW.Example.com/", "http://localhost:8080"])
    assert form.name == "Contact us"
    assert form.owner == actor.user
    assert form.fields[2] == {
        "name": "email",
        "label": "E-mail",
        "type": "email",
        "required": True,
        "maps_to": "email",
    }
    assert form.fields[5]["options"] == ["ES", "PT", "FR"]
    assert form.consents == [
        {"key": "newsletter", "text": "Send me the monthly newsletter.", "version": "1", "required": False},
        {"key": "terms", "text": "I accept the privacy policy.", "version": "1", "required": True},
    ]
    assert form.allowed_origins == ["https://www.example.com", "http://localhost:8080"]
    assert AuditEntry.dangerously_unscoped.filter(object_type="touchpoints.webform", object_id=form.pk).count() == 1


def test_changing_a_consent_text_bumps_its_version_and_keeping_it_does_not(actor, org):
    form = make_form(actor)
    changed = [
        {"key": "newsletter", "text": "Send me the weekly newsletter.", "required": False},
        {"key": "terms", "text": "I accept the privacy policy.", "required": True},
        {"key": "partners", "text": "Share my details with partners.", "required": False},
    ]
    with scope(organization=org):
        form = services.web_form_update(actor=actor, form=form, data={"consents": changed})
        assert [(c["key"], c["version"]) for c in form.consents] == [
            ("newsletter", "2"),
            ("terms", "1"),
            ("partners", "1"),
        ]
        form = services.web_form_update(actor=actor, form=form, data={"consents": changed})
        assert [c["version"] for c in form.consents] == ["2", "1", "1"]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            [{"name": "first_name", "label": "Name", "type": "text", "maps_to": "first_name"}],
            {"fields": ["Add an e-mail field mapped to the contact's e-mail: contacts are matched by it."]},
        ),
        (
            [{"name": "email", "label": "E-mail", "type": "email", "maps_to": "email"}],
            {"fields.0.required": ["The e-mail field must be required."]},
        ),
        (
            [
                {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"},
                {"name": "email", "label": "Other", "type": "text"},
            ],
            {"fields.1.name": ["Another field is already named “email”."]},
        ),
        (
            [
                {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"},
                {"name": "x", "label": "X", "type": "text", "maps_to": "shoe_size"},
            ],
            {"fields.1.maps_to": ["Unknown contact property “shoe_size”."]},
        ),
        (
            [
                {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"},
                {"name": "x", "label": "X", "type": "text", "maps_to": "custom.9lives"},
            ],
            {"fields.1.maps_to": ["A custom property name has letters, digits and _, starting with a letter."]},
        ),
        (
            [
                {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"},
                {"name": "Bad Name", "label": "", "type": "radio"},
            ],
            {
                "fields.1.name": ["Use lower-case letters, digits and _, starting with a letter."],
                "fields.1.label": ["This field is required."],
                "fields.1.type": ["Choose one of text, email, tel, textarea, select, checkbox."],
            },
        ),
        (
            [
                {"name": "email", "label": "E-mail", "type": "text", "required": True, "maps_to": "email"},
            ],
            {"fields.0.type": ["A field mapped to email must be of type email."]},
        ),
        (
            [
                {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"},
                {"name": "size", "label": "Size", "type": "select", "options": []},
            ],
            {"fields.1.options": ["Give at least one option, one per line."]},
        ),
        (
            [
                {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"},
                {"name": "homepage", "label": "Web", "type": "text"},
            ],
            {"fields.1.name": ["“homepage” is reserved; choose another name."]},
        ),
        (
            [
                {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"},
                {"name": "size", "label": "Size", "type": "select", "options": ["S", "S", 3]},
            ],
            {"fields.1.options": ["Give a list of options."]},
        ),
        (
            [
                {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"},
                {"name": "size", "label": "Size", "type": "select", "options": ["S", " S "]},
            ],
            {"fields.1.options": ["Options must be different."]},
        ),
        ("not a list", {"fields": ["Give a list of fields."]}),
        ([], {"fields": ["Add at least one field."]}),
    ],
)
def test_bad_definitions_are_refused_with_field_errors_and_nothing_is_saved(actor, org, fields, errors):
    with scope(organization=org), pytest.raises(ValidationError) as caught:
        services.web_form_create(actor=actor, data={"name": "Broken", "fields": fields})
    assert caught.value.message_dict == errors
    assert WebForm.dangerously_unscoped.count() == 0


def test_bad_settings_are_refused_with_field_errors(actor, org):
    form = make_form(actor)
    with scope(organization=org), pytest.raises(ValidationError) as caught:
        services.web_form_update(
            actor=actor,
            form=form,
            data={
                "name": "",
                "redirect_url": "javascript:alert(1)",
                "allowed_origins": ["https://example.com/path", "ftp://example.com"],
                "consents": [{"key": "terms", "text": ""}, {"key": "terms", "text": "x"}, {"key": "news", "text": "x"}],
                "owner": 987654,
                "colour": "red",
            },
        )
    assert caught.value.message_dict == {
        "colour": ["Unknown field."],
        "name": ["This field is required."],
        "consents.0.text": ["This field is required."],
        "consents.1.key": ["Another checkbox already has the purpose “terms”."],
        "consents.2.key": ["There is no subscription type with the key “news”."],
        "redirect_url": ["Enter a web address starting with https:// or http://."],
        "owner": ["No such member of this organisation."],
        "allowed_origins": [
            "“https://example.com/path” is not an origin: give the scheme and host only, e.g. https://www.example.com.",
            "“ftp://example.com” is not an origin: give the scheme and host only, e.g. https://www.example.com.",
        ],
    }
    form.refresh_from_db()
    assert form.name == "Contact us"
    assert form.allowed_origins == []


def test_only_form_managers_change_forms(actor, org, member):
    sales = member(Role.SALES)
    with scope(organization=org), pytest.raises(PermissionDenied):
        services.web_form_create(actor=sales, data={"name": "X", "fields": FIELDS})
    marketing = member(Role.MARKETING)
    form = make_form(marketing)
    with scope(organization=org), pytest.raises(PermissionDenied):
        services.web_form_delete(actor=sales, form=form)
    assert WebForm.dangerously_unscoped.count() == 1


# --- submissions --------------------------------------------------------------------------------


def test_a_submission_creates_a_lead_with_exactly_the_mapped_fields(actor, org, member):
    rep = member(Role.SALES)
    form = make_form(actor, owner=rep.user.pk)
    result = submit(form, **GOOD)
    assert result.status == "accepted"
    contact = Contact.dangerously_unscoped.get()
    assert result.contact == contact
    assert (contact.first_name, contact.last_name, contact.email, contact.phone) == (
        "Ana",
        "García",
        "ana@example.com",
        "+34612345678",
    )
    assert str(contact.country) == "ES"
    assert contact.company == Company.dangerously_unscoped.get(name="Acme Iberia")
    assert contact.custom == {"budget": "big"}
    assert (contact.lifecycle_stage, contact.source, contact.owner) == ("lead", "form", rep.user)
    submission = FormSubmission.dangerously_unscoped.get()
    assert submission.contact == contact
    assert submission.status == "accepted"
    assert submission.data == {
        "first_name": "Ana",
        "last_name": "García",
        "email": "Ana@Example.com",
        "phone": "612 345 678",
        "company": "Acme Iberia",
        "country": "ES",
        "budget": "big",
        "message": "Call me, please.",
        "consent.newsletter": True,
        "consent.terms": True,
    }
    assert (submission.ip, submission.user_agent, submission.page_url) == (
        "203.0.113.7",
        "Mozilla/5.0 (Test)",
        "https://www.example.com/contact",
    )
    types = list(Event.dangerously_unscoped.filter(contact=contact).order_by("id").values_list("type", "source"))
    assert types == [
        ("contact.created", "crm"),
        ("form.submitted", "form"),
        ("consent.granted", "form"),
        ("consent.granted", "form"),
    ]
    submitted = Event.dangerously_unscoped.get(type="form.submitted")
    assert submitted.properties == {
        "form": "Contact us",
        "form_id": form.pk,
        "submission_id": submission.pk,
        "page": "https://www.example.com/contact",
        "new_contact": True,
    }


def test_a_submission_is_written_by_the_system_by_way_of_the_form(actor, org, client_in):
    form = make_form(actor, name="Newsletter")
    contact = submit(form, **GOOD).contact

    with scope(organization=org):
        entry = AuditEntry.objects.get(object_type="contacts.contact", object_id=contact.pk)
        created = Event.objects.get(type="contact.created")
    assert (entry.actor.is_system, entry.actor.is_active, entry.via) == (True, False, "web_form:Newsletter")
    assert (created.actor.is_system, created.properties["via"]) == (True, "web_form:Newsletter")
    history = client_in.get(f"/o/{org.slug}/contacts/{contact.pk}/history/").content.decode()
    assert '<span class="fw-semibold">by the web form “Newsletter”</span>' in history
    page = client_in.get(f"/o/{org.slug}/contacts/{contact.pk}/").content.decode()
    assert re.search(
        r'<div class="event-sentence">The web form “Newsletter” added <a href="[^"]+">[^<]+</a> to the contacts</div>',
        page,
    )


def test_consent_rows_keep_the_exact_proof(actor, org):
    form = make_form(actor)
    result = submit(form, **GOOD)
    rows = list(
        Consent.dangerously_unscoped.order_by("id").values(
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
            "needs_confirmation",
            "confirmed_at",
            "contact",
        )
    )
    proof = {
        "status": "granted",
        "channel": "form",
        "source": f"web_form:{form.pk}",
        "form_name": "Contact us",
        "submission_ref": result.submission.pk,
        "ip": "203.0.113.7",
        "page_url": "https://www.example.com/contact",
        "user_agent": "Mozilla/5.0 (Test)",
        "needs_confirmation": False,
        "confirmed_at": None,
        "contact": result.contact.pk,
    }
    assert rows == [
        {
            "subscription_type__key": "newsletter",
            "text": "Send me the monthly newsletter.",
            "text_version": "1",
            **proof,
        },
        {"subscription_type__key": "terms", "text": "I accept the privacy policy.", "text_version": "1", **proof},
    ]
    event = Event.dangerously_unscoped.filter(type="consent.granted").order_by("id").first()
    assert event.properties == {
        "subscription_type": "newsletter",
        "subscription_type_id": consent_types(org)["newsletter"].pk,
        "version": "1",
        "consent_id": Consent.dangerously_unscoped.order_by("id")[0].pk,
        "channel": "form",
        "status": "granted",
        "form_id": form.pk,
        "submission_id": result.submission.pk,
    }
    with scope(organization=org):
        assert consent_is_valid(result.contact, "newsletter") is True
        assert consent_is_valid(result.contact, "partners") is False


def test_an_unticked_optional_consent_records_nothing(actor, org):
    form = make_form(actor)
    submit(form, **{**GOOD, "consent.newsletter": ""})
    assert list(Consent.dangerously_unscoped.values_list("subscription_type__key", flat=True)) == ["terms"]
    assert FormSubmission.dangerously_unscoped.get().data["consent.newsletter"] is False


def test_a_known_email_updates_that_contact_with_only_the_fields_given(actor, org):
    with scope(organization=org):
        existing = contact_create(
            actor=actor,
            data={
                "first_name": "Ana",
                "last_name": "Old",
                "job_title": "CTO",
                "emails": ["ana@example.com"],
                "phones": ["+34911222333"],
                "custom": {"shoe": "38"},
                "lifecycle_stage": "customer",
            },
        )
    form = make_form(actor)
    result = submit(
        form,
        email="ANA@example.com",
        last_name="Nueva",
        phone="+34612345678",
        budget="small",
        **{"consent.terms": "on"},
    )
    assert result.status == "accepted"
    assert Contact.dangerously_unscoped.count() == 1
    contact = Contact.dangerously_unscoped.get()
    assert contact.pk == existing.pk
    assert (contact.first_name, contact.last_name, contact.job_title, contact.lifecycle_stage, contact.source) == (
        "Ana",
        "Nueva",
        "CTO",
        "customer",
        "manual",
    )
    with org_scope(org):
        assert list(contact.phones.order_by("id").values_list("number", flat=True)) == ["+34911222333", "+34612345678"]
    assert contact.custom == {"shoe": "38", "budget": "small"}
    assert list(ContactEmail.dangerously_unscoped.values_list("email", flat=True)) == ["ana@example.com"]
    assert Event.dangerously_unscoped.get(type="form.submitted").properties["new_contact"] is False


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"email": ""}, {"email": ["This field is required."], "consent.terms": ["Tick this box to continue."]}),
        (
            {"email": "not-an-email", "consent.terms": "on"},
            {"email": ["“not-an-email” is not a valid e-mail address."]},
        ),
        (
            {"email": "a@example.com", "phone": "12", "consent.terms": "on"},
            {"phone": ["“12”: start with the country code (e.g. +34) or set the country."]},
        ),
        (
            {"email": "a@example.com", "country": "XX", "consent.terms": "on"},
            {"country": ["Choose one of the options."]},
        ),
        (
            {"email": "a@example.com", "first_name": "x" * 201, "consent.terms": "on"},
            {"first_name": ["At most 200 characters."]},
        ),
        (
            {"email": "a@example.com", "message": "x" * 5001, "consent.terms": "on"},
            {"message": ["At most 5000 characters."]},
        ),
        (
            {"email": "a@example.com", "first_name": ["a", "b"], "consent.terms": "on"},
            {"first_name": ["Enter text."]},
        ),
    ],
)
def test_bad_input_gets_field_errors_and_changes_nothing(actor, org, values, errors):
    form = make_form(actor)
    result = submit(form, **values)
    assert (result.status, result.errors) == ("invalid", errors)
    assert Contact.dangerously_unscoped.count() == 0
    assert FormSubmission.dangerously_unscoped.count() == 0
    assert Consent.dangerously_unscoped.count() == 0
    assert not Event.dangerously_unscoped.filter(type__startswith="form.").exists()


def test_a_contact_service_error_comes_back_next_to_the_form_field(actor, org):
    form = make_form(
        actor,
        fields=[
            {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"},
            {"name": "lang", "label": "Language", "type": "text", "maps_to": "language"},
        ],
        consents=[],
    )
    result = submit(form, email="a@example.com", lang="zz")
    assert (result.status, result.errors) == ("invalid", {"lang": ["Unknown language code."]})
    assert Contact.dangerously_unscoped.count() == 0
    assert FormSubmission.dangerously_unscoped.count() == 0


def test_the_honeypot_stores_spam_and_nothing_else(actor, org):
    form = make_form(actor)
    result = submit(form, **GOOD, homepage="http://spam.example")
    assert result.status == "spam"
    submission = FormSubmission.dangerously_unscoped.get()
    assert (submission.status, submission.contact, submission.data["_spam"]) == ("spam", None, "honeypot")
    assert submission.data["email"] == "Ana@Example.com"
    assert Contact.dangerously_unscoped.count() == 0
    assert Consent.dangerously_unscoped.count() == 0
    assert Event.dangerously_unscoped.count() == 0
    assert mail.outbox == []


def test_too_fast_or_without_a_valid_token_is_spam(actor, org, other_actor):
    form = make_form(actor)
    other_form = make_form(other_actor)
    with scope(organization=org):
        fast = services.form_submit(form=form, data={**GOOD, "_ts": token(form, seconds_ago=1)}, meta=META)
        missing = services.form_submit(form=form, data=dict(GOOD), meta=META)
        forged = services.form_submit(form=form, data={**GOOD, "_ts": token(form)[:-2] + "xx"}, meta=META)
        borrowed = services.form_submit(form=form, data={**GOOD, "_ts": token(other_form)}, meta=META)
    assert [r.status for r in (fast, missing, forged, borrowed)] == ["spam"] * 4
    assert sorted(FormSubmission.dangerously_unscoped.values_list("data___spam", flat=True)) == [
        "no_token",
        "no_token",
        "no_token",
        "too_fast",
    ]
    assert Contact.dangerously_unscoped.count() == 0


def test_an_expired_fill_token_asks_to_reload(actor, org):
    form = make_form(actor)
    with scope(organization=org):
        result = services.form_submit(
            form=form, data={**GOOD, "_ts": token(form, seconds_ago=3 * 24 * 3600)}, meta=META
        )
    assert (result.status, result.errors) == (
        "invalid",
        {"__all__": ["This form has expired. Reload the page and send it again."]},
    )
    assert FormSubmission.dangerously_unscoped.count() == 0


def test_the_owner_is_notified_in_their_language_with_a_link(
    actor, org, member, settings, django_capture_on_commit_callbacks
):
    rep = member(Role.SALES, language="es", email="rep@example.com")
    form = make_form(actor, owner=rep.user.pk)
    with django_capture_on_commit_callbacks(execute=True):
        result = submit(form, **GOOD)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rep@example.com"]
    assert message.subject == "Nuevo envío del formulario Contact us de Ana García"
    assert message.extra_headers["Content-Language"] == "es"  # rendered in the owner's language
    assert f"{settings.SITE_URL}/o/{org.slug}/contacts/{result.contact.pk}/" in message.body


def test_no_notification_when_switched_off(actor, org, django_capture_on_commit_callbacks):
    form = make_form(actor, notify_owner=False)
    with django_capture_on_commit_callbacks(execute=True):
        submit(form, **GOOD)
    assert mail.outbox == []


# --- double opt-in and withdrawal -------------------------------------------------------------------


def test_double_opt_in_keeps_consents_pending_until_the_link_is_followed(
    actor, org, settings, django_capture_on_commit_callbacks
):
    form = make_form(actor, double_opt_in=True, notify_owner=False)
    with django_capture_on_commit_callbacks(execute=True):
        result = submit(form, meta=services.SubmissionMeta(ip="203.0.113.7", language="es"), **GOOD)
    assert result.status == "pending"
    submission = FormSubmission.dangerously_unscoped.get()
    assert (submission.status, submission.confirmed_at) == ("pending", None)
    with scope(organization=org):
        assert consent_is_valid(result.contact, "newsletter") is False
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@example.com"]
    assert message.subject == f"Confirma tu dirección de correo electrónico para {org.name}"
    assert message.extra_headers["Content-Language"] == "es"  # rendered in the visitor's language
    link = next(line for line in message.body.splitlines() if line.startswith(settings.SITE_URL))
    token_value = link.removeprefix(settings.SITE_URL + "/f/confirm/").rstrip("/")
    found = services.submission_for_token(token_value)
    assert found == submission
    with scope(organization=org):
        assert services.submission_confirm(submission=found) is True
        assert services.submission_confirm(submission=found) is False  # twice: once
        assert consent_is_valid(result.contact, "newsletter") is True
    submission.refresh_from_db()
    assert submission.status == "confirmed"
    assert submission.confirmed_at is not None
    assert list(Consent.dangerously_unscoped.values_list("confirmed_at", flat=True)) == [submission.confirmed_at] * 2
    confirmed = Event.dangerously_unscoped.filter(type="consent.confirmed").order_by("id")
    assert [e.properties["subscription_type"] for e in confirmed] == ["newsletter", "terms"]
    assert all(e.contact_id == result.contact.pk for e in confirmed)


def test_confirmation_links_that_are_forged_or_old(actor, org):
    form = make_form(actor, double_opt_in=True)
    result = submit(form, **GOOD)
    assert services.submission_for_token("nonsense") is None
    assert services.submission_for_token(services.confirm_token_for(result.submission)[:-3] + "abc") is None
    old = services.confirm_token_for(result.submission, issued_at=time.time() - 8 * 24 * 3600)
    with pytest.raises(services.ConfirmationExpired):
        services.submission_for_token(old)


def test_withdrawing_a_consent_keeps_the_proof_and_ends_its_validity(actor, org, member):
    form = make_form(actor)
    result = submit(form, **GOOD)
    granted = Consent.dangerously_unscoped.get(subscription_type__key="newsletter")
    withdrawn = withdraw(actor, result.contact, "newsletter")
    assert consent_is_valid(result.contact, "newsletter") is False
    assert consent_is_valid(result.contact, "terms") is True
    with pytest.raises(PermissionDenied):
        withdraw(member(Role.READ_ONLY), result.contact, "terms")
    assert (withdrawn.status, withdrawn.channel, withdrawn.actor_id) == ("withdrawn", "manual", actor.user_id)
    granted.refresh_from_db()
    assert (granted.status, granted.text) == ("granted", "Send me the monthly newsletter.")
    event = Event.dangerously_unscoped.get(type="consent.withdrawn")
    assert (event.contact_id, event.actor_id, event.properties["consent_id"]) == (
        result.contact.pk,
        actor.user_id,
        withdrawn.pk,
    )
    assert consent_is_valid(result.contact, "terms") is True


def test_a_newer_consent_after_a_withdrawal_is_valid_again(actor, org):
    form = make_form(actor)
    result = submit(form, **GOOD)
    withdraw(actor, result.contact, "newsletter")
    submit(form, **GOOD)
    assert consent_is_valid(result.contact, "newsletter") is True


def test_a_checkbox_for_an_unknown_or_inactive_subscription_type_is_refused_and_nothing_saved(actor, org):
    consent_types(org)
    with scope(organization=org):
        SubscriptionType.objects.filter(key="partners").update(is_active=False)
        with pytest.raises(ValidationError) as caught:
            services.web_form_create(
                actor=actor,
                data={
                    "name": "Contact us",
                    "fields": FIELDS,
                    "consents": [
                        {"key": "newsletterr", "text": "News"},
                        {"key": "partners", "text": "Partners"},
                        {"key": "", "text": "Nothing"},
                    ],
                },
            )
    assert caught.value.message_dict == {
        "consents.0.key": ["There is no subscription type with the key “newsletterr”."],
        "consents.1.key": ["The subscription type “Partners” is not active."],
        "consents.2.key": ["This field is required."],
    }
    assert WebForm.dangerously_unscoped.count() == 0


def test_a_type_deactivated_after_the_form_was_saved_records_nothing_for_it(actor, org):
    form = make_form(actor)
    with scope(organization=org):
        SubscriptionType.objects.filter(key="newsletter").update(is_active=False)
    result = submit(form, **GOOD)
    assert result.status == "accepted"
    assert list(Consent.dangerously_unscoped.values_list("subscription_type__key", flat=True)) == ["terms"]


def test_a_subscription_type_a_form_names_is_not_deleted(actor, org):
    make_form(actor, name="Contact us")
    make_form(actor, name="Events", consents=[{"key": "terms", "text": "I accept."}])
    types = consent_types(org)
    with scope(organization=org), pytest.raises(ValidationError) as caught:
        subscription_type_delete(actor=actor, subscription_type=types["terms"])
    assert caught.value.messages == ["Used by web form “Contact us”, web form “Events”: change them first."]
    with scope(organization=org):
        subscription_type_delete(actor=actor, subscription_type=types["partners"])
        assert sorted(SubscriptionType.objects.values_list("key", flat=True)) == ["newsletter", "terms"]
