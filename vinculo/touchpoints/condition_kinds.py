"""The condition kinds of `touchpoints` (vinculo/contacts/conditions.py): "submitted form F", from
the `form.submitted` events of the organisation's web forms. Registered from TouchpointsConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils.translation import gettext_lazy

from vinculo.contacts.condition_kinds import check_window, event_q
from vinculo.contacts.conditions import RECORDS, ConditionKind, register_condition_kind
from vinculo.touchpoints.models import WebForm

if TYPE_CHECKING:
    from vinculo.accounts.models import Organization


def _known_forms(organization: Organization, ids: list[int]) -> set[int]:
    return set(WebForm.objects.filter(organization=organization, id__in=ids).values_list("id", flat=True))


def _check(condition: Mapping[str, Any], organization: Organization) -> dict[str, str]:
    return check_window(condition, required=False, counted=False)


def _submitted_q(condition: Mapping[str, Any], organization: Organization) -> Q:
    """has_any: sent one of the forms (in the last `days` days when given); has_none: sent none."""
    return event_q(
        organization,
        type="form.submitted",
        op="did" if condition["op"] == "has_any" else "did_not",
        days=condition.get("days"),
        properties=Q(properties__form_id__in=condition["value"]),
    )


def register() -> None:
    register_condition_kind(
        ConditionKind(
            name="form_submitted",
            label=gettext_lazy("Submitted a form"),
            value_type=RECORDS,
            to_q=_submitted_q,
            depends_on=("form.submitted",),
            known_ids=_known_forms,
            extra_keys=frozenset({"days"}),
            check_extra=_check,
        )
    )
