"""Writes of deals: create, update (PATCH semantics), move on the board, delete, line items
(products priced like quote lines; the deal's amount follows their net total).

Every stage change, amount change and owner change is an event on the customer's timeline
(`deal.stage_changed`, `deal.amount_changed`, `deal.owner_changed`), written in the same
transaction as the change. The deal row is locked (`select_for_update`) for every change, so two
people moving the same deal at once are applied one after the other: no lost update, and both
moves are recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership, User
from vinculo.accounts.permissions import require_change, require_delete, require_manager, require_write
from vinculo.contacts.selectors import company_queryset, contact_queryset
from vinculo.contacts.services import clean_member
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.events import emit
from vinculo.core.models import Event
from vinculo.core.validation import (
    MAX_MONEY,
    Errors,
    add_error,
    clean_currency,
    clean_date,
    clean_money,
    clean_probability,
    clean_text,
    keep_linked,
    record_by_id,
    reject_unknown,
)
from vinculo.sales.models import (
    Deal,
    DealLineItem,
    DealStatus,
    ForecastCategory,
    LineItem,
    LostReason,
    Pipeline,
    PriceList,
    Stage,
    StageKind,
    Zone,
)
from vinculo.sales.notifications import notify_deal_assigned
from vinculo.sales.pricing import (
    CENT,
    PricedLine,
    Totals,
    compute_totals,
    price_lines,
    save_line_rows,
)
from vinculo.sales.selectors.deals import deal_queryset
from vinculo.sales.services.assignment import assign_deal, clip_reason

TEXT_FIELDS = {
    "title": 200,
    "probability_reason": 200,
    "next_step": 200,
    "source": 32,
    "campaign": 100,
    "product_line": 100,
    "lost_note": 500,
}
DEAL_FIELDS = (
    *TEXT_FIELDS,
    "amount",
    "currency",
    "expected_close_date",
    "probability",
    "forecast_category",
    "pipeline",
    "stage",
    "contact",
    "company",
    "owner",
    "zone",
    "lost_reason",
)
AUDITED = (
    "title",
    "amount",
    "currency",
    "expected_close_date",
    "probability",
    "probability_reason",
    "forecast_category",
    "next_step",
    "source",
    "campaign",
    "product_line",
    "lost_note",
    "pipeline",
    "stage",
    "status",
    "contact",
    "company",
    "owner",
    "zone",
    "lost_reason",
)
STATUS_OF_KIND = {StageKind.OPEN: DealStatus.OPEN, StageKind.WON: DealStatus.WON, StageKind.LOST: DealStatus.LOST}


def _snapshot(deal: Deal) -> dict[str, Any]:
    return snapshot(deal, list(AUDITED))


def _default_pipeline() -> Pipeline | None:
    return Pipeline.objects.order_by("-is_default", "position", "id").first()


def _apply(actor: Membership, deal: Deal, data: Mapping[str, Any], errors: Errors) -> set[str]:
    """Validate `data` onto the unsaved `deal`; returns the names of the fields given."""
    given = set(data)
    reject_unknown(data, DEAL_FIELDS, errors)
    for name, max_length in TEXT_FIELDS.items():
        if name in data:
            value = clean_text(data[name], name, errors, max_length=max_length, required=name == "title")
            if value is not None:
                setattr(deal, name, value)
    if "amount" in data:
        amount = clean_money(data["amount"], "amount", errors)
        if amount is not None:
            deal.amount = amount
    if "currency" in data:
        currency = clean_currency(data["currency"], "currency", errors)
        if currency is not None:
            deal.currency = currency
    if "expected_close_date" in data:
        close = clean_date(data["expected_close_date"], "expected_close_date", errors)
        if close is not None or data["expected_close_date"] in (None, ""):
            deal.expected_close_date = close
    if "probability" in data and data["probability"] not in (None, ""):
        probability = clean_probability(data["probability"], "probability", errors)
        if probability is not None:
            deal.probability = probability
    if "forecast_category" in data:
        if data["forecast_category"] in ForecastCategory.values:
            deal.forecast_category = data["forecast_category"]
        else:
            add_error(
                errors,
                "forecast_category",
                _("Choose one of %(expected)s.") % {"expected": ", ".join(ForecastCategory.values)},
            )
    if "pipeline" in data:
        pipeline = record_by_id(Pipeline.objects.all(), data["pipeline"], "pipeline", errors, _("No such pipeline."))
        if pipeline is not None:
            deal.pipeline = pipeline
        elif data["pipeline"] in (None, ""):
            add_error(errors, "pipeline", _("This field is required."))
    if "contact" in data:
        deal.contact = record_by_id(
            keep_linked(contact_queryset(actor=actor), deal.contact_id, data["contact"]),
            data["contact"],
            "contact",
            errors,
            _("No such contact."),
        )
    if "company" in data:
        deal.company = record_by_id(
            keep_linked(company_queryset(actor=actor), deal.company_id, data["company"]),
            data["company"],
            "company",
            errors,
            _("No such company."),
        )
    if "owner" in data:
        deal.owner = clean_member(actor, data["owner"], "owner", errors)  # type: ignore[arg-type]
    if "zone" in data:
        deal.zone = record_by_id(Zone.objects.all(), data["zone"], "zone", errors, _("No such zone."))
    if "lost_reason" in data:
        deal.lost_reason = record_by_id(
            LostReason.objects.all(), data["lost_reason"], "lost_reason", errors, _("No such lost reason.")
        )
    return given


def _stage_for(deal: Deal, value: Any, errors: Errors) -> Stage | None:
    """The stage named by `value`, which must belong to the deal's pipeline."""
    stage = record_by_id(Stage.objects.select_related("pipeline"), value, "stage", errors, _("No such stage."))
    if stage is not None and deal.pipeline_id is not None and stage.pipeline_id != deal.pipeline_id:
        add_error(errors, "stage", _("This stage belongs to another pipeline."))
        return None
    return stage


