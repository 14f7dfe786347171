"""Consent over the API: the organisation's subscription types (CRUD; owners and admins write) and a
contact's consents (current state per type and the ledger; recording a grant or a withdrawal).
The schemas check the shape; the services (the same as the pages') check the rules and answer with
field errors (422): an unknown subscription type is refused and nothing is saved."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool

from vinculo.accounts.api import UserRef, request_actor
from vinculo.contacts.models import Contact
from vinculo.contacts.selectors import contact_queryset
from vinculo.core.api import GET_ERRORS, READ_ERRORS, WRITE_ERRORS, InSchema, PageOut, PageQuery, page_out, sent_fields
from vinculo.core.pagination import paginate
from vinculo.messaging.models import Consent, SubscriptionType
from vinculo.messaging.selectors import consent as selectors
from vinculo.messaging.services import consent as services

router = Router()

LawfulBasisIn = Literal["consent", "legitimate_interest", "contract", "legal_obligation"]
OptModeIn = Literal["opt_in", "opt_out"]


class SubscriptionTypeIn(InSchema):
    key: Annotated[str, Field(max_length=64, description="Lower-case letters, digits, _ and -, e.g. newsletter.")]
    name: Annotated[str, Field(max_length=100)]
    description: Annotated[str, Field(max_length=1000)] = ""
    lawful_basis: LawfulBasisIn = "consent"
    opt_mode: OptModeIn | None = Field(
        None, description="Contacts who said nothing: opt_in (out until they agree) or opt_out. Consent is opt-in."
    )
    is_active: StrictBool = True


class SubscriptionTypePatch(InSchema):
    key: Annotated[str, Field(max_length=64)] | None = None
    name: Annotated[str, Field(max_length=100)] | None = None
    description: Annotated[str, Field(max_length=1000)] | None = None
    lawful_basis: LawfulBasisIn | None = None
    opt_mode: OptModeIn | None = None
    is_active: StrictBool | None = None


class SubscriptionTypeOut(Schema):
    id: int
    key: str
    name: str
    description: str
    lawful_basis: str
    opt_mode: str
    is_active: bool
    created_at: dt.datetime


class SubscriptionTypePage(PageOut):
    items: list[SubscriptionTypeOut]


class SubscriptionTypeRef(Schema):
    id: int
    key: str
    name: str


class ConsentIn(InSchema):
    subscription_type: Annotated[str, Field(max_length=64, description="The key of a subscription type.")]
    granted: StrictBool = Field(description="true: the person agreed; false: the person withdrew or refused.")
    channel: Literal["api", "manual", "import"] = "api"
    text: Annotated[str, Field(max_length=2000, description="The exact text agreed to (required to grant).")] = ""
    text_version: Annotated[str, Field(max_length=32)] = ""
    reason: Annotated[str, Field(max_length=500)] = ""


class ConsentOut(Schema):
    id: int
    contact_id: int
    subscription_type: SubscriptionTypeRef
    status: str = Field(description="granted or withdrawn.")
    pending: bool = Field(description="A double opt-in grant whose e-mail link was not followed yet.")
    channel: str
    text: str
    text_version: str
    source: str
    form_name: str
    submission_id: int | None
    ip: str | None
    page_url: str
    user_agent: str
    actor: UserRef | None
    reason: str
    created_at: dt.datetime
    confirmed_at: dt.datetime | None

    @staticmethod
    def resolve_pending(obj: Consent) -> bool:
        return obj.is_pending

    @staticmethod
    def resolve_submission_id(obj: Consent) -> int | None:
        return obj.submission_ref


class SubscriptionStateOut(Schema):
    subscription_type: SubscriptionTypeRef
    status: str = Field(description='subscribed, pending, unsubscribed, or "" when the contact never answered.')
    consenting: bool = Field(description="Whether the contact may be written to for this type now.")


class ContactConsentsOut(Schema):
    subscriptions: list[SubscriptionStateOut]
    history: list[ConsentOut] = Field(description="The ledger, newest first.")


# --- subscription types ------------------------------------------------------------------------------


def _subscription_type(pk: int) -> SubscriptionType:
    return get_object_or_404(SubscriptionType, pk=pk)


@router.get("/subscription-types", response={200: SubscriptionTypePage, **READ_ERRORS}, tags=["subscription types"])
def subscription_type_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    request_actor(request)
    return page_out(request, paginate(selectors.subscription_type_list(), page=paging.page, per_page=paging.per_page))


@router.post("/subscription-types", response={201: SubscriptionTypeOut, **WRITE_ERRORS}, tags=["subscription types"])
def subscription_type_create(request: HttpRequest, payload: SubscriptionTypeIn) -> Status[SubscriptionType]:
    created = services.subscription_type_create(actor=request_actor(request), data=sent_fields(payload))
    return Status(201, created)


@router.get(
    "/subscription-types/{subscription_type_id}",
    response={200: SubscriptionTypeOut, **GET_ERRORS},
    tags=["subscription types"],
)
def subscription_type_get(request: HttpRequest, subscription_type_id: int) -> SubscriptionType:
    request_actor(request)
    return _subscription_type(subscription_type_id)


@router.patch(
    "/subscription-types/{subscription_type_id}",
    response={200: SubscriptionTypeOut, **WRITE_ERRORS},
    tags=["subscription types"],
)
def subscription_type_update(
    request: HttpRequest, subscription_type_id: int, payload: SubscriptionTypePatch
) -> SubscriptionType:
    subscription_type = _subscription_type(subscription_type_id)
    return services.subscription_type_update(
        actor=request_actor(request), subscription_type=subscription_type, data=sent_fields(payload)
    )


@router.delete(
    "/subscription-types/{subscription_type_id}",
    response={204: None, **WRITE_ERRORS},
    tags=["subscription types"],
)
def subscription_type_delete(request: HttpRequest, subscription_type_id: int) -> Status[None]:
    subscription_type = _subscription_type(subscription_type_id)
    services.subscription_type_delete(actor=request_actor(request), subscription_type=subscription_type)
    return Status(204, None)


# --- a contact's consents ----------------------------------------------------------------------------


def _contact(request: HttpRequest, pk: int) -> Contact:
    """A contact the caller can see; 404 otherwise (missing, foreign or hidden alike)."""
    return get_object_or_404(contact_queryset(actor=request_actor(request)), pk=pk)


def _state(status: selectors.ConsentStatus) -> dict[str, Any]:
    return {"subscription_type": status.subscription_type, "status": status.status, "consenting": status.consenting}


@router.get("/contacts/{contact_id}/consents", response={200: ContactConsentsOut, **GET_ERRORS}, tags=["consents"])
def contact_consent_list(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    contact = _contact(request, contact_id)
    return {
        "subscriptions": [_state(s) for s in selectors.contact_consent_status(contact)],
        "history": selectors.contact_consent_list(contact=contact),
    }


@router.post("/contacts/{contact_id}/consents", response={201: ConsentOut, **WRITE_ERRORS}, tags=["consents"])
def contact_consent_record(request: HttpRequest, contact_id: int, payload: ConsentIn) -> Status[Consent]:
    contact = _contact(request, contact_id)
    data = {"channel": "api", **sent_fields(payload)}
    return Status(201, services.contact_consent_record(actor=request_actor(request), contact=contact, data=data))
