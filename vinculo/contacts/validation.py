"""Parsing of customer data that is easy to get wrong: e-mails, phones, domains, custom properties."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from vinculo.core.validation import clean_email_address

MAX_CUSTOM_KEYS = 100
MAX_CUSTOM_VALUE_LENGTH = 2000
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
_CUSTOM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def clean_email(value: Any) -> str:
    """An e-mail address by the rule every part of Vínculo shares (vinculo.core.validation)."""
    return clean_email_address(value)


def clean_phone(value: Any, *, region: str = "") -> str:
    """The number in E.164. Without a leading + the contact's country decides the prefix."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(_("Enter a phone number."))
    if len(value) > 40:
        raise ValidationError(_("A phone number has at most 40 characters."))
    try:
        number = phonenumbers.parse(value.strip(), region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        if not region and not value.strip().startswith("+"):
            raise ValidationError(
                _("“%(value)s”: start with the country code (e.g. +34) or set the country.") % {"value": value.strip()}
            ) from exc
        raise ValidationError(_("“%(value)s” is not a phone number.") % {"value": value.strip()}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("“%(value)s” is not a valid phone number.") % {"value": value.strip()})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_domain(value: Any) -> str:
    """A bare host name: 'https://www.Example.com/about' becomes 'example.com'."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise ValidationError(_("Enter a web domain such as example.com."))
    host = value.strip().lower()
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host).split("/")[0].split("?")[0].split(":")[0]
    host = host.removeprefix("www.")
    if not _DOMAIN.match(host):
        raise ValidationError(_("Enter a web domain such as example.com."))
    return host


def clean_custom(value: Any) -> dict[str, Any]:
    """Custom properties: a flat object of named text, number, true/false or empty values."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError(_("Custom properties must be an object of names and values."))
    if len(value) > MAX_CUSTOM_KEYS:
        raise ValidationError(_("At most %(n)s custom properties.") % {"n": MAX_CUSTOM_KEYS})
    for key, item in value.items():
        if not isinstance(key, str) or not _CUSTOM_KEY.match(key):
            raise ValidationError(
                _("“%(key)s” is not a valid property name (letters, digits and _, starting with a letter).")
                % {"key": str(key)[:64]}
            )
        if not (item is None or isinstance(item, bool | int | float | str)):
            raise ValidationError(_("“%(key)s” must be text, a number, true/false or empty.") % {"key": key})
        if isinstance(item, str) and len(item) > MAX_CUSTOM_VALUE_LENGTH:
            raise ValidationError(
                _("“%(key)s” is longer than %(n)s characters.") % {"key": key, "n": MAX_CUSTOM_VALUE_LENGTH}
            )
    return dict(value)
