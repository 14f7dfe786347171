"""The event-type catalogue: every type of event the code writes to the event log, described once.

Each app declares the types it emits in its own `event_types.py` as a tuple `EVENT_TYPES` of
`EventType`; `CoreConfig.ready()` collects them (`load_event_types`), credits each to the app
that declared it, and freezes the catalogue. From then on it is read-only: the timeline, the API
(`GET /api/v1/event-types`), the webhook documentation (docs/event-types.md) and, soon, trigger
pickers and segment builders read it.

A type is named `<object>.<what happened>` (`order.placed`). A pattern `web.*` stands for a family
of types the code does not know in advance: the events a website sends with `vinculo.track(name)`.

`core.events.emit()` calls `require_known_event_type()`: an undeclared type is an error in
development and tests (DEBUG or the setting VINCULO_STRICT_EVENT_TYPES) and a logged warning in
production, where losing the event would be worse than storing it undeclared.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q
from django.utils.functional import Promise

if TYPE_CHECKING:
    from django.apps import AppConfig

logger = logging.getLogger(__name__)

# The sections of the 360° timeline a type is shown under (the contact page's filter).
TIMELINE_KINDS = ("note", "email", "web", "sales", "service", "record")
# The JSON types of event properties, as the API and the webhook documentation name them.
PROPERTY_TYPES = frozenset(
    {"string", "integer", "decimal", "boolean", "datetime", "date", "url", "email", "object", "array"}
)
# Properties any event may carry besides its own: `via` names what made an automatic change
# ("web_form:Newsletter", "assignment_rule:Spain"; accounts.system_actor), shown after "by".
COMMON_PROPERTIES: Mapping[str, str] = {"via": "string"}
# Names every sentence may use besides the event's properties.
SENTENCE_CONTEXT = frozenset({"actor", "contact"})
# The records an event row points at itself, which `links` may name besides the id properties.
EVENT_RECORD_IDS = frozenset({"contact_id", "company_id"})
PATTERN_NAME = "name"  # what a pattern's sentence calls the matched type's own part: web.<name>

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
PATTERN_RE = re.compile(r"^[a-z][a-z0-9_]*\.\*$")
ICON_RE = re.compile(r"^[a-z0-9-]+$")
RECORD_KIND_RE = re.compile(r"^[a-z][a-z0-9_]*$")
PLACEHOLDER_RE = re.compile(r"%\((\w+)\)s")


class UnknownEventType(LookupError):
    """An event type that no app declared in its `event_types.py`."""


class EventTypeConflict(ValueError):
    """A type declared twice with different definitions, or a declaration that does not hold up."""


@dataclass(frozen=True)
class EventType:
    """One type of event: how it reads (label, sentence, icon), where the timeline shows it, what
    properties it carries and of which types, who emits it and whether consumers receive it.

    `sentence` is a lazy gettext template with named placeholders over the properties, `actor`
    and `contact` (and, for a pattern, `name`); a placeholder never names an id.

    `links` names the records a sentence shows: placeholder → (record kind, id property). The
    timeline resolves each id to the record's title and page (vinculo.core.event_story, one query
    per kind for a page of events); the placeholder's own property, if any, names a record that
    is gone or hidden from the reader. The id property may also be the event's own `contact_id`
    or `company_id`.
    """

    name: str
    label: str | Promise
    sentence: str | Promise
    icon: str
    kind: str
    properties: Mapping[str, str] = field(default_factory=dict)
    emitted_by: str = ""  # the app label; filled in from the declaring app
    delivered: bool = True  # handed to the event log's consumers (automation, webhooks, …)
    high_volume: bool = False  # many per visitor (page views): consumers should filter early
    match_label: str | Promise | None = None  # a pattern's label of one matched type, with %(name)s
    links: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def is_pattern(self) -> bool:
        return self.name.endswith(".*")

    @property
    def prefix(self) -> str:
        """`web.` for the pattern `web.*`; the whole name otherwise."""
        return self.name.removesuffix("*")

    def matches(self, type_name: str) -> bool:
        if self.is_pattern:
            return type_name.startswith(self.prefix) and len(type_name) > len(self.prefix)
        return type_name == self.name

    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER_RE.findall(str(self.sentence)))

    def check(self) -> None:
        """Refuse a declaration the catalogue's readers could not use."""
        problems = []
        if not (PATTERN_RE if self.name.endswith(".*") else NAME_RE).match(self.name):
            problems.append("the name must look like `object.verb` (or `object.*` for a pattern)")
        if self.kind not in TIMELINE_KINDS:
            problems.append(f"kind must be one of {', '.join(TIMELINE_KINDS)}")
        if not ICON_RE.match(self.icon):
            problems.append("icon must be a Bootstrap icon name such as `bag-check`")
        for prop, prop_type in self.properties.items():
            if prop_type not in PROPERTY_TYPES:
                problems.append(f"property {prop}: unknown type {prop_type!r}")
        allowed = (
            set(self.properties) | SENTENCE_CONTEXT | set(self.links) | ({PATTERN_NAME} if self.is_pattern else set())
        )
        for placeholder, (kind, id_property) in self.links.items():
            if not id_property.endswith("_id") or (
                id_property not in self.properties and id_property not in EVENT_RECORD_IDS
            ):
                problems.append(f"link {placeholder}: {id_property} is no id property of the type")
            if not RECORD_KIND_RE.match(kind):
                problems.append(f"link {placeholder}: the record kind {kind!r} is not a plain name")
        for name in sorted(self.placeholders()):
            if name.endswith("_id"):
                problems.append(f"the sentence shows an id: %({name})s")
            elif name not in allowed:
                problems.append(f"the sentence uses %({name})s, which is no property of the type")
        if PLACEHOLDER_RE.search(str(self.label)):
            problems.append("the label takes no placeholders")
        if self.match_label is not None and (
            not self.is_pattern or set(PLACEHOLDER_RE.findall(str(self.match_label))) != {PATTERN_NAME}
        ):
            problems.append(f"match_label is for patterns only and uses %({PATTERN_NAME})s")
        if problems:
            raise EventTypeConflict(f"event type {self.name!r}: " + "; ".join(problems))


