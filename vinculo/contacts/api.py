"""The customer database API: contacts, companies, notes, tags, timelines and global search.

Endpoints validate the shape of the input (types, lengths, unknown fields) with the schemas
below and leave every rule about the data to the services and selectors the pages use, so the
API and the UI accept and refuse exactly the same things.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import StrictInt

from vinculo.accounts.api import UserRef, request_actor
from vinculo.contacts import saved_views, selectors, services
from vinculo.contacts.filters import COMPANY_SORTS, CONTACT_SORTS, MAX_PER_PAGE, parse_filters
from vinculo.contacts.list_registry import registered_kinds
from vinculo.contacts.models import (
    Company,
    CompanySize,
    Contact,
    LifecycleStage,
    Note,
    PhoneKind,
    SavedView,
    SourceChannel,
    Tag,
)
from vinculo.contacts.record_links import timeline_viewer
from vinculo.core.api import (
    GET_ERRORS,
    MAX_PAGE,
    READ_ERRORS,
    WRITE_ERRORS,
    InSchema,
    PageOut,
    PageQuery,
    Ref,
    SearchText,
    date_query_param,
    page_out,
    query_param,
    search_query_param,
    sent_fields,
    url_with,
)
from vinculo.core.event_story import EventStory, attach_stories, event_sentence
from vinculo.core.models import Event
from vinculo.core.pagination import paginate

router = Router(tags=["contacts"])

# --- field types shared by the input schemas (lengths as in the models) ----------------------------

PersonName = Annotated[str, Field(max_length=100)]
ExternalId = Annotated[
    str,
    Field(
        max_length=128,
        description="The contact's id in your system (a shop, an ERP): `/contacts/upsert` finds it by it.",
    ),
]
Email = Annotated[str, Field(max_length=254)]
TagName = Annotated[str, Field(max_length=50)]
CountryCode = Annotated[str, Field(max_length=2, description="ISO 3166-1 alpha-2, e.g. ES; empty for none.")]
Language = Annotated[str, Field(max_length=8, description="A language code, e.g. es; empty for none.")]
TimeZone = Annotated[str, Field(max_length=64, description="An IANA time zone, e.g. Europe/Madrid.")]
Custom = Annotated[
    dict[str, Any],
    Field(description="Custom properties: names of letters, digits and _ with text, number, true/false or null."),
]
RecordId = StrictInt  # a JSON number: "5" or true is a type error, not record 5 or 1
Emails = Annotated[list[Email], Field(max_length=services.MAX_EMAILS, description="The first one is the primary.")]
Tags = Annotated[list[TagName], Field(max_length=services.MAX_TAGS, description="Tag names; missing tags are created.")]


# --- output schemas -------------------------------------------------------------------------------


class AddressOut(Schema):
    street: str
    city: str
    region: str
    postal_code: str


class PhoneOut(Schema):
    number: str = Field(description="E.164, e.g. +34600111222.")
    kind: PhoneKind


def _address(obj: Contact | Company) -> dict[str, str]:
    return {"street": obj.street, "city": obj.city, "region": obj.region, "postal_code": obj.postal_code}


def _country(obj: Contact | Company) -> str:
    return str(obj.country or "")  # a django-countries Country; its text is the code


class ContactOut(Schema):
    id: int
    external_id: str
    first_name: str
    last_name: str
    full_name: str
    emails: list[str]
    phones: list[PhoneOut]
    company: Ref | None
    owner: UserRef | None
    job_title: str
    tags: list[str]
    custom: dict[str, Any]
    lifecycle_stage: LifecycleStage
    source: SourceChannel
    country: str
    language: str
    time_zone: str
    address: AddressOut
    last_activity_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_emails(obj: Contact) -> list[str]:
        return [e.email for e in obj.emails.all()]

    @staticmethod
    def resolve_phones(obj: Contact) -> list[dict[str, str]]:
        return [{"number": p.number, "kind": p.kind} for p in obj.phones.all()]

    @staticmethod
    def resolve_tags(obj: Contact) -> list[str]:
        return [t.name for t in obj.tags.all()]

    @staticmethod
    def resolve_country(obj: Contact) -> str:
        return _country(obj)

    @staticmethod
    def resolve_address(obj: Contact) -> dict[str, str]:
        return _address(obj)


class ContactPage(PageOut):
    items: list[ContactOut]


class CompanyOut(Schema):
    id: int
    name: str
    domain: str
    industry: str
    size: CompanySize | None
    phone: str
    owner: UserRef | None
    tags: list[str]
    custom: dict[str, Any]
    country: str
    address: AddressOut
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_size(obj: Company) -> str | None:
        return obj.size or None

    @staticmethod
    def resolve_tags(obj: Company) -> list[str]:
        return [t.name for t in obj.tags.all()]

    @staticmethod
    def resolve_country(obj: Company) -> str:
        return _country(obj)

    @staticmethod
    def resolve_address(obj: Company) -> dict[str, str]:
        return _address(obj)


class CompanyPage(PageOut):
    items: list[CompanyOut]


class NoteOut(Schema):
    id: int
    body: str
    author: UserRef | None
    contact: Ref | None
    company: Ref | None
    created_at: datetime
    updated_at: datetime


class NotePage(PageOut):
    items: list[NoteOut]


class TagOut(Schema):
    id: int
    name: str
    color: str


class TagPage(PageOut):
    items: list[TagOut]


class EventOut(Schema):
    id: int
    type: str = Field(description="What happened, e.g. contact.created, email.opened, order.placed.")
    source: str
    properties: dict[str, Any]
    actor: UserRef | None
    contact: Ref | None
    occurred_at: datetime
    sentence: str = Field(
        description=(
            "The event in words, as the timeline reads it, in the caller's language (Accept-Language), "
            "as plain text: the records it names by their current names when the caller may see them. "
            "Empty when the event lacks what its sentence needs, or its type is not declared."
        )
    )

    @staticmethod
    def resolve_sentence(obj: Event) -> str:
        story = getattr(obj, "story", None)
        return story.text if isinstance(story, EventStory) else event_sentence(obj)


class TimelineEntryOut(Schema):
    kind: Literal["event", "note"]
    at: datetime
    event: EventOut | None = None
    note: NoteOut | None = None


class TimelineOut(Schema):
    items: list[TimelineEntryOut]
    next: str | None = Field(description="The URL of the older entries, or null when there are none.")


class ContactHit(Schema):
    id: int
    name: str
    email: str
    company: Ref | None

    @staticmethod
    def resolve_name(obj: Contact) -> str:
        return str(obj)


class CompanyHit(Schema):
    id: int
    name: str
    domain: str


class SearchOut(Schema):
    contacts: list[ContactHit]
    companies: list[CompanyHit]


# --- input schemas ----------------------------------------------------------------------------------


class AddressIn(InSchema):
    street: Annotated[str, Field(max_length=200)] = ""
    city: Annotated[str, Field(max_length=100)] = ""
    region: Annotated[str, Field(max_length=100)] = ""
    postal_code: Annotated[str, Field(max_length=20)] = ""


class PhoneIn(InSchema):
    number: Annotated[str, Field(max_length=40, description="With its country code (+34…) or the contact's country.")]
    kind: PhoneKind = PhoneKind.MOBILE


class ContactIn(InSchema):
    """A new contact: give at least a name or an e-mail address. The owner defaults to you."""

    first_name: PersonName = ""
    last_name: PersonName = ""
    external_id: ExternalId = ""
    emails: Emails = []
    phones: Annotated[list[PhoneIn], Field(max_length=services.MAX_PHONES)] = []
    company: RecordId | None = Field(None, description="A company id.")
    owner: RecordId | None = Field(None, description="A member's user id; defaults to you, null for nobody.")
    job_title: Annotated[str, Field(max_length=150)] = ""
    tags: Tags = []
    custom: Custom = {}
    lifecycle_stage: LifecycleStage = LifecycleStage.LEAD
    source: SourceChannel = SourceChannel.MANUAL
    country: CountryCode = ""
    language: Language = ""
    time_zone: TimeZone = ""
    address: AddressIn | None = Field(None, description="The postal address; absent or null for none.")


class ContactPatch(InSchema):
    """The fields to change; the others stay. A list given replaces the old one; null clears."""

    first_name: PersonName | None = None
    last_name: PersonName | None = None
    external_id: ExternalId | None = None
    emails: Emails | None = None
    phones: Annotated[list[PhoneIn], Field(max_length=services.MAX_PHONES)] | None = None
    company: RecordId | None = None
    owner: RecordId | None = None
    job_title: Annotated[str, Field(max_length=150)] | None = None
    tags: Tags | None = None
    custom: Custom | None = None
    lifecycle_stage: LifecycleStage | None = None
    source: SourceChannel | None = None
    country: CountryCode | None = None
    language: Language | None = None
    time_zone: TimeZone | None = None
    address: AddressIn | None = None


class ContactUpsertIn(ContactPatch):
    """A contact to create, or to update when it exists: matched by `external_id`, else by one of
    its `emails`. An update changes the fields given and adds the e-mails, phones and tags given to
    the contact's own; a creation takes the defaults of `POST /contacts`."""


