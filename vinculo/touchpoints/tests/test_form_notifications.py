"""A lead from a web form: the owner of the contact it created (or updated) is told in the bell,
with a link to the contact, and/or by the form's e-mail, as they chose."""

from __future__ import annotations

import pytest
from django.core import mail
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.messaging.models import Notification
from vinculo.messaging.services.notifications import notification_preferences_update
from vinculo.touchpoints.testing.forms import GOOD, make_form, submit

pytestmark = pytest.mark.django_db


def mine(member) -> list[Notification]:
    with scope(organization=member.organization):
        return list(Notification.objects.filter(recipient=member.user).order_by("id"))


def test_a_new_lead_from_a_form_notifies_its_owner_in_the_bell_and_by_email(
    actor, org, member, django_capture_on_commit_callbacks
):
    rep = member(Role.SALES, email="rep@example.com")
    form = make_form(actor, owner=rep.user.pk)
    with django_capture_on_commit_callbacks(execute=True):
        first = submit(form, **GOOD)
        again = submit(form, **{**GOOD, "message": "Still waiting."})

    assert first.contact == again.contact
    assert [(n.sentence, n.url, n.kind) for n in mine(rep)] == [
        (
            "New lead from the web form “Contact us”: Ana García",
            f"/o/{org.slug}/contacts/{first.contact.pk}/",
            "form_lead",
        ),
        ("Ana García filled in the web form “Contact us”", f"/o/{org.slug}/contacts/{first.contact.pk}/", "form_lead"),
    ]
    # (and no "assigned to you" besides: the form's own assignment is told once, as a lead from it)
    assert [m.to for m in mail.outbox] == [["rep@example.com"], ["rep@example.com"]]  # the form's e-mail


def test_in_app_only_sends_no_form_email(actor, org, member, django_capture_on_commit_callbacks):
    rep = member(Role.SALES, email="rep@example.com")
    with scope(organization=org):
        notification_preferences_update(actor=rep, data={"form_lead": "in_app"})
    form = make_form(actor, owner=rep.user.pk)
    with django_capture_on_commit_callbacks(execute=True):
        submit(form, **GOOD)

    assert len(mine(rep)) == 1
    assert mail.outbox == []


def test_a_form_that_tells_nobody_notifies_nobody(actor, org, django_capture_on_commit_callbacks):
    form = make_form(actor, notify_owner=False)
    with django_capture_on_commit_callbacks(execute=True):
        submit(form, **GOOD)

    assert mine(actor) == []
