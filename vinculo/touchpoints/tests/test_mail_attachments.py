"""Attachments of e-mail are kept: a message read from a real IMAP server (dovecot) with a PDF, an
inline image, an HTML file and a Windows program keeps the files (under the organisation) and
leaves the program out with a note; they are listed on the thread and the timeline entry, and
downloaded only as attachments (nosniff, never HTML inline) by members who may see the contact;
anyone else, and another organisation, gets 404. A quote's PDF sent by e-mail is kept the same way."""

from __future__ import annotations

import email.policy
from decimal import Decimal
from email.message import EmailMessage as MimeMessage

import pytest
from django.test import TestCase
from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import api_client_for, login_client
from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.sales.services.documents import quote_create
from vinculo.sales.services.quote_email import quote_email
from vinculo.sales.testing import make_product
from vinculo.touchpoints.models import EmailAttachment, EmailMessage
from vinculo.touchpoints.services.mail_in import mailbox_fetch, parse_email
from vinculo.touchpoints.testing.mail import connect_mailbox

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(40)
HTML_FILE = b"<html><body><script>alert(document.cookie)</script>Factura</body></html>"
SVG_FILE = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'


def raw_mail(message_id="<adjuntos@cliente.example>", sender="Lucía Pérez <lucia@cliente.example>"):
    message = MimeMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = "ana@example.com"
    message["Subject"] = "Factura y fotos"
    message["Date"] = "Mon, 23 Nov 2026 10:00:00 +0100"
    message["Message-ID"] = message_id
    message.set_content("Adjunto la factura.\n")
    message.add_alternative('<p>Adjunto la factura.<img src="cid:logo@cliente.example"></p>', subtype="html")
    html_part = message.get_payload()[1]
    html_part.add_related(PNG, maintype="image", subtype="png", cid="<logo@cliente.example>")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="Factura 42.pdf")
    message.add_attachment(EXE, maintype="application", subtype="octet-stream", filename="factura.pdf.exe")
    message.add_attachment(HTML_FILE, maintype="text", subtype="html", filename="factura.html")
    message.add_attachment(SVG_FILE, maintype="image", subtype="svg+xml", filename="../../etc/sello.svg")
    return message.as_bytes()


@pytest.fixture
def lucia(actor):
    with scope(organization=actor.organization):
        return contact_create(
            actor=actor, data={"first_name": "Lucía", "emails": ["lucia@cliente.example"], "owner": actor.user.pk}
        )


@pytest.fixture
def received(actor, lucia, imap_server):
    """The message fetched from dovecot: its stored row and its attachments by file name."""
    mailbox = connect_mailbox(actor, imap_server)
    imap_server.deliver(raw_mail())
    assert mailbox_fetch(mailbox_id=mailbox.pk).stored == 1
    message = EmailMessage.dangerously_unscoped.get()
    files = {a.filename: a for a in EmailAttachment.dangerously_unscoped.filter(message=message)}
    return message, files


def download_url(org, attachment):
    return reverse("touchpoints:email_attachment_download", args=[org.slug, attachment.pk])


def body_of(response):
    return b"".join(response.streaming_content)


def test_the_files_of_a_received_email_are_kept_and_a_program_is_left_out_with_a_note(actor, org, lucia, received):
    message, files = received

    assert [(a.filename, a.content_type, a.size, a.content_id, a.kept, a.skipped_reason) for a in files.values()] == [
        ("image-1.png", "image/png", len(PNG), "logo@cliente.example", True, ""),
        ("Factura 42.pdf", "application/pdf", len(PDF), "", True, ""),
        ("factura.pdf.exe", "application/octet-stream", len(EXE), "", False, "not kept: programs are not stored"),
        ("factura.html", "text/html", len(HTML_FILE), "", True, ""),
        ("sello.svg", "image/svg+xml", len(SVG_FILE), "", True, ""),
    ]
    pdf = files["Factura 42.pdf"]
    assert pdf.file.name == f"attachments/{org.pk}/email/{message.pk}/2"  # by organisation and message only
    with pdf.file.open("rb") as stored:
        assert stored.read() == PDF
    assert message.text_body == "Adjunto la factura.\n"
    assert message.html_body == "<p>Adjunto la factura.</p>\n"  # sanitised as before: no images
    event = Event.dangerously_unscoped.get(type="email.received")
    assert event.properties["attachments"] == [
        {
            "source": "email",
            "id": files["image-1.png"].pk,
            "name": "image-1.png",
            "type": "image/png",
            "size": len(PNG),
        },
        {
            "source": "email",
            "id": pdf.pk,
            "name": "Factura 42.pdf",
            "type": "application/pdf",
            "size": len(PDF),
        },
        {
            "source": "email",
            "id": files["factura.pdf.exe"].pk,
            "name": "factura.pdf.exe",
            "type": "application/octet-stream",
            "size": len(EXE),
            "note": "not kept: programs are not stored",
        },
        {
            "source": "email",
            "id": files["factura.html"].pk,
            "name": "factura.html",
            "type": "text/html",
            "size": len(HTML_FILE),
        },
        {
            "source": "email",
            "id": files["sello.svg"].pk,
            "name": "sello.svg",
            "type": "image/svg+xml",
            "size": len(SVG_FILE),
        },
    ]