def _enter_stage(deal: Deal, stage: Stage, *, keep_probability: bool) -> None:
    """Set the stage and what follows from it: status, probability, forecast category, closed date."""
    now = timezone.now()
    deal.stage = stage
    deal.stage_entered_at = now
    deal.status = STATUS_OF_KIND[StageKind(stage.kind)]
    if not keep_probability:
        deal.probability = stage.probability
        deal.probability_reason = ""
    if stage.kind == StageKind.WON:
        deal.probability = 100
        deal.probability_reason = ""
        deal.forecast_category = ForecastCategory.CLOSED
        deal.closed_at = deal.closed_at or now
        deal.lost_reason = None
    elif stage.kind == StageKind.LOST:
        deal.probability = 0
        deal.probability_reason = ""
        deal.forecast_category = ForecastCategory.OMITTED
        deal.closed_at = deal.closed_at or now
    else:
        if deal.forecast_category in (ForecastCategory.CLOSED, ForecastCategory.OMITTED):
            deal.forecast_category = ForecastCategory.PIPELINE
        deal.closed_at = None
        deal.lost_reason = None


def _top_position(stage: Stage) -> int:
    lowest = Deal.objects.filter(stage=stage).aggregate(m=Min("position"))["m"]
    return (lowest if lowest is not None else 1) - 1


def _emit(deal: Deal, actor: User | None, type: str, properties: dict[str, Any]) -> Event:
    return emit(
        organization=deal.organization,
        type=type,
        contact=deal.contact,
        company=deal.company if deal.contact_id is None else None,
        actor=actor,
        properties={"deal_id": deal.pk, "title": deal.title, **properties},
    )


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


@transaction.atomic
def deal_create(*, actor: Membership, data: Mapping[str, Any]) -> Deal:
    """A new deal in the given (or the default) pipeline, in the given (or its first) stage.

    Without an owner in `data`, the assignment rules choose one (services.assignment).
    """
    require_write(actor)
    organization = actor.organization
    deal = Deal(organization=organization, currency=organization.base_currency)
    errors: Errors = {}
    _apply(actor, deal, data, errors)
    if "title" not in data:
        add_error(errors, "title", _("This field is required."))
    if deal.pipeline_id is None and "pipeline" not in errors:
        pipeline = _default_pipeline()
        if pipeline is None:
            add_error(errors, "pipeline", _("Create a pipeline first."))
        else:
            deal.pipeline = pipeline
    stage: Stage | None = None
    if deal.pipeline_id is not None:
        if data.get("stage") not in (None, ""):
            stage = _stage_for(deal, data["stage"], errors)
        else:
            stage = deal.pipeline.stages.order_by("position", "id").first()
            if stage is None:
                add_error(errors, "stage", _("This pipeline has no stages."))
    if errors:
        raise ValidationError(errors)
    assert stage is not None
    keep = "probability" in data and data["probability"] not in (None, "")
    if keep and deal.probability != stage.probability and not deal.probability_reason:
        raise ValidationError({"probability_reason": [_("Say why this deal's probability differs from its stage's.")]})
    _enter_stage(deal, stage, keep_probability=keep)
    deal.position = _top_position(stage)
    if "owner" not in data:
        assign_deal(deal=deal, actor=actor)
    deal.save()
    audit_create(instance=deal, actor=actor.user, values=_snapshot(deal), organization=organization)
    created = _emit(
        deal,
        actor.user,
        "deal.created",
        {
            "amount": _money(deal.amount),
            "currency": deal.currency,
            "pipeline": deal.pipeline.name,
            "stage_id": stage.pk,
            "stage": stage.name,
            "owner": str(deal.owner) if deal.owner_id else None,
        },
    )
    notify_deal_assigned(deal=deal, actor=actor.user, event_id=created.pk)
    return deal


