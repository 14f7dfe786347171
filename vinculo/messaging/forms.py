"""Settings forms of the messaging layer (subscription types, the SMTP server); the services check again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vinculo.core.forms import StyledFormMixin
from vinculo.messaging.models import LawfulBasis, OptMode, SmtpSecurity, SuppressionReason


class SubscriptionTypeForm(StyledFormMixin, forms.Form):
    key = forms.CharField(
        label=_("Key"),
        max_length=64,
        help_text=_("How forms, imports and the API name it, e.g. newsletter. Fixed once consent is recorded."),
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    lawful_basis = forms.ChoiceField(label=_("Lawful basis"), choices=LawfulBasis.choices, initial=LawfulBasis.CONSENT)
    opt_mode = forms.ChoiceField(
        label=_("Contacts who said nothing"),
        choices=OptMode.choices,
        initial=OptMode.OPT_IN,
        help_text=_("Under consent contacts are subscribed only once they agree."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class OrgSmtpForm(StyledFormMixin, forms.Form):
    """The organisation's SMTP server (Settings → E-mail sending); the service checks the host
    against the address rules and keeps the stored password when the field is left blank."""

    host = forms.CharField(label=_("SMTP server"), max_length=253, help_text=_("For example smtp.example.com."))
    port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=587)
    security = forms.ChoiceField(label=_("Security"), choices=SmtpSecurity.choices, initial=SmtpSecurity.STARTTLS)
    username = forms.CharField(
        label=_("User name"),
        max_length=254,
        required=False,
        help_text=_("Leave blank if the server asks for no login."),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=500,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted. Leave blank to keep the saved one."),
    )
    from_email = forms.EmailField(
        label=_("From address"),
        max_length=254,
        help_text=_("The address the organisation's mail is sent from; the server must allow it."),
    )
    from_name = forms.CharField(label=_("From name"), max_length=100, required=False)


class SuppressionForm(StyledFormMixin, forms.Form):
    address = forms.CharField(label=_("E-mail address"), max_length=254)
    reason = forms.ChoiceField(label=_("Reason"), choices=SuppressionReason.choices, initial=SuppressionReason.MANUAL)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class SuppressionImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("CSV file"), help_text=_("One address a line, optionally followed by a reason: address,reason.")
    )
