"""Forms render as Bootstrap 5 fields, with each error next to its field (FORM_RENDERER); the
date fields of the pages, bounded like every date Vínculo takes (1900–2200)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting
from django.utils.translation import gettext_lazy as _

from vinculo.core.validation import MAX_DATE, MIN_DATE, normalize_email_address


class BootstrapRenderer(TemplatesSetting):
    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"


class DateTextField(forms.CharField):
    """A day typed in a date picker that offers only 1900-01-01 to 2200-12-31 (`min`/`max`).

    It carries the text as typed: the service validates it (`clean_date`: format and range, with the
    API's messages) and the form shows the service's error next to the field. Refusing here
    instead would drop the value from `cleaned_data`, which the pages pass on as "empty"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        attrs = {"type": "date", "min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()}
        super().__init__(widget=forms.DateInput(attrs=attrs), **kwargs)


class DateTimeTextField(forms.CharField):
    """A moment typed in a `datetime-local` picker bounded like DateTextField; the service
    validates it (`clean_datetime`)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        attrs = {
            "type": "datetime-local",
            "min": f"{MIN_DATE.isoformat()}T00:00",
            "max": f"{MAX_DATE.isoformat()}T23:59",
        }
        super().__init__(widget=forms.DateTimeInput(attrs=attrs), **kwargs)


def widget_css_class(widget: forms.Widget) -> str:
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.Select | forms.SelectMultiple) and not isinstance(widget, forms.CheckboxSelectMultiple):
        return "form-select"
    if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
        return ""
    return "form-control"


class StyledFormMixin:
    """Give every widget its Bootstrap class, and `is-invalid` when the field has errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():  # type: ignore[attr-defined]
            css = widget_css_class(field.widget)
            if css:
                field.widget.attrs["class"] = (field.widget.attrs.get("class", "") + " " + css).strip()

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            if name in self.fields:  # type: ignore[attr-defined]
                widget = self.fields[name].widget  # type: ignore[attr-defined]
                widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()
                widget.attrs["aria-invalid"] = "true"


class ServiceErrorsMixin:
    """Put a service's `ValidationError.message_dict` back onto the form: an error of a known field
    next to it (marked invalid, as StyledFormMixin marks form errors), any other on top. Keys that
    start with one of `inline_error_prefixes` are left out: the page shows them itself (a
    document's `lines.0.quantity` next to that line's input)."""

    inline_error_prefixes: tuple[str, ...] = ()

    def apply_service_errors(self, exc: ValidationError) -> None:
        fields = self.fields  # type: ignore[attr-defined]
        for key, messages in exc.message_dict.items():
            if key not in fields and key.startswith(self.inline_error_prefixes):
                continue
            self.add_error(key if key in fields else None, messages)  # type: ignore[attr-defined]
            if key in fields:
                widget = fields[key].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()
                widget.attrs["aria-invalid"] = "true"


def validate_email_address(value: str) -> None:
    """Django validator form of the one e-mail rule (vinculo.core.validation.normalize_email_address)."""
    if normalize_email_address(value) is None:
        raise ValidationError(_("Enter a valid e-mail address."), code="invalid")


class EmailAddressField(forms.EmailField):
    """An e-mail field that accepts exactly what the services and the API accept (Django's own
    EmailField follows another rule: it refuses some addresses the API takes, and takes others
    it refuses)."""

    default_validators = [validate_email_address]
