"""The settings form of a subscription type; the services validate again (keys, lawful basis)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vinculo.core.forms import StyledFormMixin
from vinculo.messaging.models import LawfulBasis, OptMode


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
