"""Writes of the sales process: pipelines, their ordered stages, and the lost-reason list.

Only owners, admins and managers change them (MANAGE_ALL_ROLES): a pipeline is the team's shared
way of working, not one rep's. Every pipeline keeps at least one won and one lost stage, so a deal
can always be closed either way. A stage that still holds deals is not deleted unless its deals are
moved first (`stage_delete(..., move_to=…)` moves them through `deal_move`, one timeline event each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import MANAGE_ALL_ROLES
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.validation import (
    Errors,
    add_error,
    clean_bool,
    clean_probability,
    clean_text,
    record_by_id,
    reject_unknown,
)
from vinculo.sales.models import Deal, LostReason, Pipeline, Stage, StageKind
from vinculo.sales.services.deals import deal_move

# names in the language active when the pipeline is created (English in tests and the API default)
DEFAULT_STAGES: list[dict[str, Any]] = [
    {"name": gettext_lazy("Qualification"), "probability": 10, "kind": StageKind.OPEN},
    {"name": gettext_lazy("Proposal"), "probability": 40, "kind": StageKind.OPEN},
    {"name": gettext_lazy("Negotiation"), "probability": 70, "kind": StageKind.OPEN},
    {"name": gettext_lazy("Won"), "probability": 100, "kind": StageKind.WON},
    {"name": gettext_lazy("Lost"), "probability": 0, "kind": StageKind.LOST},
]


def default_stages() -> list[dict[str, Any]]:
    """The usual five stages, their names translated now."""
    return [{**spec, "name": str(spec["name"])} for spec in DEFAULT_STAGES]


PIPELINE_FIELDS = ("name", "is_default", "position", "stage_order")
STAGE_FIELDS = ("name", "probability", "kind", "position")
LOST_REASON_FIELDS = ("name", "is_active")
MAX_STAGES = 30


def require_pipeline_admin(actor: Membership) -> None:
    if actor.role not in MANAGE_ALL_ROLES:
        raise PermissionDenied(_("Only owners, admins and managers can change the sales settings."))


def can_manage_pipelines(actor: Membership) -> bool:
    return actor.role in MANAGE_ALL_ROLES


def _kind(value: Any, field: str, errors: Errors) -> str | None:
    if value in StageKind.values:
        return str(value)
    add_error(errors, field, _("Choose one of %(expected)s.") % {"expected": ", ".join(StageKind.values)})
    return None


def _position(value: Any, field: str, errors: Errors) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        add_error(errors, field, _("Enter a whole number."))
        return None
    if not 0 <= number <= 10_000:
        add_error(errors, field, _("Enter a number between 0 and 10000."))
        return None
    return number


def _check_kinds(kinds: Sequence[str], errors: Errors, field: str = "stages") -> None:
    if StageKind.WON not in kinds or StageKind.LOST not in kinds:
        add_error(errors, field, _("A pipeline needs at least one won and one lost stage."))


def _stage_snapshot(stage: Stage) -> dict[str, Any]:
    return snapshot(stage, ["name", "probability", "kind", "position"])


def _pipeline_snapshot(pipeline: Pipeline) -> dict[str, Any]:
    return snapshot(pipeline, ["name", "position", "is_default"])


def _name_taken(queryset: Any, name: str, exclude_pk: int | None = None) -> bool:
    qs = queryset.filter(name__iexact=name)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return bool(qs.exists())


def _clean_stage_specs(specs: Any, errors: Errors) -> list[dict[str, Any]]:
    """The stages given to `pipeline_create`: dicts (or (name, probability, kind) tuples)."""
    if not isinstance(specs, list | tuple) or not specs:
        add_error(errors, "stages", _("Give a list of stages."))
        return []
    if len(specs) > MAX_STAGES:
        add_error(errors, "stages", _("At most %(n)s stages.") % {"n": MAX_STAGES})
        return []
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        prefix = f"stages.{index}"
        if isinstance(spec, list | tuple) and len(spec) == 3:
            spec = {"name": spec[0], "probability": spec[1], "kind": spec[2]}
        if not isinstance(spec, Mapping):
            add_error(errors, prefix, _("Give an object."))
            continue
        reject_unknown(spec, ("name", "probability", "kind"), errors)
        name = clean_text(spec.get("name"), f"{prefix}.name", errors, max_length=100, required=True)
        kind = _kind(spec.get("kind", StageKind.OPEN), f"{prefix}.kind", errors)
        probability = spec.get("probability")
        if probability in (None, ""):
            probability = {StageKind.WON: 100, StageKind.LOST: 0}.get(kind or "", 10)  # type: ignore[call-overload]
        prob = clean_probability(probability, f"{prefix}.probability", errors)
        if name is not None and name.lower() in seen:
            add_error(errors, f"{prefix}.name", _("Two stages cannot have the same name."))
        if name is not None:
            seen.add(name.lower())
        cleaned.append({"name": name, "probability": prob, "kind": kind})
    if not any(key.startswith("stages") for key in errors):
        _check_kinds([s["kind"] for s in cleaned], errors)
    return cleaned


@transaction.atomic
def pipeline_create(*, actor: Membership, name: Any, stages: Any = None, is_default: Any = None) -> Pipeline:
    """A new pipeline with its stages (the usual five when none are given). The organisation's
    first pipeline becomes its default one."""
    require_pipeline_admin(actor)
    errors: Errors = {}
    clean_name = clean_text(name, "name", errors, max_length=100, required=True)
    if clean_name and _name_taken(Pipeline.objects.all(), clean_name):
        add_error(errors, "name", _("Another pipeline already has this name."))
    specs = _clean_stage_specs(default_stages() if stages is None else stages, errors)
    default = clean_bool(is_default, "is_default", errors) if is_default is not None else None
    if errors:
        raise ValidationError(errors)
    assert clean_name is not None
    existing = Pipeline.objects.aggregate(m=Max("position"))["m"]
    first = existing is None
    if default:
        Pipeline.objects.filter(is_default=True).update(is_default=False)
    pipeline = Pipeline.objects.create(
        organization=actor.organization,
        name=clean_name,
        position=0 if first else existing + 1,
        is_default=bool(default) or first,
    )
    Stage.objects.bulk_create(
        [Stage(organization=actor.organization, pipeline=pipeline, position=i, **spec) for i, spec in enumerate(specs)]
    )
    values = {**_pipeline_snapshot(pipeline), "stages": [s["name"] for s in specs]}
    audit_create(instance=pipeline, actor=actor.user, values=values, organization=actor.organization)
    return pipeline


def _lock_pipeline(pipeline: Pipeline) -> Pipeline:
    return Pipeline.objects.select_for_update().get(pk=pipeline.pk)


@transaction.atomic
def pipeline_update(*, actor: Membership, pipeline: Pipeline, data: Mapping[str, Any]) -> Pipeline:
    """Rename, make default, move in the list of pipelines, or reorder its stages (`stage_order`:
    every stage id of the pipeline, in the new order)."""
    require_pipeline_admin(actor)
    pipeline = _lock_pipeline(pipeline)
    before = _pipeline_snapshot(pipeline)
    errors: Errors = {}
    reject_unknown(data, PIPELINE_FIELDS, errors)
    if "name" in data:
        name = clean_text(data["name"], "name", errors, max_length=100, required=True)
        if name and _name_taken(Pipeline.objects.all(), name, pipeline.pk):
            add_error(errors, "name", _("Another pipeline already has this name."))
        elif name:
            pipeline.name = name
    make_default = None
    if "is_default" in data:
        make_default = clean_bool(data["is_default"], "is_default", errors)
        if make_default is False and pipeline.is_default:
            add_error(errors, "is_default", _("Make another pipeline the default one instead."))
    if "position" in data:
        position = _position(data["position"], "position", errors)
        if position is not None:
            pipeline.position = position
    order: list[int] | None = None
    if data.get("stage_order") is not None:
        order = _clean_order(pipeline, data["stage_order"], errors)
    if errors:
        raise ValidationError(errors)
    if make_default:
        Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)
        pipeline.is_default = True
    pipeline.save()
    changes = diff(before, _pipeline_snapshot(pipeline))
    if order is not None:
        changes.update(_apply_order(pipeline, order))
    audit_update(instance=pipeline, actor=actor.user, changes=changes, organization=actor.organization)
    return pipeline


def _clean_order(pipeline: Pipeline, value: Any, errors: Errors) -> list[int] | None:
    if not isinstance(value, list | tuple):
        add_error(errors, "stage_order", _("Give the list of the pipeline's stage ids."))
        return None
    try:
        ids = [int(v) for v in value]
    except (TypeError, ValueError):
        add_error(errors, "stage_order", _("Stage ids must be whole numbers."))
        return None
    current = set(Stage.objects.filter(pipeline=pipeline).values_list("id", flat=True))
    if len(ids) != len(set(ids)) or set(ids) != current:
        add_error(errors, "stage_order", _("Give every stage of this pipeline exactly once."))
        return None
    return ids


def _apply_order(pipeline: Pipeline, ids: list[int]) -> dict[str, list[Any]]:
    stages = {s.pk: s for s in Stage.objects.filter(pipeline=pipeline)}
    before = [s.name for s in sorted(stages.values(), key=lambda s: (s.position, s.pk))]
    changed = []
    for position, pk in enumerate(ids):
        stage = stages[pk]
        if stage.position != position:
            stage.position = position
            changed.append(stage)
    Stage.objects.bulk_update(changed, ["position"])
    after = [stages[pk].name for pk in ids]
    return {"stages": [before, after]} if before != after else {}


@transaction.atomic
def stage_reorder(*, actor: Membership, pipeline: Pipeline, stage_ids: Sequence[Any]) -> Pipeline:
    """Put the pipeline's stages in this order (every stage id exactly once)."""
    return pipeline_update(actor=actor, pipeline=pipeline, data={"stage_order": list(stage_ids)})


