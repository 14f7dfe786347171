"""The accounts' mail (below messaging, queued through the core port) goes out as outgoing rows."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from vinculo.accounts.models import Role, User
from vinculo.messaging.models import OutgoingMessage

pytestmark = pytest.mark.django_db


def test_the_reset_mail_is_queued_in_the_users_language_without_an_organisation(
    actor, smtp_server, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=actor.user.pk).update(language="es")

    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/accounts/password/reset/", {"email": actor.user.email})

    assert response.status_code == 302
    [queued] = OutgoingMessage.install_mail.all()
    assert (queued.organization_id, queued.kind, queued.state) == (None, "system", "sent")
    assert (queued.to_address, queued.language) == (actor.user.email, "es")
    assert queued.subject == "Restablece tu contraseña de Vínculo"
    [received] = smtp_server.received
    assert received.rcpt_tos == [actor.user.email]
    assert received.message["Subject"] == "Restablece tu contraseña de Vínculo"
    assert received.message["Message-ID"] == queued.message_id
    assert "/accounts/password/reset/" in received.body


def test_an_invitation_is_one_outgoing_row_of_its_organisation(
    actor, org, client_in, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_in.post(
            reverse("org:invitations", args=[org.slug]), {"email": "x@example.com", "role": Role.SALES}
        )

    assert response.status_code == 302
    [queued] = OutgoingMessage.dangerously_unscoped.all()
    assert (queued.organization_id, queued.kind, queued.state, queued.to_address) == (
        org.pk,
        "system",
        "sent",
        "x@example.com",
    )
    assert queued.idempotency_key.startswith("invitation:")
    assert [r.rcpt_tos for r in smtp_server.received] == [["x@example.com"]]
