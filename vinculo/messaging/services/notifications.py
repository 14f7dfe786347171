"""Notifications to members: `notify` tells a member about something, in the app and/or by e-mail
as they chose per kind; members mark them read one by one or all at once, and choose their channels.

`notify` is idempotent (one notification per cause and recipient: its `key`) and writes in the
caller's transaction: a rolled-back change notifies nobody. The e-mail goes through the outgoing
rows (`message_queue`, system mail in the member's language), keyed by the same cause, or through
the caller's own e-mail when it has one (an activity reminder, a web-form lead).
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership, Organization, User
from vinculo.messaging.models import MessageKind, Notification, NotificationPreference
from vinculo.messaging.notification_kinds import (
    ASSIGNED,
    EMAIL_CHANNELS,
    IN_APP_CHANNELS,
    NotificationChannel,
    NotificationKind,
    notification_kind,
)
from vinculo.messaging.selectors.notifications import notification_preferences
from vinculo.messaging.services.outgoing import message_queue

logger = logging.getLogger(__name__)

NOTIFICATION_MAIL_PREFIX = "notification:"


def notification_channel(*, organization_id: int, user_id: int, kind: NotificationKind) -> str:
    """Where the member wants this kind: their choice, else the kind's default."""
    chosen = (
        NotificationPreference.dangerously_unscoped.filter(
            organization_id=organization_id, user_id=user_id, kind=kind.key
        )
        .values_list("channel", flat=True)
        .first()
    )
    return chosen if chosen in NotificationChannel.values else kind.default_channel