class CompanyIn(InSchema):
    name: Annotated[str, Field(max_length=200)]
    domain: Annotated[str, Field(max_length=253, description="A web domain such as example.com.")] = ""
    industry: Annotated[str, Field(max_length=100)] = ""
    size: CompanySize | None = None
    phone: Annotated[str, Field(max_length=40)] = ""
    owner: RecordId | None = Field(None, description="A member's user id; defaults to you, null for nobody.")
    tags: Tags = []
    custom: Custom = {}
    country: CountryCode = ""
    address: AddressIn | None = Field(None, description="The postal address; absent or null for none.")


class CompanyPatch(InSchema):
    """The fields to change; the others stay. A list given replaces the old one; null clears."""

    name: Annotated[str, Field(max_length=200)] | None = None
    domain: Annotated[str, Field(max_length=253)] | None = None
    industry: Annotated[str, Field(max_length=100)] | None = None
    size: CompanySize | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    owner: RecordId | None = None
    tags: Tags | None = None
    custom: Custom | None = None
    country: CountryCode | None = None
    address: AddressIn | None = None


class NoteIn(InSchema):
    body: Annotated[str, Field(max_length=10000)]


class TagIn(InSchema):
    name: TagName
    color: Annotated[str, Field(max_length=7, description="A colour like #1a2b3c.")] = "#6c757d"


