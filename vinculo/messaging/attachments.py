"""E-mail attachments kept as files: which ones are kept, where they are stored, how they are served.

Both directions use these rules: the attachments of received mail (touchpoints reads mailboxes) and
of sent mail (`OutgoingAttachment`, e.g. a quote's PDF).

- Kept or not (`attachment_refusal`): a file larger than EMAIL_ATTACHMENT_MAX_BYTES, one past
  EMAIL_ATTACHMENTS_MAX_TOTAL_BYTES for its message, an executable (by its extension, its declared
  type or its first bytes: a Windows, Linux or macOS program), or a type outside
  EMAIL_ATTACHMENT_ALLOWED_TYPES when that list is set, is not kept; the message is, with a note
  saying which file was left out and why.
- Stored (`attachment_store`) through Django's default storage under a path made of the
  organisation and the message only (`attachments/<org>/<message key>/<n>`): never a name the
  sender chose, which stays in the database.
- Served (`attachment_response`) only as a download: `Content-Disposition: attachment` with a
  cleaned file name, `X-Content-Type-Options: nosniff`, a sandboxing Content-Security-Policy, and
  a content type that a browser would never render as a page or a script (HTML, SVG, XML and
  JavaScript go out as `application/octet-stream`). Who may download is the caller's check.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils.translation import gettext as _

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_TOTAL_BYTES = 25 * 1024 * 1024
MAX_FILENAME = 200
OCTET_STREAM = "application/octet-stream"
# what a browser could run or render as a document: never served with its own type
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/ecmascript",
        "text/vtt",
        "application/pdf+xml",
        "multipart/x-mixed-replace",
    }
)
# declared types of programs
_EXECUTABLE_TYPES = frozenset(
    {
        "application/x-msdownload",
        "application/x-dosexec",
        "application/x-msdos-program",
        "application/x-ms-installer",
        "application/x-msi",
        "application/x-executable",
        "application/x-sharedlib",
        "application/x-mach-binary",
        "application/vnd.microsoft.portable-executable",
        "application/java-archive",
        "application/x-java-archive",
        "application/x-sh",
        "application/x-shellscript",
        "application/hta",
        "application/x-ms-shortcut",
        "application/vnd.android.package-archive",
    }
)
# the first bytes of programs: Windows (MZ), Linux (ELF), macOS (Mach-O, universal)
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)
_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f"\\/<>:|?*;]+')


def max_bytes() -> int:
    return int(getattr(settings, "EMAIL_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_total_bytes() -> int:
    return int(getattr(settings, "EMAIL_ATTACHMENTS_MAX_TOTAL_BYTES", DEFAULT_MAX_TOTAL_BYTES))


def clean_content_type(value: str) -> str:
    """The type as stored: lower case, without parameters; `application/octet-stream` when it is
    not a well-formed type."""
    kind = (value or "").split(";", 1)[0].strip().lower()
    return kind if _TYPE.match(kind) else OCTET_STREAM


def clean_filename(value: str, *, fallback: str = "attachment") -> str:
    """A file name to show and to offer for download: the last part of any path the sender gave,
    in NFC, without control characters, quotes, slashes or characters file systems refuse, at most
    MAX_FILENAME characters (keeping the extension)."""
    name = unicodedata.normalize("NFC", value or "").replace("\\", "/")
    name = PurePosixPath(name).name if "/" in name else name
    name = _UNSAFE_NAME_CHARS.sub("_", name).strip(" .")
    if not name:
        return fallback
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = stem[: MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_FILENAME]
    return name


def extension_of(filename: str) -> str:
    _stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot else ""


def is_executable(filename: str, content_type: str, head: bytes) -> bool:
    """A program, by its extension, its declared type or its first bytes."""
    denied = {e.strip().lower().lstrip(".") for e in getattr(settings, "EMAIL_ATTACHMENT_DENIED_EXTENSIONS", [])}
    if extension_of(filename) in denied:
        return True
    if clean_content_type(content_type) in _EXECUTABLE_TYPES:
        return True
    return head.startswith(_EXECUTABLE_MAGIC)


def _type_allowed(content_type: str) -> bool:
    allowed = [p.strip().lower() for p in getattr(settings, "EMAIL_ATTACHMENT_ALLOWED_TYPES", []) if p.strip()]
    return not allowed or any(fnmatch.fnmatchcase(clean_content_type(content_type), p) for p in allowed)


def attachment_refusal(*, filename: str, content_type: str, content: bytes, kept_bytes: int = 0) -> str:
    """Why this file is not kept (a note for the people who read the message), or "" when it is.
    `kept_bytes`: what the message's earlier attachments already take."""
    if is_executable(filename, content_type, content[:8]):
        return _("not kept: programs are not stored")
    if not _type_allowed(content_type):
        return _("not kept: this type of file is not stored")
    if len(content) > max_bytes():
        return _("not kept: larger than %(mb)s MB") % {"mb": _megabytes(max_bytes())}
    if kept_bytes + len(content) > max_total_bytes():
        return _("not kept: the message's attachments pass %(mb)s MB") % {"mb": _megabytes(max_total_bytes())}
    return ""


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def message_key(message_id: str) -> str:
    """A folder name for one message's files, from its Message-ID (the same message, stored again
    after a failed attempt, writes to the same place)."""
    return hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def attachment_path(*, organization_id: int | None, area: str, key: str, index: int) -> str:
    """Where one file goes: by organisation (`install` for install-level mail), area (`email`
    received, `outgoing` sent), message and position; nothing the sender chose."""
    owner = str(organization_id) if organization_id is not None else "install"
    return f"attachments/{owner}/{area}/{key}/{index}"


def attachment_store(path: str, content: bytes) -> str:
    """Write the file at exactly `path` (replacing what a failed earlier attempt left there);
    returns the stored name."""
    if default_storage.exists(path):
        default_storage.delete(path)
    return default_storage.save(path, ContentFile(content))


def attachments_delete(names: Iterable[str]) -> None:
    """Remove files written by a store that was then rolled back (best effort)."""
    for name in names:
        with contextlib.suppress(OSError):
            default_storage.delete(name)


def download_content_type(content_type: str) -> str:
    """The type a download is served with: its own, unless a browser could render or run it."""
    kind = clean_content_type(content_type)
    if kind in _ACTIVE_TYPES or kind.endswith(("+xml", "/xml")) or "javascript" in kind or "html" in kind:
        return OCTET_STREAM
    return kind


@dataclass(frozen=True)
class Download:
    """A file to hand to the browser: its stored bytes, or an open file."""

    filename: str
    content_type: str
    stream: IO[bytes]


def attachment_response(download: Download) -> FileResponse:
    """The download: always as an attachment, never rendered by the browser."""
    response = FileResponse(
        download.stream,
        as_attachment=True,
        filename=clean_filename(download.filename),
        content_type=download_content_type(download.content_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
