"""Contact conditions: the registry of condition kinds, and the checker and compiler of definitions
(docs/adr/0009-segments-and-contact-conditions.md).

Each app registers the conditions it knows from its `ready()`: `contacts` the contact and company
fields, custom properties, tags and the event log (contacts/condition_kinds.py); `touchpoints` the
forms; `sales` orders, spend, products and deals. Segments, automation and service filter contacts
with the same definitions; they add kinds, never compilers.

A definition is JSON: a group `{"all": [...]}` or `{"any": [...]}` whose items are groups again or
leaves `{"kind": "...", "op": "...", "value": ..., ...}`. `all: []` matches every contact, `any: []`
matches nobody (the identities of AND and OR). `validate_definition` returns field errors keyed by
a JSON path: the root group's items are `conditions.N`, a nested group's items
`conditions.N.any.M`, and a leaf's parts `conditions.N.op`, `conditions.N.value`, ….
`compile_definition` turns a valid definition into one `Q` on `Contact`, run inside the
organisation's scope: counting a segment is one `SELECT COUNT(*)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from vinculo.accounts.models import Organization

MAX_DEPTH = 5  # nested groups below the root
MAX_LEAVES = 100
MAX_TEXT = 200
MAX_DAYS = 36500
MAX_LIST = 100
ROOT = "conditions"

# --- value types and their operators ----------------------------------------------------------------

TEXT, NUMBER, MONEY, DATE, CHOICE, RECORDS, EVENT = "text", "number", "money", "date", "choice", "records", "event"

OPERATOR_LABELS: dict[str, str | Promise] = {
    "eq": pgettext_lazy("condition operator", "is"),
    "ne": pgettext_lazy("condition operator", "is not"),
    "contains": pgettext_lazy("condition operator", "contains"),
    "not_contains": pgettext_lazy("condition operator", "does not contain"),
    "starts_with": pgettext_lazy("condition operator", "starts with"),
    "is_empty": pgettext_lazy("condition operator", "is empty"),
    "is_set": pgettext_lazy("condition operator", "is not empty"),
    "gt": pgettext_lazy("condition operator", "is more than"),
    "gte": pgettext_lazy("condition operator", "is at least"),
    "lt": pgettext_lazy("condition operator", "is less than"),
    "lte": pgettext_lazy("condition operator", "is at most"),
    "before": pgettext_lazy("condition operator", "is before"),
    "after": pgettext_lazy("condition operator", "is after"),
    "on": pgettext_lazy("condition operator", "is on"),
    "in_last": pgettext_lazy("condition operator", "is in the last N days"),
    "more_than_ago": pgettext_lazy("condition operator", "is more than N days ago"),
    "in": pgettext_lazy("condition operator", "is one of"),
    "not_in": pgettext_lazy("condition operator", "is none of"),
    "has_any": pgettext_lazy("condition operator", "has any of"),
    "has_none": pgettext_lazy("condition operator", "has none of"),
    "did": pgettext_lazy("condition operator", "did"),
    "did_not": pgettext_lazy("condition operator", "did not"),
}

OPERATORS: dict[str, tuple[str, ...]] = {
    TEXT: ("eq", "ne", "contains", "not_contains", "starts_with", "is_empty", "is_set"),
    NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte"),
    MONEY: ("eq", "ne", "gt", "gte", "lt", "lte"),
    DATE: ("before", "after", "on", "in_last", "more_than_ago", "is_empty", "is_set"),
    CHOICE: ("in", "not_in"),
    RECORDS: ("has_any", "has_none"),
    EVENT: ("did", "did_not"),
}

TYPE_LABELS: dict[str, str | Promise] = {
    TEXT: pgettext_lazy("condition value type", "text"),
    NUMBER: pgettext_lazy("condition value type", "a number"),
    MONEY: pgettext_lazy("condition value type", "an amount"),
    DATE: pgettext_lazy("condition value type", "a date"),
    CHOICE: pgettext_lazy("condition value type", "a choice"),
    RECORDS: pgettext_lazy("condition value type", "records"),
    EVENT: pgettext_lazy("condition value type", "an event"),
}

NO_VALUE_OPERATORS = frozenset({"is_empty", "is_set"})
LEAF_KEYS = frozenset({"kind", "op", "value"})


@dataclass(frozen=True)
class ConditionKind:
    """One kind of condition on contacts.

    `to_q(condition, organization)` turns a checked condition into a `Q` on `Contact` (usually
    `id__in=<subquery>` of the organisation's rows). `depends_on` names the event-type patterns
    (`form.submitted`, `*`) and model labels (`sales.Order`) it reads, so that the incremental
    membership re-evaluates it when they change. `choices(organization)` gives the allowed values of a
    choice kind, `known_ids(organization, ids)` those of `ids` that are the organisation's records
    (others are an error, never a leak); `extra_keys` are the leaf's other keys, checked by
    `check_extra(condition, organization) -> {key: message}`.
    """

    name: str
    label: str | Promise
    value_type: str
    to_q: Callable[[Mapping[str, Any], Organization], Q]
    depends_on: tuple[str, ...]
    operators: tuple[str, ...] = ()
    choices: Callable[[Organization], Mapping[str, Any]] | None = None
    known_ids: Callable[[Organization, list[int]], set[int]] | None = None
    extra_keys: frozenset[str] = frozenset()
    check_extra: Callable[[Mapping[str, Any], Organization], dict[str, str]] | None = None
    allowed_operators: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_operators", self.operators or OPERATORS[self.value_type])


_REGISTRY: dict[str, ConditionKind] = {}


def register_condition_kind(kind: ConditionKind) -> None:
    """Add a kind; a second registration of the same name is a programming error."""
    if kind.name in _REGISTRY and _REGISTRY[kind.name] is not kind:
        raise ValueError(f"condition kind {kind.name!r} is registered twice")
    if kind.value_type not in OPERATORS:
        raise ValueError(f"condition kind {kind.name!r}: unknown value type {kind.value_type!r}")
    _REGISTRY[kind.name] = kind


def condition_kinds() -> list[ConditionKind]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def condition_kind(name: str) -> ConditionKind | None:
    return _REGISTRY.get(name)


# --- parsing values ---------------------------------------------------------------------------------


def parse_number(value: Any) -> Decimal:
    """A number from JSON (an integer, a decimal or its text); ValidationError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError(_("Enter a number."))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValidationError(_("Enter a number.")) from exc
    if not number.is_finite() or abs(number) >= Decimal("1e15"):
        raise ValidationError(_("Enter a number."))
    return number


def parse_days(value: Any) -> int:
    """A number of days, 0 to 36,500."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(_("Enter a whole number of days."))
    if value < 0 or value > MAX_DAYS:
        raise ValidationError(_("Enter a number of days from 0 to %(max)s.") % {"max": MAX_DAYS})
    return value


def parse_count(value: Any) -> int:
    """How many times: a whole number from 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 1_000_000:
        raise ValidationError(_("Enter a whole number of times from 1."))
    return value


def parse_date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise ValidationError(_("Enter a date as YYYY-MM-DD."))
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from exc


def parse_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(_("Enter some text."))
    if len(value) > MAX_TEXT:
        raise ValidationError(_("At most %(n)s characters.") % {"n": MAX_TEXT})
    return value.strip()


def _parse_list(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Choose at least one value."))
    if len(value) > MAX_LIST:
        raise ValidationError(_("At most %(n)s values.") % {"n": MAX_LIST})
    return value


def parse_ids(value: Any) -> list[int]:
    items = _parse_list(value)
    if any(isinstance(item, bool) or not isinstance(item, int) for item in items):
        raise ValidationError(_("Choose records by their ids (whole numbers)."))
    return list(dict.fromkeys(items))


def _check_value(kind: ConditionKind, op: str, value: Any, organization: Organization) -> None:
    """Raises a ValidationError saying what is wrong with `value` for `op`."""
    if op in NO_VALUE_OPERATORS:
        if value is not None:
            raise ValidationError(_("This operator takes no value."))
        return
    vtype = kind.value_type
    if vtype == TEXT:
        parse_text(value)
    elif vtype in (NUMBER, MONEY):
        parse_number(value)
    elif vtype == DATE:
        if op in ("in_last", "more_than_ago"):
            parse_days(value)
        else:
            parse_date(value)
    elif vtype == CHOICE:
        items = _parse_list(value)
        allowed = kind.choices(organization) if kind.choices else {}
        unknown = [
            str(item)
            for item in items
            if isinstance(item, bool) or not isinstance(item, str | int) or item not in allowed
        ]
        if unknown:
            raise ValidationError(
                _("Unknown value: %(values)s. Allowed: %(allowed)s.")
                % {"values": ", ".join(unknown[:5]), "allowed": ", ".join(str(a) for a in list(allowed)[:50])}
            )
    elif vtype == RECORDS:
        ids = parse_ids(value)
        known = kind.known_ids(organization, ids) if kind.known_ids else set()
        missing = [str(i) for i in ids if i not in known]
        if missing:
            raise ValidationError(_("No such record: %(ids)s.") % {"ids": ", ".join(missing[:5])})
    # EVENT kinds check their value in check_extra, with their other keys


# --- checking a definition --------------------------------------------------------------------------


@dataclass
class _Walk:
    organization: Organization
    errors: dict[str, str] = field(default_factory=dict)
    leaves: int = 0


def validate_definition(definition: Any, organization: Organization) -> dict[str, str]:
    """The errors of a definition, keyed by JSON path (see the module's docstring); empty if valid."""
    walk = _Walk(organization)
    items = _group_items(definition, ROOT, walk)
    if items is not None:
        _check_items(items, ROOT, 0, walk)
    return walk.errors


def _group_items(group: Any, path: str, walk: _Walk) -> list[Any] | None:
    if not isinstance(group, dict) or len(group) != 1 or next(iter(group)) not in ("all", "any"):
        walk.errors[path] = _("A group is an object with one key, “all” or “any”, holding a list of conditions.")
        return None
    items = next(iter(group.values()))
    if not isinstance(items, list):
        walk.errors[path] = _("A group's conditions must be a list.")
        return None
    return items


def _check_items(items: list[Any], path: str, depth: int, walk: _Walk) -> None:
    for index, item in enumerate(items):
        here = f"{path}.{index}"
        if isinstance(item, dict) and ("all" in item or "any" in item) and "kind" not in item:
            if depth + 1 > MAX_DEPTH:
                walk.errors[here] = _("Groups nest at most %(n)s levels deep.") % {"n": MAX_DEPTH}
                continue
            nested = _group_items(item, here, walk)
            if nested is not None:
                _check_items(nested, f"{here}.{next(iter(item))}", depth + 1, walk)
            continue
        walk.leaves += 1
        if walk.leaves == MAX_LEAVES + 1:
            walk.errors[here] = _("A definition has at most %(n)s conditions.") % {"n": MAX_LEAVES}
        if walk.leaves > MAX_LEAVES:
            continue
        _check_leaf(item, here, walk)


def _check_leaf(leaf: Any, path: str, walk: _Walk) -> None:
    if not isinstance(leaf, dict):
        walk.errors[path] = _("A condition is an object with a kind, an operator and a value.")
        return
    name = leaf.get("kind")
    kind = _REGISTRY.get(name) if isinstance(name, str) else None
    if kind is None:
        walk.errors[f"{path}.kind"] = _("Unknown condition “%(kind)s”. Allowed: %(allowed)s.") % {
            "kind": str(leaf.get("kind"))[:64],
            "allowed": ", ".join(sorted(_REGISTRY)),
        }
        return
    unknown = sorted(set(leaf) - LEAF_KEYS - kind.extra_keys)
    if unknown:
        walk.errors[path] = _("Unknown key: %(keys)s.") % {"keys": ", ".join(unknown)}
    op = leaf.get("op")
    if op not in kind.allowed_operators:
        walk.errors[f"{path}.op"] = _("The operator “%(op)s” does not apply to %(type)s. Allowed: %(allowed)s.") % {
            "op": str(op)[:32],
            "type": TYPE_LABELS[kind.value_type],
            "allowed": ", ".join(kind.allowed_operators),
        }
        return
    try:
        _check_value(kind, op, leaf.get("value"), walk.organization)
    except ValidationError as exc:
        walk.errors[f"{path}.value"] = exc.messages[0]
    if kind.check_extra is not None:
        for key, message in kind.check_extra(leaf, walk.organization).items():
            walk.errors[f"{path}.{key}"] = message


# --- compiling --------------------------------------------------------------------------------------

EVERYONE = Q(pk__isnull=False)
NOBODY = Q(pk__in=[])


def compile_definition(definition: Any, organization: Organization) -> Q:
    """One `Q` on `Contact` for a definition; ValidationError (a dict of path → message) if invalid.
    Apply it to the organisation's contacts, in its scope."""
    errors = validate_definition(definition, organization)
    if errors:
        raise ValidationError(errors)
    return _compile_group(definition, organization)


def _compile_group(group: Mapping[str, Any], organization: Organization) -> Q:
    ((joiner, items),) = group.items()
    parts = [
        _compile_group(item, organization) if "kind" not in item else _compile_leaf(item, organization)
        for item in items
    ]
    if not parts:
        return EVERYONE if joiner == "all" else NOBODY
    result = parts[0]
    for part in parts[1:]:
        result = result & part if joiner == "all" else result | part
    return result


def _compile_leaf(leaf: Mapping[str, Any], organization: Organization) -> Q:
    return _REGISTRY[leaf["kind"]].to_q(leaf, organization)


def dependencies(definition: Any) -> set[str]:
    """The event-type patterns and model labels a (valid) definition reads."""
    found: set[str] = set()
    for leaf in _leaves(definition):
        kind = _REGISTRY.get(leaf.get("kind", ""))
        if kind is not None:
            found.update(kind.depends_on)
    return found


def _leaves(group: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for item in next(iter(group.values())):
        if "kind" in item:
            yield item
        else:
            yield from _leaves(item)


# --- building blocks of the kinds' `to_q` -----------------------------------------------------------

INVERSE = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt", "eq": "ne", "ne": "eq"}


def compare(path: str, op: str, value: Any) -> Q:
    """`path <op> value` for numbers and amounts; `ne` is `~eq`."""
    if op == "ne":
        return ~Q(**{path: value})
    return Q(**{path if op == "eq" else f"{path}__{op}": value})


def holds(op: str, left: Decimal, right: Decimal) -> bool:
    """Whether `left <op> right`: used to know whether a contact with nothing (0) matches."""
    return {
        "eq": left == right,
        "ne": left != right,
        "gt": left > right,
        "gte": left >= right,
        "lt": left < right,
        "lte": left <= right,
    }[op]


def text_q(path: str, op: str, value: Any) -> Q:
    """Case-insensitive text comparison; an empty field counts as no value."""
    if op == "is_empty":
        return Q(**{path: ""}) | Q(**{f"{path}__isnull": True})
    if op == "is_set":
        return ~Q(**{path: ""}) & Q(**{f"{path}__isnull": False})
    lookup = {"eq": "iexact", "ne": "iexact", "contains": "icontains", "not_contains": "icontains"}.get(
        op, "istartswith"
    )
    found = Q(**{f"{path}__{lookup}": value.strip()})
    return ~found if op in ("ne", "not_contains") else found


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the active time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def date_q(path: str, op: str, value: Any) -> Q:
    """Absolute days (before / after / on, in the active time zone) and windows from now."""
    if op == "is_empty":
        return Q(**{f"{path}__isnull": True})
    if op == "is_set":
        return Q(**{f"{path}__isnull": False})
    now = timezone.now()
    if op == "in_last":
        return Q(**{f"{path}__gte": now - dt.timedelta(days=value)})
    if op == "more_than_ago":
        return Q(**{f"{path}__lt": now - dt.timedelta(days=value)})
    day = parse_date(value)
    start, end = day_start(day), day_start(day + dt.timedelta(days=1))
    if op == "before":
        return Q(**{f"{path}__lt": start})
    if op == "after":
        return Q(**{f"{path}__gte": end})
    return Q(**{f"{path}__gte": start, f"{path}__lt": end})
