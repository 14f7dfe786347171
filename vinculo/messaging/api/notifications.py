"""The caller's notifications over the API: list them (newest or unread first), mark one or all
read, and read or change the channel of each kind. Only the caller's own: another member's
notification, or another organisation's, answers 404. An unknown kind or channel in the
preferences is a field error (422) and nothing is saved."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from vinculo.accounts.api import UserRef, request_actor
from vinculo.core.api import GET_ERRORS, READ_ERRORS, WRITE_ERRORS, InSchema, PageOut, page_out
from vinculo.core.pagination import MAX_PAGE
from vinculo.messaging.models import Notification
from vinculo.messaging.notification_kinds import notification_kind_list
from vinculo.messaging.selectors import notifications as selectors
from vinculo.messaging.services import notifications as services

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="assigned, mentioned, reminder, form_lead, mail_failed, or a kind added later.")
    text: str = Field(description="What it says, in the caller's language.")
    detail: str = Field(description="A second line (a note's words, a server's answer), or empty.")
    url: str = Field(description="The path of the record it is about, or empty.")
    read: bool
    read_at: dt.datetime | None
    created_at: dt.datetime
    actor: UserRef | None

    @staticmethod
    def resolve_text(obj: Notification) -> str:
        return obj.sentence

    @staticmethod
    def resolve_read(obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationPage(PageOut):
    items: list[NotificationOut]
    unread: int = Field(description="How many of the caller's notifications are unread.")


class NotificationQuery(Schema):
    order: Literal["newest", "unread"] = Field("newest", description="newest first, or the unread ones first.")
    unread: bool = Field(False, description="Only the unread ones.")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=200)


class ReadAllOut(Schema):
    marked: int = Field(description="How many were unread and are now read.")


ChannelName = Literal["in_app", "email", "both", "none"]


class NotificationPreferenceOut(Schema):
    kind: str
    label: str
    description: str
    channel: ChannelName
    default_channel: ChannelName


class NotificationPreferencesOut(Schema):
    preferences: list[NotificationPreferenceOut]


class NotificationPreferencesIn(InSchema):
    preferences: dict[str, str] = Field(
        description='The channel of each kind to change: {"assigned": "both", "mentioned": "email"}. '
        "Channels: in_app, email, both, none."
    )


def _preferences_out(channels: dict[str, str]) -> dict[str, Any]:
    return {
        "preferences": [
            {
                "kind": kind.key,
                "label": str(kind.label),
                "description": str(kind.description),
                "channel": channels[kind.key],
                "default_channel": kind.default_channel,
            }
            for kind in notification_kind_list()
        ]
    }


@router.get("/notifications", response={200: NotificationPage, **READ_ERRORS})
def notification_list(request: HttpRequest, filters: Query[NotificationQuery]) -> dict[str, Any]:
    actor = request_actor(request)
    page = selectors.notification_list(
        actor=actor, order=filters.order, unread_only=filters.unread, page=filters.page, per_page=filters.per_page
    )
    return {**page_out(request, page), "unread": selectors.notification_unread_count(actor=actor)}


@router.post("/notifications/read-all", response={200: ReadAllOut, **WRITE_ERRORS})
def notification_read_all(request: HttpRequest) -> dict[str, int]:
    return {"marked": services.notification_mark_all_read(actor=request_actor(request))}


@router.post("/notifications/{notification_id}/read", response={200: NotificationOut, **WRITE_ERRORS})
def notification_read(request: HttpRequest, notification_id: int) -> Notification:
    actor = request_actor(request)
    notification = (
        selectors.notification_queryset(actor=actor).select_related("actor").filter(pk=notification_id).first()
    )
    if notification is None:
        raise Http404
    return services.notification_mark_read(actor=actor, notification=notification)


@router.get("/notifications/preferences", response={200: NotificationPreferencesOut, **GET_ERRORS})
def notification_preferences_get(request: HttpRequest) -> dict[str, Any]:
    return _preferences_out(selectors.notification_preferences(actor=request_actor(request)))


@router.patch("/notifications/preferences", response={200: NotificationPreferencesOut, **WRITE_ERRORS})
def notification_preferences_update(request: HttpRequest, payload: NotificationPreferencesIn) -> dict[str, Any]:
    try:
        channels = services.notification_preferences_update(actor=request_actor(request), data=payload.preferences)
    except ValidationError as exc:
        raise ValidationError({f"preferences.{field}": errors for field, errors in exc.message_dict.items()}) from None
    return _preferences_out(channels)
