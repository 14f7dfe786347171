"""The agenda API: activities (CRUD, filters, complete/reopen), follow-up rules, and the caller's
private calendar feed.

The schemas check the shape of the input; every rule about the data (a due date that is not a
date and time, an end before the start, a member of another organisation, a deal the caller
cannot see, negative minutes) is the services', so the API and the pages refuse the same things
with the same messages.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import StrictBool, StrictInt

from vinculo.accounts.api import UserRef, request_actor
from vinculo.core.api import (
    DATE_RANGE_EXTENSION,
    DATE_RANGE_TEXT,
    GET_ERRORS,
    MAX_PAGE,
    READ_ERRORS,
    WRITE_ERRORS,
    InSchema,
    PageOut,
    PageQuery,
    Ref,
    date_query_param,
    page_out,
    query_param,
    search_query_param,
    sent_fields,
)
from vinculo.core.pagination import paginate
from vinculo.core.query_params import MAX_SEARCH_LENGTH
from vinculo.core.validation import clean_datetime
from vinculo.sales.ical import feed_url
from vinculo.sales.models import Activity, ActivityKind, CalendarFeed, FollowUpRule
from vinculo.sales.selectors import activities as selectors
from vinculo.sales.services import activities as services
from vinculo.sales.services import follow_ups
from vinculo.sales.services.activities import user_tz

router = Router(tags=["agenda"])

DateTimeText = Annotated[
    str,
    Field(
        max_length=40,
        description="ISO 8601 date and time, e.g. 2026-03-02T09:30:00+01:00; without an offset it is read "
        "in your time zone. " + DATE_RANGE_TEXT,
        json_schema_extra=DATE_RANGE_EXTENSION,
    ),
]
Subject = Annotated[str, Field(max_length=200)]
Minutes = Annotated[StrictInt, Field(description="Whole minutes, 0 or more.")]
RecordId = StrictInt


# --- output schemas -----------------------------------------------------------------------------------


class ActivityOut(Schema):
    id: int
    kind: ActivityKind
    subject: str
    due_at: dt.datetime
    ends_at: dt.datetime
    duration_minutes: int
    assignee: UserRef | None
    contact: Ref | None
    company: Ref | None
    deal: Ref | None
    location: str
    description: str
    done: bool
    done_at: dt.datetime | None
    outcome: str
    overdue: bool = Field(description="Not done and due in the past.")
    reminder_minutes: int | None
    reminded_at: dt.datetime | None
    follow_up_rule_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_ends_at(obj: Activity) -> dt.datetime:
        return obj.due_at + dt.timedelta(minutes=obj.duration_minutes)

    @staticmethod
    def resolve_done(obj: Activity) -> bool:
        return obj.done_at is not None

    @staticmethod
    def resolve_overdue(obj: Activity) -> bool:
        return obj.done_at is None and obj.due_at < timezone.now()


class ActivityPage(PageOut):
    items: list[ActivityOut]


class StageRef(Schema):
    id: int
    name: str
    pipeline: Ref


class FollowUpRuleOut(Schema):
    id: int
    stage: StageRef
    kind: ActivityKind
    subject: str
    days_after: int
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class FollowUpRulePage(PageOut):
    items: list[FollowUpRuleOut]


class CalendarFeedOut(Schema):
    url: str = Field(description="The private iCal (RFC 5545) URL to subscribe to; anyone with it can read it.")
    last_fetched_at: dt.datetime | None

    @staticmethod
    def resolve_url(obj: CalendarFeed) -> str:
        return feed_url(obj)


# --- input schemas --------------------------------------------------------------------------------------


class ActivityIn(InSchema):
    """A new activity. Assigned to you unless `assignee` names another member (null: nobody)."""

    kind: ActivityKind = ActivityKind.TASK
    subject: Subject
    due_at: DateTimeText
    duration_minutes: Minutes | None = Field(None, description="Default 30; at most 1440.")
    ends_at: DateTimeText | None = Field(None, description="Instead of `duration_minutes`: when it ends.")
    assignee: RecordId | None = Field(None, description="A member's user id.")
    contact: RecordId | None = None
    company: RecordId | None = None
    deal: RecordId | None = None
    location: Annotated[str, Field(max_length=200)] = ""
    description: Annotated[str, Field(max_length=5000)] = ""
    reminder_minutes: Minutes | None = Field(None, description="E-mail the assignee this many minutes before.")


class ActivityPatch(InSchema):
    """The fields to change; the others stay. null clears a link or the reminder."""

    kind: ActivityKind | None = None
    subject: Subject | None = None
    due_at: DateTimeText | None = None
    duration_minutes: Minutes | None = None
    ends_at: DateTimeText | None = None
    assignee: RecordId | None = None
    contact: RecordId | None = None
    company: RecordId | None = None
    deal: RecordId | None = None
    location: Annotated[str, Field(max_length=200)] | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    outcome: Annotated[str, Field(max_length=5000)] | None = None
    reminder_minutes: Minutes | None = None


class CompleteIn(InSchema):
    outcome: Annotated[str, Field(max_length=5000)] = ""


class FollowUpRuleIn(InSchema):
    stage: RecordId = Field(description="A stage id: the rule applies when a deal enters it.")
    kind: ActivityKind = ActivityKind.TASK
    subject: Subject
    days_after: Annotated[StrictInt, Field(description="0 to 365.")] = 1
    is_active: StrictBool = True


class FollowUpRulePatch(InSchema):
    stage: RecordId | None = None
    kind: ActivityKind | None = None
    subject: Subject | None = None
    days_after: StrictInt | None = None
    is_active: StrictBool | None = None


def _data(payload: InSchema, *, nullable: tuple[str, ...] = ()) -> dict[str, Any]:
    """What the client sent. A null only means "clear" for the `nullable` fields; elsewhere it is
    the same as leaving the field out."""
    sent = sent_fields(payload)
    return {k: v for k, v in sent.items() if v is not None or k in nullable}


ACTIVITY_NULLABLE = ("assignee", "contact", "company", "deal", "reminder_minutes")


# --- list parameters ---------------------------------------------------------------------------------------

LIST_PARAMS = (
    "q",
    "assignee",
    "from",
    "to",
    "done",
    "overdue",
    "kind",
    "deal",
    "contact",
    "company",
    "sort",
    "page",
    "per_page",
)
MAX_PER_PAGE = selectors.MAX_PER_PAGE
MAX_ID = 10**18 - 1  # ids of up to 18 digits, as documented


LIST_PARAMETERS = [
    search_query_param("Words in the subject (any case)."),
    query_param("assignee", {"type": "string", "pattern": "^(me|none|[0-9]{1,18})$"}, "A user id, `me` or `none`."),
    date_query_param("from", "Due at or after this moment (ISO 8601 date and time).", with_time=True),
    date_query_param("to", "Due before this moment (ISO 8601 date and time).", with_time=True),
    query_param("done", {"type": "boolean"}, "Only done (true) or not done (false) activities."),
    query_param("overdue", {"type": "boolean"}, "Only overdue (true) or not overdue (false) activities."),
    query_param("kind", {"type": "string", "enum": list(ActivityKind.values)}, "Task, call or meeting."),
    query_param("deal", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "A deal id."),
    query_param("contact", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "A contact id."),
    query_param("company", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "A company id."),
    query_param(
        "sort",
        {"type": "string", "enum": list(selectors.ACTIVITY_SORTS), "default": selectors.DEFAULT_ACTIVITY_SORT},
        "By due time, subject or creation; a leading `-` reverses.",
    ),
    query_param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "Page number."),
    query_param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50}, "Page size."),
]


def _parse_list_params(params: QueryDict, actor: Any) -> selectors.ActivityFilters:
    """The filters of GET /activities; every bad or unknown parameter is a 422 naming it."""
    errors: dict[str, list[str]] = {}
    filters = selectors.ActivityFilters()

    def whole(name: str, value: str, minimum: int, maximum: int) -> int | None:
        if not value.isdigit() or not minimum <= int(value) <= maximum:
            errors.setdefault(name, []).append(
                _("Enter a whole number from %(min)s to %(max)s.") % {"min": minimum, "max": maximum}
            )
            return None
        return int(value)

    def boolean(name: str, value: str) -> bool | None:
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        errors.setdefault(name, []).append(_("Enter true or false."))
        return None

    for name in params:
        if name not in LIST_PARAMS:
            errors.setdefault(name, []).append(_("Unknown parameter."))
    tz = user_tz(actor.user)
    for name in params:
        value = str(params.get(name, "")).strip()
        if name not in LIST_PARAMS or value == "":
            continue
        if name == "q":
            if len(value) > MAX_SEARCH_LENGTH:
                errors.setdefault(name, []).append(_("At most %(n)s characters.") % {"n": MAX_SEARCH_LENGTH})
            else:
                filters.q = value
        elif name == "assignee":
            if value == "me":
                filters.assignee = actor.user_id
            elif value == "none":
                filters.unassigned = True
            else:
                filters.assignee = whole(name, value, 1, MAX_ID)
        elif name in ("from", "to"):
            moment = clean_datetime(value, name, errors, tz=tz)
            if name == "from":
                filters.start = moment
            else:
                filters.end = moment
        elif name in ("done", "overdue"):
            setattr(filters, name, boolean(name, value))
        elif name == "kind":
            if value in ActivityKind.values:
                filters.kind = value
            else:
                errors.setdefault(name, []).append(
                    _("Choose one of %(expected)s.") % {"expected": ", ".join(ActivityKind.values)}
                )
        elif name in ("deal", "contact", "company"):
            setattr(filters, name, whole(name, value, 1, MAX_ID))
        elif name == "sort":
            if value in selectors.ACTIVITY_SORTS:
                filters.sort = value
            else:
                errors.setdefault(name, []).append(
                    _("Choose one of %(expected)s.") % {"expected": ", ".join(selectors.ACTIVITY_SORTS)}
                )
        elif name == "page":
            filters.page = whole(name, value, 1, MAX_PAGE) or 1
        elif name == "per_page":
            filters.per_page = whole(name, value, 1, MAX_PER_PAGE) or 50
    if errors:
        raise NinjaValidationError(
            [
                {"loc": ("query", name), "msg": message, "type": "value_error"}
                for name, messages in errors.items()
                for message in messages
            ]
        )
    return filters


def _reloaded(activity: Activity) -> Activity:
    """The activity as just written, with its relations; still shown when the write moved it out of
    the caller's sight (e.g. a rep assigning it to a colleague outside their teams)."""
    return selectors.with_relations(Activity.objects.filter(pk=activity.pk)).get()


