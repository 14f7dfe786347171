"""What each list page allows in a saved view: its columns, filters and sorts.

Contacts and companies register here; the sales lists (deals, orders, activities) register from
their app's `ready()`, since they sit above this app. A saved view naming anything a list does not
declare is refused with a field error; a stored view whose column or filter later disappears still
opens, the unknown part left out with a notice (`apply_stored`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vinculo.contacts.filters import COMPANY_SORTS, CONTACT_SORTS, parse_filters


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise


@dataclass(frozen=True)
class ListSpec:
    """One list page. `check_filters` raises a ValidationError keyed by filter name for bad values."""

    kind: str
    url_name: str
    columns: tuple[Column, ...]
    default_columns: tuple[str, ...]
    filters: tuple[str, ...]
    sorts: tuple[str, ...]
    check_filters: Callable[[Mapping[str, str]], None]
    create_url_name: str = ""
    column_keys: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_keys", frozenset(c.key for c in self.columns))

    def column_choices(self, chosen: list[str]) -> list[dict[str, Any]]:
        return [{"key": c.key, "label": c.label, "chosen": c.key in chosen} for c in self.columns]


_REGISTRY: dict[str, ListSpec] = {}


def register(spec: ListSpec) -> None:
    _REGISTRY[spec.kind] = spec


def get_spec(kind: str) -> ListSpec | None:
    return _REGISTRY.get(kind)


def registered_kinds() -> list[str]:
    return sorted(_REGISTRY)


# --- checking what a member asks to save ---------------------------------------------------------


def _names(values: Any) -> str:
    return ", ".join(values)


def clean_view_parts(
    kind: str, *, filters: Any, sort: Any, columns: Any, errors: dict[str, str] | None = None
) -> tuple[dict[str, str], str, list[str]]:
    """The filters, sort and columns of a view, checked against its list. Raises a ValidationError
    keyed `kind`, `filters`, `sort` or `columns` naming what is unknown and what is allowed."""
    errors = {} if errors is None else errors
    spec = get_spec(kind)
    if spec is None:
        errors["kind"] = _("Unknown list. Allowed: %(names)s.") % {"names": _names(registered_kinds())}
        raise ValidationError(errors)
    clean_filters: dict[str, str] = {}
    if not isinstance(filters, Mapping):
        errors["filters"] = _("Give the filters as names and values.")
    else:
        unknown = sorted(str(k) for k in filters if k not in spec.filters)
        if unknown:
            errors["filters"] = _("Unknown filter “%(name)s”. Allowed: %(names)s.") % {
                "name": unknown[0],
                "names": _names(spec.filters),
            }
        else:
            for name, value in filters.items():
                if not isinstance(value, str | int) or isinstance(value, bool):
                    errors["filters"] = _("The filter “%(name)s” takes a text value.") % {"name": name}
                    break
                if str(value).strip():
                    clean_filters[name] = str(value).strip()[:200]
            if "filters" not in errors:
                try:
                    spec.check_filters(clean_filters)
                except ValidationError as exc:
                    first_name, messages = next(iter(exc.message_dict.items()))
                    errors["filters"] = f"{first_name}: {' '.join(messages)}"
    clean_sort = ""
    if sort not in (None, ""):
        if isinstance(sort, str) and sort in spec.sorts:
            clean_sort = sort
        else:
            errors["sort"] = _("Unknown sort. Allowed: %(names)s.") % {"names": _names(spec.sorts)}
    clean_columns: list[str] = []
    if not isinstance(columns, list | tuple):
        errors["columns"] = _("Give the columns as a list of names.")
    else:
        unknown = [str(c) for c in columns if not isinstance(c, str) or c not in spec.column_keys]
        if unknown:
            errors["columns"] = _("Unknown column “%(name)s”. Allowed: %(names)s.") % {
                "name": unknown[0],
                "names": _names(c.key for c in spec.columns),
            }
        elif len(set(columns)) != len(columns):
            errors["columns"] = _("A column is named twice.")
        else:
            clean_columns = list(columns)
    if errors:
        raise ValidationError(errors)
    return clean_filters, clean_sort, clean_columns


# --- opening a stored view -----------------------------------------------------------------------


@dataclass
class AppliedView:
    params: dict[str, str]  # the filters and sort, as the list page reads them
    columns: list[str]
    notices: list[str]


def apply_stored(spec: ListSpec, *, filters: Any, sort: str, columns: Any) -> AppliedView:
    """A stored view as the list will show it: what the list no longer knows is left out, said in
    `notices`, never an error."""
    notices: list[str] = []
    params: dict[str, str] = {}
    for name, value in (filters or {}).items() if isinstance(filters, Mapping) else ():
        if name in spec.filters:
            params[name] = str(value)
        else:
            notices.append(_("The filter “%(name)s” of this view no longer exists and is left out.") % {"name": name})
    if sort:
        if sort in spec.sorts:
            params["sort"] = sort
        else:
            notices.append(_("The sort “%(name)s” of this view no longer exists and is left out.") % {"name": sort})
    shown: list[str] = []
    for key in columns if isinstance(columns, list) else []:
        if key in spec.column_keys and key not in shown:
            shown.append(key)
        elif key not in spec.column_keys:
            notices.append(_("The column “%(name)s” of this view no longer exists and is left out.") % {"name": key})
    return AppliedView(params=params, columns=shown or list(spec.default_columns), notices=notices)


def chosen_columns(spec: ListSpec, values: list[str]) -> list[str]:
    """Columns picked in the chooser (`columns=` in the address), unknown names dropped."""
    picked: list[str] = []
    for value in values:
        for key in value.split(","):
            if key in spec.column_keys and key not in picked:
                picked.append(key)
    return picked


# --- the lists of this app -----------------------------------------------------------------------


def _checker(kind: str) -> Callable[[Mapping[str, str]], None]:
    def check(filters: Mapping[str, str]) -> None:
        parse_filters(filters, kind=kind, strict=True)

    return check


CONTACT_FILTERS = ("q", "owner", "stage", "tag", "country", "company", "created_after", "created_before")
COMPANY_FILTERS = ("q", "owner", "tag", "country", "industry", "created_after", "created_before")

register(
    ListSpec(
        kind="contacts",
        url_name="contacts:contact_list",
        create_url_name="contacts:contact_create",
        columns=(
            Column("email", gettext_lazy("E-mail")),
            Column("phone", gettext_lazy("Phone")),
            Column("company", gettext_lazy("Company")),
            Column("job_title", gettext_lazy("Job title")),
            Column("stage", gettext_lazy("Stage")),
            Column("source", gettext_lazy("Source")),
            Column("owner", gettext_lazy("Owner")),
            Column("tags", gettext_lazy("Tags")),
            Column("country", gettext_lazy("Country")),
            Column("city", gettext_lazy("City")),
            Column("last_activity", gettext_lazy("Last activity")),
            Column("created", gettext_lazy("Created")),
            Column("updated", gettext_lazy("Updated")),
        ),
        default_columns=("email", "company", "stage", "owner", "tags", "created", "updated"),
        filters=CONTACT_FILTERS,
        sorts=tuple(CONTACT_SORTS),
        check_filters=_checker("contacts"),
    )
)
register(
    ListSpec(
        kind="companies",
        url_name="contacts:company_list",
        create_url_name="contacts:company_create",
        columns=(
            Column("domain", gettext_lazy("Domain")),
            Column("industry", gettext_lazy("Industry")),
            Column("size", gettext_lazy("Size")),
            Column("country", gettext_lazy("Country")),
            Column("city", gettext_lazy("City")),
            Column("owner", gettext_lazy("Owner")),
            Column("tags", gettext_lazy("Tags")),
            Column("created", gettext_lazy("Created")),
            Column("updated", gettext_lazy("Updated")),
        ),
        default_columns=("industry", "country", "owner", "tags", "created", "updated"),
        filters=COMPANY_FILTERS,
        sorts=tuple(COMPANY_SORTS),
        check_filters=_checker("companies"),
    )
)