@transaction.atomic
def pipeline_delete(*, actor: Membership, pipeline: Pipeline) -> None:
    """Delete a pipeline that holds no deals; the default passes to the next pipeline."""
    require_pipeline_admin(actor)
    pipeline = _lock_pipeline(pipeline)
    count = Deal.objects.filter(pipeline=pipeline).count()
    if count:
        raise ValidationError(
            {"__all__": [_("This pipeline has %(n)s deals: move or delete them first.") % {"n": count}]}
        )
    values = {**_pipeline_snapshot(pipeline), "stages": list(pipeline.stages.values_list("name", flat=True))}
    audit_delete(instance=pipeline, actor=actor.user, values=values, organization=actor.organization)
    was_default = pipeline.is_default
    pipeline.delete()
    if was_default:
        successor = Pipeline.objects.order_by("position", "id").first()
        if successor is not None:
            Pipeline.objects.filter(pk=successor.pk).update(is_default=True)


# --- stages --------------------------------------------------------------------------------------


@transaction.atomic
def stage_create(*, actor: Membership, pipeline: Pipeline, data: Mapping[str, Any]) -> Stage:
    """A new stage, at `position` (shifting the later ones) or, by default, before the first
    closed stage (so new open stages land where deals are still being worked)."""
    require_pipeline_admin(actor)
    pipeline = _lock_pipeline(pipeline)
    errors: Errors = {}
    reject_unknown(data, STAGE_FIELDS, errors)
    name = clean_text(data.get("name"), "name", errors, max_length=100, required=True)
    if name and _name_taken(Stage.objects.filter(pipeline=pipeline), name):
        add_error(errors, "name", _("Another stage of this pipeline already has this name."))
    kind = _kind(data.get("kind") or StageKind.OPEN, "kind", errors)
    probability_value = data.get("probability")
    if probability_value in (None, ""):
        probability_value = {StageKind.WON: 100, StageKind.LOST: 0}.get(kind or "", 10)  # type: ignore[call-overload]
    probability = clean_probability(probability_value, "probability", errors)
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))
    if len(stages) >= MAX_STAGES:
        add_error(errors, "__all__", _("At most %(n)s stages.") % {"n": MAX_STAGES})
    position: int | None = None
    if data.get("position") not in (None, ""):
        position = _position(data["position"], "position", errors)
    if errors:
        raise ValidationError(errors)
    if position is None:
        first_closed = next((i for i, s in enumerate(stages) if s.is_closed), len(stages))
        position = first_closed if kind == StageKind.OPEN else len(stages)
    position = min(position, len(stages))
    assert name is not None
    assert kind is not None
    assert probability is not None
    stage = Stage(organization=actor.organization, pipeline=pipeline, name=name, kind=kind, probability=probability)
    stages.insert(position, stage)
    for index, s in enumerate(stages):
        s.position = index
    stage.save()
    Stage.objects.bulk_update([s for s in stages if s is not stage], ["position"])
    audit_create(instance=stage, actor=actor.user, values=_stage_snapshot(stage), organization=actor.organization)
    return stage


