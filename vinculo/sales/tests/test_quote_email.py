"""A quote e-mailed as a PDF from its page and through the API: the message reaches a real SMTP
server (aiosmtpd) with the PDF attached, the quote is marked as sent and `quote.sent` is on the
timeline; bad input, suppressed addresses and other organisations' quotes send nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import TestCase
from django.urls import reverse
from django_scopes import scope

from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.messaging.attachments import message_key
from vinculo.messaging.models import OutgoingMessage
from vinculo.messaging.services.suppression import suppression_add
from vinculo.sales import pdf
from vinculo.sales.models import Quote, QuoteStatus
from vinculo.sales.services.documents import quote_accept, quote_create
from vinculo.sales.testing import make_product

pytestmark = pytest.mark.django_db


def committed():
    """The block's transaction commits: the worker (ImmediateBackend) sends what it queued."""
    return TestCase.captureOnCommitCallbacks(execute=True)


@pytest.fixture
def quote(actor, org):
    widget = make_product(org, "Widget", price="100.00", tax_rate=Decimal("21"))
    with scope(organization=org):
        ana = contact_create(
            actor=actor, data={"first_name": "Ana", "last_name": "García", "emails": ["ana@cliente.example"]}
        )
        return quote_create(actor=actor, data={"contact": ana.pk, "lines": [{"product": widget.pk, "quantity": "2"}]})


def page(org, name, quote_id):
    return reverse(f"sales:{name}", args=[org.slug, quote_id])


def post_api(client, quote_id, body):
    return client.post(f"/api/v1/quotes/{quote_id}/send", data=json.dumps(body), content_type="application/json")


def outgoing_rows(org):
    with scope(organization=org):
        return list(OutgoingMessage.objects.order_by("id"))


def test_the_quote_page_emails_the_pdf_and_marks_the_quote_sent(actor, org, quote, client_in, smtp_server):
    detail = client_in.get(page(org, "quote_detail", quote.pk)).content.decode()
    assert page(org, "quote_email", quote.pk) in detail
    form = client_in.get(page(org, "quote_email", quote.pk))
    assert form.status_code == 200
    initial = dict(form.context["form"].initial)
    key = initial.pop("key")
    assert initial == {
        "to": "ana@cliente.example",
        "subject": f"Quote {quote.number} from {org.name}",
        "message": f"Hello Ana,\n\nPlease find attached our quote {quote.number}.\n\n{actor.user.full_name}\n",
    }
    assert len(key) >= 20
    assert f'name="key" value="{key}"' in form.content.decode()
    data = {"to": "ana@cliente.example", "subject": "Su presupuesto", "message": "Hola Ana,\nadjunto.\n", "key": key}

    with committed():
        response = client_in.post(page(org, "quote_email", quote.pk), data)
        again = client_in.post(page(org, "quote_email", quote.pk), data)  # a double click

    assert response.status_code == 302
    assert again.status_code == 302
    assert response["Location"] == page(org, "quote_detail", quote.pk)
    [received] = smtp_server.received
    assert received.rcpt_tos == ["ana@cliente.example"]
    message = received.message
    assert message["Subject"] == "Su presupuesto"
    assert message["Reply-To"] == f"{actor.user.full_name} <{actor.user.email}>"
    assert received.body.replace("\r\n", "\n") == "Hola Ana,\nadjunto.\n"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == pdf.filename(quote.number)
    assert attachment.get_content_type() == "application/pdf"
    content = attachment.get_content()
    with scope(organization=org):
        assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
        event = Event.objects.get(type="quote.sent")
        [row] = outgoing_rows(org)
        [stored] = row.attachments.all()
    assert content == stored.read()
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")
    assert stored.filename == pdf.filename(quote.number)
    assert (row.state, row.kind, row.contact_id, row.created_by_id) == (
        "sent",
        "one_off",
        quote.contact_id,
        actor.user_id,
    )
    assert message["Message-ID"] == row.message_id
    assert event.contact_id == quote.contact_id
    assert event.properties == {
        "quote_id": quote.pk,
        "number": quote.number,
        "total": "242.00",
        "currency": quote.currency,
        "to": "ana@cliente.example",
        "outgoing_message_id": row.pk,
        "attachments": [
            {
                "source": "outgoing",
                "id": stored.pk,
                "name": pdf.filename(quote.number),
                "type": "application/pdf",
                "size": len(content),
            }
        ],
    }
    assert stored.file.name == f"attachments/{org.pk}/outgoing/{row.pk}-{message_key(row.message_id)[:16]}/1"
    assert stored.size == len(content)


def test_a_sent_quote_can_be_emailed_again(actor, org, quote, api_client, smtp_server):
    with committed():
        first = post_api(api_client, quote.pk, {"to": "ana@cliente.example", "subject": "Uno", "message": "a"})
        second = post_api(api_client, quote.pk, {"to": "luis@cliente.example", "subject": "Dos", "message": "b"})

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["status"] == "sent"
    assert [r.message["Subject"] for r in smtp_server.received] == ["Uno", "Dos"]
    with scope(organization=org):
        assert Event.objects.filter(type="quote.sent").count() == 2


