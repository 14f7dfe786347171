"""The sales lists' columns, filters and sorts for saved views (the registry lives in contacts)."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vinculo.contacts.list_registry import Column, ListSpec, register
from vinculo.sales.models import OrderStatus
from vinculo.sales.selectors import activities
from vinculo.sales.selectors.deals import DEAL_SORTS, LIST_PARAMS, parse_deal_filters

DEAL_FILTERS = tuple(sorted(LIST_PARAMS - {"sort", "page", "per_page"}))
DEAL_COLUMNS = (
    Column("stage", gettext_lazy("Stage")),
    Column("amount", gettext_lazy("Amount")),
    Column("customer", gettext_lazy("Customer")),
    Column("owner", gettext_lazy("Owner")),
    Column("close", gettext_lazy("Close")),
    Column("probability", gettext_lazy("Probability")),
    Column("pipeline", gettext_lazy("Pipeline")),
    Column("created", gettext_lazy("Created")),
    Column("updated", gettext_lazy("Updated")),
)
ORDER_COLUMNS = (
    Column("customer", gettext_lazy("Customer")),
    Column("status", gettext_lazy("Status")),
    Column("channel", gettext_lazy("Channel")),
    Column("owner", gettext_lazy("Owner")),
    Column("total", gettext_lazy("Total")),
    Column("date", gettext_lazy("Date")),
)

ACTIVITY_COLUMNS = (
    Column("kind", gettext_lazy("Kind")),
    Column("due", gettext_lazy("Due")),
    Column("done", gettext_lazy("Done")),
    Column("assignee", gettext_lazy("Assigned to")),
    Column("contact", gettext_lazy("Contact")),
    Column("deal", gettext_lazy("Deal")),
    Column("company", gettext_lazy("Company")),
    Column("created", gettext_lazy("Created")),
)


def _check_deal_filters(filters: Mapping[str, str]) -> None:
    parse_deal_filters(filters, strict=True)


def _check_order_filters(filters: Mapping[str, str]) -> None:
    status = filters.get("status", "")
    if status and status not in OrderStatus.values:
        raise ValidationError(
            {"status": _("Unknown status. Allowed: %(names)s.") % {"names": ", ".join(OrderStatus.values)}}
        )
    if len(filters.get("q", "")) > 200:
        raise ValidationError({"q": _("At most 200 characters.")})


def _check_activity_filters(filters: Mapping[str, str]) -> None:
    activities.parse_activity_list_filters(filters, strict=True)


def register_lists() -> None:
    register(
        ListSpec(
            kind="deals",
            url_name="sales:deal_list",
            create_url_name="sales:deal_create",
            columns=DEAL_COLUMNS,
            default_columns=("stage", "amount", "customer", "owner", "close", "created"),
            filters=DEAL_FILTERS,
            sorts=tuple(k for k in DEAL_SORTS if k != "position"),
            check_filters=_check_deal_filters,
        )
    )
    register(
        ListSpec(
            kind="orders",
            url_name="sales:order_list",
            create_url_name="sales:order_create",
            columns=ORDER_COLUMNS,
            default_columns=("customer", "status", "channel", "owner", "total", "date"),
            filters=("q", "status"),
            sorts=(),
            check_filters=_check_order_filters,
        )
    )
    register(
        ListSpec(
            kind="activities",
            url_name="sales:activity_list",
            create_url_name="sales:activity_create",
            columns=ACTIVITY_COLUMNS,
            default_columns=("kind", "due", "done", "assignee", "contact", "deal"),
            filters=activities.LIST_FILTERS,
            sorts=tuple(activities.ACTIVITY_SORTS),
            check_filters=_check_activity_filters,
        )
    )
