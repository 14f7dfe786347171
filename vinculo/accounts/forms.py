from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from vinculo.accounts.models import User
from vinculo.core.forms import StyledFormMixin


class LoginForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(
        label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class SignUpForm(StyledFormMixin, forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(
        label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not a common password."),
    )
    organization_name = forms.CharField(label=_("Company name"), max_length=150)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="en")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this e-mail already exists. Log in instead."))
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password"):
            candidate = User(email=data.get("email", ""), full_name=data.get("full_name", ""))
            try:
                password_validation.validate_password(data["password"], candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class OrganizationForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=150)
    base_currency = forms.RegexField(
        label=_("Base currency"),
        regex=r"^[A-Z]{3}$",
        initial="EUR",
        max_length=3,
        help_text=_("ISO 4217 code, e.g. EUR or USD."),
        error_messages={"invalid": _("Use a three-letter ISO 4217 code such as EUR.")},
    )


class ProfileForm(StyledFormMixin, forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, help_text=_("e.g. Europe/Madrid"))

    def clean_time_zone(self) -> str:
        import zoneinfo

        tz = self.cleaned_data["time_zone"].strip()
        if tz not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("Unknown time zone."))
        return tz
