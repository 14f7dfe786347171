"""How an event reads for people: "Ana moved *Acme 50 seats* from Qualification to Won — 12,500.00 EUR".

Each type's `sentence` (vinculo.core.event_types) is filled with who did it, the records it names
and its values, formatted for the reader: money with its currency in the active language's number
format, times in the active time zone. The records a sentence names (`EventType.links`) are
resolved from their ids to their current titles and pages by *resolvers*, one per record kind,
that the apps owning the records register in their `record_links.py` (core knows no deals or
forms): a page of events costs one query per kind of record it names, whatever its length. A
record the reader may not see, or one that is gone, is named from the event's properties and not
linked; a record of another organisation is never found.

What the sentence does not say is folded away as details: readable label–value pairs, nested
values flattened, ids left out, times localised.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import dateformat, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst, get_text_list
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from vinculo.core.currencies import is_currency
from vinculo.core.event_types import PATTERN_NAME, EventType, catalogue, readable_name
from vinculo.core.formatting import as_decimal, format_money, format_number, format_phone

if TYPE_CHECKING:
    from django.apps import AppConfig

SYSTEM_NAME = "Vínculo"
# never shown as details: who made an automatic change (the sentence's actor) and the files
# (listed apart, with their download links)
HIDDEN_PROPERTIES = frozenset({"via", "attachments", "changes"})
ISO_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
MAX_DETAILS = 60  # a visitor's traits can be many; the timeline is no dump
# details that hold a phone number (a form's or a lead ad's fields, an order's address): shown as
# dialled from the organisation's country
PHONE_KEYS = frozenset({"phone", "phone_number", "mobile_phone", "work_phone_number"})

# How property names read as detail labels; a name not listed reads as its words ("Ad name").
PROPERTY_LABELS: Mapping[str, Any] = {
    "name": _("Name"),
    "source": _("Source"),
    "excerpt": _("Excerpt"),
    "campaign": _("Campaign"),
    "subject": _("Subject"),
    "url": _("Address"),
    "priority": _("Priority"),
    "survey": _("Survey"),
    "score": _("Score"),
    "subscription_type": _("Subscription type"),
    "version": _("Version"),
    "channel": _("Channel"),
    "status": _("Status"),
    "title": _("Title"),
    "amount": _("Amount"),
    "currency": _("Currency"),
    "pipeline": _("Pipeline"),
    "stage": _("Stage"),
    "owner": _("Owner"),
    "from_stage": _("From stage"),
    "to_stage": _("To stage"),
    "lost_reason": _("Lost reason"),
    "from": _("From"),
    "to": _("To"),
    "company": _("Company"),
    "company_created": _("Company created"),
    "deal": _("Deal"),
    "rule": _("Rule"),
    "reason": _("Reason"),
    "number": _("Number"),
    "total": _("Total"),
    "lines": _("Lines"),
    "refunded_total": _("Refunded in total"),
    "full": _("Full refund"),
    "kind": _("Kind"),
    "due_at": _("Due"),
    "assignee": _("Assignee"),
    "outcome": _("Outcome"),
    "path": _("Path"),
    "referrer": _("Referrer"),
    "utm_source": _("UTM source"),
    "utm_medium": _("UTM medium"),
    "utm_campaign": _("UTM campaign"),
    "utm_term": _("UTM term"),
    "utm_content": _("UTM content"),
    "properties": _("Properties"),
    "medium": _("Medium"),
    "landing_url": _("Landing page"),
    "identifier": _("Identifier"),
    "traits": _("Traits"),
    "created_contact": _("Contact created"),
    "new_contact": _("New contact"),
    "form": _("Form"),
    "page": _("Page"),
    "snippet": _("Excerpt"),
    "network": _("Network"),
    "ad_name": _("Ad"),
    "integration": _("Integration"),
    "consents": _("Consents"),
    "form_name": _("Form"),
    "adset_name": _("Ad set"),
    "platform": _("Platform"),
    "is_organic": _("Organic"),
    "test_lead": _("Test lead"),
    "email": _("E-mail"),
    "phone": _("Phone"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "text": _("Text"),
}


# --- the registries the apps fill -----------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who reads the timeline: their membership (the resolvers' visibility rules take it) and the
    organisation whose pages the links point at."""

    membership: Any  # accounts.Membership: core does not import the apps above it
    organization_id: int
    org_slug: str
    # records the page already shows (the contact or company whose timeline it is): no query for them
    known: Mapping[tuple[str, int], RecordLink] = field(default_factory=dict)
    # the organisation's country (ISO 3166-1 alpha-2, "" unknown): phone numbers read from there
    country: str = ""


