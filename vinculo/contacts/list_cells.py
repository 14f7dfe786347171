"""The cells of the contact and company lists for the columns a member chose, written in Python.

A list page has 50 rows of up to a dozen columns: as template code each cell walked an if/elif
chain over every column name and included the inline-edit button twice, which made most of the
page's time at a million contacts. Here a cell is one function looked up by its column's name.
The HTML is the one the templates wrote: the inline-edit button (htmx) of vinculo.js, the tag
badges painted by data-tag-color, dates in the member's time zone and locale."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from vinculo.contacts.models import Company, CompanySize, Contact, LifecycleStage, SourceChannel, Tag
from vinculo.core.formatting import format_phone

_LABELS: dict[str, Callable[[], dict[str, Any]]] = {
    "stage": lambda: dict(LifecycleStage.choices),
    "source": lambda: dict(SourceChannel.choices),
    "size": lambda: dict(CompanySize.choices),
}


@dataclass(frozen=True)
class Row:
    """What every row of one page shares."""

    org_slug: str
    country: str  # the organisation's: phones of that country are shown in national format
    can_write: bool
    columns: tuple[str, ...]
    columns_param: str
    _labels: dict[tuple[str, str | None], dict[str, str]] = field(default_factory=dict, compare=False)

    def label(self, choices: str, value: str) -> str:
        """A choice's label in the member's language, translated once per page, not once per row."""
        labels = _LABELS.get(choices)
        if labels is None:
            return value
        translated = self._labels.get((choices, get_language()))
        if translated is None:
            translated = {key: str(label) for key, label in labels().items()}
            self._labels[(choices, get_language())] = translated
        return translated.get(value, value)

    @classmethod
    def from_context(cls, context: Any) -> Row:
        """From a template context (a Context, or a dict)."""
        return cls(
            org_slug=context["org"].slug,
            country=str(context["org"].country or ""),
            can_write=bool(context.get("can_write")),
            columns=tuple(context.get("columns") or ()),
            columns_param=context.get("columns_param", ""),
        )


def _inline(row: Row, inline_url: str, field: str, content: SafeString | str) -> SafeString:
    """The cell's value as a button that swaps in its inline editor, for members who may write."""
    if not row.can_write:
        return format_html("{}", content)
    return format_html(
        '<button type="button" class="btn btn-link p-0 text-reset text-decoration-none text-start inline-edit" '
        'hx-get="{}?field={}&amp;columns={}" hx-target="closest td" data-inline-field="{}">'
        '<span class="visually-hidden">{}: </span>{}<i class="bi bi-pencil inline-edit-mark" aria-hidden="true"></i>'
        "</button>",
        inline_url,
        field,
        row.columns_param,
        field,
        _("Change"),
        content,
    )


def _tags(tags: list[Tag]) -> SafeString:
    return format_html_join(
        "",
        '<span class="badge tag-badge {}" data-tag-color="{}">{}</span> ',
        ((tag_text_class(tag.color), tag_color(tag.color), tag.name) for tag in tags),
    )


def _time(value: datetime | None, td_class: str, *, title: bool = True) -> SafeString:
    if value is None:
        return format_html('<td class="{}"></td>', td_class)
    local = timezone.localtime(value)
    shown = formats.date_format(local, "SHORT_DATE_FORMAT")
    if not title:
        return format_html(
            '<td class="{}"><time datetime="{}">{}</time></td>', td_class, dateformat.format(local, "c"), shown
        )
    return format_html(
        '<td class="{}"><time datetime="{}" title="{}">{}</time></td>',
        td_class,
        dateformat.format(local, "c"),
        formats.date_format(local, "DATETIME_FORMAT"),
        shown,
    )


def _td(td_class: str, content: Any) -> SafeString:
    if not td_class:
        return format_html("<td>{}</td>", content)
    return format_html('<td class="{}">{}</td>', td_class, content)


def _owner(record: Contact | Company) -> str:
    return str(record.owner) if record.owner_id else ""  # type: ignore[union-attr]


Cell = Callable[[Any, Row, str], SafeString]