def _lock(deal: Deal) -> Deal:
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins
    return (
        Deal.objects.select_for_update(of=("self",))
        .select_related("pipeline", "stage", "owner", "contact", "company")
        .get(pk=deal.pk)
    )


@transaction.atomic
def deal_update(*, actor: Membership, deal: Deal, data: Mapping[str, Any]) -> Deal:
    """Change the given fields only. A new stage must belong to the (new) pipeline; changing the
    pipeline without a stage puts the deal in the new pipeline's first stage."""
    deal = _lock(deal)
    require_change(actor, deal)
    before = _snapshot(deal)
    old_stage, old_amount, old_owner = deal.stage, deal.amount, deal.owner
    old_currency = deal.currency
    errors: Errors = {}
    _apply(actor, deal, data, errors)
    if deal.currency != old_currency and DealLineItem.objects.filter(deal=deal).exists():
        add_error(
            errors,
            "currency",
            _("This deal's line items are priced in %(code)s: change or remove them first.") % {"code": old_currency},
        )
    new_stage: Stage | None = None
    if data.get("stage") not in (None, ""):
        new_stage = _stage_for(deal, data["stage"], errors)
    elif "stage" in data:
        add_error(errors, "stage", _("This field is required."))
    elif deal.pipeline_id != old_stage.pipeline_id and "pipeline" not in errors:
        new_stage = deal.pipeline.stages.order_by("position", "id").first()
        if new_stage is None:
            add_error(errors, "stage", _("This pipeline has no stages."))
    if errors:
        raise ValidationError(errors)
    probability_given = "probability" in data and data["probability"] not in (None, "")
    if new_stage is not None and new_stage.pk != old_stage.pk:
        _enter_stage(deal, new_stage, keep_probability=probability_given)
        deal.position = _top_position(new_stage)
    stage = deal.stage
    if probability_given and deal.probability != stage.probability and not stage.is_closed:
        if not deal.probability_reason:
            raise ValidationError(
                {"probability_reason": [_("Say why this deal's probability differs from its stage's.")]}
            )
    elif probability_given and stage.is_closed and deal.probability != (100 if stage.kind == StageKind.WON else 0):
        raise ValidationError({"probability": [_("A closed deal's probability follows its stage.")]})
    elif probability_given and deal.probability == stage.probability:
        deal.probability_reason = ""
    deal.save()
    _record_changes(actor, deal, before, old_stage=old_stage, old_amount=old_amount, old_owner=old_owner)
    return deal


def _record_changes(
    actor: Membership,
    deal: Deal,
    before: dict[str, Any],
    *,
    old_stage: Stage,
    old_amount: Decimal,
    old_owner: User | None,
) -> None:
    changes = diff(before, _snapshot(deal))
    if not changes:
        return
    audit_update(instance=deal, actor=actor.user, changes=changes, organization=deal.organization)
    if deal.stage_id != old_stage.pk:
        _emit(
            deal,
            actor.user,
            "deal.stage_changed",
            {
                "from_stage_id": old_stage.pk,
                "from_stage": old_stage.name,
                "to_stage_id": deal.stage_id,
                "to_stage": deal.stage.name,
                "pipeline": deal.pipeline.name,
                "status": deal.status,
                "amount": _money(deal.amount),
                "currency": deal.currency,
                **({"lost_reason": deal.lost_reason.name} if deal.lost_reason is not None else {}),
            },
        )
    if deal.amount != old_amount or "currency" in changes:
        _emit(
            deal,
            actor.user,
            "deal.amount_changed",
            {"from": _money(old_amount), "to": _money(deal.amount), "currency": deal.currency},
        )
    if deal.owner_id != (old_owner.pk if old_owner else None):
        changed = _emit(
            deal,
            actor.user,
            "deal.owner_changed",
            {
                "from_owner_id": old_owner.pk if old_owner else None,
                "from": str(old_owner) if old_owner else None,
                "to_owner_id": deal.owner_id,
                "to": str(deal.owner) if deal.owner_id else None,
            },
        )
        notify_deal_assigned(deal=deal, actor=actor.user, event_id=changed.pk)