def test_the_same_idempotency_key_emails_once(org, quote, api_client, smtp_server):
    body = {"to": "ana@cliente.example", "subject": "Uno", "message": "a", "idempotency_key": "req-1"}

    with committed():
        first = post_api(api_client, quote.pk, body)
        again = post_api(api_client, quote.pk, {**body, "subject": "Otro"})

    assert (first.status_code, again.status_code) == (200, 200)
    assert [r.message["Subject"] for r in smtp_server.received] == ["Uno"]
    [row] = outgoing_rows(org)
    assert row.idempotency_key == f"quote:{quote.pk}:req-1"
    with scope(organization=org):
        assert Event.objects.filter(type="quote.sent").count() == 1


def test_the_api_without_a_body_only_marks_the_quote_sent(org, quote, api_client, smtp_server):
    with committed():
        response = api_client.post(f"/api/v1/quotes/{quote.pk}/send", content_type="application/json")

    assert response.status_code == 200
    assert response.json()["status"] == "sent"
    assert smtp_server.received == []
    assert outgoing_rows(org) == []


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"to": "not-an-address", "subject": "x", "message": "y"}, [("to", "Enter a valid e-mail address.")]),
        ({"to": "", "subject": "x"}, [("to", "Enter a valid e-mail address.")]),
        ({"to": "ana@cliente.example", "subject": " "}, [("subject", "This field is required.")]),
        (
            {"to": "ana@cliente.example\nbcc@x.example", "subject": "x\ny"},
            [("subject", "Write the subject on one line."), ("to", "Enter a valid e-mail address.")],
        ),
    ],
)
def test_bad_input_on_the_api_is_422_and_queues_nothing(org, quote, api_client, smtp_server, body, errors):
    with committed():
        response = post_api(api_client, quote.pk, body)

    assert response.status_code == 422
    assert sorted((e["field"], e["message"]) for e in response.json()["errors"]) == errors
    assert outgoing_rows(org) == []
    assert smtp_server.received == []
    with scope(organization=org):
        assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DRAFT
        assert not Event.objects.filter(type="quote.sent").exists()


def test_an_unknown_field_is_422(quote, api_client):
    response = post_api(api_client, quote.pk, {"to": "ana@cliente.example", "bcc": "x@y.example"})

    assert response.status_code == 422


def test_bad_input_on_the_page_is_422_and_keeps_what_was_typed(org, quote, client_in, smtp_server):
    with committed():
        response = client_in.post(
            page(org, "quote_email", quote.pk), {"to": "ana(at)cliente", "subject": "Mi asunto", "message": "x"}
        )

    assert response.status_code == 422
    assert response.context["form"].errors == {"to": ["Enter a valid e-mail address."]}
    html = response.content.decode()
    assert 'value="Mi asunto"' in html
    assert 'value="ana(at)cliente"' in html
    assert outgoing_rows(org) == []
    assert smtp_server.received == []


def test_a_suppressed_address_is_refused_with_the_reason_and_recorded(org, quote, api_client, smtp_server):
    suppression_add(organization=org, address="ana@cliente.example", reason="complaint")

    with committed():
        response = post_api(api_client, quote.pk, {"to": "Ana@Cliente.example", "subject": "x", "message": "y"})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "to", "message": "ana@cliente.example is on the suppression list (spam complaint): nothing was sent."}
    ]
    [row] = outgoing_rows(org)
    assert (row.state, row.suppressed_reason, row.to_address) == ("suppressed", "complaint", "ana@cliente.example")
    assert smtp_server.received == []
    with scope(organization=org):
        assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DRAFT
        assert not Event.objects.filter(type="quote.sent").exists()


def test_an_accepted_quote_cannot_be_emailed(actor, org, quote, api_client, client_in, smtp_server):
    with scope(organization=org):
        quote_accept(actor=actor, quote=quote)

    response = post_api(api_client, quote.pk, {"to": "ana@cliente.example", "subject": "x", "message": "y"})
    page_response = client_in.post(
        page(org, "quote_email", quote.pk), {"to": "ana@cliente.example", "subject": "x", "message": "y"}
    )

    assert response.status_code == 409
    assert response.json()["detail"] == "Only a draft or sent quote can be e-mailed; this quote is accepted."
    assert page_response.status_code == 302
    assert outgoing_rows(org) == []


def test_an_unknown_or_foreign_quote_is_404(org, quote, other_actor, api_client, client_in):
    from vinculo.accounts.testing import api_client_for

    foreign = api_client_for(other_actor)
    body = {"to": "ana@cliente.example", "subject": "x", "message": "y"}

    assert post_api(api_client, 987654, body).status_code == 404
    assert client_in.get(page(org, "quote_email", 987654)).status_code == 404
    assert post_api(foreign, quote.pk, body).status_code == 404
    assert outgoing_rows(org) == []


def test_a_read_only_member_or_token_cannot_email_a_quote(actor, org, quote, member):
    from vinculo.accounts.testing import api_client_for, login_client

    reader = member("read_only")
    body = {"to": "ana@cliente.example", "subject": "x", "message": "y"}

    assert login_client(reader).get(page(org, "quote_email", quote.pk)).status_code == 403
    assert login_client(reader).post(page(org, "quote_email", quote.pk), body).status_code == 403
    assert post_api(api_client_for(actor, "read"), quote.pk, body).status_code == 403
    assert outgoing_rows(org) == []
