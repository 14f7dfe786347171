"""Forms of the product, price list, quote and order pages.

They only parse what was typed into the shapes the services take; the services validate and
answer with field errors, which the views put back on the form (`apply_service_errors`) and, for
`lines.<i>.<field>`, next to the input of row i.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from vinculo.core.forms import DateTextField, ServiceErrorsMixin, StyledFormMixin
from vinculo.sales.models import PriceList, Product

LINE_INPUTS = ("product", "description", "quantity", "unit_price", "discount_percent", "tax_rate")


class ProductForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    sku = forms.CharField(label=_("SKU"), max_length=64, required=False)
    product_line = forms.CharField(label=_("Product line"), max_length=100, required=False)
    description = forms.CharField(
        label=_("Description"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tax_rate = forms.CharField(label=_("Tax rate (%)"), max_length=12, required=False, initial="0")
    default_price = forms.CharField(
        label=_("Default price"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0.00"}),
        help_text=_("In the organisation's base currency; used when no price list gives a price."),
    )
    is_active = forms.BooleanField(label=_("Active (offered on new quotes and orders)"), required=False, initial=True)

    @staticmethod
    def initial_for(product: Product) -> dict[str, Any]:
        return {
            "name": product.name,
            "sku": product.sku,
            "product_line": product.product_line,
            "description": product.description,
            "tax_rate": product.tax_rate,
            "default_price": "" if product.default_price is None else f"{product.default_price:.2f}",
            "is_active": product.is_active,
        }

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class PriceListForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    currency = forms.CharField(
        label=_("Currency"), max_length=3, required=False, help_text=_("ISO 4217 code, e.g. EUR.")
    )
    is_default = forms.BooleanField(label=_("Default list of its currency"), required=False)

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class PriceListItemForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    product = forms.ChoiceField(label=_("Product"), required=False)
    unit_price = forms.CharField(label=_("Unit price"), max_length=20, required=False)

    def __init__(self, *args: Any, products: Iterable[Product] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "—"), *((str(p.pk), str(p)) for p in products)]  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class QuoteEmailForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    """ "Send by e-mail" on a quote: the service checks the address and lengths."""

    to = forms.CharField(label=_("To"), max_length=254, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    message = forms.CharField(
        label=_("Message"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 8, "maxlength": "20000"})
    )
    # one per opened form: a double click, or the form sent again, e-mails once
    key = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput())


class DocumentForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    """The header of a quote or an order; the lines are parsed by `lines_from_post`."""

    inline_error_prefixes = ("lines.",)  # shown next to the line's input (line_errors)

    contact = forms.ChoiceField(label=_("Contact"), required=False)
    company = forms.ChoiceField(label=_("Company"), required=False)
    deal = forms.ChoiceField(label=_("Deal"), required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    price_list = forms.ChoiceField(
        label=_("Price list"), required=False, help_text=_("Prices the product lines left without a unit price.")
    )
    valid_until = DateTextField(label=_("Valid until"))
    notes = forms.CharField(label=_("Notes"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        contacts: Iterable[Any] = (),
        companies: Iterable[Any] = (),
        deals: Iterable[Any] = (),
        price_lists: Iterable[PriceList] = (),
        kind: str = "quote",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        none = [("", "—")]
        self.fields["contact"].choices = [*none, *((str(c.pk), str(c)) for c in contacts)]  # type: ignore[attr-defined]
        self.fields["company"].choices = [*none, *((str(c.pk), str(c)) for c in companies)]  # type: ignore[attr-defined]
        self.fields["deal"].choices = [*none, *((str(d.pk), str(d)) for d in deals)]  # type: ignore[attr-defined]
        self.fields["price_list"].choices = [  # type: ignore[attr-defined]
            ("", _("Default list of the currency")),
            *((str(p.pk), str(p)) for p in price_lists),
        ]
        if kind == "order":
            del self.fields["valid_until"]

    def service_data(self, lines: list[dict[str, str]]) -> dict[str, Any]:
        data: dict[str, Any] = {name: self.cleaned_data.get(name, "") for name in self.fields}
        data["lines"] = lines
        return data


def lines_from_post(data: QueryDict) -> list[dict[str, str]]:
    """The line rows of the form, in page order; rows left completely empty are dropped."""
    columns = {name: data.getlist(f"line_{name}") for name in LINE_INPUTS}
    count = max((len(values) for values in columns.values()), default=0)
    rows = []
    for i in range(count):
        row = {name: (values[i].strip() if i < len(values) else "") for name, values in columns.items()}
        if any(row.values()):
            rows.append(row)
    return rows


def line_errors(exc: ValidationError | None, count: int) -> list[dict[str, list[str]]]:
    """`lines.<i>.<field>` errors as one dict per row."""
    rows: list[dict[str, list[str]]] = [{} for _ in range(count)]
    if exc is None:
        return rows
    for name, messages in exc.message_dict.items():
        parts = name.split(".")
        if parts[0] == "lines" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < count:
            field = parts[2] if len(parts) > 2 else "product"
            rows[int(parts[1])].setdefault(field, []).extend(messages)
    return rows
