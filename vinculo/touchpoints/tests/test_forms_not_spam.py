"""Web-form spam explained and undone: the reason on the submissions list and detail, and "Not spam"
(page and API) that processes the submission as a normal one, exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import api_client_for, login_client
from vinculo.contacts.models import Contact
from vinculo.core.models import AuditEntry, Event
from vinculo.messaging.models import Consent
from vinculo.touchpoints.models import FormSubmission
from vinculo.touchpoints.services import forms as services
from vinculo.touchpoints.testing.forms import GOOD, META, make_form, token


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def url(org: Any, path: str) -> str:
    return f"/o/{org.slug}/{path}"


def spam(form: Any, seconds_ago: float = 1, **values: Any) -> FormSubmission:
    """A submission sent `seconds_ago` after the page loaded (1 s: too fast for a person)."""
    with scope(organization=form.organization):
        result = services.form_submit(form=form, data={**GOOD, "_ts": token(form, seconds_ago), **values}, meta=META)
    assert result.status == "spam"
    assert result.submission is not None
    return result.submission


def event_types(org: Any) -> list[str]:
    return sorted(Event.dangerously_unscoped.filter(organization=org).values_list("type", flat=True))


def test_the_list_and_the_detail_say_why_a_submission_is_spam(client_in, actor, org):
    form = make_form(actor)
    fast = spam(form)
    trap = spam(form, seconds_ago=30, homepage="http://spam.example")

    listing = client_in.get(url(org, f"web-forms/{form.pk}/submissions/")).content.decode()
    detail = client_in.get(url(org, f"form-submissions/{fast.pk}/")).content.decode()

    assert listing.count('class="small text-body-secondary spam-reason"') == 2
    assert "It was sent sooner after the page loaded than a person can fill in the form." in listing
    assert "A hidden field that people never see was filled in, as robots do." in listing
    assert (
        "<strong>Stored as spam:</strong> It was sent sooner after the page loaded than a person can fill in the form."
        in detail
    )
    assert f'action="/o/{org.slug}/form-submissions/{fast.pk}/not-spam/"' in detail
    assert ">too_fast<" not in detail  # the raw code is not shown as a received field
    assert trap.spam_reason == "honeypot"


def test_not_spam_on_the_page_processes_the_submission_once(client_in, actor, org):
    form = make_form(actor, owner=actor.user_id)
    submission = spam(form)
    assert event_types(org) == []

    response = client_in.post(url(org, f"form-submissions/{submission.pk}/not-spam/"))

    assert response.status_code == 302
    assert response["Location"] == url(org, f"form-submissions/{submission.pk}/")
    submission.refresh_from_db()
    contact = Contact.dangerously_unscoped.get()
    assert (submission.status, submission.contact_id, submission.spam_reason) == ("accepted", contact.pk, "")
    assert "_spam" not in submission.data
    assert submission.data["email"] == "Ana@Example.com"
    assert (contact.first_name, contact.email, contact.owner_id) == ("Ana", "ana@example.com", actor.user_id)
    with scope(organization=org):
        consents = sorted(Consent.objects.filter(contact=contact).values_list("subscription_type__key", "ip"))
    assert consents == [("newsletter", "203.0.113.7"), ("terms", "203.0.113.7")]  # the proof kept on arrival
    events = event_types(org)
    assert events.count("form.submitted") == 1
    assert events.count("contact.created") == 1
    audit = AuditEntry.dangerously_unscoped.get(object_type="touchpoints.formsubmission")
    assert (audit.actor_id, audit.changes) == (
        actor.user_id,
        {"status": ["spam", "accepted"], "spam": ["too_fast", ""]},
    )
    page = client_in.get(response["Location"]).content.decode()
    assert "Marked as not spam: the submission was processed." in page
    assert 'id="spam-reason"' not in page

    again = client_in.post(url(org, f"form-submissions/{submission.pk}/not-spam/"), follow=True)

    assert again.status_code == 200
    assert "This submission is not marked as spam: nothing to do." in again.content.decode()
    assert event_types(org) == events
    assert Contact.dangerously_unscoped.count() == 1
    assert AuditEntry.dangerously_unscoped.filter(object_type="touchpoints.formsubmission").count() == 1


def test_not_spam_updates_the_contact_who_already_exists(client_in, actor, org):
    form = make_form(actor)
    with scope(organization=org):
        from vinculo.contacts.services import contact_create

        known = contact_create(actor=actor, data={"first_name": "Ana", "emails": ["ana@example.com"]})
    submission = spam(form)

    client_in.post(url(org, f"form-submissions/{submission.pk}/not-spam/"))

    submission.refresh_from_db()
    assert submission.contact_id == known.pk
    assert Contact.dangerously_unscoped.count() == 1
    assert event_types(org).count("form.submitted") == 1


def test_not_spam_with_double_opt_in_sends_the_confirmation(client_in, actor, org, django_capture_on_commit_callbacks):
    form = make_form(actor, double_opt_in=True)
    submission = spam(form)

    with django_capture_on_commit_callbacks(execute=True):
        client_in.post(url(org, f"form-submissions/{submission.pk}/not-spam/"))

    submission.refresh_from_db()
    assert submission.status == "pending"
    assert submission.confirm_token != ""
    # the double opt-in e-mail, and the owner's notification of a new lead
    assert [m.to for m in mail.outbox] == [["ana@example.com"], [actor.user.email]]


def test_not_spam_over_the_api_once(actor, org):
    form = make_form(actor)
    submission = spam(form)
    client = api_client_for(actor)

    response = client.post(f"/api/v1/form-submissions/{submission.pk}/not-spam")

    assert response.status_code == 200
    body = response.json()
    contact = Contact.dangerously_unscoped.get()
    assert (body["id"], body["status"], body["spam_reason"], body["contact_id"]) == (
        submission.pk,
        "accepted",
        "",
        contact.pk,
    )
    events = event_types(org)
    again = client.post(f"/api/v1/form-submissions/{submission.pk}/not-spam")
    assert (again.status_code, again.json()["status"]) == (200, "accepted")
    assert event_types(org) == events


def test_the_api_lists_the_spam_reason(actor, org):
    form = make_form(actor)
    spam(form)

    body = api_client_for(actor).get(f"/api/v1/web-forms/{form.pk}/submissions").json()

    assert [(i["status"], i["spam_reason"]) for i in body["items"]] == [("spam", "too_fast")]


def test_spam_whose_values_do_not_pass_is_refused_and_left_as_spam(client_in, actor, org):
    form = make_form(actor)
    submission = spam(form, email="not an address")

    page = client_in.post(url(org, f"form-submissions/{submission.pk}/not-spam/"))
    api = api_client_for(actor).post(f"/api/v1/form-submissions/{submission.pk}/not-spam")

    assert page.status_code == 422
    assert "E-mail: “not an address” is not a valid e-mail address." in page.content.decode()
    assert api.status_code == 422
    assert api.json()["errors"] == [{"field": "email", "message": "“not an address” is not a valid e-mail address."}]
    submission.refresh_from_db()
    assert (submission.status, submission.contact_id, submission.spam_reason) == ("spam", None, "too_fast")
    assert Contact.dangerously_unscoped.count() == 0
    assert event_types(org) == []


@pytest.mark.parametrize("role", [Role.SALES, Role.READ_ONLY])
def test_only_form_managers_may_say_not_spam(actor, org, member, role):
    form = make_form(actor)
    submission = spam(form)
    someone = member(role)

    page = login_client(someone).post(url(org, f"form-submissions/{submission.pk}/not-spam/"))
    detail = login_client(someone).get(url(org, f"form-submissions/{submission.pk}/")).content.decode()
    api = login_client(someone).post(f"/api/v1/form-submissions/{submission.pk}/not-spam")  # a session

    assert page.status_code == 403
    assert "/not-spam/" not in detail
    assert api.status_code == 403
    submission.refresh_from_db()
    assert submission.status == "spam"
    assert Contact.dangerously_unscoped.count() == 0


def test_another_organisations_submission_is_not_found(client_in, actor, org, other_actor):
    submission = spam(make_form(other_actor))

    page = client_in.post(url(org, f"form-submissions/{submission.pk}/not-spam/"))
    api = api_client_for(actor).post(f"/api/v1/form-submissions/{submission.pk}/not-spam")

    assert (page.status_code, api.status_code) == (404, 404)
    submission.refresh_from_db()
    assert submission.status == "spam"