class TagPatch(InSchema):
    name: TagName | None = None
    color: Annotated[str, Field(max_length=7)] | None = None


def _service_data(payload: InSchema) -> dict[str, Any]:
    """The fields the client sent, as the services take them (the address flattened)."""
    data = sent_fields(payload)
    if "address" in data:
        address = data.pop("address")
        data.update(address if address is not None else dict.fromkeys(AddressIn.model_fields, ""))
    return data


# --- list parameters, documented for the OpenAPI document and checked by parse_filters ------------


def _filter_parameters(kind: str) -> list[dict[str, Any]]:
    params = [
        search_query_param("Search words (accent-insensitive, parts of words too)."),
        query_param("owner", {"type": "string", "pattern": "^(me|none|[0-9]{1,18})$"}, "A user id, `me` or `none`."),
        query_param("tag", {"type": "integer", "minimum": 1}, "A tag id."),
        query_param("country", {"type": "string", "pattern": "^[A-Za-z]{2}$"}, "ISO 3166-1 alpha-2 code."),
        date_query_param("created_after", "Created on or after this day."),
        date_query_param("created_before", "Created on or before this day."),
    ]
    if kind == "contacts":
        params += [
            query_param("stage", {"type": "string", "enum": list(LifecycleStage.values)}, "Lifecycle stage."),
            query_param("company", {"type": "integer", "minimum": 1}, "A company id."),
            query_param("sort", {"type": "string", "enum": list(CONTACT_SORTS), "default": "name"}, "Sort order."),
        ]
    else:
        params += [
            query_param("industry", {"type": "string"}, "Industry (exact, any case; cut at 100)."),
            query_param("sort", {"type": "string", "enum": list(COMPANY_SORTS), "default": "name"}, "Sort order."),
        ]
    params += [
        query_param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "Page number."),
        query_param(
            "per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50}, "Page size."
        ),
    ]
    return params


