"""Template helpers of the contact and company pages: badges, timeline icons and labels, audit values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _
from django_countries.fields import Country

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import MANAGE_ALL_ROLES, can_write
from vinculo.contacts import list_cells
from vinculo.contacts.models import Company, CompanySize, Contact, LifecycleStage, Note, SourceChannel
from vinculo.contacts.timeline_files import TimelineFile, timeline_files
from vinculo.core import event_types
from vinculo.core.event_story import EventStory, Viewer, event_stories, time_html
from vinculo.core.formatting import format_number
from vinculo.core.models import Event
from vinculo.core.pagination import Page

register = template.Library()

RELATION_LABELS: dict[str, Any] = {
    "emails": _("e-mail addresses"),
    "phones": _("phones"),
    "tags": _("tags"),
    "body": _("note"),
    "color": _("colour"),
}
TIMELINE_KIND_LABELS: dict[str, Any] = {
    "note": _("Notes"),
    "email": _("E-mail"),
    "web": _("Website"),
    "sales": _("Sales"),
    "service": _("Service"),
    "record": _("Record changes"),
}


@register.filter
def stage_class(stage: str) -> str:
    return list_cells.stage_class(stage)


@register.filter
def stage_label(stage: str) -> str:
    return str(dict(LifecycleStage.choices).get(stage, stage))


@register.filter
def source_label(source: str) -> str:
    return str(dict(SourceChannel.choices).get(source, source))


@register.filter
def tag_color(color: str) -> str:
    return list_cells.tag_color(color)


@register.filter
def tag_text_class(color: str) -> str:
    return list_cells.tag_text_class(color)


@register.simple_tag(takes_context=True)
def contact_cells(context: template.Context, contact: Contact) -> str:
    """The row's cells of the chosen columns (list_cells)."""
    return list_cells.contact_cells(contact, _row(context))


@register.simple_tag(takes_context=True)
def company_cells(context: template.Context, company: Company) -> str:
    return list_cells.company_cells(company, _row(context))


def _row(context: template.Context) -> list_cells.Row:
    """What the page's rows share, made once per page: the context lives for one rendering."""
    row: list_cells.Row | None = getattr(context, "list_row", None)
    if row is None:
        row = list_cells.Row.from_context(context)
        context.list_row = row  # type: ignore[attr-defined]
    return row


@register.filter
def field_label(name: str) -> str:
    """The translated name of a contact or company field, as stored in audit entries and events."""
    if name in RELATION_LABELS:
        return str(RELATION_LABELS[name])
    for model in (Contact, Company):
        try:
            return str(getattr(model._meta.get_field(name), "verbose_name", name))
        except FieldDoesNotExist:
            continue
    return name.replace("_", " ")


@register.filter
def audit_value(value: Any) -> str:
    """A before/after value, readable: lists joined, objects as name = value, empty as a dash."""
    if value is None or value in ("", [], {}):
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list | tuple):
        return ", ".join(audit_value(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k} = {audit_value(v)}" for k, v in value.items())
    return str(value)


CHOICE_LABELS: dict[str, Any] = {
    "lifecycle_stage": LifecycleStage,
    "source": SourceChannel,
    "size": CompanySize,
}


@register.filter
def field_value(value: Any, field: str) -> str:
    """A before/after value of `field`, with choices, countries and languages by their names."""
    if isinstance(value, str) and value:
        if field in CHOICE_LABELS:
            return str(dict(CHOICE_LABELS[field].choices).get(value, value))
        if field == "country":
            return str(Country(value).name or value)
        if field == "language":
            return language_name(value)
    return audit_value(value)


@register.filter
def sorted_items(value: Any) -> list[tuple[str, Any]]:
    """The pairs of a dict (safe when a key is called "items", unlike `.items` in a template)."""
    if not isinstance(value, Mapping):
        return []
    return sorted(value.items(), key=lambda kv: str(kv[0]))


@register.filter
def files_of(event: Event, org_slug: str) -> list[TimelineFile]:
    """The files an event lists (`attachments`), with their download links."""
    properties = event.properties if isinstance(event.properties, Mapping) else {}
    return timeline_files(properties.get("attachments"), org_slug)


@register.filter
def event_icon(event_type: str) -> str:
    """The Bootstrap icon of a type, from the event-type catalogue."""
    return event_types.event_icon(event_type)


@register.filter
def event_label(event_type: str) -> str:
    """The label of a type from the catalogue ("On the website: added to cart" for a site's own
    events); an undeclared type reads as its raw name."""
    return event_types.event_label(event_type)


@register.simple_tag(takes_context=True)
def event_story(context: template.Context, event: Event) -> EventStory:
    """The story of an event: the one the view prepared for the whole page (`attach_stories`, one
    query per kind of record named), else this event's own, resolved for the reader."""
    story = getattr(event, "story", None)
    if isinstance(story, EventStory):
        return story
    request = context.get("request")
    membership = getattr(request, "membership", None)
    org = getattr(request, "org", None)
    viewer = (
        Viewer(membership, org.pk, org.slug, country=str(org.country or ""))
        if membership is not None and org is not None
        else None
    )
    return event_stories([event], viewer)[0]


@register.simple_tag
def event_time(moment: Any) -> str:
    """When it happened, in the reader's time zone and language, the exact instant in `datetime`."""
    return time_html(moment) if moment else ""


@register.filter
def is_known_event(event_type: str) -> bool:
    return event_types.is_known(event_type)


@register.filter
def timeline_kind_label(kind: str) -> str:
    return str(TIMELINE_KIND_LABELS.get(kind, kind))


@register.filter
def language_name(code: str) -> str:
    if not code:
        return ""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


@register.filter
def can_edit_note(note: Note, membership: Membership | None) -> bool:
    """Mirrors the note services: a writer who wrote it, or a manager."""
    if membership is None or not can_write(membership):
        return False
    return note.author_id == membership.user_id or membership.role in MANAGE_ALL_ROLES


@register.filter
def dict_get(mapping: Any, key: str) -> Any:
    return mapping.get(key, "") if isinstance(mapping, Mapping) else ""


@register.filter
def page_total(page: Page) -> str:
    """The number of rows, localised; "10,000+" when the count stopped at its cap."""
    return f"{format_number(page.total)}+" if page.total_capped else format_number(page.total)