@dataclass(frozen=True)
class RecordLink:
    """A record as a sentence names it: its title, and its page when the reader may open it. An
    empty title lets the event's own words name it (an e-mail's subject rather than its thread's)."""

    title: str
    url: str = ""


Resolver = Callable[[Viewer, set[int]], Mapping[int, RecordLink]]

_resolvers: dict[str, Resolver] = {}
_via_describers: list[Callable[[str], str]] = []
_field_labelers: list[Callable[[str], str]] = []
_value_labelers: dict[tuple[str, str], Callable[[str], str]] = {}


def register_resolver(kind: str, resolver: Resolver) -> None:
    """Name the records of `kind` ("deal", "stage", "form") for a page of events: `resolver(viewer,
    ids)` returns, in one query, those of `ids` in the viewer's organisation, linked to their page
    when the viewer may see it. Called from an app's `record_links.py`."""
    _resolvers[kind] = resolver


def register_via_describer(describe: Callable[[str], str]) -> None:
    """How a stored `via` ("web_form:Newsletter") reads as the one who did it (accounts knows)."""
    if describe not in _via_describers:
        _via_describers.append(describe)


def register_field_labeler(label: Callable[[str], str]) -> None:
    """How a changed field of a record update (`changes`) is named ("lifecycle stage")."""
    if label not in _field_labelers:
        _field_labelers.append(label)


def register_value_labeler(type_name: str, prop: str, label: Callable[[str], str]) -> None:
    """How a coded value of a type's property reads ("fulfilled" → "Fulfilled", "Enviado"): the
    app that owns the choices registers them."""
    _value_labelers[(type_name, prop)] = label


def _value_label(type_name: str, prop: str, value: str) -> str:
    label = _value_labelers.get((type_name, prop))
    return str(label(value)) if label is not None else value


def load_record_resolvers(app_configs: Iterable[AppConfig]) -> None:
    """Import each app's `record_links` module, which registers its resolvers. From CoreConfig.ready()."""
    for app_config in app_configs:
        module_name = f"{app_config.name}.record_links"
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise


# --- formatting ------------------------------------------------------------------------------------


def parse_datetime_value(value: Any) -> dt.datetime | None:
    """An ISO 8601 date and time from an event's properties, aware (UTC when it says no zone)."""
    if not isinstance(value, str) or not ISO_DATETIME_RE.match(value.strip()):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return timezone.localtime(parsed)
    except (OverflowError, ValueError):
        return None


def format_time(moment: dt.datetime) -> str:
    """9 Dec 2026, 16:00 / 9 dic 2026, 16:00, in the active time zone."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return dateformat.format(local, pgettext("date and time on the timeline", "j M Y, H:i"))


def time_html(moment: dt.datetime) -> SafeString:
    """A time for people, with the exact instant for machines and a tooltip."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', local.isoformat(), local.isoformat(), format_time(local)
    )


def key_label(key: str) -> str:
    label = PROPERTY_LABELS.get(key)
    if label is not None:
        return str(label)
    return capfirst(str(key).replace("_", " ").replace(".", " ").strip()) or str(key)


def _field_label(name: str) -> str:
    for labeler in _field_labelers:
        return labeler(name)
    return str(name).replace("_", " ")


def _yes_no(value: bool) -> str:
    return gettext("yes") if value else gettext("no")


# --- the story of an event ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Detail:
    label: str
    html: SafeString

    @property
    def text(self) -> str:
        return re.sub(r"<[^>]+>", "", str(self.html))


@dataclass
class EventStory:
    """An event for people: its sentence as HTML (with links) and as text ("" when the event
    lacks something the sentence needs), and the details the sentence leaves out."""

    html: SafeString
    text: str
    details: list[Detail]
    names_actor: bool = False  # the sentence says who did it (else the page says "by …" apart)


@dataclass(frozen=True)
class _Value:
    text: str
    html: SafeString


def _plain(text: str) -> _Value:
    return _Value(text, conditional_escape(text))


def _linked(record: RecordLink) -> _Value:
    if record.url:
        return _Value(record.title, format_html('<a href="{}">{}</a>', record.url, record.title))
    return _plain(record.title)


def _record_id(event: Any, properties: Mapping[str, Any], id_property: str) -> int | None:
    value = properties.get(id_property)
    if value is None and id_property in ("contact_id", "company_id"):
        value = getattr(event, id_property, None)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    return None


def _properties(event: Any) -> Mapping[str, Any]:
    return event.properties if isinstance(event.properties, Mapping) else {}