LIST_DESCRIPTION = " Any other query parameter is an error (422)."


class TimelineQuery(Schema):
    kinds: str = Field(
        "",
        max_length=200,
        description="Comma-separated kinds to show: " + ", ".join(selectors.TIMELINE_KINDS) + ". Empty for all.",
    )
    before: str = Field("", max_length=500, description="The cursor from the previous page's `next` link.")
    limit: int = Field(30, ge=1, le=100)


class SearchQuery(Schema):
    q: SearchText = Field("", description="Words to find in contacts and companies.")
    limit: int = Field(10, ge=1, le=50)


# --- contacts ---------------------------------------------------------------------------------------


@router.get(
    "/contacts",
    response={200: ContactPage, **READ_ERRORS},
    openapi_extra={"parameters": _filter_parameters("contacts")},
    description="Contacts with the filters, sorting and paging of the contacts page." + LIST_DESCRIPTION,
)
def contact_list(request: HttpRequest) -> dict[str, Any]:
    actor = request_actor(request)
    filters = parse_filters(request.GET, kind="contacts", strict=True)
    page = selectors.contact_list(actor=actor, filters=filters)
    prefetch_related_objects(page.items, "emails", "phones")
    return page_out(request, page)


@router.post("/contacts", response={201: ContactOut, **WRITE_ERRORS})
def contact_create(request: HttpRequest, payload: ContactIn) -> Status[Contact]:
    contact = services.contact_create(actor=request_actor(request), data=_service_data(payload))
    return Status(201, contact)


@router.post("/contacts/upsert", response={200: ContactOut, 201: ContactOut, **WRITE_ERRORS})
def contact_upsert(request: HttpRequest, payload: ContactUpsertIn) -> Status[Contact]:
    """Create or update by external id or e-mail (201 created, 200 updated), instead of the 422 that
    `POST /contacts` answers for an e-mail address another contact has."""
    actor = request_actor(request)
    contact, created = services.contact_upsert(actor=actor, data=_service_data(payload))
    return Status(201 if created else 200, selectors.contact_get(actor=actor, pk=contact.pk))


@router.get("/contacts/{contact_id}", response={200: ContactOut, **GET_ERRORS})
def contact_get(request: HttpRequest, contact_id: int) -> Contact:
    return selectors.contact_get(actor=request_actor(request), pk=contact_id)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **WRITE_ERRORS})
def contact_update(request: HttpRequest, contact_id: int, payload: ContactPatch) -> Contact:
    actor = request_actor(request)
    contact = selectors.contact_get(actor=actor, pk=contact_id)
    return services.contact_update(actor=actor, contact=contact, data=_service_data(payload))


@router.delete("/contacts/{contact_id}", response={204: None, **WRITE_ERRORS})
def contact_delete(request: HttpRequest, contact_id: int) -> Status[None]:
    actor = request_actor(request)
    services.contact_delete(actor=actor, contact=selectors.contact_get(actor=actor, pk=contact_id))
    return Status(204, None)


@router.get("/contacts/{contact_id}/notes", response={200: NotePage, **GET_ERRORS}, tags=["notes"])
def contact_note_list(request: HttpRequest, contact_id: int, paging: Query[PageQuery]) -> dict[str, Any]:
    contact = selectors.contact_get(actor=request_actor(request), pk=contact_id)
    page = paginate(selectors.note_list(contact=contact), page=paging.page, per_page=paging.per_page)
    return page_out(request, page)


@router.post("/contacts/{contact_id}/notes", response={201: NoteOut, **WRITE_ERRORS}, tags=["notes"])
def contact_note_create(request: HttpRequest, contact_id: int, payload: NoteIn) -> Status[Note]:
    actor = request_actor(request)
    contact = selectors.contact_get(actor=actor, pk=contact_id)
    return Status(201, services.note_create(actor=actor, contact=contact, body=payload.body))


def _kinds(value: str) -> set[str] | None:
    kinds = {k.strip() for k in value.split(",") if k.strip()}
    unknown = kinds - set(selectors.TIMELINE_KINDS)
    if unknown:
        message = _("Unknown kind. Allowed: %(names)s.") % {"names": ", ".join(selectors.TIMELINE_KINDS)}
        raise NinjaValidationError([{"loc": ("query", "kinds"), "msg": message, "type": "value_error"}])
    return kinds or None