# --- activities -----------------------------------------------------------------------------------------


@router.get(
    "/activities",
    response={200: ActivityPage, **READ_ERRORS},
    openapi_extra={"parameters": LIST_PARAMETERS},
    description="The activities you can see, by due time unless `sort` says otherwise. Any other query parameter "
    "is an error (422).",
)
def activity_list(request: HttpRequest) -> dict[str, Any]:
    actor = request_actor(request)
    filters = _parse_list_params(request.GET, actor)
    return page_out(request, selectors.activity_list(actor=actor, filters=filters))


@router.post("/activities", response={201: ActivityOut, **WRITE_ERRORS})
def activity_create(request: HttpRequest, payload: ActivityIn) -> Status[Activity]:
    actor = request_actor(request)
    activity = services.activity_create(actor=actor, data=_data(payload, nullable=ACTIVITY_NULLABLE))
    return Status(201, _reloaded(activity))


@router.get("/activities/{activity_id}", response={200: ActivityOut, **GET_ERRORS})
def activity_get(request: HttpRequest, activity_id: int) -> Activity:
    return selectors.activity_get(actor=request_actor(request), pk=activity_id)


@router.patch("/activities/{activity_id}", response={200: ActivityOut, **WRITE_ERRORS})
def activity_update(request: HttpRequest, activity_id: int, payload: ActivityPatch) -> Activity:
    actor = request_actor(request)
    activity = selectors.activity_get(actor=actor, pk=activity_id)
    activity = services.activity_update(actor=actor, activity=activity, data=_data(payload, nullable=ACTIVITY_NULLABLE))
    return _reloaded(activity)