def user_time_zone(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _recipient(organization: Organization, recipient: User | int | None) -> User | None:
    """The person, when they can be told: active, a real person and a member of the organisation."""
    if recipient is None:
        return None
    user = recipient if isinstance(recipient, User) else User.objects.filter(pk=recipient).first()
    if user is None or not user.is_active or user.is_system:
        return None
    if not Membership.objects.filter(organization=organization, user=user).exists():
        return None
    return user


def _store(
    organization: Organization,
    user: User,
    spec: NotificationKind,
    key: str,
    url: str,
    params: dict[str, Any],
    actor: Any,
) -> Notification:
    existing = Notification.dangerously_unscoped.filter(organization=organization, recipient=user, key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Notification.dangerously_unscoped.create(
                organization=organization,
                recipient=user,
                kind=spec.key,
                key=key,
                url=url,
                params=params,
                actor=actor if isinstance(actor, User) and actor.pk and not actor.is_system else None,
            )
    except IntegrityError:  # written meanwhile by a concurrent run of the same cause
        return Notification.dangerously_unscoped.get(organization=organization, recipient=user, key=key)


def _queue_email(
    organization: Organization, user: User, spec: NotificationKind, key: str, url: str, params: dict[str, Any]
) -> None:
    """The notification by e-mail, in the member's language and time zone."""
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(user_time_zone(user)):
        sentence = spec.sentence(params)
    link = settings.SITE_URL + url if url else ""
    try:
        message_queue(
            organization=organization,
            kind=MessageKind.SYSTEM,
            to=user.email,
            subject=sentence,
            template="messaging/notifications/email/notification",
            context={
                "user": user,
                "sentence": sentence,
                "detail": str(params.get("detail") or ""),
                "url": link,
                "organization": organization,
                "settings_url": settings.SITE_URL
                + reverse("messaging:notification_settings", args=[organization.slug]),
            },
            language=language,
            idempotency_key=f"{NOTIFICATION_MAIL_PREFIX}{user.pk}:{key}"[:200],
        )
    except ValidationError as exc:  # an address that is not one: the in-app notification stays
        logger.warning("notification %s to user %s not e-mailed: %s", key, user.pk, exc)


def notify(
    *,
    organization: Organization,
    recipient: User | int | None,
    kind: str,
    key: str,
    url: str = "",
    params: Mapping[str, Any] | None = None,
    actor: Any = None,
    via: str = "",
    mail: Callable[[], object] | None = None,
    email_allowed: bool = True,
) -> Notification | None:
    """Tell a member about something, where they want this kind of thing (in the app, by e-mail,
    both or neither). Returns the in-app notification, if one is kept.

    - `key` names the cause; the same key for the same member is one notification (and one e-mail).
    - `params` are the values of the kind's sentence (JSON); `url` the path of the record it is about.
    - `actor`: the member who caused it (named in the sentence); `via`: what did it when nobody did
      (the system actor's `via`, "assignment_rule:Spain"), also read from a system actor.
    - `mail`: the caller's own e-mail for this (idempotent itself), sent instead of the plain one
      when the member wants e-mail.
    - `email_allowed` False: in the app only, whatever the choice (a failed notification e-mail is
      not told about by e-mail).
    - Nobody is told who is inactive, not a member of the organisation any more, or the system.
    """
    spec = notification_kind(kind)
    if spec is None:
        raise ValueError(f"unknown notification kind {kind!r}")
    user = _recipient(organization, recipient)
    if user is None:
        return None
    values = dict(params or {})
    if actor is not None and not values.get("actor") and not getattr(actor, "is_system", False):
        values["actor"] = str(actor)
    via = via or getattr(actor, "via", "")
    if via and not values.get("via"):
        values["via"] = via
    channel = notification_channel(organization_id=organization.pk, user_id=user.pk, kind=spec)
    row = _store(organization, user, spec, key, url, values, actor) if channel in IN_APP_CHANNELS else None
    if channel in EMAIL_CHANNELS and email_allowed:
        if mail is not None:
            mail()
        else:
            _queue_email(organization, user, spec, key, url, values)
    return row


def notify_assigned(
    *,
    organization: Organization,
    recipient: User | int | None,
    actor: Any,
    record: str,
    name: str,
    url: str,
    key: str,
    via: str = "",
) -> Notification | None:
    """A record (`record`: contact, lead, company, deal or activity) given to a member by someone
    else; nothing when they took it themselves."""
    recipient_id = recipient.pk if isinstance(recipient, User) else recipient
    if recipient_id is None or (actor is not None and getattr(actor, "pk", None) == recipient_id):
        return None
    return notify(
        organization=organization,
        recipient=recipient,
        kind=ASSIGNED,
        key=key,
        url=url,
        params={"variant": record, "record": name},
        actor=actor,
        via=via,
    )


# --- the member's side: read, all read, channels ------------------------------------------------------


def notification_mark_read(*, actor: Membership, notification: Notification) -> Notification:
    """Mark one of the member's own notifications read (again: unchanged)."""
    if notification.recipient_id != actor.user_id or notification.organization_id != actor.organization_id:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now, updated_at=now)
        notification.read_at = now
    return notification


def notification_mark_all_read(*, actor: Membership) -> int:
    """Mark every unread notification of the member in this organisation read; how many were."""
    now = timezone.now()
    return Notification.objects.filter(recipient_id=actor.user_id, read_at__isnull=True).update(
        read_at=now, updated_at=now
    )


@transaction.atomic
def notification_preferences_update(*, actor: Membership, data: Mapping[str, Any]) -> dict[str, str]:
    """Set the member's channel of each kind named in `data` ({kind: channel}). An unknown kind or
    channel is a field error (the field is the kind) and nothing is saved. Returns every kind's
    channel afterwards."""
    if not isinstance(data, Mapping):
        raise ValidationError({"preferences": [_("Send an object of kinds and channels.")]})
    errors: dict[str, list[str]] = {}
    for kind, channel in data.items():
        if notification_kind(str(kind)) is None:
            errors.setdefault(str(kind), []).append(_("There is no notification kind “%(kind)s”.") % {"kind": kind})
        elif channel not in NotificationChannel.values:
            errors.setdefault(str(kind), []).append(
                _("Choose one of: %(channels)s.") % {"channels": ", ".join(NotificationChannel.values)}
            )
    if errors:
        raise ValidationError(errors)
    for kind, channel in data.items():
        NotificationPreference.objects.update_or_create(
            organization_id=actor.organization_id, user_id=actor.user_id, kind=kind, defaults={"channel": channel}
        )
    return notification_preferences(actor=actor)