def _timeline_out(
    request: HttpRequest, query: TimelineQuery, *, contact: Contact | None = None, company: Company | None = None
) -> dict[str, Any]:
    kinds = _kinds(query.kinds)
    try:
        page = selectors.timeline(contact=contact, company=company, kinds=kinds, before=query.before, limit=query.limit)
    except ValueError:
        message = _("This cursor is not valid: use the `next` link of the previous page.")
        raise NinjaValidationError([{"loc": ("query", "before"), "msg": message, "type": "value_error"}]) from None
    viewer = timeline_viewer(request_actor(request), contact=contact, company=company)
    attach_stories([entry.item for entry in page.entries if entry.kind == "event"], viewer)
    notes = [entry.item for entry in page.entries if entry.kind == "note"]
    prefetch_related_objects([n for n in notes if n.company_id], "company")
    items = [
        {"kind": entry.kind, "at": entry.at, entry.kind: entry.item}  # "event": Event or "note": Note
        for entry in page.entries
    ]
    return {"items": items, "next": url_with(request, before=page.cursor) if page.cursor else None}


@router.get("/contacts/{contact_id}/timeline", response={200: TimelineOut, **GET_ERRORS}, tags=["timeline"])
def contact_timeline(request: HttpRequest, contact_id: int, query: Query[TimelineQuery]) -> dict[str, Any]:
    """The contact's events and notes, newest first; follow `next` for older ones."""
    contact = selectors.contact_get(actor=request_actor(request), pk=contact_id)
    return _timeline_out(request, query, contact=contact)


# --- companies --------------------------------------------------------------------------------------


@router.get(
    "/companies",
    response={200: CompanyPage, **READ_ERRORS},
    openapi_extra={"parameters": _filter_parameters("companies")},
    description="Companies with the filters, sorting and paging of the companies page." + LIST_DESCRIPTION,
    tags=["companies"],
)
def company_list(request: HttpRequest) -> dict[str, Any]:
    actor = request_actor(request)
    filters = parse_filters(request.GET, kind="companies", strict=True)
    return page_out(request, selectors.company_list(actor=actor, filters=filters))


@router.post("/companies", response={201: CompanyOut, **WRITE_ERRORS}, tags=["companies"])
def company_create(request: HttpRequest, payload: CompanyIn) -> Status[Company]:
    company = services.company_create(actor=request_actor(request), data=_service_data(payload))
    return Status(201, company)


@router.get("/companies/{company_id}", response={200: CompanyOut, **GET_ERRORS}, tags=["companies"])
def company_get(request: HttpRequest, company_id: int) -> Company:
    return selectors.company_get(actor=request_actor(request), pk=company_id)


@router.patch("/companies/{company_id}", response={200: CompanyOut, **WRITE_ERRORS}, tags=["companies"])
def company_update(request: HttpRequest, company_id: int, payload: CompanyPatch) -> Company:
    actor = request_actor(request)
    company = selectors.company_get(actor=actor, pk=company_id)
    return services.company_update(actor=actor, company=company, data=_service_data(payload))


@router.delete("/companies/{company_id}", response={204: None, **WRITE_ERRORS}, tags=["companies"])
def company_delete(request: HttpRequest, company_id: int) -> Status[None]:
    actor = request_actor(request)
    services.company_delete(actor=actor, company=selectors.company_get(actor=actor, pk=company_id))
    return Status(204, None)


@router.get("/companies/{company_id}/notes", response={200: NotePage, **GET_ERRORS}, tags=["notes"])
def company_note_list(request: HttpRequest, company_id: int, paging: Query[PageQuery]) -> dict[str, Any]:
    company = selectors.company_get(actor=request_actor(request), pk=company_id)
    page = paginate(selectors.note_list(company=company), page=paging.page, per_page=paging.per_page)
    return page_out(request, page)