CONTACT_CELLS: dict[str, Cell] = {
    "email": lambda c, row, url: _td(
        "hide-sm text-truncate",
        format_html('<a class="link-secondary text-decoration-none" href="mailto:{}">{}</a>', c.email, c.email)
        if c.email
        else "",
    ),
    "phone": lambda c, row, url: _td("hide-sm text-nowrap", format_phone(c.phone, region=row.country)),
    "company": lambda c, row, url: _td(
        "hide-md",
        format_html(
            '<a class="link-body-emphasis text-decoration-none" href="{}">{}</a>',
            reverse("contacts:company_detail", args=[row.org_slug, c.company_id]),
            c.company,
        )
        if c.company_id
        else "",
    ),
    "job_title": lambda c, row, url: _td("hide-md", c.job_title),
    "stage": lambda c, row, url: _td(
        "",
        _inline(
            row,
            url,
            "stage",
            format_html(
                '<span class="badge rounded-pill {}">{}</span>',
                stage_class(c.lifecycle_stage),
                row.label("stage", c.lifecycle_stage),
            ),
        ),
    ),
    "source": lambda c, row, url: _td("hide-md", row.label("source", c.source)),
    "owner": lambda c, row, url: _td("hide-sm", _inline(row, url, "owner", _owner(c))),
    "tags": lambda c, row, url: _td("hide-md", _inline(row, url, "tags", _tags(list(c.tags.all())))),
    "country": lambda c, row, url: _td("hide-md", c.country.name),
    "city": lambda c, row, url: _td("hide-md", c.city),
    "last_activity": lambda c, row, url: _time(c.last_activity_at, "hide-md text-end text-nowrap small", title=False),
    "created": lambda c, row, url: _time(c.created_at, "hide-sm text-end text-nowrap small"),
    "updated": lambda c, row, url: _time(c.updated_at, "hide-md text-end text-nowrap small"),
}

COMPANY_CELLS: dict[str, Cell] = {
    "domain": lambda c, row, url: _td("hide-sm", c.domain),
    "industry": lambda c, row, url: _td("hide-sm", c.industry),
    "size": lambda c, row, url: _td("hide-md", row.label("size", c.size)),
    "country": lambda c, row, url: _td("hide-md", c.country.name if c.country else ""),
    "city": lambda c, row, url: _td("hide-md", c.city),
    "owner": lambda c, row, url: _td("hide-sm", _inline(row, url, "owner", _owner(c))),
    "tags": lambda c, row, url: _td("hide-md", _inline(row, url, "tags", _tags(list(c.tags.all())))),
    "created": lambda c, row, url: _time(c.created_at, "hide-sm text-end text-nowrap small"),
    "updated": lambda c, row, url: _time(c.updated_at, "hide-md text-end text-nowrap small"),
}


def _cells(cells: dict[str, Cell], record: Any, row: Row, inline_name: str) -> SafeString:
    url = reverse(inline_name, args=[row.org_slug, record.pk]) if row.can_write else ""
    return mark_safe("".join(cells[column](record, row, url) for column in row.columns if column in cells))  # noqa: S308 - joined SafeStrings


def contact_cells(contact: Contact, row: Row) -> SafeString:
    return _cells(CONTACT_CELLS, contact, row, "contacts:contact_inline")


def company_cells(company: Company, row: Row) -> SafeString:
    return _cells(COMPANY_CELLS, company, row, "contacts:company_inline")


STAGE_CLASSES = {
    LifecycleStage.LEAD: "text-bg-secondary",
    LifecycleStage.PROSPECT: "text-bg-info",
    LifecycleStage.CUSTOMER: "text-bg-success",
    LifecycleStage.CHURNED: "text-bg-danger",
}


def stage_class(stage: str) -> str:
    return STAGE_CLASSES.get(stage, "text-bg-secondary")  # type: ignore[call-overload]


def tag_color(color: str) -> str:
    """The colour a tag badge is painted with (data-tag-color, read by vinculo.js): only #rrggbb gets through."""
    return color if isinstance(color, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", color) else "#6c757d"


def tag_text_class(color: str) -> str:
    """Dark text on light tag colours, white on dark ones (relative luminance)."""
    try:
        red, green, blue = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    except (ValueError, TypeError, IndexError):
        return "text-white"
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "text-dark" if luminance > 0.6 else "text-white"
