"""Pipelines, stages and lost reasons: defaults, the won/lost rule, reordering, deleting with deals."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_scopes import scope

from vinculo.core.models import AuditEntry, Event
from vinculo.sales.models import Deal, LostReason, Pipeline, Stage
from vinculo.sales.services.pipelines import (
    lost_reason_create,
    lost_reason_delete,
    lost_reason_update,
    pipeline_create,
    pipeline_delete,
    pipeline_update,
    stage_create,
    stage_delete,
    stage_reorder,
    stage_update,
)
from vinculo.sales.testing import make_deal, make_pipeline, stage_named


def _stages(pipeline: Pipeline) -> list[tuple[str, int, str, int]]:
    return list(
        Stage.dangerously_unscoped.filter(pipeline=pipeline)
        .order_by("position")
        .values_list("name", "probability", "kind", "position")
    )


def test_a_new_pipeline_gets_the_usual_stages_and_the_first_is_the_default(actor):
    with scope(organization=actor.organization):
        first = pipeline_create(actor=actor, name="Sales")
        second = pipeline_create(actor=actor, name="Partners")
    assert _stages(first) == [
        ("Qualification", 10, "open", 0),
        ("Proposal", 40, "open", 1),
        ("Negotiation", 70, "open", 2),
        ("Won", 100, "won", 3),
        ("Lost", 0, "lost", 4),
    ]
    assert (first.is_default, first.position) == (True, 0)
    assert (second.is_default, second.position) == (False, 1)
    audit = AuditEntry.dangerously_unscoped.get(object_type="sales.pipeline", object_id=first.pk)
    assert audit.changes["stages"] == [None, ["Qualification", "Proposal", "Negotiation", "Won", "Lost"]]


def test_custom_stages_need_a_won_and_a_lost_stage(actor):
    with scope(organization=actor.organization), pytest.raises(ValidationError) as exc:
        pipeline_create(actor=actor, name="Odd", stages=[{"name": "Talking"}, {"name": "Won", "kind": "won"}])
    assert exc.value.message_dict == {"stages": ["A pipeline needs at least one won and one lost stage."]}
    assert Pipeline.dangerously_unscoped.count() == 0


@pytest.mark.parametrize(
    ("stages", "errors"),
    [
        (
            [{"name": "A", "probability": 120}, {"name": "W", "kind": "won"}, {"name": "L", "kind": "lost"}],
            {"stages.0.probability": ["Enter a probability between 0 and 100."]},
        ),
        (
            [{"name": "A"}, {"name": "a"}, {"name": "W", "kind": "won"}, {"name": "L", "kind": "lost"}],
            {"stages.1.name": ["Two stages cannot have the same name."]},
        ),
        (
            [{"name": "A", "kind": "maybe"}, {"name": "W", "kind": "won"}, {"name": "L", "kind": "lost"}],
            {"stages.0.kind": ["Choose one of open, won, lost."]},
        ),
        ([], {"stages": ["Give a list of stages."]}),
    ],
)
def test_bad_stages_are_refused(actor, stages, errors):
    with scope(organization=actor.organization), pytest.raises(ValidationError) as exc:
        pipeline_create(actor=actor, name="Odd", stages=stages)
    assert exc.value.message_dict == errors
    assert Pipeline.dangerously_unscoped.count() == 0


def test_names_are_unique_and_required(actor):
    make_pipeline(actor.organization, "Sales")
    with scope(organization=actor.organization):
        for name, message in (("sales", "Another pipeline already has this name."), ("  ", "This field is required.")):
            with pytest.raises(ValidationError) as exc:
                pipeline_create(actor=actor, name=name)
            assert exc.value.message_dict == {"name": [message]}
    assert Pipeline.dangerously_unscoped.count() == 1


@pytest.mark.parametrize("role", ["sales", "marketing", "support", "read_only"])
def test_only_owners_admins_and_managers_change_pipelines(actor, member, role):
    pipeline = make_pipeline(actor.organization)
    rep = member(role=role)
    with scope(organization=actor.organization):
        for call in (
            lambda: pipeline_create(actor=rep, name="Mine"),
            lambda: pipeline_update(actor=rep, pipeline=pipeline, data={"name": "Mine"}),
            lambda: stage_create(actor=rep, pipeline=pipeline, data={"name": "New"}),
            lambda: lost_reason_create(actor=rep, data={"name": "Price"}),
        ):
            with pytest.raises(PermissionDenied) as exc:
                call()
            assert str(exc.value) == "Only owners, admins and managers can change the sales settings."
    assert Pipeline.dangerously_unscoped.get().name == "Sales"
    assert Stage.dangerously_unscoped.count() == 5


def test_a_manager_renames_and_makes_another_pipeline_the_default(actor, member):
    manager = member(role="manager")
    sales = make_pipeline(actor.organization, "Sales")
    partners = make_pipeline(actor.organization, "Partners", default=False)
    with scope(organization=actor.organization):
        pipeline_update(actor=manager, pipeline=partners, data={"name": "Channel", "is_default": True})
    assert list(Pipeline.dangerously_unscoped.order_by("id").values_list("name", "is_default")) == [
        ("Sales", False),
        ("Channel", True),
    ]
    with scope(organization=actor.organization), pytest.raises(ValidationError) as exc:
        pipeline_update(actor=manager, pipeline=sales, data={"name": "channel"})
    assert exc.value.message_dict == {"name": ["Another pipeline already has this name."]}


def test_a_new_open_stage_goes_before_the_closed_ones(actor):
    pipeline = make_pipeline(actor.organization)
    with scope(organization=actor.organization):
        stage_create(actor=actor, pipeline=pipeline, data={"name": "Demo", "probability": "55"})
        stage_create(actor=actor, pipeline=pipeline, data={"name": "On hold", "kind": "lost"})
        stage_create(actor=actor, pipeline=pipeline, data={"name": "First call", "position": 0})
    assert [name for name, *_rest in _stages(pipeline)] == [
        "First call",
        "Qualification",
        "Proposal",
        "Negotiation",
        "Demo",
        "Won",
        "Lost",
        "On hold",
    ]
    assert _stages(pipeline)[4] == ("Demo", 55, "open", 4)
    assert _stages(pipeline)[7] == ("On hold", 0, "lost", 7)


def test_reordering_needs_every_stage_once(actor):
    pipeline = make_pipeline(actor.organization)
    ids = list(Stage.dangerously_unscoped.filter(pipeline=pipeline).order_by("position").values_list("id", flat=True))
    with scope(organization=actor.organization):
        with pytest.raises(ValidationError) as exc:
            stage_reorder(actor=actor, pipeline=pipeline, stage_ids=ids[:4])
        assert exc.value.message_dict == {"stage_order": ["Give every stage of this pipeline exactly once."]}
        stage_reorder(actor=actor, pipeline=pipeline, stage_ids=[ids[2], ids[0], ids[1], ids[3], ids[4]])
    assert [name for name, *_rest in _stages(pipeline)] == ["Negotiation", "Qualification", "Proposal", "Won", "Lost"]
    audit = AuditEntry.dangerously_unscoped.filter(object_type="sales.pipeline", action="update").get()
    assert audit.changes["stages"][1] == ["Negotiation", "Qualification", "Proposal", "Won", "Lost"]


def test_a_stage_probability_change_reaches_deals_that_follow_it(actor):
    pipeline = make_pipeline(actor.organization)
    following = make_deal(actor, title="Following")
    overridden = make_deal(actor, title="Overridden", probability=35, probability_reason="Budget approved")
    with scope(organization=actor.organization):
        stage_update(actor=actor, stage=stage_named(pipeline, "Qualification"), data={"probability": "20"})
    following.refresh_from_db()
    overridden.refresh_from_db()
    assert (following.probability, overridden.probability) == (20, 35)
    assert stage_named(pipeline, "Qualification").probability == 20


def test_the_kind_of_a_stage_with_deals_or_the_last_won_stage_cannot_change(actor):
    pipeline = make_pipeline(actor.organization)
    make_deal(actor)
    with scope(organization=actor.organization):
        with pytest.raises(ValidationError) as exc:
            stage_update(actor=actor, stage=stage_named(pipeline, "Qualification"), data={"kind": "won"})
        assert exc.value.message_dict == {"kind": ["This stage has deals: move them before changing its kind."]}
        with pytest.raises(ValidationError) as exc:
            stage_update(actor=actor, stage=stage_named(pipeline, "Won"), data={"kind": "open"})
        assert exc.value.message_dict == {"kind": ["A pipeline needs at least one won and one lost stage."]}
    assert stage_named(pipeline, "Won").kind == "won"


def test_a_stage_with_deals_is_deleted_only_after_moving_them(actor):
    pipeline = make_pipeline(actor.organization)
    deals = [make_deal(actor, title=f"Deal {n}") for n in range(2)]
    qualification = stage_named(pipeline, "Qualification")
    with scope(organization=actor.organization):
        with pytest.raises(ValidationError) as exc:
            stage_delete(actor=actor, stage=qualification)
        assert exc.value.message_dict == {"move_to": ["This stage has 2 deals: choose the stage to move them to."]}
        assert Stage.objects.filter(pk=qualification.pk).exists()
        moved = stage_delete(actor=actor, stage=qualification, move_to=stage_named(pipeline, "Proposal").pk)
    assert moved == 2
    assert [d.stage.name for d in Deal.dangerously_unscoped.filter(pk__in=[d.pk for d in deals])] == [
        "Proposal",
        "Proposal",
    ]
    assert Event.dangerously_unscoped.filter(type="deal.stage_changed").count() == 2
    assert [name for name, *_rest in _stages(pipeline)] == ["Proposal", "Negotiation", "Won", "Lost"]
    assert [position for *_rest, position in _stages(pipeline)] == [0, 1, 2, 3]


def test_the_last_lost_stage_and_a_stage_of_another_pipeline_as_target_are_refused(actor):
    pipeline = make_pipeline(actor.organization)
    other = make_pipeline(actor.organization, "Other", default=False)
    make_deal(actor)
    with scope(organization=actor.organization):
        with pytest.raises(ValidationError) as exc:
            stage_delete(actor=actor, stage=stage_named(pipeline, "Lost"))
        assert exc.value.message_dict == {
            "__all__": ["A pipeline needs at least one won and one lost stage: this one cannot go."]
        }
        with pytest.raises(ValidationError) as exc:
            stage_delete(
                actor=actor, stage=stage_named(pipeline, "Qualification"), move_to=stage_named(other, "Proposal").pk
            )
        assert exc.value.message_dict == {"move_to": ["Choose another stage of this pipeline."]}
    assert Stage.dangerously_unscoped.filter(pipeline=pipeline).count() == 5


def test_a_pipeline_with_deals_cannot_be_deleted_and_the_default_passes_on(actor):
    sales = make_pipeline(actor.organization, "Sales")
    partners = make_pipeline(actor.organization, "Partners", default=False)
    deal = make_deal(actor)
    with scope(organization=actor.organization):
        with pytest.raises(ValidationError) as exc:
            pipeline_delete(actor=actor, pipeline=sales)
        assert exc.value.message_dict == {"__all__": ["This pipeline has 1 deals: move or delete them first."]}
        Deal.objects.filter(pk=deal.pk).delete()
        pipeline_delete(actor=actor, pipeline=sales)
    assert list(Pipeline.dangerously_unscoped.values_list("pk", "is_default")) == [(partners.pk, True)]
    assert Stage.dangerously_unscoped.filter(pipeline_id=sales.pk).count() == 0


def test_lost_reasons_are_listed_renamed_deactivated_and_deleted(actor):
    with scope(organization=actor.organization):
        price = lost_reason_create(actor=actor, data={"name": " Price "})
        with pytest.raises(ValidationError) as exc:
            lost_reason_create(actor=actor, data={"name": "price"})
        assert exc.value.message_dict == {"name": ["This reason is already in the list."]}
        with pytest.raises(ValidationError) as exc:
            lost_reason_create(actor=actor, data={"name": "x", "colour": "red"})
        assert exc.value.message_dict == {"colour": ["Unknown field."]}
        lost_reason_update(actor=actor, reason=price, data={"name": "Too expensive", "is_active": False})
        assert list(LostReason.objects.values_list("name", "is_active")) == [("Too expensive", False)]
        lost_reason_delete(actor=actor, reason=price)
        assert LostReason.objects.count() == 0