@router.post("/companies/{company_id}/notes", response={201: NoteOut, **WRITE_ERRORS}, tags=["notes"])
def company_note_create(request: HttpRequest, company_id: int, payload: NoteIn) -> Status[Note]:
    actor = request_actor(request)
    company = selectors.company_get(actor=actor, pk=company_id)
    return Status(201, services.note_create(actor=actor, company=company, body=payload.body))


@router.get("/companies/{company_id}/timeline", response={200: TimelineOut, **GET_ERRORS}, tags=["timeline"])
def company_timeline(request: HttpRequest, company_id: int, query: Query[TimelineQuery]) -> dict[str, Any]:
    """The events and notes of the company and of its contacts, newest first."""
    company = selectors.company_get(actor=request_actor(request), pk=company_id)
    return _timeline_out(request, query, company=company)


# --- notes ------------------------------------------------------------------------------------------


@router.get("/notes/{note_id}", response={200: NoteOut, **GET_ERRORS}, tags=["notes"])
def note_get(request: HttpRequest, note_id: int) -> Note:
    return selectors.note_get(actor=request_actor(request), pk=note_id)


@router.patch("/notes/{note_id}", response={200: NoteOut, **WRITE_ERRORS}, tags=["notes"])
def note_update(request: HttpRequest, note_id: int, payload: NoteIn) -> Note:
    actor = request_actor(request)
    note = selectors.note_get(actor=actor, pk=note_id)
    return services.note_update(actor=actor, note=note, body=payload.body)


@router.delete("/notes/{note_id}", response={204: None, **WRITE_ERRORS}, tags=["notes"])
def note_delete(request: HttpRequest, note_id: int) -> Status[None]:
    actor = request_actor(request)
    services.note_delete(actor=actor, note=selectors.note_get(actor=actor, pk=note_id))
    return Status(204, None)


# --- tags -------------------------------------------------------------------------------------------


@router.get("/tags", response={200: TagPage, **READ_ERRORS}, tags=["tags"])
def tag_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    return page_out(request, paginate(selectors.tag_list(), page=paging.page, per_page=paging.per_page))


@router.post("/tags", response={201: TagOut, **WRITE_ERRORS}, tags=["tags"])
def tag_create(request: HttpRequest, payload: TagIn) -> Status[Tag]:
    tag = services.tag_create(actor=request_actor(request), data=payload.model_dump(mode="json"))
    return Status(201, tag)


@router.get("/tags/{tag_id}", response={200: TagOut, **GET_ERRORS}, tags=["tags"])
def tag_get(request: HttpRequest, tag_id: int) -> Tag:
    return selectors.tag_get(pk=tag_id)


@router.patch("/tags/{tag_id}", response={200: TagOut, **WRITE_ERRORS}, tags=["tags"])
def tag_update(request: HttpRequest, tag_id: int, payload: TagPatch) -> Tag:
    tag = selectors.tag_get(pk=tag_id)
    return services.tag_update(actor=request_actor(request), tag=tag, data=_service_data(payload))


@router.delete("/tags/{tag_id}", response={204: None, **WRITE_ERRORS}, tags=["tags"])
def tag_delete(request: HttpRequest, tag_id: int) -> Status[None]:
    services.tag_delete(actor=request_actor(request), tag=selectors.tag_get(pk=tag_id))
    return Status(204, None)


# --- search -----------------------------------------------------------------------------------------


@router.get("/search", response={200: SearchOut, **READ_ERRORS}, tags=["search"])
def search(request: HttpRequest, query: Query[SearchQuery]) -> selectors.SearchResults:
    """Contacts and companies containing every word of `q`, accent-insensitive ("Garcia" finds "García")."""
    return selectors.global_search(actor=request_actor(request), query=query.q, limit=query.limit)


# --- saved views of the list pages --------------------------------------------------------------------

ViewName = Annotated[str, Field(max_length=100)]
ViewSort = Annotated[
    str, Field(max_length=32, description="One of the list's sorts, e.g. `-created`; empty for its default.")
]
ViewFilters = Annotated[
    dict[str, str | int],
    Field(description='The list\'s filters by the names of its query parameters, e.g. `{"stage": "customer"}`.'),
]
ViewColumns = Annotated[
    list[Annotated[str, Field(max_length=32)]],
    Field(max_length=50, description="The columns shown, in order (names as in the list's column chooser)."),
]
ViewKind = Annotated[
    str, Field(max_length=32, description="The list: contacts, companies, deals, orders or activities.")
]
Sharing = Literal["private", "team", "organization"]


