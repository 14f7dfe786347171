"""Assignment over the API: zones, the ordered rules, days out of office, the fallback owner, the
rules tester, assigning a lead and a manager's override of a deal's owner.

The schemas check the shape of the input; the services (the same ones the pages use) check the
rules about the data and answer with field errors (422).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictInt

from vinculo.accounts.api import UserRef, request_actor
from vinculo.contacts import selectors as contact_selectors
from vinculo.core.api import (
    DATE_RANGE_EXTENSION,
    DATE_RANGE_TEXT,
    GET_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    InSchema,
    PageOut,
    PageQuery,
    Ref,
    page_out,
    sent_fields,
)
from vinculo.core.pagination import paginate
from vinculo.sales.models import AssignmentRule, AssignmentTarget, Deal, OutOfOffice, Zone
from vinculo.sales.services import assignment as services
from vinculo.sales.services import deals as deal_services

router = Router(tags=["assignment"])

Codes = Annotated[list[Annotated[str, Field(max_length=10)]], Field(max_length=services.MAX_CODES)]
Regions = Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=services.MAX_CODES)]
Name = Annotated[str, Field(max_length=100)]


# --- zones -------------------------------------------------------------------------------------------


class ZoneOut(Schema):
    id: int
    name: str
    countries: list[str]
    regions: list[str]


class ZonePage(PageOut):
    items: list[ZoneOut]


class ZoneIn(InSchema):
    name: Name
    countries: Codes = Field(description='ISO 3166-1 alpha-2 codes, e.g. ["ES", "PT"].')
    regions: Regions = Field([], description="Optional: only these regions of those countries.")


class ZonePatch(InSchema):
    name: Name | None = None
    countries: Codes | None = None
    regions: Regions | None = None


@router.get("/zones", response={200: ZonePage, **READ_ERRORS})
def zone_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    zones = Zone.objects.order_by("name", "id")
    return page_out(request, paginate(zones, page=paging.page, per_page=paging.per_page))


@router.post("/zones", response={201: ZoneOut, **WRITE_ERRORS})
def zone_create(request: HttpRequest, payload: ZoneIn) -> Status[Zone]:
    return Status(201, services.zone_create(actor=request_actor(request), data=sent_fields(payload)))


@router.get("/zones/{zone_id}", response={200: ZoneOut, **GET_ERRORS})
def zone_get(request: HttpRequest, zone_id: int) -> Zone:
    return get_object_or_404(Zone, pk=zone_id)


@router.patch("/zones/{zone_id}", response={200: ZoneOut, **WRITE_ERRORS})
def zone_update(request: HttpRequest, zone_id: int, payload: ZonePatch) -> Zone:
    zone = get_object_or_404(Zone, pk=zone_id)
    return services.zone_update(actor=request_actor(request), zone=zone, data=sent_fields(payload))


@router.delete("/zones/{zone_id}", response={204: None, **WRITE_ERRORS})
def zone_delete(request: HttpRequest, zone_id: int) -> Status[None]:
    services.zone_delete(actor=request_actor(request), zone=get_object_or_404(Zone, pk=zone_id))
    return Status(204, None)


# --- rules -------------------------------------------------------------------------------------------


class AssignmentRuleOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    applies_to: AssignmentTarget
    countries: list[str]
    regions: list[str]
    zone: Ref | None
    product_line: str
    user: UserRef | None = Field(description="The fixed rep, or null for round robin in `team`.")
    team: Ref | None
    capacity: int | None = Field(description="Max open deals per rep; null for no limit.")
    last_assigned_user: UserRef | None
    description: str

    @staticmethod
    def resolve_description(obj: AssignmentRule) -> str:
        return services.describe_rule(obj)


class AssignmentRulePage(PageOut):
    items: list[AssignmentRuleOut]


class AssignmentRuleIn(InSchema):
    """A rule: conditions (all optional) and either a fixed rep (`user`) or a `team` for round robin."""

    name: Name
    is_active: bool = True
    applies_to: AssignmentTarget = AssignmentTarget.BOTH
    countries: Codes = []
    regions: Regions = []
    zone: StrictInt | None = Field(None, description="A zone id.")
    product_line: Name = ""
    user: StrictInt | None = Field(None, description="A member's user id (fixed rep).")
    team: StrictInt | None = Field(None, description="A team id (round robin among its members).")
    capacity: StrictInt | None = Field(None, description="Max open deals per rep; null for no limit.")


class AssignmentRulePatch(InSchema):
    name: Name | None = None
    is_active: bool | None = None
    applies_to: AssignmentTarget | None = None
    countries: Codes | None = None
    regions: Regions | None = None
    zone: StrictInt | None = None
    product_line: Name | None = None
    user: StrictInt | None = None
    team: StrictInt | None = None
    capacity: StrictInt | None = None


class ReorderIn(InSchema):
    ids: Annotated[list[StrictInt], Field(max_length=1000, description="Every rule's id, in the new order.")]


def _rules() -> Any:
    return AssignmentRule.objects.select_related("zone", "team", "user", "last_assigned_user").order_by(
        "position", "id"
    )


def _rule(rule_id: int) -> AssignmentRule:
    return get_object_or_404(_rules(), pk=rule_id)


@router.get("/assignment-rules", response={200: AssignmentRulePage, **READ_ERRORS})
def assignment_rule_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    """The rules in the order they are tried."""
    return page_out(request, paginate(_rules(), page=paging.page, per_page=paging.per_page))


@router.post("/assignment-rules", response={201: AssignmentRuleOut, **WRITE_ERRORS})
def assignment_rule_create(request: HttpRequest, payload: AssignmentRuleIn) -> Status[AssignmentRule]:
    """A new rule, tried after the existing ones."""
    rule = services.assignment_rule_create(actor=request_actor(request), data=sent_fields(payload))
    return Status(201, _rule(rule.pk))


@router.post("/assignment-rules/order", response={200: list[AssignmentRuleOut], **WRITE_ERRORS})
def assignment_rule_reorder(request: HttpRequest, payload: ReorderIn) -> list[AssignmentRule]:
    services.assignment_rule_reorder(actor=request_actor(request), ids=payload.ids)
    return list(_rules())


@router.get("/assignment-rules/{assignment_rule_id}", response={200: AssignmentRuleOut, **GET_ERRORS})
def assignment_rule_get(request: HttpRequest, assignment_rule_id: int) -> AssignmentRule:
    return _rule(assignment_rule_id)


@router.patch("/assignment-rules/{assignment_rule_id}", response={200: AssignmentRuleOut, **WRITE_ERRORS})
def assignment_rule_update(
    request: HttpRequest, assignment_rule_id: int, payload: AssignmentRulePatch
) -> AssignmentRule:
    rule = _rule(assignment_rule_id)
    services.assignment_rule_update(actor=request_actor(request), rule=rule, data=sent_fields(payload))
    return _rule(assignment_rule_id)


@router.delete("/assignment-rules/{assignment_rule_id}", response={204: None, **WRITE_ERRORS})
def assignment_rule_delete(request: HttpRequest, assignment_rule_id: int) -> Status[None]:
    services.assignment_rule_delete(actor=request_actor(request), rule=_rule(assignment_rule_id))
    return Status(204, None)


class PreviewIn(InSchema):
    applies_to: AssignmentTarget = AssignmentTarget.DEALS
    country: Annotated[str, Field(max_length=10)] = ""
    region: Name = ""
    product_line: Name = ""
    zone: StrictInt | None = None


class PreviewOut(Schema):
    user: UserRef | None
    rule: Ref | None
    reason: str


@router.post("/assignment-preview", response={200: PreviewOut, **WRITE_ERRORS})
def assignment_preview(request: HttpRequest, payload: PreviewIn) -> services.Assignment:
    """Which rep a hypothetical deal or lead would go to, and why. Nothing is assigned."""
    return services.assignment_preview(actor=request_actor(request), data=sent_fields(payload))


# --- fallback owner ----------------------------------------------------------------------------------


class AssignmentSettingsOut(Schema):
    fallback_owner: UserRef | None


class AssignmentSettingsIn(InSchema):
    fallback_owner: StrictInt | None = Field(description="A member's user id, or null for the creator.")


@router.get("/assignment-settings", response={200: AssignmentSettingsOut, **READ_ERRORS})
def assignment_settings_get(request: HttpRequest) -> Any:
    return services.assignment_settings_get(organization_id=request_actor(request).organization_id)


@router.put("/assignment-settings", response={200: AssignmentSettingsOut, **WRITE_ERRORS})
def assignment_settings_update(request: HttpRequest, payload: AssignmentSettingsIn) -> Any:
    return services.assignment_settings_update(actor=request_actor(request), data=sent_fields(payload))


# --- out of office -----------------------------------------------------------------------------------


class OutOfOfficeOut(Schema):
    id: int
    user: UserRef
    starts_on: dt.date
    ends_on: dt.date


class OutOfOfficePage(PageOut):
    items: list[OutOfOfficeOut]


DayText = Annotated[str, Field(max_length=10, json_schema_extra=DATE_RANGE_EXTENSION)]


class OutOfOfficeIn(InSchema):
    user: StrictInt = Field(description="A member's user id (yourself unless you are a manager).")
    starts_on: DayText = Field(description="YYYY-MM-DD. " + DATE_RANGE_TEXT)
    ends_on: DayText = Field(description="YYYY-MM-DD, on or after starts_on. " + DATE_RANGE_TEXT)


class OutOfOfficePatch(InSchema):
    user: StrictInt | None = None
    starts_on: DayText | None = None
    ends_on: DayText | None = None


@router.get("/out-of-office", response={200: OutOfOfficePage, **READ_ERRORS})
def out_of_office_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    rows = OutOfOffice.objects.select_related("user").order_by("-starts_on", "id")
    return page_out(request, paginate(rows, page=paging.page, per_page=paging.per_page))


@router.post("/out-of-office", response={201: OutOfOfficeOut, **WRITE_ERRORS})
def out_of_office_create(request: HttpRequest, payload: OutOfOfficeIn) -> Status[OutOfOffice]:
    return Status(201, services.out_of_office_create(actor=request_actor(request), data=sent_fields(payload)))


def _away(out_of_office_id: int) -> OutOfOffice:
    return get_object_or_404(OutOfOffice.objects.select_related("user"), pk=out_of_office_id)


@router.get("/out-of-office/{out_of_office_id}", response={200: OutOfOfficeOut, **GET_ERRORS})
def out_of_office_get(request: HttpRequest, out_of_office_id: int) -> OutOfOffice:
    return _away(out_of_office_id)


@router.patch("/out-of-office/{out_of_office_id}", response={200: OutOfOfficeOut, **WRITE_ERRORS})
def out_of_office_update(request: HttpRequest, out_of_office_id: int, payload: OutOfOfficePatch) -> OutOfOffice:
    away = _away(out_of_office_id)
    return services.out_of_office_update(actor=request_actor(request), away=away, data=sent_fields(payload))


@router.delete("/out-of-office/{out_of_office_id}", response={204: None, **WRITE_ERRORS})
def out_of_office_delete(request: HttpRequest, out_of_office_id: int) -> Status[None]:
    services.out_of_office_delete(actor=request_actor(request), away=_away(out_of_office_id))
    return Status(204, None)


# --- assigning --------------------------------------------------------------------------------------


class LeadAssignedOut(Schema):
    contact_id: int
    owner: UserRef | None
    reason: str


class ReassignIn(InSchema):
    owner: StrictInt | None = Field(None, description="Required: a member's user id, or null for nobody.")


class DealOwnerOut(Schema):
    deal_id: int
    owner: UserRef | None
    assignment_reason: str


@router.post("/leads/{lead_id}/assign", response={200: LeadAssignedOut, **WRITE_ERRORS})
def lead_assign(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    """Run the rules for a lead (a contact) and give it the owner they choose."""
    actor = request_actor(request)
    contact = contact_selectors.contact_get(actor=actor, pk=lead_id)
    result = services.lead_assign(actor=actor, contact=contact)
    return {"contact_id": result.contact.pk, "owner": result.user, "reason": result.reason}


@router.post("/deals/{deal_id}/reassign", response={200: DealOwnerOut, **WRITE_ERRORS})
def deal_reassign(request: HttpRequest, deal_id: int, payload: ReassignIn) -> dict[str, Any]:
    """A manager's override of the owner the rules chose; the reason then names the manager."""
    actor = request_actor(request)
    deal = get_object_or_404(Deal, pk=deal_id)
    if "owner" not in payload.model_fields_set:  # checked after the deal, so a foreign id is a 404
        raise ValidationError({"owner": [_("This field is required.")]})
    deal = deal_services.deal_reassign(actor=actor, deal=deal, owner=payload.owner)
    return {"deal_id": deal.pk, "owner": deal.owner, "assignment_reason": deal.assignment_reason}
