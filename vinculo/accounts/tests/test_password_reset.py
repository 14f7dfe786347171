"""Forgotten password: an e-mailed one-time link sets a new password and ends old sessions."""

from __future__ import annotations

import re

from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from vinculo.accounts.models import User
from vinculo.accounts.testing import PASSWORD, login_client


def _reset_link(email: str, capture) -> str:
    client = Client()
    with capture(execute=True):
        response = client.post("/accounts/password/reset/", {"email": email})
    assert (response.status_code, response["Location"]) == (302, "/accounts/password/reset/sent/")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert (message.to, message.subject) == ([email], "Reset your Vínculo password")
    match = re.search(r"http://testserver(/accounts/password/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match is not None, message.body
    return match[1]


def test_a_reset_link_sets_a_new_password_and_logs_out_old_sessions(actor, django_capture_on_commit_callbacks):
    old_session = login_client(actor)
    assert old_session.get(f"/o/{actor.organization.slug}/contacts/").status_code == 200
    link = _reset_link(actor.user.email, django_capture_on_commit_callbacks)

    client = Client()
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert "Choose a new password" in form_page.content.decode()
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a brand new secret 77", "new_password2": "a brand new secret 77"},
    )

    assert (response.status_code, response["Location"]) == (302, "/accounts/password/reset/done/")
    user = User.objects.get(pk=actor.user_id)
    assert user.check_password("a brand new secret 77")
    assert not user.check_password(PASSWORD)
    assert old_session.get(f"/o/{actor.organization.slug}/contacts/").status_code == 302  # logged out
    # the link works once
    assert "This link is not valid" in Client().get(link, follow=True).content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(db):
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert (response.status_code, response["Location"]) == (302, "/accounts/password/reset/sent/")
    assert mail.outbox == []


def test_a_malformed_address_is_a_field_error(db):
    response = Client().post("/accounts/password/reset/", {"email": "not-an-address"})

    assert response.status_code == 422
    assert "Enter a valid email address." in response.content.decode()
    assert mail.outbox == []


def test_a_weak_new_password_is_refused_and_nothing_changes(actor, django_capture_on_commit_callbacks):
    link = _reset_link(actor.user.email, django_capture_on_commit_callbacks)
    client = Client()
    form_page = client.get(link, follow=True)

    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"})

    assert response.status_code == 422
    assert "This password is too short." in response.content.decode()
    assert User.objects.get(pk=actor.user_id).check_password(PASSWORD)


def test_a_forged_link_is_not_valid(actor):
    response = Client().get("/accounts/password/reset/MQ/not-a-token/", follow=True)

    assert response.status_code == 200
    assert "This link is not valid" in response.content.decode()
    assert User.objects.get(pk=actor.user_id).check_password(PASSWORD)


def test_the_login_page_links_to_the_reset(db):
    body = Client().get("/accounts/login/").content.decode()

    assert '<a href="/accounts/password/reset/">Forgot your password?</a>' in body


def test_thirty_resets_in_a_row_for_one_address_send_three_mails_and_answer_the_same(
    actor, django_capture_on_commit_callbacks
):
    """An outside test asked 30 resets in a row for one address and got 30 mails."""
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        answers = {
            (r.status_code, r["Location"])
            for r in (client.post("/accounts/password/reset/", {"email": actor.user.email}) for _ in range(30))
        }

    assert answers == {(302, "/accounts/password/reset/sent/")}  # the same answer every time
    assert [m.to for m in mail.outbox] == [[actor.user.email]] * 3


def test_one_client_asking_for_many_addresses_is_throttled_too(db, member, django_capture_on_commit_callbacks):
    from vinculo.accounts.views import RESETS_PER_CLIENT_PER_HOUR

    people = [member(role="sales").user.email for _ in range(RESETS_PER_CLIENT_PER_HOUR + 5)]
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        for email in people:
            assert client.post("/accounts/password/reset/", {"email": email}).status_code == 302

    assert len(mail.outbox) == RESETS_PER_CLIENT_PER_HOUR


def _statements(email: str) -> list[str]:
    """The SQL the request runs for `email`, with the values left out."""
    with CaptureQueriesContext(connection) as captured:
        response = Client().post("/accounts/password/reset/", {"email": email}, REMOTE_ADDR=f"192.0.2.{len(email)}")
    assert (response.status_code, response["Location"]) == (302, "/accounts/password/reset/sent/")
    return [re.sub(r"'[^']*'|\b\d+\b", "?", query["sql"]) for query in captured.captured_queries]


def test_the_request_does_the_same_work_for_an_address_with_an_account_and_one_without(actor, settings):
    """The outside test timed ~420 ms for an existing address (the mail was made in the request)
    and ~5 ms for an unknown one. Now both count the limits and enqueue one task, nothing else:
    the same statements on the same tables, so the time tells nothing."""
    settings.TASKS = {"default": {**settings.TASKS["default"], "BACKEND": "django_tasks_db.DatabaseBackend"}}
    known = _statements(actor.user.email)
    unknown = _statements("nobody-at-all@example.com")

    assert known == unknown
    assert [sql.split(" (")[0].split(" SET")[0] for sql in known] == [
        'INSERT INTO "core_ratecounter"',
        'INSERT INTO "django_tasks_database_dbtaskresult"',
    ]


def test_the_task_queues_the_link_only_for_an_active_account(actor, django_capture_on_commit_callbacks):
    from vinculo.accounts.tasks import send_password_reset

    actor.user.language = "es"
    actor.user.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        sent = [
            send_password_reset.call(email=e, domain="crm.example.com", use_https=True, language="en")
            for e in (actor.user.email, "nobody@example.com", "not an address")
        ]
    assert sent == [1, 0, 0]
    assert [m.to for m in mail.outbox] == [[actor.user.email]]
    assert mail.outbox[0].subject == "Restablece tu contraseña de Vínculo"  # in the user's language
    assert re.search(r"https://crm\.example\.com/accounts/password/reset/[^/\s]+/[^/\s]+/", mail.outbox[0].body)
