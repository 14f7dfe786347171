"""Web forms over the API: the forms (CRUD) and their submissions (a contact's consents are in
`vinculo.messaging.api`). The schemas check the shape; the services (the same as the pages') check the rules and
answer with field errors (422)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from vinculo.accounts.api import UserRef, request_actor
from vinculo.core.api import GET_ERRORS, READ_ERRORS, WRITE_ERRORS, InSchema, PageOut, PageQuery, page_out, sent_fields
from vinculo.touchpoints.models import FormSubmission, WebForm
from vinculo.touchpoints.selectors import forms as selectors
from vinculo.touchpoints.services import forms as services

router = Router(tags=["web forms"])

Short = Annotated[str, Field(max_length=100)]


class FieldIn(InSchema):
    name: Annotated[str, Field(max_length=40, description="Lower-case letters, digits and _.")]
    label: Annotated[str, Field(max_length=200)]
    type: Annotated[str, Field(max_length=10, description="text, email, tel, textarea, select or checkbox.")] = "text"
    required: StrictBool = False
    maps_to: Annotated[
        str, Field(max_length=70, description='A contact property ("email", "first_name", …) or "custom.<key>".')
    ] = ""
    options: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=services.MAX_OPTIONS)] = []


class ConsentIn(InSchema):
    key: Annotated[str, Field(max_length=64, description="The key of an active subscription type, e.g. newsletter.")]
    text: Annotated[str, Field(max_length=services.MAX_CONSENT_TEXT)]
    required: StrictBool = False


Fields = Annotated[list[FieldIn], Field(max_length=services.MAX_FIELDS)]
Consents = Annotated[list[ConsentIn], Field(max_length=services.MAX_CONSENTS)]
Origins = Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=services.MAX_ORIGINS)]


class WebFormIn(InSchema):
    name: Short
    fields: Fields
    consents: Consents = []
    submit_label: Annotated[str, Field(max_length=60)] = ""
    success_message: Annotated[str, Field(max_length=500)] = ""
    redirect_url: Annotated[str, Field(max_length=500)] = ""
    double_opt_in: StrictBool = False
    notify_owner: StrictBool = True
    owner: StrictInt | None = Field(None, description="The user id of the owner of new contacts.")
    allowed_origins: Origins = Field([], description='Origins that may embed the form, e.g. ["https://example.com"].')
    is_active: StrictBool = True


class WebFormPatch(InSchema):
    name: Short | None = None
    fields: Fields | None = None
    consents: Consents | None = None
    submit_label: Annotated[str, Field(max_length=60)] | None = None
    success_message: Annotated[str, Field(max_length=500)] | None = None
    redirect_url: Annotated[str, Field(max_length=500)] | None = None
    double_opt_in: StrictBool | None = None
    notify_owner: StrictBool | None = None
    owner: StrictInt | None = None
    allowed_origins: Origins | None = None
    is_active: StrictBool | None = None


class FieldOut(Schema):
    name: str
    label: str
    type: str
    required: bool
    maps_to: str
    options: list[str] = []


class ConsentDefinitionOut(Schema):
    key: str
    text: str
    version: str
    required: bool


class WebFormOut(Schema):
    id: int
    name: str
    public_key: str
    fields: list[FieldOut]
    consents: list[ConsentDefinitionOut]
    submit_label: str
    success_message: str
    redirect_url: str
    double_opt_in: bool
    notify_owner: bool
    owner: UserRef | None
    allowed_origins: list[str]
    is_active: bool
    created_at: dt.datetime


class WebFormPage(PageOut):
    items: list[WebFormOut]


class SubmissionOut(Schema):
    id: int
    contact_id: int | None
    status: str
    spam_reason: str = Field(
        description="Why a spam submission was stored as spam: honeypot (a hidden field was filled in), no_token "
        "(not sent from the form's page) or too_fast (sent sooner than a person can type); empty otherwise."
    )
    data: dict[str, Any]
    ip: str | None
    user_agent: str
    page_url: str
    created_at: dt.datetime
    confirmed_at: dt.datetime | None


class SubmissionPage(PageOut):
    items: list[SubmissionOut]


class SubmissionQuery(PageQuery):
    status: FormSubmission.Status | None = None


def _patch(payload: InSchema) -> dict[str, Any]:
    return sent_fields(payload)


@router.get("/web-forms", response={200: WebFormPage, **READ_ERRORS})
def web_form_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    return page_out(request, selectors.web_form_list(page=paging.page, per_page=paging.per_page))


@router.post("/web-forms", response={201: WebFormOut, **WRITE_ERRORS})
def web_form_create(request: HttpRequest, payload: WebFormIn) -> Status[WebForm]:
    form = services.web_form_create(
        actor=request_actor(request), data=payload.model_dump(mode="json", exclude_unset=True)
    )
    return Status(201, form)


@router.get("/web-forms/{web_form_id}", response={200: WebFormOut, **GET_ERRORS})
def web_form_get(request: HttpRequest, web_form_id: int) -> WebForm:
    return selectors.web_form_get(pk=web_form_id)


@router.patch("/web-forms/{web_form_id}", response={200: WebFormOut, **WRITE_ERRORS})
def web_form_update(request: HttpRequest, web_form_id: int, payload: WebFormPatch) -> WebForm:
    form = selectors.web_form_get(pk=web_form_id)
    return services.web_form_update(actor=request_actor(request), form=form, data=_patch(payload))


@router.delete("/web-forms/{web_form_id}", response={204: None, **WRITE_ERRORS})
def web_form_delete(request: HttpRequest, web_form_id: int) -> Status[None]:
    services.web_form_delete(actor=request_actor(request), form=selectors.web_form_get(pk=web_form_id))
    return Status(204, None)


@router.get("/web-forms/{web_form_id}/submissions", response={200: SubmissionPage, **GET_ERRORS})
def web_form_submission_list(request: HttpRequest, web_form_id: int, query: Query[SubmissionQuery]) -> dict[str, Any]:
    form = selectors.web_form_get(pk=web_form_id)
    page = selectors.form_submission_list(
        form=form, status=query.status or "", page=query.page, per_page=query.per_page
    )
    return page_out(request, page)


@router.post("/form-submissions/{form_submission_id}/not-spam", response={200: SubmissionOut, **WRITE_ERRORS})
def form_submission_not_spam(request: HttpRequest, form_submission_id: int) -> FormSubmission:
    """Process a submission stored as spam as a normal one: the contact created or updated, its
    consents recorded, the events written. Exactly once: a submission that is not spam (any more)
    is answered as it is, unchanged."""
    submission = selectors.form_submission_get(pk=form_submission_id)
    result = services.submission_not_spam(actor=request_actor(request), submission=submission)
    assert result.submission is not None
    return result.submission