@transaction.atomic
def deal_move(
    *,
    actor: Membership,
    deal: Deal,
    stage: Any,
    before: Any = None,
    lost_reason: Any = None,
) -> Deal:
    """Move a card on the board: into `stage` (an id of the deal's pipeline), placed above the card
    `before` (an id in that column) or at the bottom of the column when `before` is empty."""
    deal = _lock(deal)
    require_change(actor, deal)
    snapshot_before = _snapshot(deal)
    old_stage, old_amount, old_owner = deal.stage, deal.amount, deal.owner
    errors: Errors = {}
    target = _stage_for(deal, stage, errors) if stage not in (None, "") else None
    if target is None and not errors:
        add_error(errors, "stage", _("This field is required."))
    reason = None
    if lost_reason not in (None, ""):
        reason = record_by_id(LostReason.objects.all(), lost_reason, "lost_reason", errors, _("No such lost reason."))
    anchor: Deal | None = None
    if before not in (None, "") and target is not None:
        anchor = record_by_id(
            Deal.objects.filter(stage=target).exclude(pk=deal.pk), before, "before", errors, _("No such card here.")
        )
    if errors:
        raise ValidationError(errors)
    assert target is not None
    if target.pk != old_stage.pk:
        _enter_stage(deal, target, keep_probability=False)
    if reason is not None and target.kind == StageKind.LOST:
        deal.lost_reason = reason
    if anchor is not None:
        Deal.objects.filter(stage=target, position__gte=anchor.position).exclude(pk=deal.pk).update(
            position=F("position") + 1
        )
        deal.position = anchor.position
    else:
        highest = Deal.objects.filter(stage=target).exclude(pk=deal.pk).aggregate(m=Max("position"))["m"]
        deal.position = (highest if highest is not None else -1) + 1
    deal.save()
    _record_changes(actor, deal, snapshot_before, old_stage=old_stage, old_amount=old_amount, old_owner=old_owner)
    return deal


@transaction.atomic
def deal_delete(*, actor: Membership, deal: Deal) -> None:
    deal = _lock(deal)
    require_delete(actor, deal)
    pk, title, contact, company = deal.pk, deal.title, deal.contact, deal.company
    audit_delete(instance=deal, actor=actor.user, values=_snapshot(deal), organization=deal.organization)
    deal.delete()
    emit(
        organization=actor.organization,
        type="deal.deleted",
        contact=contact,
        company=company if contact is None else None,
        actor=actor.user,
        properties={"deal_id": pk, "title": title},
    )


def deal_touch(*, deal_id: int, when: Any = None) -> None:
    """Note that something happened on a deal (an activity, a quote): it is not going stale."""
    Deal.objects.filter(pk=deal_id).update(last_activity_at=when or timezone.now())


# --- line items (products on a deal) ---------------------------------------------------------------


def net_total(totals: Totals) -> Decimal:
    """Subtotal − discounts of the exact line amounts, rounded once (ROUND_HALF_EVEN to cents); tax
    is not included."""
    return sum((line.net for line in totals.lines), Decimal(0)).quantize(CENT, rounding=ROUND_HALF_EVEN)


def line_item_totals(items: Iterable[LineItem]) -> Totals:
    """The totals of stored line items (their amounts summed exactly, each sum rounded once)."""
    return compute_totals([PricedLine.from_stored(item) for item in items])


def _price_deal_lines(deal: Deal, lines: Any, errors: Errors) -> list[PricedLine]:
    """The lines priced in the deal's currency by that currency's default price list; errors go
    under `lines` and `lines.<i>.<field>`, as for quotes. An empty list is valid (no lines)."""
    if isinstance(lines, list | tuple) and not lines:
        return []
    price_list = PriceList.objects.filter(currency=deal.currency, is_default=True).order_by("id").first()
    priced = price_lines(lines=lines, currency=deal.currency, price_list=price_list, errors=errors)
    if not errors and net_total(compute_totals(priced)) > MAX_MONEY:
        add_error(errors, "lines", _("These lines add up to more than the largest amount a deal can hold."))
    return priced


