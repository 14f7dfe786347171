"""The condition kinds of `contacts` (vinculo/contacts/conditions.py): the contact's and its company's
fields, custom properties, tags, owner, and the event log (events belong to contacts). Registered
from ContactsConfig.ready(); `event_q` is also what other apps' event conditions (forms) build on."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vinculo.contacts.conditions import (
    CHOICE,
    DATE,
    EVENT,
    NUMBER,
    RECORDS,
    TEXT,
    ConditionKind,
    compare,
    date_q,
    parse_count,
    parse_days,
    parse_number,
    parse_text,
    register_condition_kind,
    text_q,
)
from vinculo.contacts.models import CompanySize, Contact, LifecycleStage, SourceChannel, Tag
from vinculo.core.countries import country_choices
from vinculo.core.event_types import is_known
from vinculo.core.models import Event

if TYPE_CHECKING:
    from vinculo.accounts.models import Organization

CONTACT = "contacts.Contact"
COMPANY = "contacts.Company"
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_PROPERTY_FILTERS = 5
# JSON numbers sort below text (PostgreSQL's jsonb, SQLite's JSON_EXTRACT): a number comparison
# bounded by this keeps text values of a custom property out of "more than" and "less than".
_NUMBER_CEILING = 10**15


def _field(
    name: str, label: Any, path: str, value_type: str, *, depends_on: tuple[str, ...] = (CONTACT,), **kw: Any
) -> ConditionKind:
    def to_q(condition: Mapping[str, Any], organization: Organization) -> Q:
        op, value = condition["op"], condition.get("value")
        if value_type == TEXT:
            return text_q(path, op, value)
        if value_type == DATE:
            return date_q(path, op, value)
        found = Q(**{f"{path}__in": value})  # CHOICE
        return found if op == "in" else ~found

    return ConditionKind(name=name, label=label, value_type=value_type, to_q=to_q, depends_on=depends_on, **kw)


def _choices(options: Any) -> Any:
    return lambda organization: dict(options)


def _countries(organization: Organization) -> dict[str, str]:
    return dict(country_choices())


def _owners(organization: Organization) -> dict[int, str]:
    from vinculo.accounts.models import Membership

    rows = Membership.objects.filter(organization=organization).values_list("user_id", "user__full_name")
    return dict(rows)


# --- custom properties ------------------------------------------------------------------------------


def _check_key(condition: Mapping[str, Any], organization: Organization) -> dict[str, str]:
    key = condition.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        return {"key": _("Enter a property name (letters, digits and _, starting with a letter).")}
    return {}


def _custom_text_q(condition: Mapping[str, Any], organization: Organization) -> Q:
    return text_q(f"custom__{condition['key']}", condition["op"], condition.get("value"))


def _custom_number_q(condition: Mapping[str, Any], organization: Organization) -> Q:
    path = f"custom__{condition['key']}"
    number = parse_number(condition["value"])
    value: int | float = int(number) if number == number.to_integral_value() else float(number)
    bounded = Q(**{f"{path}__lt": _NUMBER_CEILING}) & Q(**{f"{path}__gt": -_NUMBER_CEILING})
    if condition["op"] == "ne":
        return Q(**{f"{path}__isnull": False}) & bounded & ~Q(**{path: value})
    return compare(path, condition["op"], value) & bounded


# --- tags -------------------------------------------------------------------------------------------


def _known_tags(organization: Organization, ids: list[int]) -> set[int]:
    return set(Tag.objects.filter(organization=organization, id__in=ids).values_list("id", flat=True))


def _tags_q(condition: Mapping[str, Any], organization: Organization) -> Q:
    tagged = Contact.tags.through.objects.filter(tag_id__in=condition["value"]).values("contact_id")
    found = Q(id__in=tagged)
    return found if condition["op"] == "has_any" else ~found


# --- the event log ----------------------------------------------------------------------------------


def check_window(condition: Mapping[str, Any], *, required: bool = True, counted: bool = True) -> dict[str, str]:
    """`days` (the window, optional unless `required`) and, when `counted`, for `did`, `count`
    (at least so many times)."""
    errors: dict[str, str] = {}
    if "days" in condition or required:
        try:
            days = parse_days(condition.get("days"))
            if days < 1:
                raise ValidationError(_("Enter a number of days from 1."))
        except ValidationError as exc:
            errors["days"] = exc.messages[0]
    if counted and "count" in condition:
        if condition.get("op") == "did_not":
            errors["count"] = _("“Did not” takes no number of times.")
        else:
            try:
                parse_count(condition["count"])
            except ValidationError as exc:
                errors["count"] = exc.messages[0]
    return errors


def _check_where(where: Any) -> str | None:
    if not isinstance(where, list) or len(where) > MAX_PROPERTY_FILTERS:
        return _("Property filters are a list of at most %(n)s.") % {"n": MAX_PROPERTY_FILTERS}
    for item in where:
        if not isinstance(item, dict) or set(item) != {"property", "op", "value"}:
            return _("Each property filter has a property, an operator and a value.")
        if not isinstance(item["property"], str) or not _KEY.match(item["property"]):
            return _("“%(key)s” is not a property name.") % {"key": str(item["property"])[:64]}
        if item["op"] not in ("eq", "contains"):
            return _("A property filter's operator is “eq” or “contains”.")
        if item["op"] == "contains" or not isinstance(item["value"], int | float) or isinstance(item["value"], bool):
            try:
                parse_text(item["value"])
            except ValidationError as exc:
                return exc.messages[0]
    return None


def _check_event(condition: Mapping[str, Any], organization: Organization) -> dict[str, str]:
    errors = check_window(condition)
    name = condition.get("value")
    if not isinstance(name, str) or "*" in name or not is_known(name):
        errors["value"] = _("Unknown event type “%(name)s”.") % {"name": str(name)[:64]}
    if "where" in condition and (message := _check_where(condition["where"])):
        errors["where"] = message
    return errors


def event_q(
    organization: Organization,
    *,
    type: str,
    op: str,
    count: int = 1,
    days: int | None = None,
    properties: Q | None = None,
) -> Q:
    """Contacts who did (`op="did"`) an event of `type` at least `count` times in the last `days`
    days (ever without `days`), or who did not (`op="did_not"`) do it once, of the organisation's
    events. One `id IN (SELECT contact_id …)` on the (organization, type, occurred_at) index."""
    events = Event.objects.filter(organization=organization, type=type, contact__isnull=False)
    if days is not None:
        events = events.filter(occurred_at__gte=timezone.now() - dt.timedelta(days=days))
    if properties is not None:
        events = events.filter(properties)
    if op == "did" and count > 1:
        found = Q(id__in=events.values("contact_id").annotate(n=Count("id")).filter(n__gte=count).values("contact_id"))
    else:
        found = Q(id__in=events.values("contact_id"))
    return found if op == "did" else ~found


def _where_q(where: list[dict[str, Any]]) -> Q:
    result = Q()
    for item in where:
        path = f"properties__{item['property']}"
        value = item["value"]
        result &= Q(**{f"{path}__icontains": value}) if item["op"] == "contains" else Q(**{path: value})
    return result


def _event_to_q(condition: Mapping[str, Any], organization: Organization) -> Q:
    where = condition.get("where") or []
    return event_q(
        organization,
        type=condition["value"],
        op=condition["op"],
        count=condition.get("count", 1),
        days=condition["days"],
        properties=_where_q(where) if where else None,
    )


def register() -> None:
    text_fields = [
        ("first_name", gettext_lazy("First name")),
        ("last_name", gettext_lazy("Last name")),
        ("email", gettext_lazy("E-mail")),
        ("job_title", gettext_lazy("Job title")),
        ("city", gettext_lazy("City")),
        ("language", gettext_lazy("Language")),
    ]
    for name, label in text_fields:
        register_condition_kind(_field(name, label, name, TEXT))
    register_condition_kind(_field("country", gettext_lazy("Country"), "country", CHOICE, choices=_countries))
    register_condition_kind(
        _field(
            "lifecycle_stage",
            gettext_lazy("Lifecycle stage"),
            "lifecycle_stage",
            CHOICE,
            choices=_choices(LifecycleStage.choices),
        )
    )
    register_condition_kind(
        _field("source", gettext_lazy("Source"), "source", CHOICE, choices=_choices(SourceChannel.choices))
    )
    register_condition_kind(_field("owner", gettext_lazy("Owner"), "owner_id", CHOICE, choices=_owners))
    register_condition_kind(_field("created_at", gettext_lazy("Created"), "created_at", DATE))
    register_condition_kind(_field("last_activity_at", gettext_lazy("Last activity"), "last_activity_at", DATE))
    register_condition_kind(
        ConditionKind(
            name="tags",
            label=gettext_lazy("Tags"),
            value_type=RECORDS,
            to_q=_tags_q,
            depends_on=(CONTACT, "contacts.Tag"),
            known_ids=_known_tags,
        )
    )
    register_condition_kind(
        ConditionKind(
            name="custom_text",
            label=gettext_lazy("Custom property (text)"),
            value_type=TEXT,
            to_q=_custom_text_q,
            depends_on=(CONTACT,),
            extra_keys=frozenset({"key"}),
            check_extra=_check_key,
        )
    )
    register_condition_kind(
        ConditionKind(
            name="custom_number",
            label=gettext_lazy("Custom property (number)"),
            value_type=NUMBER,
            to_q=_custom_number_q,
            depends_on=(CONTACT,),
            extra_keys=frozenset({"key"}),
            check_extra=_check_key,
        )
    )
    company = (CONTACT, COMPANY)
    register_condition_kind(
        _field("company_name", gettext_lazy("Company name"), "company__name", TEXT, depends_on=company)
    )
    register_condition_kind(
        _field("company_industry", gettext_lazy("Company industry"), "company__industry", TEXT, depends_on=company)
    )
    register_condition_kind(
        _field(
            "company_size",
            gettext_lazy("Company size"),
            "company__size",
            CHOICE,
            depends_on=company,
            choices=_choices(CompanySize.choices),
        )
    )
    register_condition_kind(
        _field(
            "company_country",
            gettext_lazy("Company country"),
            "company__country",
            CHOICE,
            depends_on=company,
            choices=_countries,
        )
    )
    register_condition_kind(
        ConditionKind(
            name="event",
            label=gettext_lazy("Did an event"),
            value_type=EVENT,
            to_q=_event_to_q,
            depends_on=("*",),
            extra_keys=frozenset({"count", "days", "where"}),
            check_extra=_check_event,
        )
    )
