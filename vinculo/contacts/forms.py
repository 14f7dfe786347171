"""Forms of the contact and company pages. They only parse what was typed into the shapes the
services take (lists, a dict of custom properties); the services validate and answer with
field errors, which the views put back onto these forms (`apply_service_errors`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from vinculo.accounts.forms import TimeZoneSelect
from vinculo.accounts.forms import time_zone_choices as all_time_zones
from vinculo.accounts.models import User
from vinculo.contacts.models import Company, CompanySize, Contact, LifecycleStage, PhoneKind, SourceChannel
from vinculo.core.countries import country_choices
from vinculo.core.forms import ServiceErrorsMixin, StyledFormMixin

EXTRA_ROWS = 1  # empty inputs offered after the filled ones, for another e-mail or phone
_SCALAR = re.compile(r"^(true|false|null|-?\d+(\.\d+)?([eE][-+]?\d+)?)$")


# --- widgets and fields for lists of values ------------------------------------------------------


def _getlist(data: Any, name: str) -> list[str]:
    if isinstance(data, MultiValueDict):
        return data.getlist(name)
    value = data.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


class RepeatedInput(forms.Widget):
    """The same input repeated once per value, plus an empty one; a button adds more (vinculo.js)."""

    template_name = "contacts/widgets/repeated_input.html"

    def __init__(self, input_type: str = "text", attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.input_type = input_type

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        return _getlist(data, name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def format_value(self, value: Any) -> list[str]:  # type: ignore[override]
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [str(v) for v in values if str(v).strip()]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        values = context["widget"]["value"] or []
        context["widget"]["rows"] = [*values, *([""] * EXTRA_ROWS)]
        context["widget"]["input_type"] = self.input_type
        context["widget"]["blank_class"] = _without_invalid(context["widget"]["attrs"].get("class", ""))
        return context


def _without_invalid(css: str) -> str:
    """The classes of an empty extra row: an error is about what was typed, not the spare input."""
    return " ".join(c for c in css.split() if c != "is-invalid")


class PhoneListInput(forms.Widget):
    """A number input and a kind select per phone: `<name>` and `<name>_kind` repeated."""

    template_name = "contacts/widgets/phone_list_input.html"

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[dict[str, str]]:
        numbers = _getlist(data, name)
        kinds = _getlist(data, f"{name}_kind")
        return [{"number": n, "kind": kinds[i] if i < len(kinds) else ""} for i, n in enumerate(numbers)]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def format_value(self, value: Any) -> list[dict[str, str]]:  # type: ignore[override]
        rows = []
        for item in value or []:
            if isinstance(item, Mapping):
                rows.append({"number": str(item.get("number") or ""), "kind": str(item.get("kind") or "")})
            else:
                rows.append({"number": str(item), "kind": ""})
        return [row for row in rows if row["number"].strip()]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        rows = context["widget"]["value"] or []
        context["widget"]["rows"] = [*rows, *([{"number": "", "kind": ""}] * EXTRA_ROWS)]
        context["widget"]["kinds"] = PhoneKind.choices
        context["widget"]["blank_class"] = _without_invalid(context["widget"]["attrs"].get("class", ""))
        return context


class StringListField(forms.Field):
    """Several text values; empty ones are dropped. Validation is the service's."""

    widget = RepeatedInput

    def to_python(self, value: Any) -> list[str]:
        return [v.strip() for v in (value or []) if isinstance(v, str) and v.strip()]


class PhoneListField(forms.Field):
    """Phones as `{"number", "kind"}`; rows without a number are dropped."""

    widget = PhoneListInput

    def to_python(self, value: Any) -> list[dict[str, str]]:
        phones = []
        for item in value or []:
            number = str(item.get("number") or "").strip()
            if number:
                phones.append({"number": number, "kind": str(item.get("kind") or PhoneKind.MOBILE)})
        return phones


class TagNamesField(forms.CharField):
    """Tag names separated by commas."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        names: list[str] = []
        for name in text.split(","):
            if name.strip() and name.strip().lower() not in [n.lower() for n in names]:
                names.append(name.strip())
        return names

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value


def custom_to_text(custom: Mapping[str, Any]) -> str:
    """Custom properties as `name = value` lines; values that would read back as another type are
    written as JSON (quoted text, numbers, true/false), so that saving unchanged changes nothing.
    Sorted by name: PostgreSQL's jsonb does not keep the order the keys were written in."""
    lines = []
    for key, value in sorted(custom.items()):
        if isinstance(value, str):
            plain = value and not _SCALAR.match(value) and not value.startswith('"') and "\n" not in value
            shown = value if plain and value == value.strip() else json.dumps(value, ensure_ascii=False)
        else:
            shown = json.dumps(value, ensure_ascii=False)
        lines.append(f"{key} = {shown}")
    return "\n".join(lines)