@router.delete("/activities/{activity_id}", response={204: None, **WRITE_ERRORS})
def activity_delete(request: HttpRequest, activity_id: int) -> Status[None]:
    actor = request_actor(request)
    services.activity_delete(actor=actor, activity=selectors.activity_get(actor=actor, pk=activity_id))
    return Status(204, None)


@router.post("/activities/{activity_id}/complete", response={200: ActivityOut, **WRITE_ERRORS})
def activity_complete(request: HttpRequest, activity_id: int, payload: CompleteIn) -> Activity:
    """Mark done with an optional outcome; on a done activity, only the outcome changes."""
    actor = request_actor(request)
    activity = selectors.activity_get(actor=actor, pk=activity_id)
    services.activity_complete(actor=actor, activity=activity, outcome=payload.outcome)
    return selectors.activity_get(actor=actor, pk=activity_id)


@router.post("/activities/{activity_id}/reopen", response={200: ActivityOut, **WRITE_ERRORS})
def activity_reopen(request: HttpRequest, activity_id: int) -> Activity:
    actor = request_actor(request)
    services.activity_reopen(actor=actor, activity=selectors.activity_get(actor=actor, pk=activity_id))
    return selectors.activity_get(actor=actor, pk=activity_id)


# --- follow-up rules --------------------------------------------------------------------------------------