@transaction.atomic
def stage_update(*, actor: Membership, stage: Stage, data: Mapping[str, Any]) -> Stage:
    """Rename a stage, change its default probability (deals in it without an overridden
    probability follow) or its kind (only while it holds no deals)."""
    require_pipeline_admin(actor)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    before = _stage_snapshot(stage)
    errors: Errors = {}
    reject_unknown(data, STAGE_FIELDS, errors)
    if "name" in data:
        name = clean_text(data["name"], "name", errors, max_length=100, required=True)
        if name and _name_taken(Stage.objects.filter(pipeline_id=stage.pipeline_id), name, stage.pk):
            add_error(errors, "name", _("Another stage of this pipeline already has this name."))
        elif name:
            stage.name = name
    if data.get("probability") not in (None, ""):
        probability = clean_probability(data["probability"], "probability", errors)
        if probability is not None:
            stage.probability = probability
    if data.get("kind") not in (None, "") and data["kind"] != stage.kind:
        kind = _kind(data["kind"], "kind", errors)
        if kind is not None:
            if Deal.objects.filter(stage=stage).exists():
                add_error(errors, "kind", _("This stage has deals: move them before changing its kind."))
            else:
                kinds = [
                    k
                    for pk, k in Stage.objects.filter(pipeline_id=stage.pipeline_id).values_list("pk", "kind")
                    if pk != stage.pk
                ]
                _check_kinds([*kinds, kind], errors, "kind")
                stage.kind = kind
    position: int | None = None
    if data.get("position") not in (None, ""):
        position = _position(data["position"], "position", errors)
    if errors:
        raise ValidationError(errors)
    if stage.is_closed:
        stage.probability = 100 if stage.kind == StageKind.WON else 0
    stage.save()
    if before["probability"] != stage.probability and not stage.is_closed:
        # deals that follow their stage's default follow its new value
        Deal.objects.filter(stage=stage, probability_reason="").update(probability=stage.probability)
    if position is not None:
        ids = list(
            Stage.objects.filter(pipeline_id=stage.pipeline_id)
            .exclude(pk=stage.pk)
            .order_by("position", "id")
            .values_list("id", flat=True)
        )
        ids.insert(min(position, len(ids)), stage.pk)
        _apply_order(stage.pipeline, ids)
        stage.refresh_from_db(fields=["position"])
    audit_update(
        instance=stage, actor=actor.user, changes=diff(before, _stage_snapshot(stage)), organization=actor.organization
    )
    return stage


