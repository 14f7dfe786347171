"""Outgoing e-mail: a row written in the caller's transaction, sent by the worker through a real
SMTP server (aiosmtpd), retried on temporary failures, failed on permanent ones, never sent to a
suppressed address, never twice."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.testing import ReceivedMail, free_port
from vinculo.messaging.models import MessageKind, MessageState, OutgoingMessage, SuppressedAddress
from vinculo.messaging.services.outgoing import Attachment, message_queue
from vinculo.messaging.services.suppression import (
    address_is_suppressed,
    addresses_suppressed,
    suppression_add,
    suppression_remove,
)
from vinculo.messaging.tasks import MAX_ATTEMPTS, send_due_messages, send_outgoing, send_outgoing_batch
from vinculo.messaging.testing import ScriptedSink

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a tiny test file\n%%EOF\n"


@pytest.fixture
def smtp(settings):
    sink = ScriptedSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", controller.port, 5
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "Vínculo <no-reply@crm.example>"
    try:
        yield sink
    finally:
        controller.stop()


def queue(org, capture, **kwargs) -> OutgoingMessage:
    """Queue in a transaction that commits (the worker runs at once: ImmediateBackend)."""
    values: dict[str, Any] = {
        "organization": org,
        "to": "Ana García <Ana@Cliente.example>",
        "subject": "Su presupuesto",
        "text": "Hola Ana,\nadjunto el presupuesto.\n",
    }
    values.update(kwargs)
    with capture(execute=True):
        message = message_queue(**values)
    message.refresh_from_db()
    return message


def text_of(received: ReceivedMail) -> str:
    return received.body.replace("\r\n", "\n")


def test_a_queued_message_is_sent_by_the_worker_with_its_headers_and_attachment(
    org, smtp, django_capture_on_commit_callbacks
):
    message = queue(
        org,
        django_capture_on_commit_callbacks,
        html="<p>Hola Ana</p>",
        attachments=[Attachment("Q-0001.pdf", PDF, "application/pdf")],
        headers={"In-Reply-To": "<a@x.example>", "References": "<a@x.example>"},
        unsubscribe_url="https://crm.example/u/abc",
        reply_to="Luis <luis@empresa.example>",
        language="es",
    )

    assert message.state == MessageState.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.to_address == "ana@cliente.example"
    assert message.message_id.endswith("@crm.example>")
    assert len(smtp.received) == 1
    received = smtp.received[0]
    assert received.rcpt_tos == ["ana@cliente.example"]
    headers = received.message
    assert headers["To"] == "Ana García <ana@cliente.example>"
    assert headers["From"] == "Vínculo <no-reply@crm.example>"
    assert headers["Reply-To"] == "Luis <luis@empresa.example>"
    assert headers["Subject"] == "Su presupuesto"
    assert headers["Message-ID"] == message.message_id
    assert headers["In-Reply-To"] == "<a@x.example>"
    assert headers["References"] == "<a@x.example>"
    assert headers["List-Unsubscribe"] == "<https://crm.example/u/abc>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Content-Language"] == "es"
    assert text_of(received) == "Hola Ana,\nadjunto el presupuesto.\n"
    html = headers.get_body(preferencelist=("html",))
    assert html is not None
    assert html.get_content() == "<p>Hola Ana</p>"
    [attachment] = list(headers.iter_attachments())
    assert attachment.get_filename() == "Q-0001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


def test_nothing_is_sent_before_commit_and_nothing_after_a_rollback(org, smtp, django_capture_on_commit_callbacks):
    def write_then_fail() -> None:
        with transaction.atomic():
            message_queue(organization=org, to="ana@cliente.example", subject="x", text="x")
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        write_then_fail()

    with scope(organization=org):
        assert OutgoingMessage.objects.count() == 0
    assert smtp.received == []


def test_templates_are_rendered_in_the_recipients_language(org, django_capture_on_commit_callbacks):
    from django.utils.translation import gettext as _

    message = queue(
        org,
        django_capture_on_commit_callbacks,
        subject=lambda: _("Reminder: %(subject)s at %(time)s") % {"subject": "Llamada", "time": "10:00"},
        text="",
        template="accounts/email/invitation",
        context={"org_name": "Acme", "inviter": "Luis", "url": "https://x.example/i/1/", "days": 7},
        language="es",
    )

    assert message.subject == "Recordatorio: Llamada a las 10:00"
    assert message.language == "es"
    assert "https://x.example/i/1/" in message.text_body
    assert [m.subject for m in mail.outbox] == ["Recordatorio: Llamada a las 10:00"]


def test_the_same_idempotency_key_gives_one_row_and_one_mail(org, django_capture_on_commit_callbacks):
    first = queue(org, django_capture_on_commit_callbacks, idempotency_key="quote-1-sent")
    again = queue(org, django_capture_on_commit_callbacks, idempotency_key="quote-1-sent", subject="other")

    assert again.pk == first.pk
    assert again.subject == "Su presupuesto"
    assert len(mail.outbox) == 1
    with scope(organization=org):
        assert OutgoingMessage.objects.count() == 1


def test_an_enqueue_that_fails_after_the_commit_keeps_the_row_for_the_sweep_and_raises_nothing(
    org, django_capture_on_commit_callbacks, monkeypatch
):
    class BrokenQueue:
        def enqueue(self, *args: Any) -> None:
            raise ConnectionError("task queue away")

    monkeypatch.setattr("vinculo.messaging.services.outgoing.send_outgoing", BrokenQueue())
    message = queue(org, django_capture_on_commit_callbacks)  # the commit's callbacks run: no exception

    message.refresh_from_db()
    assert (message.state, len(mail.outbox)) == (MessageState.QUEUED, 0)
    monkeypatch.undo()
    assert send_due_messages.call() == 1  # the workers' sweep sends it
    assert [m.subject for m in mail.outbox] == ["Su presupuesto"]


def test_the_same_key_in_another_organisation_is_another_message(org, other_org, django_capture_on_commit_callbacks):
    first = queue(org, django_capture_on_commit_callbacks, idempotency_key="k")
    second = queue(other_org, django_capture_on_commit_callbacks, idempotency_key="k")

    assert first.pk != second.pk
    assert len(mail.outbox) == 2


def test_install_level_mail_has_no_organisation_and_is_idempotent(django_capture_on_commit_callbacks, db):
    first = queue(None, django_capture_on_commit_callbacks, kind=MessageKind.SYSTEM, idempotency_key="reset-1")
    again = queue(None, django_capture_on_commit_callbacks, kind=MessageKind.SYSTEM, idempotency_key="reset-1")

    assert first.pk == again.pk
    assert first.organization_id is None
    assert list(OutgoingMessage.install_mail.values_list("pk", flat=True)) == [first.pk]
    assert len(mail.outbox) == 1


def test_only_system_mail_may_have_no_organisation(db):
    with pytest.raises(ValueError, match="only system mail"):
        message_queue(organization=None, to="a@b.example", subject="x", text="x", kind=MessageKind.CAMPAIGN)


@pytest.mark.parametrize("to", ["", "not an address", "ana@", "Ana <ana@cliente.example>\nBcc: x@y.example"])
def test_an_invalid_address_is_refused_and_nothing_is_queued(org, to):
    with pytest.raises(ValidationError) as exc:
        message_queue(organization=org, to=to, subject="x", text="x")

    assert exc.value.message_dict == {"to": ["Enter a valid e-mail address."]}
    with scope(organization=org):
        assert OutgoingMessage.objects.count() == 0


def test_a_header_cannot_be_smuggled(org):
    with pytest.raises(ValueError, match="line break"):
        message_queue(organization=org, to="a@b.example", subject="x", text="x", headers={"References": "<a>\nBcc: x"})
    with pytest.raises(ValueError, match="cannot be set"):
        message_queue(organization=org, to="a@b.example", subject="x", text="x", headers={"Bcc": "x@y.example"})


def test_a_subject_is_one_line(org, django_capture_on_commit_callbacks):
    message = queue(org, django_capture_on_commit_callbacks, subject="Hola\r\nBcc: x@y.example")

    assert message.subject == "Hola Bcc: x@y.example"
    assert mail.outbox[0].to == ["Ana García <ana@cliente.example>"]


def test_the_html_transform_runs_before_the_html_is_stored(org, django_capture_on_commit_callbacks):
    message = queue(
        org, django_capture_on_commit_callbacks, html='<a href="https://x.example">x</a>', html_transform=str.upper
    )

    assert message.html_body == '<A HREF="HTTPS://X.EXAMPLE">X</A>'


# --- suppression -----------------------------------------------------------------------------------


def test_a_suppressed_address_is_stored_with_the_reason_and_not_sent(
    org, actor, smtp, django_capture_on_commit_callbacks
):
    suppression_add(organization=org, address=" ANA@cliente.example ", reason="hard_bounce", actor=actor.user)

    message = queue(org, django_capture_on_commit_callbacks)

    assert message.state == MessageState.SUPPRESSED
    assert message.suppressed_reason == "hard_bounce"
    assert message.attempts == 0
    assert smtp.received == []
    with scope(organization=org):
        assert OutgoingMessage.objects.filter(state=MessageState.SUPPRESSED).count() == 1
    assert send_due_messages.call() == 0
    assert smtp.received == []


def test_system_mail_ignores_the_customer_suppression_list_unless_told(org, django_capture_on_commit_callbacks):
    suppression_add(organization=org, address="ana@cliente.example", reason="unsubscribed")

    system = queue(org, django_capture_on_commit_callbacks, kind=MessageKind.SYSTEM)
    strict = queue(org, django_capture_on_commit_callbacks, kind=MessageKind.SYSTEM, respect_suppression=True)

    assert system.state == MessageState.SENT
    assert strict.state == MessageState.SUPPRESSED
    assert strict.suppressed_reason == "unsubscribed"
    assert len(mail.outbox) == 1


def test_suppression_is_per_organisation_set_based_and_removable(org, other_org):
    suppression_add(organization=org, address="ana@cliente.example", reason="complaint")
    again = suppression_add(organization=org, address="Ana@Cliente.example", reason="manual")

    assert again.reason == "complaint"
    assert addresses_suppressed(org, ["ANA@cliente.example", "luis@cliente.example", ""]) == {"ana@cliente.example"}
    assert addresses_suppressed(other_org, ["ana@cliente.example"]) == set()
    assert address_is_suppressed(org, "ana@cliente.example") is True
    with scope(organization=org):
        assert SuppressedAddress.objects.count() == 1

    assert suppression_remove(organization=org, address="ANA@cliente.example") is True
    assert suppression_remove(organization=org, address="ana@cliente.example") is False
    assert address_is_suppressed(org, "ana@cliente.example") is False


def test_suppression_refuses_a_bad_address_or_reason(org):
    with pytest.raises(ValidationError) as exc:
        suppression_add(organization=org, address="nope", reason="because")

    assert exc.value.message_dict == {"address": ["Enter a valid e-mail address."], "reason": ["Unknown reason."]}
    with scope(organization=org):
        assert SuppressedAddress.objects.count() == 0


# --- the worker ------------------------------------------------------------------------------------


def test_a_permanent_refusal_fails_with_the_servers_answer(org, smtp, django_capture_on_commit_callbacks):
    smtp.refuse_rcpt["ana@cliente.example"] = "550 5.1.1 No such user here"

    message = queue(org, django_capture_on_commit_callbacks)

    assert message.state == MessageState.FAILED
    assert message.last_error == "550 5.1.1 No such user here"
    assert message.attempts == 1
    assert message.sent_at is None
    assert smtp.received == []


def test_a_temporary_failure_is_retried_later_then_sent_once(org, smtp, django_capture_on_commit_callbacks):
    smtp.data_answers = ["451 4.3.0 Try again later"]

    message = queue(org, django_capture_on_commit_callbacks)

    assert message.state == MessageState.QUEUED
    assert message.attempts == 1
    assert message.last_error == "451 4.3.0 Try again later"
    assert message.next_attempt_at - message.updated_at == dt.timedelta(minutes=1)
    assert send_due_messages.call() == 0  # not due yet
    assert smtp.received == []

    OutgoingMessage.dangerously_unscoped.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert send_due_messages.call() == 1
    assert send_due_messages.call() == 0

    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert message.attempts == 2
    assert message.last_error == ""
    assert [r.message["Message-ID"] for r in smtp.received] == [message.message_id]


def test_an_unreachable_server_is_retried_until_the_last_attempt_fails(
    org, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2

    message = queue(org, django_capture_on_commit_callbacks)
    assert message.state == MessageState.QUEUED
    assert message.last_error.startswith("ConnectionRefusedError")
    for _attempt in range(MAX_ATTEMPTS - 1):
        OutgoingMessage.dangerously_unscoped.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        send_due_messages.call()

    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert message.attempts == MAX_ATTEMPTS


def test_a_message_is_never_sent_twice(org, smtp, django_capture_on_commit_callbacks):
    message = queue(org, django_capture_on_commit_callbacks)

    send_outgoing.call(message.pk)
    send_outgoing_batch([message.pk, message.pk])
    assert send_due_messages.call() == 0

    assert len(smtp.received) == 1


def test_a_lost_enqueue_and_a_dead_worker_are_found_by_the_sweep(org, smtp):
    with transaction.atomic():  # no on-commit callback runs: the enqueue is "lost"
        message_queue(organization=org, to="a@cliente.example", subject="lost", text="x")
        stuck = message_queue(organization=org, to="b@cliente.example", subject="stuck", text="x")
    past = timezone.now() - dt.timedelta(seconds=1)
    OutgoingMessage.dangerously_unscoped.filter(pk=stuck.pk).update(state=MessageState.SENDING, next_attempt_at=past)

    assert send_due_messages.call() == 2

    assert sorted(r.message["Subject"] for r in smtp.received) == ["lost", "stuck"]


def test_a_batch_reuses_one_connection(org, smtp):
    with transaction.atomic():
        ids = [
            message_queue(organization=org, to=f"c{i}@cliente.example", subject=f"n{i}", text="x").pk for i in range(5)
        ]

    result = send_outgoing_batch(ids)

    assert (result.claimed, result.sent, result.retried, result.failed) == (5, 5, 0, 0)
    assert [r.message["Subject"] for r in smtp.received] == [f"n{i}" for i in range(5)]
    assert len(set(smtp.peers)) == 1


def test_one_refused_recipient_does_not_stop_the_batch(org, smtp):
    smtp.refuse_rcpt["c1@cliente.example"] = "550 5.1.1 Unknown"
    with transaction.atomic():
        ids = [
            message_queue(organization=org, to=f"c{i}@cliente.example", subject=f"n{i}", text="x").pk for i in range(3)
        ]

    result = send_outgoing_batch(ids)

    assert (result.sent, result.failed) == (2, 1)
    assert [r.message["Subject"] for r in smtp.received] == ["n0", "n2"]
    assert len(set(smtp.peers)) == 1


def test_received_bytes_parse_back(org, smtp, django_capture_on_commit_callbacks):
    queue(org, django_capture_on_commit_callbacks, text="Ñandú\n")

    raw = smtp.received[0].message.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == "Ñandú\n"


def test_a_caller_can_name_the_reasons_that_block_it(org, django_capture_on_commit_callbacks):
    """A double opt-in confirmation goes to someone who once unsubscribed, never to a bounce."""
    suppression_add(organization=org, address="ana@cliente.example", reason="unsubscribed")
    suppression_add(organization=org, address="luis@cliente.example", reason="hard_bounce")
    blocking = {"hard_bounce", "complaint"}

    ana = queue(org, django_capture_on_commit_callbacks, kind=MessageKind.TRANSACTIONAL, respect_suppression=blocking)
    luis = queue(
        org,
        django_capture_on_commit_callbacks,
        to="luis@cliente.example",
        kind=MessageKind.TRANSACTIONAL,
        respect_suppression=blocking,
    )

    assert (ana.state, ana.suppressed_reason) == (MessageState.SENT, "")
    assert (luis.state, luis.suppressed_reason) == (MessageState.SUPPRESSED, "hard_bounce")
    assert [m.to for m in mail.outbox] == [["Ana García <ana@cliente.example>"]]


def test_a_message_whose_attachment_file_is_gone_fails_without_holding_up_the_others(
    org, smtp, django_capture_on_commit_callbacks
):
    with scope(organization=org):
        lost = message_queue(
            organization=org, to="ana@cliente.example", subject="Lost", text="x", attachments=[Attachment("a.pdf", PDF)]
        )
        kept = message_queue(organization=org, to="ana@cliente.example", subject="Kept", text="x")
        stored = lost.attachments.get()
    stored.file.storage.delete(stored.file.name)

    result = send_outgoing_batch([lost.pk, kept.pk])

    assert (result.sent, result.failed, result.stopped) == (1, 1, False)
    lost.refresh_from_db()
    assert (lost.state, lost.last_error) == (
        "failed",
        "ValueError: the attachment 'a.pdf' cannot be read: FileNotFoundError",
    )
    assert [m.message["Subject"] for m in smtp.received] == ["Kept"]