@router.get("/follow-up-rules", response={200: FollowUpRulePage, **READ_ERRORS})
def follow_up_rule_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    """The organisation's rules, by pipeline, stage and days."""
    page = paginate(selectors.follow_up_rule_list(), page=paging.page, per_page=paging.per_page)
    return page_out(request, page)


@router.post("/follow-up-rules", response={201: FollowUpRuleOut, **WRITE_ERRORS})
def follow_up_rule_create(request: HttpRequest, payload: FollowUpRuleIn) -> Status[FollowUpRule]:
    rule = follow_ups.follow_up_rule_create(actor=request_actor(request), data=_data(payload))
    return Status(201, selectors.follow_up_rule_get(pk=rule.pk))


@router.get("/follow-up-rules/{follow_up_rule_id}", response={200: FollowUpRuleOut, **GET_ERRORS})
def follow_up_rule_get(request: HttpRequest, follow_up_rule_id: int) -> FollowUpRule:
    return selectors.follow_up_rule_get(pk=follow_up_rule_id)


@router.patch("/follow-up-rules/{follow_up_rule_id}", response={200: FollowUpRuleOut, **WRITE_ERRORS})
def follow_up_rule_update(request: HttpRequest, follow_up_rule_id: int, payload: FollowUpRulePatch) -> FollowUpRule:
    rule = selectors.follow_up_rule_get(pk=follow_up_rule_id)
    follow_ups.follow_up_rule_update(actor=request_actor(request), rule=rule, data=_data(payload))
    return selectors.follow_up_rule_get(pk=follow_up_rule_id)


@router.delete("/follow-up-rules/{follow_up_rule_id}", response={204: None, **WRITE_ERRORS})
def follow_up_rule_delete(request: HttpRequest, follow_up_rule_id: int) -> Status[None]:
    rule = selectors.follow_up_rule_get(pk=follow_up_rule_id)
    follow_ups.follow_up_rule_delete(actor=request_actor(request), rule=rule)
    return Status(204, None)


# --- the caller's calendar feed --------------------------------------------------------------------------


@router.get("/calendar-feed", response={200: CalendarFeedOut, **READ_ERRORS})
def calendar_feed_get(request: HttpRequest) -> CalendarFeed:
    """Your private feed URL in this organisation (made on first use)."""
    return services.calendar_feed_get_or_create(actor=request_actor(request))


@router.post("/calendar-feed/rotate", response={200: CalendarFeedOut, **WRITE_ERRORS})
def calendar_feed_rotate(request: HttpRequest) -> CalendarFeed:
    """A new secret URL; the old one answers 404 from now on."""
    return services.calendar_feed_rotate(actor=request_actor(request))