def test_the_thread_and_the_timeline_list_the_files_with_their_links(actor, org, lucia, received, client_in):
    message, files = received

    thread = client_in.get(reverse("touchpoints:email_thread_detail", args=[org.slug, message.thread_id]))
    contact = client_in.get(reverse("contacts:contact_detail", args=[org.slug, lucia.pk]))

    for page in (thread.content.decode(), contact.content.decode()):
        assert f'href="{download_url(org, files["Factura 42.pdf"])}" download>Factura 42.pdf</a>' in page
        assert f"application/pdf · {len(PDF)}\xa0bytes" in page
        assert download_url(org, files["factura.pdf.exe"]) not in page
        assert "<span>factura.pdf.exe</span>" in page
        assert "not kept: programs are not stored" in page


def test_a_member_who_may_see_the_contact_downloads_the_file_as_an_attachment(actor, org, received, client_in):
    _message, files = received

    response = client_in.get(download_url(org, files["Factura 42.pdf"]))

    assert response.status_code == 200
    assert body_of(response) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Factura 42.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize(("name", "content"), [("factura.html", HTML_FILE), ("sello.svg", SVG_FILE)])
def test_html_and_svg_files_are_never_served_as_what_a_browser_renders(org, received, client_in, name, content):
    _message, files = received

    response = client_in.get(download_url(org, files[name]))

    assert response.status_code == 200
    assert body_of(response) == content
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_api_lists_the_files_and_downloads_them(actor, org, received, api_client):
    message, files = received

    detail = api_client.get(f"/api/v1/email-messages/{message.pk}").json()
    download = api_client.get(f"/api/v1/email-attachments/{files['Factura 42.pdf'].pk}")
    not_kept = api_client.get(f"/api/v1/email-attachments/{files['factura.pdf.exe'].pk}")

    assert [(a["filename"], a["kept"], a["download_url"]) for a in detail["attachments"]] == [
        ("image-1.png", True, f"/api/v1/email-attachments/{files['image-1.png'].pk}"),
        ("Factura 42.pdf", True, f"/api/v1/email-attachments/{files['Factura 42.pdf'].pk}"),
        ("factura.pdf.exe", False, None),
        ("factura.html", True, f"/api/v1/email-attachments/{files['factura.html'].pk}"),
        ("sello.svg", True, f"/api/v1/email-attachments/{files['sello.svg'].pk}"),
    ]
    assert detail["attachments"][2]["skipped_reason"] == "not kept: programs are not stored"
    assert download.status_code == 200
    assert body_of(download) == PDF
    assert download["Content-Disposition"] == 'attachment; filename="Factura 42.pdf"'
    assert not_kept.status_code == 404
    thread = api_client.get(f"/api/v1/email-threads/{message.thread_id}").json()
    assert [a["filename"] for a in thread["messages"][0]["attachments"]][:2] == ["image-1.png", "Factura 42.pdf"]


def test_a_member_who_may_not_see_the_contact_gets_404(org, member, received):
    _message, files = received
    rep = member(Role.SALES)  # sees their own contacts, their team's and unassigned ones: not Lucía

    pdf = files["Factura 42.pdf"]
    assert login_client(rep).get(download_url(org, pdf)).status_code == 404
    assert login_client(rep).get(f"/api/v1/email-attachments/{pdf.pk}").status_code == 404  # API by session