class SavedViewOut(Schema):
    id: int
    kind: str
    name: str
    owner: UserRef
    sharing: str
    team: Ref | None
    filters: dict[str, Any]
    sort: str
    columns: list[str]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_owner(obj: SavedView) -> Any:
        return obj.owner.user


class SavedViewPage(PageOut):
    items: list[SavedViewOut]


class SavedViewIn(InSchema):
    kind: ViewKind
    name: ViewName
    sharing: Sharing = "private"
    team: RecordId | None = Field(None, description="The team a view shared with a team is for.")
    filters: ViewFilters = Field(default_factory=dict)
    sort: ViewSort = ""
    columns: ViewColumns = Field(default_factory=list)


class SavedViewPatch(InSchema):
    name: ViewName | None = None
    sharing: Sharing | None = None
    team: RecordId | None = None
    filters: ViewFilters | None = None
    sort: ViewSort | None = None
    columns: ViewColumns | None = None


class SavedViewQuery(PageQuery):
    kind: str = Field("", max_length=32, description="Only the views of this list.")


def _view_data(payload: InSchema) -> dict[str, Any]:
    data = sent_fields(payload)
    for key in ("filters", "columns", "name", "sharing", "sort"):
        if key in data and data[key] is None:
            raise NinjaValidationError(
                [{"loc": ("body", "payload", key), "msg": _("This field cannot be null."), "type": "value_error"}]
            )
    return data


@router.get("/saved-views", response={200: SavedViewPage, **READ_ERRORS}, tags=["saved views"])
def saved_view_list(request: HttpRequest, query: Query[SavedViewQuery]) -> dict[str, Any]:
    """The saved views the caller sees: their own and those shared with them (the organisation or a team of theirs)."""
    if query.kind and query.kind not in registered_kinds():
        message = _("Unknown list. Allowed: %(names)s.") % {"names": ", ".join(registered_kinds())}
        raise NinjaValidationError([{"loc": ("query", "kind"), "msg": message, "type": "value_error"}])
    views = saved_views.saved_view_list(actor=request_actor(request), kind=query.kind)
    return page_out(request, paginate(views, page=query.page, per_page=query.per_page))


@router.post("/saved-views", response={201: SavedViewOut, **WRITE_ERRORS}, tags=["saved views"])
def saved_view_create(request: HttpRequest, payload: SavedViewIn) -> Status[SavedView]:
    actor = request_actor(request)
    view = saved_views.saved_view_create(actor=actor, data=_view_data(payload))
    return Status(201, saved_views.saved_view_get(actor=actor, pk=view.pk))


@router.get("/saved-views/{saved_view_id}", response={200: SavedViewOut, **GET_ERRORS}, tags=["saved views"])
def saved_view_get(request: HttpRequest, saved_view_id: int) -> SavedView:
    return saved_views.saved_view_get(actor=request_actor(request), pk=saved_view_id)


@router.patch("/saved-views/{saved_view_id}", response={200: SavedViewOut, **WRITE_ERRORS}, tags=["saved views"])
def saved_view_update(request: HttpRequest, saved_view_id: int, payload: SavedViewPatch) -> SavedView:
    """Rename, reshare or store new filters, sort and columns; only the owner and admins may."""
    actor = request_actor(request)
    view = saved_views.saved_view_get(actor=actor, pk=saved_view_id)
    saved_views.saved_view_update(actor=actor, view=view, data=_view_data(payload))
    return saved_views.saved_view_get(actor=actor, pk=saved_view_id)


@router.delete("/saved-views/{saved_view_id}", response={204: None, **WRITE_ERRORS}, tags=["saved views"])
def saved_view_delete(request: HttpRequest, saved_view_id: int) -> Status[None]:
    actor = request_actor(request)
    saved_views.saved_view_delete(actor=actor, view=saved_views.saved_view_get(actor=actor, pk=saved_view_id))
    return Status(204, None)
