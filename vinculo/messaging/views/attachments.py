"""Downloading a file sent with a message (a quote's PDF), listed on the contact's timeline.

Only for members who may see the message's contact; anything else (another organisation's file, a
contact they may not see, install-level mail) answers 404. Always as a download, never rendered
(vinculo/messaging/attachments.py). Nothing here is refused by role (a 403 page): what a member
may not see is not found."""

from __future__ import annotations

import io

from django.http import FileResponse, Http404
from django.urls import reverse
from django.views.decorators.http import require_GET

from vinculo.accounts.http import OrgRequest
from vinculo.contacts.timeline_files import register_file_source
from vinculo.messaging.attachments import Download, attachment_response
from vinculo.messaging.outgoing_selectors import outgoing_attachment_get


@require_GET
def outgoing_attachment_download_view(request: OrgRequest, org_slug: str, pk: int) -> FileResponse:
    attachment = outgoing_attachment_get(actor=request.membership, pk=pk)
    try:
        stream = attachment.file.open("rb") if attachment.file else io.BytesIO(bytes(attachment.content))
    except OSError as exc:  # missing from storage
        raise Http404 from exc
    download = Download(filename=attachment.filename, content_type=attachment.mimetype, stream=stream)
    return attachment_response(download)


def outgoing_attachment_url(org_slug: str, pk: int) -> str:
    return reverse("messaging:outgoing_attachment_download", args=[org_slug, pk])


def register() -> None:
    """Timeline entries link the files sent with a message (MessagingConfig.ready())."""
    register_file_source("outgoing", outgoing_attachment_url)