def test_another_organisations_file_is_404(org, other_actor, received):
    _message, files = received
    pdf = files["Factura 42.pdf"]
    other_org = other_actor.organization

    stranger = login_client(other_actor)
    assert (
        stranger.get(reverse("touchpoints:email_attachment_download", args=[other_org.slug, pdf.pk])).status_code == 404
    )
    assert stranger.get(download_url(org, pdf)).status_code == 404  # not a member there
    assert api_client_for(other_actor).get(f"/api/v1/email-attachments/{pdf.pk}").status_code == 404


def test_files_past_the_size_limits_are_left_out_with_a_note(actor, lucia, imap_server, settings):
    settings.EMAIL_ATTACHMENT_MAX_BYTES = 100
    settings.EMAIL_ATTACHMENTS_MAX_TOTAL_BYTES = 120
    mailbox = connect_mailbox(actor, imap_server)
    imap_server.deliver(raw_mail())

    mailbox_fetch(mailbox_id=mailbox.pk)

    notes = list(EmailAttachment.dangerously_unscoped.order_by("id").values_list("filename", "skipped_reason"))
    assert notes == [
        ("image-1.png", ""),  # 48 bytes
        ("Factura 42.pdf", ""),  # 48 bytes: 96 in all
        ("factura.pdf.exe", "not kept: programs are not stored"),
        ("factura.html", "not kept: the message's attachments pass 0.0 MB"),
        ("sello.svg", "not kept: the message's attachments pass 0.0 MB"),
    ]


def test_the_parser_takes_a_forwarded_message_as_one_file_and_cleans_names():
    inner = MimeMessage(policy=email.policy.SMTP)
    inner["From"] = "x@example.com"
    inner["Subject"] = "Reenviado"
    inner.set_content("dentro")
    outer = MimeMessage(policy=email.policy.SMTP)
    outer["From"] = "lucia@cliente.example"
    outer["Message-ID"] = "<fwd@cliente.example>"
    outer.set_content("mira esto")
    outer.add_attachment(inner)
    outer.add_attachment(b"data", maintype="application", subtype="octet-stream", filename='a"b\\c|.bin')

    parsed = parse_email(outer.as_bytes())

    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("attachment-1.eml", "message/rfc822"),
        ("c_.bin", "application/octet-stream"),
    ]
    assert b"Subject: Reenviado" in parsed.attachments[0].content
    assert parsed.text_body.strip() == "mira esto"


# --- a quote's PDF sent by e-mail ---------------------------------------------------------------


def test_a_quotes_pdf_is_kept_and_downloaded_from_the_timeline(actor, org, member, other_actor, smtp_server, client_in):
    widget = make_product(org, "Widget", price="100.00", tax_rate=Decimal("21"))
    with scope(organization=org):
        ana = contact_create(
            actor=actor, data={"first_name": "Ana", "emails": ["ana@cliente.example"], "owner": actor.user.pk}
        )
        quote = quote_create(actor=actor, data={"contact": ana.pk, "lines": [{"product": widget.pk, "quantity": "1"}]})
    with TestCase.captureOnCommitCallbacks(execute=True), scope(organization=org):
        emailed = quote_email(actor=actor, quote=quote, to=ana.email, subject="Presupuesto", message="Hola")
    with scope(organization=org):
        [stored] = emailed.message.attachments.all()
    url = reverse("messaging:outgoing_attachment_download", args=[org.slug, stored.pk])

    timeline = client_in.get(reverse("contacts:contact_detail", args=[org.slug, ana.pk])).content.decode()
    response = client_in.get(url)

    assert f'href="{url}" download>{stored.filename}</a>' in timeline
    assert response.status_code == 200
    assert body_of(response) == stored.read() == smtp_server.received[0].message.get_payload()[1].get_content()
    assert response["Content-Disposition"] == f'attachment; filename="{stored.filename}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert login_client(member(Role.SALES)).get(url).status_code == 404
    other_slug = other_actor.organization.slug
    stranger = login_client(other_actor)
    assert (
        stranger.get(reverse("messaging:outgoing_attachment_download", args=[other_slug, stored.pk])).status_code == 404
    )


def test_a_file_missing_from_storage_is_404_not_an_error(org, received, client_in, api_client):
    _message, files = received
    pdf = files["Factura 42.pdf"]
    pdf.file.storage.delete(pdf.file.name)  # e.g. a database restored without its files

    assert client_in.get(download_url(org, pdf)).status_code == 404
    assert api_client.get(f"/api/v1/email-attachments/{pdf.pk}").status_code == 404