@transaction.atomic
def stage_delete(*, actor: Membership, stage: Stage, move_to: Any = None) -> int:
    """Delete a stage. Its deals must go somewhere first: `move_to` names another stage of the same
    pipeline, and each deal is moved there as on the board (events, audit). Returns how many moved."""
    require_pipeline_admin(actor)
    stage = Stage.objects.select_for_update().select_related("pipeline").get(pk=stage.pk)
    errors: Errors = {}
    others = list(Stage.objects.filter(pipeline_id=stage.pipeline_id).exclude(pk=stage.pk))
    _check_kinds([s.kind for s in others], errors, "__all__")
    if errors:
        errors["__all__"] = [_("A pipeline needs at least one won and one lost stage: this one cannot go.")]
    deals = list(Deal.objects.filter(stage=stage).order_by("position", "id"))
    target: Stage | None = None
    if move_to not in (None, ""):
        target = record_by_id(
            Stage.objects.filter(pipeline_id=stage.pipeline_id).exclude(pk=stage.pk),
            move_to,
            "move_to",
            errors,
            _("Choose another stage of this pipeline."),
        )
    elif deals:
        add_error(
            errors,
            "move_to",
            _("This stage has %(n)s deals: choose the stage to move them to.") % {"n": len(deals)},
        )
    if errors:
        raise ValidationError(errors)
    for deal in deals:
        assert target is not None
        deal_move(actor=actor, deal=deal, stage=target.pk)
    audit_delete(instance=stage, actor=actor.user, values=_stage_snapshot(stage), organization=actor.organization)
    stage.delete()
    remaining = list(Stage.objects.filter(pipeline_id=stage.pipeline_id).order_by("position", "id"))
    for index, s in enumerate(remaining):
        s.position = index
    Stage.objects.bulk_update(remaining, ["position"])
    return len(deals)


