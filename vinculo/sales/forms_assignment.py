"""Forms of the assignment pages (zones, rules, out of office, fallback owner, the rules tester).

They only parse what was typed into the shapes the services take; the services validate and
answer with field errors, which the views put back onto these forms (`apply_service_errors`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vinculo.accounts.models import Team, User
from vinculo.core.countries import country_choices
from vinculo.core.forms import DateTextField, ServiceErrorsMixin, StyledFormMixin
from vinculo.sales.models import AssignmentRule, AssignmentTarget, OutOfOffice, Zone


def _choices(records: Iterable[Any], empty: str) -> list[tuple[str, str]]:
    return [("", empty), *((str(r.pk), str(r)) for r in records)]


def _select(label: Any, **kwargs: Any) -> forms.CharField:
    """A select whose value the service checks (an unknown id gets the service's message)."""
    return forms.CharField(label=label, required=False, widget=forms.Select(), **kwargs)


def _codes(values: list[str] | None) -> str:
    return ", ".join(values or [])


class ZoneForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), required=False, widget=forms.TextInput(attrs={"maxlength": "100"}))
    countries = forms.CharField(
        label=_("Countries"),
        required=False,
        help_text=_("ISO 3166 codes separated by commas, e.g. ES, PT."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    regions = forms.CharField(
        label=_("Regions"),
        required=False,
        help_text=_("Optional: only these regions of those countries, one per line or separated by commas."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    @staticmethod
    def initial_for(zone: Zone) -> dict[str, Any]:
        return {"name": zone.name, "countries": _codes(zone.countries), "regions": "\n".join(zone.regions or [])}

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name, "") for name in ("name", "countries", "regions")}


class AssignmentRuleForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), required=False, widget=forms.TextInput(attrs={"maxlength": "100"}))
    is_active = forms.BooleanField(label=_("Active"), required=False)
    applies_to = _select(_("Applies to"))
    zone = _select(_("Zone"))
    countries = forms.CharField(
        label=_("Countries"), required=False, help_text=_("ISO 3166 codes separated by commas; empty for any.")
    )
    regions = forms.CharField(label=_("Regions"), required=False, help_text=_("Separated by commas; empty for any."))
    product_line = forms.CharField(
        label=_("Product line"), required=False, widget=forms.TextInput(attrs={"maxlength": "100"})
    )
    user = _select(_("Fixed rep"))
    team = _select(
        _("…or round robin in team"),
        help_text=_("Reps take turns by name; those out of office or at capacity are skipped."),
    )
    capacity = forms.CharField(
        label=_("Max open deals per rep"),
        required=False,
        help_text=_("Empty for no limit."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, zones: Iterable[Zone], users: Iterable[User], teams: Iterable[Team], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["applies_to"].widget.choices = AssignmentTarget.choices
        self.fields["zone"].widget.choices = _choices(zones, str(_("Any zone")))
        self.fields["user"].widget.choices = _choices(users, "—")
        self.fields["team"].widget.choices = _choices(teams, "—")

    @staticmethod
    def initial_for(rule: AssignmentRule) -> dict[str, Any]:
        return {
            "name": rule.name,
            "is_active": rule.is_active,
            "applies_to": rule.applies_to,
            "zone": str(rule.zone_id or ""),
            "countries": _codes(rule.countries),
            "regions": _codes(rule.regions),
            "product_line": rule.product_line,
            "user": str(rule.user_id or ""),
            "team": str(rule.team_id or ""),
            "capacity": "" if rule.capacity is None else str(rule.capacity),
        }

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in self.fields}
        data["is_active"] = bool(data["is_active"])
        data["applies_to"] = data["applies_to"] or AssignmentTarget.BOTH
        for name in ("zone", "user", "team"):
            data[name] = data[name] or None
        return data


class OutOfOfficeForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    user = _select(_("Rep"))
    starts_on = DateTextField(label=_("From"))
    ends_on = DateTextField(label=_("Until"))

    def __init__(self, *args: Any, users: Iterable[User], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["user"].widget.choices = _choices(users, "—")

    @staticmethod
    def initial_for(away: OutOfOffice) -> dict[str, Any]:
        return {"user": str(away.user_id), "starts_on": away.starts_on.isoformat(), "ends_on": away.ends_on.isoformat()}

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) or None for name in ("user", "starts_on", "ends_on")}


class FallbackOwnerForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    fallback_owner = _select(
        _("Fallback owner"),
        help_text=_("Gets what no rule matches. Nobody: the person who creates the deal or lead keeps it."),
    )

    def __init__(self, *args: Any, users: Iterable[User], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["fallback_owner"].widget.choices = _choices(users, str(_("Nobody")))

    def service_data(self) -> dict[str, Any]:
        return {"fallback_owner": self.cleaned_data.get("fallback_owner") or None}


class AssignmentPreviewForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    applies_to = _select(_("A new"))
    country = _select(_("Country"))
    region = forms.CharField(label=_("Region"), required=False, widget=forms.TextInput(attrs={"maxlength": "100"}))
    product_line = forms.CharField(
        label=_("Product line"), required=False, widget=forms.TextInput(attrs={"maxlength": "100"})
    )
    zone = _select(_("Zone"))

    def __init__(self, *args: Any, zones: Iterable[Zone], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["applies_to"].widget.choices = [
            (AssignmentTarget.DEALS, _("Deal")),
            (AssignmentTarget.LEADS, _("Lead")),
        ]
        self.fields["country"].widget.choices = country_choices()
        self.fields["zone"].widget.choices = _choices(zones, str(_("From the country")))

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) or "" for name in self.fields}