class CustomPropertiesField(forms.CharField):
    """Custom properties typed as `name = value` lines: numbers, true/false and null become those
    types, "quoted" text stays text. The service checks names and values."""

    widget = forms.Textarea

    def to_python(self, value: Any) -> dict[str, Any]:  # type: ignore[override]
        text = super().to_python(value) or ""
        result: dict[str, Any] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            key, sep, rest = line.partition("=")
            if not sep or not key.strip():
                raise ValidationError(_("Line %(n)s: write “name = value”."), code="format", params={"n": number})
            key, rest = key.strip(), rest.strip()
            if key in result:
                raise ValidationError(
                    _("Line %(n)s: “%(key)s” is given twice."), code="duplicate", params={"n": number, "key": key}
                )
            result[key] = self._value(rest)
        return result

    @staticmethod
    def _value(text: str) -> Any:
        if _SCALAR.match(text) or (len(text) >= 2 and text.startswith('"') and text.endswith('"')):
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return custom_to_text(value)
        return value


# --- choices ---------------------------------------------------------------------------------


def time_zone_choices() -> list[tuple[str, str]]:
    return [("", "—"), *all_time_zones()]


def language_choices() -> list[tuple[str, str]]:
    """Every language Django knows, named in the viewer's language."""
    choices = []
    for code, info in LANG_INFO.items():
        if "name" in info:
            choices.append((code, str(get_language_info(code)["name_translated"])))
    return [("", "—"), *sorted(choices, key=lambda c: c[1].casefold())]


def owner_choices(users: Iterable[User]) -> list[tuple[str, str]]:
    return [("", str(_("Nobody"))), *((str(u.pk), str(u)) for u in users)]


def company_choices(companies: Iterable[Company], *, selected: Company | None = None) -> list[tuple[str, str]]:
    """The companies offered in the select; the selected one is always among them."""
    choices = [(str(c.pk), c.name) for c in companies]
    if selected is not None and str(selected.pk) not in {pk for pk, _name in choices}:
        choices.insert(0, (str(selected.pk), selected.name))
    return [("", "—"), *choices]


def _select(choices: Iterable[tuple[str, Any]] = ()) -> forms.Select:
    return forms.Select(choices=list(choices))


# --- forms -----------------------------------------------------------------------------------


def _text(label: Any, model: type[Any], name: str, **kwargs: Any) -> forms.CharField:
    """A text field that keeps what was typed; the model's length is a hint for the browser only."""
    max_length = model._meta.get_field(name).max_length
    widget = kwargs.pop("widget", None) or forms.TextInput()
    if max_length:
        widget.attrs.setdefault("maxlength", str(max_length))
    return forms.CharField(label=label, required=False, widget=widget, **kwargs)


class ContactForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    first_name = _text(_("First name"), Contact, "first_name", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    last_name = _text(_("Last name"), Contact, "last_name", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    emails = StringListField(
        label=_("E-mail addresses"),
        required=False,
        widget=RepeatedInput("email", attrs={"autocomplete": "off", "inputmode": "email"}),
        help_text=_("The first one is the primary address."),
    )
    phones = PhoneListField(
        label=_("Phones"),
        required=False,
        help_text=_("With the country code (+34 …), or set the country below."),
    )
    company = forms.CharField(label=_("Company"), required=False, widget=_select())
    job_title = _text(_("Job title"), Contact, "job_title")
    lifecycle_stage = forms.CharField(
        label=_("Lifecycle stage"), required=False, widget=_select(LifecycleStage.choices)
    )
    source = forms.CharField(label=_("Source channel"), required=False, widget=_select(SourceChannel.choices))
    owner = forms.CharField(label=_("Owner"), required=False, widget=_select())
    tags = TagNamesField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))
    street = _text(_("Street"), Contact, "street")
    postal_code = _text(_("Postal code"), Contact, "postal_code")
    city = _text(_("City"), Contact, "city")
    region = _text(_("Region"), Contact, "region")
    country = forms.CharField(label=_("Country"), required=False, widget=_select())
    language = forms.CharField(label=_("Language"), required=False, widget=_select())
    time_zone = forms.CharField(label=_("Time zone"), required=False, widget=TimeZoneSelect())
    custom = CustomPropertiesField(
        label=_("Custom properties"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_("One per line: name = value."),
    )

    def __init__(
        self,
        *args: Any,
        owners: Iterable[User] = (),
        companies: Iterable[Company] = (),
        selected_company: Company | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].widget.choices = owner_choices(owners)  # type: ignore[attr-defined]
        self.fields["company"].widget.choices = company_choices(  # type: ignore[attr-defined]
            companies, selected=selected_company
        )
        self.fields["country"].widget.choices = country_choices()  # type: ignore[attr-defined]
        self.fields["language"].widget.choices = language_choices()  # type: ignore[attr-defined]
        self.fields["time_zone"].widget.choices = time_zone_choices()  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(contact: Contact) -> dict[str, Any]:
        return {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "emails": [e.email for e in contact.emails.all()],
            "phones": [{"number": p.number, "kind": p.kind} for p in contact.phones.all()],
            "company": str(contact.company_id or ""),
            "job_title": contact.job_title,
            "lifecycle_stage": contact.lifecycle_stage,
            "source": contact.source,
            "owner": str(contact.owner_id or ""),
            "tags": [t.name for t in contact.tags.all()],
            "street": contact.street,
            "postal_code": contact.postal_code,
            "city": contact.city,
            "region": contact.region,
            "country": str(contact.country or ""),
            "language": contact.language,
            "time_zone": contact.time_zone,
            "custom": contact.custom,
        }

    def service_data(self) -> dict[str, Any]:
        """What the service takes: every field, as parsed."""
        return dict(self.cleaned_data)


class CompanyForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    name = _text(_("Name"), Company, "name")
    domain = _text(
        _("Web domain"),
        Company,
        "domain",
        widget=forms.TextInput(attrs={"placeholder": "example.com", "inputmode": "url", "autocomplete": "off"}),
    )
    industry = _text(_("Industry"), Company, "industry")
    size = forms.CharField(label=_("Size"), required=False, widget=_select([("", "—"), *CompanySize.choices]))
    phone = _text(_("Phone"), Company, "phone", widget=forms.TextInput(attrs={"type": "tel"}))
    owner = forms.CharField(label=_("Owner"), required=False, widget=_select())
    tags = TagNamesField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))
    street = _text(_("Street"), Company, "street")
    postal_code = _text(_("Postal code"), Company, "postal_code")
    city = _text(_("City"), Company, "city")
    region = _text(_("Region"), Company, "region")
    country = forms.CharField(label=_("Country"), required=False, widget=_select())
    custom = CustomPropertiesField(
        label=_("Custom properties"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_("One per line: name = value."),
    )

    def __init__(self, *args: Any, owners: Iterable[User] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].widget.choices = owner_choices(owners)  # type: ignore[attr-defined]
        self.fields["country"].widget.choices = country_choices()  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(company: Company) -> dict[str, Any]:
        return {
            "name": company.name,
            "domain": company.domain,
            "industry": company.industry,
            "size": company.size,
            "phone": company.phone,
            "owner": str(company.owner_id or ""),
            "tags": [t.name for t in company.tags.all()],
            "street": company.street,
            "postal_code": company.postal_code,
            "city": company.city,
            "region": company.region,
            "country": str(company.country or ""),
            "custom": company.custom,
        }

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class NoteForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    body = forms.CharField(
        label=_("Note"),
        required=False,
        strip=False,
        help_text=_(
            "Mention a colleague with @ and their first name (@Ana), their full name joined by dots "
            "(@ana.garcia) or the name of their e-mail address (@agarcia) to tell them of the note when "
            "it is added. A name two colleagues share mentions nobody: write more of it."
        ),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": "10000", "placeholder": _("Write a note…")}),
    )


class TagForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), required=False, widget=forms.TextInput(attrs={"maxlength": "50"}))
    color = forms.CharField(
        label=_("Colour"),
        required=False,
        initial="#6c757d",
        widget=forms.TextInput(attrs={"type": "color"}),
    )


class BulkAction:
    ASSIGN_OWNER = "assign_owner"
    ADD_TAG = "add_tag"
    REMOVE_TAG = "remove_tag"
    DELETE = "delete"

    CHOICES = (
        (ASSIGN_OWNER, _("Assign owner")),
        (ADD_TAG, _("Add tag")),
        (REMOVE_TAG, _("Remove tag")),
        (DELETE, _("Delete")),
    )


class BulkForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    """An action on the rows ticked in a list; `ids` come as repeated values."""

    action = forms.ChoiceField(label=_("Action"), choices=[("", _("With the selected…")), *BulkAction.CHOICES])
    ids = StringListField(required=False, widget=forms.MultipleHiddenInput)
    owner = forms.CharField(label=_("Owner"), required=False, widget=_select())
    tag = forms.CharField(label=_("Tag"), required=False, widget=forms.TextInput(attrs={"maxlength": "50"}))
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, owners: Iterable[User] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].widget.choices = owner_choices(owners)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") in (BulkAction.ADD_TAG, BulkAction.REMOVE_TAG) and not (data.get("tag") or "").strip():
            self.add_error("tag", _("Name the tag."))
        if not data.get("ids"):
            self.add_error(None, _("Select at least one row."))
        return data
