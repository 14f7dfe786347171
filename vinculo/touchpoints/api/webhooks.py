"""Integrations, their webhook deliveries and lead fetch jobs, and contacts' social profiles over
the API.

Integrations, deliveries and lead fetches are for owners and admins (403 for other roles); a new or
rotated signing secret is in that one response only; an access token is write-only (the answers say
whether one is saved and whether the network refused it). The services are the pages' own.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from vinculo.accounts.api import request_actor
from vinculo.accounts.permissions import require_org_admin
from vinculo.contacts.selectors import contact_queryset
from vinculo.core.api import GET_ERRORS, READ_ERRORS, WRITE_ERRORS, InSchema, PageOut, PageQuery, page_out
from vinculo.core.pagination import paginate
from vinculo.touchpoints.models import Integration, IntegrationKind, LeadFetch, SocialProfile, WebhookDelivery
from vinculo.touchpoints.selectors import integrations as selectors
from vinculo.touchpoints.services import integrations as services
from vinculo.touchpoints.services import lead_fetch, social_leads
from vinculo.touchpoints.services.webhooks import delivery_retry

router = Router(tags=["integrations"])

Name = Annotated[str, Field(max_length=100)]
Mapping = Annotated[dict[str, Annotated[str, Field(max_length=80)]], Field(max_length=services.MAX_MAPPING)]
Secret = Annotated[str, Field(max_length=services.MAX_SECRET)]
AccessToken = Annotated[str, Field(max_length=services.MAX_ACCESS_TOKEN)]
TokenStatus = Literal["not_needed", "missing", "saved", "refused"]


class IntegrationOut(Schema):
    id: int
    kind: IntegrationKind
    name: str
    webhook_url: str = Field(description="The address to paste into the shop's or app's webhook settings.")
    is_active: bool
    default_campaign: str
    field_mapping: dict[str, str]
    last_received_at: dt.datetime | None
    created_at: dt.datetime
    access_token_set: bool = Field(description="Lead ads: whether an access token is saved (it is never shown).")
    token_status: TokenStatus = Field(
        description="Lead ads: `missing`, `saved`, or `refused` (the network refused the token: save a new one)."
    )
    token_error: str = Field(description="The network's message when it refused the token.")
    token_error_at: dt.datetime | None
    token_help: str = Field(description="What to do when the token is refused.")

    @staticmethod
    def resolve_webhook_url(obj: Integration, context: dict[str, Any]) -> str:
        return context["request"].build_absolute_uri(reverse("public:webhook", args=[obj.token]))

    @staticmethod
    def resolve_access_token_set(obj: Integration) -> bool:
        return bool(obj.access_token_encrypted)

    @staticmethod
    def resolve_token_status(obj: Integration) -> str:
        return services.token_status(obj)

    @staticmethod
    def resolve_token_help(obj: Integration) -> str:
        return lead_fetch.token_help(obj.kind) if obj.token_error else ""


class IntegrationWithSecretOut(IntegrationOut):
    secret: str = Field(description="The signing secret: shown in this response only.")


class IntegrationPage(PageOut):
    items: list[IntegrationOut]


class IntegrationIn(InSchema):
    kind: IntegrationKind
    name: Name
    secret: Secret = Field("", description="The source's own signing secret; empty to have one generated.")
    access_token: AccessToken = Field(
        "", description="Lead ads: the Facebook Page access token or LinkedIn access token leads are read with."
    )
    default_campaign: Name = ""
    field_mapping: Mapping = Field({}, description='Lead ads: {"form field": "contact field" or "custom.<key>" or ""}.')
    is_active: bool = True


class IntegrationPatch(InSchema):
    name: Name | None = None
    secret: Secret | None = None
    access_token: AccessToken | None = Field(None, description="A new access token; queues the leads waiting for one.")
    default_campaign: Name | None = None
    field_mapping: Mapping | None = None
    is_active: bool | None = None


class SecretOut(Schema):
    secret: str


class DeliveryOut(Schema):
    id: int
    integration_id: int
    topic: str
    external_id: str
    status: WebhookDelivery.Status
    attempts: int
    last_error: str
    created_at: dt.datetime
    processed_at: dt.datetime | None


class DeliveryDetailOut(DeliveryOut):
    body: dict[str, Any]


class DeliveryPage(PageOut):
    items: list[DeliveryOut]


class DeliveryQuery(PageQuery):
    status: Literal["received", "processed", "duplicate", "failed", ""] = ""


class LeadFetchOut(Schema):
    id: int
    integration_id: int
    delivery_id: int | None
    lead_id: str
    form_id: str
    hint: dict[str, Any]
    state: LeadFetch.State
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str
    contact_id: int | None
    created_at: dt.datetime
    done_at: dt.datetime | None


class LeadFetchPage(PageOut):
    items: list[LeadFetchOut]


class LeadFetchQuery(PageQuery):
    state: Literal["queued", "fetching", "done", "waiting_token", "failed", ""] = ""


def _admin(request: HttpRequest) -> Any:
    actor = request_actor(request)
    require_org_admin(actor)
    return actor


def _integration(request: HttpRequest, integration_id: int) -> Integration:
    integration = get_object_or_404(Integration, pk=integration_id)
    _admin(request)
    return integration


@router.get("/integrations", response={200: IntegrationPage, **READ_ERRORS})
def integration_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    _admin(request)
    return page_out(request, paginate(selectors.integration_list(), page=paging.page, per_page=paging.per_page))


@router.post("/integrations", response={201: IntegrationWithSecretOut, **WRITE_ERRORS})
def integration_create(request: HttpRequest, payload: IntegrationIn) -> Status[Integration]:
    integration, secret = services.integration_create(
        actor=request_actor(request), data=payload.model_dump(mode="json")
    )
    integration.secret = secret  # type: ignore[attr-defined]
    return Status(201, integration)


@router.get("/integrations/{integration_id}", response={200: IntegrationOut, **GET_ERRORS})
def integration_get(request: HttpRequest, integration_id: int) -> Integration:
    return _integration(request, integration_id)


@router.patch("/integrations/{integration_id}", response={200: IntegrationOut, **WRITE_ERRORS})
def integration_update(request: HttpRequest, integration_id: int, payload: IntegrationPatch) -> Integration:
    integration = get_object_or_404(Integration, pk=integration_id)
    data = payload.model_dump(mode="json", exclude_unset=True)
    return services.integration_update(actor=request_actor(request), integration=integration, data=data)


@router.delete("/integrations/{integration_id}", response={204: None, **WRITE_ERRORS})
def integration_delete(request: HttpRequest, integration_id: int) -> Status[None]:
    integration = get_object_or_404(Integration, pk=integration_id)
    services.integration_delete(actor=request_actor(request), integration=integration)
    return Status(204, None)


@router.post("/integrations/{integration_id}/rotate-secret", response={200: SecretOut, **WRITE_ERRORS})
def integration_rotate_secret(request: HttpRequest, integration_id: int) -> dict[str, str]:
    integration = get_object_or_404(Integration, pk=integration_id)
    return {"secret": services.integration_rotate_secret(actor=request_actor(request), integration=integration)}


@router.get("/integrations/{integration_id}/deliveries", response={200: DeliveryPage, **GET_ERRORS})
def integration_delivery_list(request: HttpRequest, integration_id: int, query: Query[DeliveryQuery]) -> dict[str, Any]:
    integration = _integration(request, integration_id)
    deliveries = selectors.delivery_list(integration=integration, status=query.status)
    return page_out(request, paginate(deliveries, page=query.page, per_page=query.per_page))


@router.get("/webhook-deliveries/{webhook_delivery_id}", response={200: DeliveryDetailOut, **GET_ERRORS})
def webhook_delivery_get(request: HttpRequest, webhook_delivery_id: int) -> WebhookDelivery:
    delivery = get_object_or_404(WebhookDelivery, pk=webhook_delivery_id)
    _admin(request)
    return delivery


@router.post("/webhook-deliveries/{webhook_delivery_id}/retry", response={200: DeliveryOut, **WRITE_ERRORS})
def webhook_delivery_retry(request: HttpRequest, webhook_delivery_id: int) -> WebhookDelivery:
    delivery = get_object_or_404(WebhookDelivery, pk=webhook_delivery_id)
    return delivery_retry(actor=request_actor(request), delivery=delivery)


@router.get("/integrations/{integration_id}/lead-fetches", response={200: LeadFetchPage, **GET_ERRORS})
def integration_lead_fetch_list(
    request: HttpRequest, integration_id: int, query: Query[LeadFetchQuery]
) -> dict[str, Any]:
    """The leads the network announced by id and their reading: waiting, captured, failed."""
    integration = _integration(request, integration_id)
    fetches = selectors.lead_fetch_list(integration=integration, state=query.state)
    return page_out(request, paginate(fetches, page=query.page, per_page=query.per_page))


@router.get("/lead-fetches/{lead_fetch_id}", response={200: LeadFetchOut, **GET_ERRORS})
def lead_fetch_get(request: HttpRequest, lead_fetch_id: int) -> LeadFetch:
    fetch = get_object_or_404(LeadFetch, pk=lead_fetch_id)
    _admin(request)
    return fetch


@router.post("/lead-fetches/{lead_fetch_id}/retry", response={200: LeadFetchOut, **WRITE_ERRORS})
def lead_fetch_retry(request: HttpRequest, lead_fetch_id: int) -> LeadFetch:
    """Read a failed lead again (or one that waited for a token, once a new one is saved)."""
    fetch = get_object_or_404(LeadFetch, pk=lead_fetch_id)
    return lead_fetch.lead_fetch_retry(actor=request_actor(request), fetch=fetch)


# --- social profiles ------------------------------------------------------------------------------


Network = Literal["linkedin", "facebook", "instagram", "x", "tiktok", "youtube", "github", "other"]


class SocialProfileOut(Schema):
    id: int
    contact_id: int
    network: str
    url: str
    handle: str


class SocialProfileIn(InSchema):
    """`network` is required (checked with the contact first, so a missing contact is a 404)."""

    network: Network | None = None
    url: Annotated[str, Field(max_length=500)] = ""
    handle: Annotated[str, Field(max_length=150)] = ""


class SocialProfilePatch(InSchema):
    network: Network | None = None
    url: Annotated[str, Field(max_length=500)] | None = None
    handle: Annotated[str, Field(max_length=150)] | None = None


def _profile(request: HttpRequest, social_profile_id: int) -> SocialProfile:
    profile: SocialProfile = get_object_or_404(SocialProfile.objects.select_related("contact"), pk=social_profile_id)
    get_object_or_404(contact_queryset(actor=request_actor(request)), pk=profile.contact_id)
    return profile


@router.get("/contacts/{contact_id}/social-profiles", response={200: list[SocialProfileOut], **GET_ERRORS})
def social_profile_list(request: HttpRequest, contact_id: int) -> list[SocialProfile]:
    contact = get_object_or_404(contact_queryset(actor=request_actor(request)), pk=contact_id)
    return list(selectors.social_profiles_of(contact))


@router.post("/contacts/{contact_id}/social-profiles", response={201: SocialProfileOut, **WRITE_ERRORS})
def social_profile_create(request: HttpRequest, contact_id: int, payload: SocialProfileIn) -> Status[SocialProfile]:
    actor = request_actor(request)
    contact = get_object_or_404(contact_queryset(actor=actor), pk=contact_id)
    profile = social_leads.social_profile_create(actor=actor, contact=contact, data=payload.model_dump())
    return Status(201, profile)


@router.get("/social-profiles/{social_profile_id}", response={200: SocialProfileOut, **GET_ERRORS})
def social_profile_get(request: HttpRequest, social_profile_id: int) -> SocialProfile:
    return _profile(request, social_profile_id)


@router.patch("/social-profiles/{social_profile_id}", response={200: SocialProfileOut, **WRITE_ERRORS})
def social_profile_update(request: HttpRequest, social_profile_id: int, payload: SocialProfilePatch) -> SocialProfile:
    profile = _profile(request, social_profile_id)
    data = payload.model_dump(exclude_unset=True)
    return social_leads.social_profile_update(actor=request_actor(request), profile=profile, data=data)


@router.delete("/social-profiles/{social_profile_id}", response={204: None, **WRITE_ERRORS})
def social_profile_delete(request: HttpRequest, social_profile_id: int) -> Status[None]:
    social_leads.social_profile_delete(actor=request_actor(request), profile=_profile(request, social_profile_id))
    return Status(204, None)
