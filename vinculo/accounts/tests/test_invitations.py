"""Invitations end to end: invite → e-mail through a real SMTP server → sign up or log in →
accept → membership with the invited role → switch between organisations."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from vinculo.accounts.models import Invitation, Membership, Organization, Role, User
from vinculo.accounts.services import invitation_create
from vinculo.accounts.testing import PASSWORD, login_client, make_member

LINK = re.compile(r"https?://\S+/accounts/invitations/[-\w]+/")
NEW_PASSWORD = "correct horse battery staple 7"


def _invite(client, org, email, role, capture):
    with capture(execute=True):
        response = client.post(reverse("org:invitations", args=[org.slug]), {"email": email, "role": role})
    return response


def test_invitation_email_through_smtp_then_sign_up_and_accept(
    actor, org, client_in, smtp_server, django_capture_on_commit_callbacks
):
    response = _invite(client_in, org, "Ana.Garcia@Example.com", Role.MARKETING, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.rcpt_tos == ["ana.garcia@example.com"]
    assert received.message["To"] == "ana.garcia@example.com"
    assert received.message["Subject"] == f"{actor.user.full_name} invited you to {org.name} on Vínculo"
    links = LINK.findall(received.body)
    assert len(links) == 1
    path = urlsplit(links[0]).path
    invitation = Invitation.dangerously_unscoped.get(organization=org)
    assert invitation.email == "ana.garcia@example.com"
    assert path.split("/")[-2] not in invitation.token_hash  # only the hash is stored

    # the invited person follows the link: log in or sign up
    guest = Client()
    page = guest.get(path)
    assert page.status_code == 200
    signup_url = reverse("accounts:signup") + "?next=" + path
    assert signup_url in page.content.decode()

    # sign-up from an invitation: the invited address, no organisation of their own
    form = guest.get(reverse("accounts:signup"), {"next": path})
    assert form.status_code == 200
    html = form.content.decode()
    assert 'value="ana.garcia@example.com"' in html
    assert 'name="organization_name"' not in html
    organizations_before = Organization.objects.count()
    signed_up = guest.post(
        reverse("accounts:signup"),
        {
            "full_name": "Ana García",
            "password": NEW_PASSWORD,
            "language": "es",
            "time_zone": "America/Mexico_City",
            "next": path,
        },
    )
    assert signed_up.status_code == 302
    assert signed_up["Location"] == path
    user = User.objects.get(email="ana.garcia@example.com")
    assert (user.language, user.time_zone) == ("es", "America/Mexico_City")  # the browser's
    assert Organization.objects.count() == organizations_before
    assert not Membership.objects.filter(user=user).exists()

    # back at the invitation: accept it
    confirm = guest.get(path)
    assert confirm.status_code == 200
    assert "Accept" in confirm.content.decode() or "Aceptar" in confirm.content.decode()
    accepted = guest.post(path)
    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("org:home", args=[org.slug])
    membership = Membership.objects.get(user=user, organization=org)
    assert membership.role == Role.MARKETING
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None

    # the link works once
    assert guest.get(path).status_code == 404
    assert guest.post(path).status_code == 404


def test_existing_user_logs_in_accepts_and_switches_organisations(
    actor, org, client_in, smtp_server, django_capture_on_commit_callbacks
):
    elsewhere = make_member(email="luis@example.com", full_name="Luis Pérez")  # owner of his own organisation
    _invite(client_in, org, "luis@example.com", Role.SALES, django_capture_on_commit_callbacks)
    path = urlsplit(LINK.findall(smtp_server.received[0].body)[0]).path

    luis = Client()
    login_page = luis.get(reverse("accounts:login"), {"next": path})
    assert login_page.status_code == 200
    logged_in = luis.post(reverse("accounts:login"), {"email": "luis@example.com", "password": PASSWORD, "next": path})
    assert logged_in.status_code == 302
    assert logged_in["Location"] == path
    assert luis.post(path).status_code == 302
    assert Membership.objects.get(user=elsewhere.user, organization=org).role == Role.SALES

    # the navigation lists both organisations, each a link into it
    page = luis.get(reverse("org:settings", args=[org.slug])).content.decode()
    for organization in (org, elsewhere.organization):
        assert f'href="{reverse("contacts:contact_list", args=[organization.slug])}"' in page
        assert organization.name in page

    # the home page follows the organisation last opened
    luis.get(reverse("org:settings", args=[elsewhere.organization.slug]))
    assert luis.get("/")["Location"] == reverse("org:home", args=[elsewhere.organization.slug])
    luis.get(reverse("org:settings", args=[org.slug]))
    assert luis.get("/")["Location"] == reverse("org:home", args=[org.slug])


def test_invitation_for_someone_else_cannot_be_accepted(actor, org, member, django_capture_on_commit_callbacks):
    issued = invitation_create(actor=actor, email="invited@example.com", role=Role.SALES)
    intruder = make_member(email="intruder@example.com")
    client = login_client(intruder)
    path = urlsplit(issued.url).path

    page = client.get(path)
    assert page.status_code == 403
    assert "invited@example.com" in page.content.decode()
    assert client.post(path).status_code == 403
    assert not Membership.objects.filter(user=intruder.user, organization=org).exists()
    assert Invitation.dangerously_unscoped.get(pk=issued.invitation.pk).accepted_at is None


@pytest.mark.parametrize("state", ["revoked", "expired", "unknown"])
def test_dead_invitation_link_answers_404(actor, org, state):
    issued = invitation_create(actor=actor, email="late@example.com", role=Role.SALES)
    path = urlsplit(issued.url).path
    if state == "revoked":
        Invitation.dangerously_unscoped.filter(pk=issued.invitation.pk).update(revoked_at=timezone.now())
    elif state == "expired":
        Invitation.dangerously_unscoped.filter(pk=issued.invitation.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    else:
        path = reverse("accounts:invitation_accept", args=["not-a-real-secret"])
    late = make_member(email="late@example.com")

    response = login_client(late).post(path)

    assert response.status_code == 404
    assert not Membership.objects.filter(user=late.user, organization=org).exists()


def test_invitation_email_waits_for_commit(actor, org, client_in, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_in.post(reverse("org:invitations", args=[org.slug]), {"email": "x@example.com", "role": "sales"})
    assert mail.outbox == []
    assert len(callbacks) == 2  # enqueue the sending, then note its outcome
    callbacks[0]()
    assert [m.to for m in mail.outbox] == [["x@example.com"]]


def test_smtp_failure_keeps_invitation_and_shows_link(
    actor, org, client_in, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard port: nothing listens, the connection is refused
    with django_capture_on_commit_callbacks(execute=True):
        issued = invitation_create(actor=actor, email="offline@example.com", role=Role.SALES)
    assert issued.email_sent is False
    assert Invitation.dangerously_unscoped.filter(pk=issued.invitation.pk, revoked_at__isnull=True).exists()
