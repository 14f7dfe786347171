"""Forms of the accounts pages. They parse and check the shape of the input; the services decide
what is allowed and have the last word on validity."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from vinculo.accounts.models import ApiToken, Invitation, Membership, Organization, Role, User
from vinculo.accounts.selectors import member_list
from vinculo.accounts.services import user_set_password
from vinculo.core.countries import country_choices
from vinculo.core.forms import EmailAddressField, StyledFormMixin
from vinculo.core.outgoing_mail import queue_mail


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: next to the field it names, or on top."""
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
            if field in form.fields:  # StyledFormMixin marks invalid fields only in full_clean()
                attrs = form.fields[field].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = (attrs.get("class", "") + " is-invalid").strip()
                attrs["aria-invalid"] = "true"
    else:
        form.add_error(None, exc.messages)


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone, named with spaces for underscores (America/New York)."""
    return [(tz, tz.replace("_", " ")) for tz in sorted(zoneinfo.available_timezones())]


class TimeZoneSelect(forms.Select):
    """The 600 time zones: a plain select without JavaScript; with it, a box that searches the
    select's own options as you type ("madrid", "new york", "utc"), by picker.js's local mode."""

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        local = {
            "data-picker-local": "",
            "data-picker-placeholder": _("Type a city or region, e.g. Madrid…"),
            "data-picker-empty": _("No time zone matches."),
        }
        super().__init__({**local, **(attrs or {})}, choices)


class CheckboxList(forms.CheckboxSelectMultiple):
    """Checkboxes in Bootstrap's `form-check` layout."""

    template_name = "accounts/widgets/choices.html"

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        super().__init__({"class": "form-check-input", **(attrs or {})}, choices)


class RadioList(forms.RadioSelect):
    """Radio buttons in Bootstrap's `form-check` layout."""

    template_name = "accounts/widgets/choices.html"

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        super().__init__({"class": "form-check-input", **(attrs or {})}, choices)


class CurrencyField(forms.CharField):
    """An ISO 4217 code, upper-cased; the service checks it is a real currency."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Base currency"))
        kwargs.setdefault("help_text", _("ISO 4217 code, e.g. EUR or USD."))
        super().__init__(max_length=3, **kwargs)
        self.widget.attrs.update({"autocapitalize": "characters", "spellcheck": "false", "class": "text-uppercase"})

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value)).upper()


class LoginForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(
        label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class SignUpForm(StyledFormMixin, forms.Form):
    """Sign up. With an invitation, the e-mail is the invited one and no organisation is created."""

    full_name = forms.CharField(label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autofocus": True}))
    email = EmailAddressField(
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
    # filled with the browser's time zone by accounts/signup.js; left empty (no script), it is UTC
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        choices=lambda: [("", _("Detect automatically (UTC if unknown)")), *time_zone_choices()],
        error_messages={"invalid_choice": _("Unknown time zone. Choose one from the list.")},
        help_text=_("Your agenda and reminders use it; taken from your browser."),
        widget=TimeZoneSelect(attrs={"data-browser-time-zone": "", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, invitation: Invitation | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invitation = invitation
        if invitation is not None:
            del self.fields["organization_name"]
            self.fields["email"].disabled = True
            self.fields["email"].initial = invitation.email
            self.fields["email"].help_text = _("The address the invitation was sent to.")

    def clean_time_zone(self) -> str:
        return str(self.cleaned_data.get("time_zone") or "") or "UTC"

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
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
    base_currency = CurrencyField(initial="EUR")


class OrganizationSettingsForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=150)
    base_currency = CurrencyField()
    language = forms.ChoiceField(
        label=_("Default language"),
        choices=settings.LANGUAGES,
        help_text=_("For e-mails the organisation sends, such as invitations."),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices, widget=TimeZoneSelect)
    country = forms.ChoiceField(
        label=_("Country"),
        required=False,
        choices=country_choices,
        help_text=_("Phone numbers of this country are shown in national format, the others in international format."),
        error_messages={"invalid_choice": _("Unknown country. Choose one from the list.")},
    )

    @classmethod
    def for_organization(
        cls, org: Organization, data: Any = None, *, read_only: bool = False
    ) -> OrganizationSettingsForm:
        form = cls(
            data,
            initial={
                "name": org.name,
                "base_currency": org.base_currency,
                "language": org.language,
                "time_zone": org.time_zone,
                "country": str(org.country or ""),
            },
        )
        if read_only:
            for field in form.fields.values():
                field.disabled = True
        return form


class ProfileForm(StyledFormMixin, forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices, widget=TimeZoneSelect)


class StyledPasswordChangeForm(StyledFormMixin, PasswordChangeForm):
    pass


class StyledPasswordResetForm(StyledFormMixin, PasswordResetForm):
    """Asks for the e-mail; Django sends the link only to an active account and says the same
    either way, so the form does not reveal who has an account.

    The form is checked in the request and saved by a task (accounts.tasks.send_password_reset):
    the mail is queued (install-level: a password belongs to no organisation), in the user's
    language, and sent by the task worker, not inside the request."""

    EMAIL_TEMPLATE = "accounts/email/password_reset.txt"
    SUBJECT_TEMPLATE = "accounts/email/password_reset_subject.txt"

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user = context.get("user")
        language = getattr(user, "language", "") or translation.get_language() or settings.LANGUAGE_CODE
        with translation.override(language):
            subject = "".join(render_to_string(subject_template_name, context).splitlines())
            body = render_to_string(email_template_name, context)
            html = render_to_string(html_email_template_name, context) if html_email_template_name else ""
        queue_mail(
            organization=None,
            kind="system",
            to=to_email,
            subject=subject,
            text=body,
            html=html,
            from_email=from_email or "",
            language=language,
        )


class ResetPasswordForm(StyledFormMixin, SetPasswordForm):
    """The new password from a reset link, saved through the accounts service."""

    def save(self, commit: bool = True) -> Any:
        return user_set_password(user=self.user, password=self.cleaned_data["new_password1"])


def role_choices(actor: Membership) -> list[tuple[str, Any]]:
    """The roles `actor` may hand out: only owners make owners."""
    return [(value, label) for value, label in Role.choices if value != Role.OWNER or actor.role == Role.OWNER]


class MemberRoleForm(StyledFormMixin, forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class InvitationForm(StyledFormMixin, forms.Form):
    email = EmailAddressField(label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.SALES)

    def __init__(self, *args: Any, actor: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(actor)  # type: ignore[attr-defined]


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.user.full_name} ({obj.user.email})"


class TeamForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=100)
    members = MemberChoiceField(
        label=_("Members"), queryset=Membership.objects.none(), required=False, widget=CheckboxList
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = member_list(organization=organization)  # type: ignore[attr-defined]


class ApiTokenForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “Website forms” or “Shop integration”."),
    )
    scope = forms.ChoiceField(
        label=_("Access"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ, widget=RadioList
    )