def deal_line_items_preview(*, actor: Membership, deal: Deal, lines: Any) -> tuple[Totals, Errors]:
    """The totals `deal_set_line_items` would save, with the errors that would refuse them (nothing
    is written); for the line editor's live totals."""
    errors: Errors = {}
    priced = _price_deal_lines(deal, lines, errors)
    return compute_totals(priced), errors


@transaction.atomic
def deal_set_line_items(*, actor: Membership, deal: Deal, lines: Any) -> Totals:
    """Replace the deal's line items with `lines` (dicts shaped like quote lines: product,
    description, quantity, unit_price, discount_percent, tax_rate) and return their totals.

    Lines are priced in the deal's currency: a product line without a unit price takes the price of
    that currency's default price list (a product without one is refused under
    `lines.<i>.product`). The deal's amount becomes the lines' net total, that is the subtotal
    minus the discounts, tax excluded, rounded once; it is set through `deal_update`, so the change
    is audited and emits `deal.amount_changed`. An empty list removes every line and leaves the
    amount as it was. Bad input raises ValidationError with field errors and changes nothing.
    """
    deal = _lock(deal)
    require_change(actor, deal)
    errors: Errors = {}
    priced = _price_deal_lines(deal, lines, errors)
    if errors:
        raise ValidationError(errors)
    DealLineItem.objects.filter(deal=deal).delete()
    save_line_rows(DealLineItem, "deal", deal, priced)
    totals = compute_totals(priced)
    if priced:
        deal_update(actor=actor, deal=deal, data={"amount": str(net_total(totals))})
    return totals


# --- bulk actions (the deal list's "with the selected…") -------------------------------------------

MAX_BULK = 500


def _bulk(actor: Membership, ids: Any) -> list[Deal]:
    """The visible deals among `ids` (others are left out, as on the list), in id order."""
    clean_ids: list[int] = []
    for value in ids or []:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValidationError({"ids": [_("Deal ids must be whole numbers.")]}) from None
        if not 0 < number < 2**63:
            raise ValidationError({"ids": [_("Deal ids must be whole numbers.")]})
        clean_ids.append(number)
    if not clean_ids:
        raise ValidationError({"ids": [_("Select at least one deal.")]})
    if len(clean_ids) > MAX_BULK:
        raise ValidationError({"ids": [_("At most %(n)s deals at once.") % {"n": MAX_BULK}]})
    return list(deal_queryset(actor=actor).filter(pk__in=clean_ids).order_by("id"))


@transaction.atomic
def deal_bulk_assign_owner(*, actor: Membership, ids: Any, owner: Any) -> int:
    """Give the selected deals to `owner` (a user id; empty for nobody). All or nothing."""
    deals = _bulk(actor, ids)
    for deal in deals:
        deal_update(actor=actor, deal=deal, data={"owner": owner or None})
    return len(deals)


@transaction.atomic
def deal_bulk_move(*, actor: Membership, ids: Any, stage: Any, lost_reason: Any = None) -> int:
    """Move the selected deals to the bottom of `stage`; every deal must be in that stage's pipeline."""
    deals = _bulk(actor, ids)
    for deal in deals:
        deal_move(actor=actor, deal=deal, stage=stage, lost_reason=lost_reason)
    return len(deals)


@transaction.atomic
def deal_bulk_delete(*, actor: Membership, ids: Any) -> int:
    deals = _bulk(actor, ids)
    for deal in deals:
        require_delete(actor, deal)
    for deal in deals:
        deal_delete(actor=actor, deal=deal)
    return len(deals)


@transaction.atomic
def deal_reassign(*, actor: Membership, deal: Deal, owner: Any) -> Deal:
    """A manager overrides the rules: the new owner, and the reason says who decided."""
    require_manager(actor)
    deal = deal_update(actor=actor, deal=deal, data={"owner": owner})
    reason = clip_reason(_("Overridden by %(name)s.") % {"name": actor.user})
    Deal.objects.filter(pk=deal.pk).update(assignment_reason=reason, assigned_by_rule=None)
    deal.assignment_reason, deal.assigned_by_rule = reason, None
    return deal
