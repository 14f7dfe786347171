"""Forms of the deal, lead and sales-settings pages. They only carry what was typed (as text) to the
services, which validate it; the services' field errors are put back next to the fields
(`apply_service_errors`), so the pages and the API refuse exactly the same things."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from vinculo.accounts.models import User
from vinculo.contacts.models import Company, Contact
from vinculo.core.forms import DateTextField, ServiceErrorsMixin, StyledFormMixin
from vinculo.sales.models import Deal, ForecastCategory, LostReason, Pipeline, StageKind


def _text(label: Any, max_length: int, **kwargs: Any) -> forms.CharField:
    widget = kwargs.pop("widget", None) or forms.TextInput()
    widget.attrs.setdefault("maxlength", str(max_length))
    return forms.CharField(label=label, required=False, widget=widget, **kwargs)


def _number(label: Any, **attrs: Any) -> forms.CharField:
    """A number typed as text: the service says what is wrong with it, in the same words as the API."""
    return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal", **attrs}))


def _date(label: Any) -> forms.CharField:
    return DateTextField(label=label)


def _choices(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


class LooseChoiceField(forms.ChoiceField):
    """A select whose value the service checks (a record the actor may not see is its error)."""

    def valid_value(self, value: Any) -> bool:
        return True


class ServiceForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    """A form whose fields the service validates; `data_for_service()` is what was typed."""

    def data_for_service(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name, "") for name in self.fields}

    def apply_errors(self, exc: ValidationError, renames: dict[str, str] | None = None) -> None:
        renames = renames or {}
        errors = {renames.get(key, key): messages for key, messages in exc.message_dict.items()}
        self.apply_service_errors(ValidationError(errors))


def _stage_choices(pipelines: Iterable[Pipeline]) -> list[tuple[Any, Any]]:
    """Stages grouped by pipeline (`<optgroup>`), from pipelines with their stages prefetched."""
    return [(p.name, [(str(s.pk), s.name) for s in p.stages.all()]) for p in pipelines]


class DealForm(ServiceForm):
    title = _text(_("Title"), 200)
    pipeline = LooseChoiceField(label=_("Pipeline"), required=False)
    stage = LooseChoiceField(label=_("Stage"), required=False)
    amount = _number(_("Amount"), placeholder="0.00")
    currency = _text(_("Currency"), 3, widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 3}))
    expected_close_date = _date(_("Expected close date"))
    probability = _number(_("Probability (%)"))
    probability_reason = _text(
        _("Why this probability"), 200, help_text=_("Needed when the probability differs from the stage's.")
    )
    owner = LooseChoiceField(label=_("Owner"), required=False)
    contact = LooseChoiceField(label=_("Contact"), required=False)
    company = LooseChoiceField(label=_("Company"), required=False)
    forecast_category = LooseChoiceField(label=_("Forecast category"), choices=ForecastCategory.choices)
    next_step = _text(_("Next step"), 200)
    source = _text(_("Source"), 32)
    campaign = _text(_("Campaign"), 100)
    product_line = _text(_("Product line"), 100)
    lost_reason = LooseChoiceField(label=_("Lost reason"), required=False)
    lost_note = _text(_("Lost note"), 500)

    def __init__(
        self,
        *args: Any,
        pipelines: list[Pipeline],
        owners: Iterable[User],
        contacts: Iterable[Contact],
        companies: Iterable[Company],
        lost_reasons: Iterable[LostReason],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "pipeline").choices = [(str(p.pk), p.name) for p in pipelines]
        _choices(self, "stage").choices = [("", "—"), *_stage_choices(pipelines)]
        _choices(self, "owner").choices = [("", _("Nobody")), *((str(u.pk), str(u)) for u in owners)]
        _choices(self, "contact").choices = [("", "—"), *((str(c.pk), str(c)) for c in contacts)]
        _choices(self, "company").choices = [("", "—"), *((str(c.pk), c.name) for c in companies)]
        _choices(self, "lost_reason").choices = [("", "—"), *((str(r.pk), r.name) for r in lost_reasons)]

    @staticmethod
    def initial_for(deal: Deal) -> dict[str, Any]:
        return {
            "title": deal.title,
            "pipeline": str(deal.pipeline_id),
            "stage": str(deal.stage_id),
            "amount": f"{deal.amount:.2f}",
            "currency": deal.currency,
            "expected_close_date": deal.expected_close_date.isoformat() if deal.expected_close_date else "",
            "probability": str(deal.probability),
            "probability_reason": deal.probability_reason,
            "owner": str(deal.owner_id or ""),
            "contact": str(deal.contact_id or ""),
            "company": str(deal.company_id or ""),
            "forecast_category": deal.forecast_category,
            "next_step": deal.next_step,
            "source": deal.source,
            "campaign": deal.campaign,
            "product_line": deal.product_line,
            "lost_reason": str(deal.lost_reason_id or ""),
            "lost_note": deal.lost_note,
        }

    def data_for_service(self, deal: Deal | None = None) -> dict[str, Any]:
        """What was typed; an untouched probability follows the (new) stage instead of overriding it."""
        data = {name: self.data.get(name, "") for name in self.fields}
        data["title"] = self.data.get("title", "")
        if not data["amount"]:
            data["amount"] = "0"
        untouched = deal is not None and data["probability"] == str(deal.probability)
        if data["probability"] in ("", None) or (untouched and not data["probability_reason"]):
            data.pop("probability")
        for name in ("owner", "contact", "company", "lost_reason", "expected_close_date"):
            data[name] = data[name] or None
        if not data["stage"]:
            data.pop("stage")
        return data


class PipelineForm(ServiceForm):
    name = _text(_("Name"), 100)


class StageForm(ServiceForm):
    name = _text(_("Name"), 100)
    probability = _number(_("Win probability (%)"), size=3)
    kind = LooseChoiceField(label=_("Kind"), choices=StageKind.choices, required=False)


class LostReasonForm(ServiceForm):
    name = _text(_("Reason"), 100)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ExchangeRateForm(ServiceForm):
    currency = _text(_("Currency"), 3, widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 3}))
    rate = _number(_("Rate to the base currency"), placeholder="1.0000")
    valid_from = _date(_("Valid from"))


class LeadConvertForm(ServiceForm):
    company = LooseChoiceField(label=_("Existing company"), required=False)
    company_name = _text(_("…or a new company"), 200)
    create_deal = forms.BooleanField(label=_("Open a deal"), required=False, initial=True)
    deal_title = _text(_("Deal title"), 200)
    deal_amount = _number(_("Amount"), placeholder="0.00")
    deal_currency = _text(_("Currency"), 3, widget=forms.TextInput(attrs={"size": 3}))
    deal_pipeline = LooseChoiceField(label=_("Pipeline"), required=False)
    deal_stage = LooseChoiceField(label=_("Stage"), required=False)
    deal_expected_close_date = _date(_("Expected close date"))

    ERROR_FIELDS = {
        "deal.title": "deal_title",
        "deal.amount": "deal_amount",
        "deal.currency": "deal_currency",
        "deal.pipeline": "deal_pipeline",
        "deal.stage": "deal_stage",
        "deal.expected_close_date": "deal_expected_close_date",
        "company_name.name": "company_name",
        "company_name.domain": "company_name",
    }

    def __init__(self, *args: Any, pipelines: list[Pipeline], companies: Iterable[Company], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "company").choices = [("", "—"), *((str(c.pk), c.name) for c in companies)]
        _choices(self, "deal_pipeline").choices = [(str(p.pk), p.name) for p in pipelines]
        _choices(self, "deal_stage").choices = [("", _("First stage")), *_stage_choices(pipelines)]

    def conversion_args(self) -> dict[str, Any]:
        get = self.data.get
        deal = None
        if get("create_deal"):
            deal = {
                "title": get("deal_title", ""),
                "amount": get("deal_amount", "") or None,
                "currency": get("deal_currency", "") or None,
                "pipeline": get("deal_pipeline", "") or None,
                "stage": get("deal_stage", "") or None,
                "expected_close_date": get("deal_expected_close_date", "") or None,
            }
        return {"company": get("company", "") or None, "company_name": get("company_name", ""), "deal": deal}