def _wanted_records(event: Any, found: EventType) -> Iterable[tuple[str, int]]:
    properties = _properties(event)
    for kind, id_property in found.links.values():
        record_id = _record_id(event, properties, id_property)
        if record_id is not None:
            yield kind, record_id
    if "contact" in found.placeholders() and getattr(event, "contact_id", None):
        yield "contact", event.contact_id


def _actor_value(event: Any) -> _Value:
    via = _properties(event).get("via")
    if isinstance(via, str) and via.strip() and _via_describers:
        return _plain(_via_describers[0](via.strip()))
    actor = event.actor if getattr(event, "actor_id", None) else None
    if actor is not None and not getattr(actor, "is_system", False):
        return _plain(str(actor))
    if getattr(event, "source", "") == "web":
        return _plain(gettext("the website"))
    return _plain(SYSTEM_NAME)


def _url_value(url: Any, title: Any) -> _Value | None:
    if not isinstance(url, str) or not url.strip():
        return None
    text = title.strip() if isinstance(title, str) and title.strip() else url.strip()
    if re.match(r"^https?://", url.strip(), re.I):
        return _Value(text, format_html('<a href="{}" rel="noopener noreferrer nofollow">{}</a>', url.strip(), text))
    return _plain(text)


def _scalar(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text or None


def _property_value(
    event: Any, found: EventType, name: str, properties: Mapping[str, Any], used: set[str]
) -> _Value | None:
    """A property as the sentence shows it, formatted by its declared type."""
    value = properties.get(name)
    prop_type = found.properties.get(name, "string")
    currency = properties.get("currency")
    if prop_type == "decimal" and isinstance(currency, str) and is_currency(currency):
        money = format_money(value, currency)
        if money:
            used.add("currency")
            return _plain(money)
        return None
    if prop_type in ("decimal", "integer") and as_decimal(value) is not None:
        return _plain(format_number(value))
    if prop_type == "datetime":
        moment = parse_datetime_value(value)
        return _Value(format_time(moment), time_html(moment)) if moment is not None else None
    if prop_type == "url":
        title = properties.get("title") if name == "url" else None
        if title is not None:
            used.add("title")
        return _url_value(value, title)
    if prop_type == "object" and name == "changes":
        if not isinstance(value, Mapping) or not value:
            return None
        return _plain(get_text_list([_field_label(str(k)) for k in sorted(value)], gettext("and")))
    text = _scalar(value)
    return _plain(_value_label(event.type, name, text)) if text is not None else None


def _sentence(
    event: Any, found: EventType, records: Mapping[tuple[str, int], RecordLink], used: set[str]
) -> tuple[SafeString, str]:
    template = str(found.sentence)
    if not template:
        return SafeString(""), ""
    properties = _properties(event)
    values: dict[str, _Value] = {}
    for name in found.placeholders():
        value: _Value | None
        if name == "actor":
            value = _actor_value(event)
            if template.startswith("%(actor)s"):
                value = _Value(capfirst(value.text), conditional_escape(capfirst(value.text)))
        elif name == "contact":
            value = _contact_value(event, records)
        elif name == PATTERN_NAME and found.is_pattern:
            value = _plain(readable_name(found, event.type))
        elif name in found.links:
            kind, id_property = found.links[name]
            record_id = _record_id(event, properties, id_property)
            record = records.get((kind, record_id)) if record_id is not None else None
            fallback = _scalar(properties.get(name))
            if record is not None and not record.title:  # a page to open, named by the event's own words
                record = RecordLink(fallback, record.url) if fallback else None
            value = _linked(record) if record is not None else _plain(fallback) if fallback else None
        else:
            value = _property_value(event, found, name, properties, used)
        if value is None:
            return SafeString(""), ""
        values[name] = value
        used.add(name)
    html = mark_safe(conditional_escape(template) % {k: v.html for k, v in values.items()})  # noqa: S308
    return html, template % {k: v.text for k, v in values.items()}


def _contact_value(event: Any, records: Mapping[tuple[str, int], RecordLink]) -> _Value | None:
    contact_id = getattr(event, "contact_id", None)
    if not contact_id:
        return None
    record = records.get(("contact", contact_id))
    if record is not None:
        return _linked(record)
    return _plain(str(event.contact))


def _flatten(
    label: str, value: Any, prop_type: str, currency: str | None, out: list[Detail], coded: str, region: str = ""
) -> None:
    """`coded`: "type:property" of a top-level value whose codes have labels, else ""; `region`: the
    country phone numbers are dialled from."""
    if len(out) >= MAX_DETAILS or value is None or value == "" or value == [] or value == {}:
        return
    if isinstance(value, Mapping):
        for key, inner in sorted(value.items(), key=lambda kv: str(kv[0])):
            if _is_id_key(str(key)):
                continue
            inner_type = "phone" if str(key) in PHONE_KEYS else ""
            _flatten(f"{label} › {key_label(str(key))}", inner, inner_type, None, out, "", region)
        return
    if isinstance(value, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in value):
            texts = [_detail_html(item, "", None) for item in value if item is not None and item != ""]
            if texts:
                out.append(Detail(label, mark_safe(", ".join(str(t) for t in texts))))  # noqa: S308
            return
        for position, item in enumerate(value, start=1):
            _flatten(f"{label} {position}", item, "", None, out, "", region)
        return
    if coded and isinstance(value, str):
        type_name, _sep, prop = coded.partition(":")
        value = _value_label(type_name, prop, value)
    out.append(Detail(label, _detail_html(value, prop_type, currency, region)))


def _detail_html(value: Any, prop_type: str, currency: str | None, region: str = "") -> SafeString:
    if isinstance(value, bool):
        return conditional_escape(_yes_no(value))
    if prop_type == "phone" and isinstance(value, str):
        return conditional_escape(format_phone(value, region=region))
    if prop_type == "decimal" and currency:
        money = format_money(value, currency)
        if money:
            return conditional_escape(money)
    numeric = isinstance(value, int | float | Decimal) or prop_type in ("decimal", "integer")
    if numeric and as_decimal(value) is not None:
        return conditional_escape(format_number(value))
    moment = parse_datetime_value(value)
    if moment is not None:
        return time_html(moment)
    return conditional_escape(str(value))


def _is_id_key(key: str) -> bool:
    return key == "id" or key.endswith(("_id", "Id"))


def _details(event: Any, found: EventType | None, used: set[str], region: str) -> list[Detail]:
    properties = _properties(event)
    declared = found.properties if found is not None else {}
    currency = properties.get("currency")
    currency = currency if isinstance(currency, str) and is_currency(currency) else None
    money_shown = currency is not None and any(declared.get(k) == "decimal" for k in properties)
    out: list[Detail] = []
    for key, value in sorted(properties.items(), key=lambda kv: str(kv[0])):
        key = str(key)
        if key in HIDDEN_PROPERTIES or key in used or _is_id_key(key):
            continue
        if key == "currency" and money_shown:
            continue
        prop_type = "phone" if key in PHONE_KEYS else declared.get(key, "")
        _flatten(key_label(key), value, prop_type, currency, out, f"{event.type}:{key}", region)
    return out


def event_stories(events: Sequence[Any], viewer: Viewer | None = None) -> list[EventStory]:
    """The stories of a page of events, in order. With a viewer, the records the sentences name are
    resolved (one query per kind of record) and linked where the viewer may open them; without
    one, they are named from the events' properties."""
    types = [catalogue.find(event.type) for event in events]
    wanted: dict[str, set[int]] = defaultdict(set)
    for event, found in zip(events, types, strict=True):
        if found is not None:
            for kind, record_id in _wanted_records(event, found):
                wanted[kind].add(record_id)
    records: dict[tuple[str, int], RecordLink] = {}
    if viewer is not None:
        records.update(viewer.known)
        for kind, wanted_ids in wanted.items():
            ids = {record_id for record_id in wanted_ids if (kind, record_id) not in records}
            resolver = _resolvers.get(kind)
            if resolver is not None and ids:
                for record_id, record in resolver(viewer, ids).items():
                    records[(kind, record_id)] = record
    stories = []
    for event, found in zip(events, types, strict=True):
        used: set[str] = set()
        html, text = _sentence(event, found, records, used) if found is not None else (SafeString(""), "")
        if not text:
            used = set()
        names_actor = bool(text) and found is not None and "actor" in found.placeholders()
        region = viewer.country if viewer is not None else ""
        stories.append(EventStory(html, text, _details(event, found, used, region), names_actor))
    return stories


def attach_stories(events: Sequence[Any], viewer: Viewer | None) -> None:
    """Set `event.story` on each event of a page (what the timeline template reads)."""
    for event, story in zip(events, event_stories(events, viewer), strict=True):
        event.story = story


def event_sentence(event: Any) -> str:
    """The sentence of one event (an Event row, or anything with type, properties, actor and
    contact) as plain text in the active language, the records it names taken from its properties;
    "" when the type is undeclared or the event lacks a value the sentence needs, so that the caller
    falls back on the label and the details."""
    return event_stories([event])[0].text