class EventTypeCatalogue:
    """The registry. One instance, `catalogue`, is filled when the apps are ready; tests may build
    their own to try the rules."""

    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}
        self._patterns: dict[str, EventType] = {}
        self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    def register(self, app_label: str, event_types: Iterable[EventType]) -> None:
        """Declare the types `app_label` emits. The same definition twice is harmless; a different
        one under a known name raises EventTypeConflict, and so does any call once frozen."""
        if self._frozen:
            raise EventTypeConflict(
                "the event-type catalogue is read-only once the apps are ready; declare types in "
                f"{app_label}/event_types.py"
            )
        for declared in event_types:
            event_type = replace(declared, emitted_by=declared.emitted_by or app_label)
            event_type.check()
            table = self._patterns if event_type.is_pattern else self._types
            known = table.get(event_type.name)
            if known is not None and known != event_type:
                raise EventTypeConflict(
                    f"event type {event_type.name!r} is declared twice with different definitions "
                    f"(by {known.emitted_by} and by {event_type.emitted_by})"
                )
            table[event_type.name] = event_type

    def freeze(self) -> None:
        self._frozen = True

    def find(self, name: str) -> EventType | None:
        """The declaration of `name`: its own, or the pattern that matches it."""
        found = self._types.get(name)
        if found is not None:
            return found
        for pattern in self._patterns.values():
            if pattern.matches(name):
                return pattern
        return None

    def all(self) -> list[EventType]:
        """Every declared type, by name, the patterns last."""
        return sorted(self._types.values(), key=lambda t: t.name) + sorted(
            self._patterns.values(), key=lambda t: t.name
        )


catalogue = EventTypeCatalogue()


def load_event_types(app_configs: Iterable[AppConfig]) -> None:
    """Collect `EVENT_TYPES` from each app's `event_types` module, then freeze the catalogue.
    Called from CoreConfig.ready(); a second call (the app registry populated again) keeps what
    the first one loaded."""
    if catalogue.frozen:
        return
    for app_config in app_configs:
        module_name = f"{app_config.name}.event_types"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # this app emits nothing
            raise
        catalogue.register(app_config.label, getattr(module, "EVENT_TYPES", ()))
    catalogue.freeze()


# --- lookups ------------------------------------------------------------------------------------------


def event_type(name: str) -> EventType:
    """The declaration of `name` (or of the pattern that covers it); UnknownEventType if none."""
    found = catalogue.find(name)
    if found is None:
        raise UnknownEventType(f"unknown event type {name!r}: declare it in the emitting app's event_types.py")
    return found


def all_event_types() -> list[EventType]:
    return catalogue.all()


def is_known(name: str) -> bool:
    return catalogue.find(name) is not None


def strict_event_types() -> bool:
    return bool(getattr(settings, "VINCULO_STRICT_EVENT_TYPES", settings.DEBUG))


def require_known_event_type(name: str) -> None:
    """Called by `emit()`: an undeclared type raises UnknownEventType in development and tests,
    and is logged as a warning in production (the event is still written)."""
    if is_known(name):
        return
    if strict_event_types():
        raise UnknownEventType(
            f"emit() of an unknown event type {name!r}: declare it in the emitting app's event_types.py "
            "(see docs/event-types.md)"
        )
    logger.warning("event of an undeclared type %r written to the event log", name)


def event_label(name: str) -> str:
    """How the type reads as a heading, in the active language; the raw name if undeclared."""
    found = catalogue.find(name)
    if found is None:
        return name
    if found.is_pattern and found.match_label is not None:
        return str(found.match_label) % {PATTERN_NAME: readable_name(found, name)}
    return str(found.label)


def event_icon(name: str) -> str:
    found = catalogue.find(name)
    return found.icon if found is not None else "lightning"


def event_kind(name: str) -> str | None:
    found = catalogue.find(name)
    return found.kind if found is not None else None


def readable_name(pattern: EventType, name: str) -> str:
    """The matched part of a pattern's type, for people: web.added_to_cart → "added to cart"."""
    return name.removeprefix(pattern.prefix).replace("_", " ")


def kinds_filter(kinds: Iterable[str], field_name: str = "type") -> Q:
    """A filter of events whose type is shown under one of `kinds` (a pattern by its prefix).
    Matches nothing when no declared type has those kinds."""
    wanted = set(kinds)
    exact = [t.name for t in catalogue.all() if t.kind in wanted and not t.is_pattern]
    condition = Q(**{f"{field_name}__in": exact}) if exact else Q(pk__in=[])
    for pattern in catalogue.all():
        if pattern.is_pattern and pattern.kind in wanted:
            condition |= Q(**{f"{field_name}__startswith": pattern.prefix})
    return condition