# --- lost reasons --------------------------------------------------------------------------------


def _clean_lost_reason(reason: LostReason, data: Mapping[str, Any], errors: Errors) -> None:
    reject_unknown(data, LOST_REASON_FIELDS, errors)
    if "name" in data or reason.pk is None:
        name = clean_text(data.get("name"), "name", errors, max_length=100, required=True)
        if name and _name_taken(LostReason.objects.all(), name, reason.pk):
            add_error(errors, "name", _("This reason is already in the list."))
        elif name:
            reason.name = name
    if "is_active" in data:
        active = clean_bool(data["is_active"], "is_active", errors)
        if active is not None:
            reason.is_active = active


@transaction.atomic
def lost_reason_create(*, actor: Membership, data: Mapping[str, Any]) -> LostReason:
    require_pipeline_admin(actor)
    reason = LostReason(organization=actor.organization)
    errors: Errors = {}
    _clean_lost_reason(reason, data, errors)
    if errors:
        raise ValidationError(errors)
    reason.save()
    audit_create(
        instance=reason,
        actor=actor.user,
        values=snapshot(reason, ["name", "is_active"]),
        organization=actor.organization,
    )
    return reason


@transaction.atomic
def lost_reason_update(*, actor: Membership, reason: LostReason, data: Mapping[str, Any]) -> LostReason:
    require_pipeline_admin(actor)
    reason = LostReason.objects.select_for_update().get(pk=reason.pk)
    before = snapshot(reason, ["name", "is_active"])
    errors: Errors = {}
    _clean_lost_reason(reason, data, errors)
    if errors:
        raise ValidationError(errors)
    reason.save()
    changes = diff(before, snapshot(reason, ["name", "is_active"]))
    audit_update(instance=reason, actor=actor.user, changes=changes, organization=actor.organization)
    return reason


@transaction.atomic
def lost_reason_delete(*, actor: Membership, reason: LostReason) -> None:
    """Delete a reason; deals lost for it keep being lost, without a reason (deactivate it instead
    to keep the reports' history)."""
    require_pipeline_admin(actor)
    audit_delete(
        instance=reason,
        actor=actor.user,
        values=snapshot(reason, ["name", "is_active"]),
        organization=actor.organization,
    )
    reason.delete()
