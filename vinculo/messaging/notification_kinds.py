"""The registry of notification kinds: what a member can be told about, and how each reads.

Messaging declares the kinds it knows of (a record assigned to me, a mention in a note, an e-mail
that could not be sent); apps above it declare theirs from their `AppConfig.ready()` (sales: activity
reminders; touchpoints: leads from web forms), so that a kind lives with the code that causes it.
A notification row stores its kind's key and the raw values its sentence needs (`params`); the
sentence is translated when it is shown or e-mailed, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from vinculo.accounts.system_actor import SYSTEM_NAME, describe_via


class NotificationChannel(models.TextChoices):
    """Where a member wants a kind of notification: in the bell, by e-mail, both, or nowhere."""

    IN_APP = "in_app", _("In the app")
    EMAIL = "email", _("By e-mail")
    BOTH = "both", _("In the app and by e-mail")
    NONE = "none", _("Not at all")


IN_APP_CHANNELS = {NotificationChannel.IN_APP, NotificationChannel.BOTH}
EMAIL_CHANNELS = {NotificationChannel.EMAIL, NotificationChannel.BOTH}


@dataclass(frozen=True)
class NotificationKind:
    """One kind of notification.

    `sentences` maps a variant (`params["variant"]`, "" by default) to a sentence with
    %(name)s placeholders filled from the notification's `params`; `default_channel` applies
    until the member chooses. `prepare`, when given, turns the stored params into the values the
    sentence reads (a time in the reader's time zone)."""

    key: str
    label: Promise
    description: Promise
    sentences: Mapping[str, Promise]
    default_channel: str = NotificationChannel.IN_APP
    icon: str = "bi-bell"
    order: int = 100
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def sentence(self, params: Mapping[str, Any]) -> str:
        """The sentence of a notification of this kind, in the active language and time zone; a
        placeholder the params lack reads as empty rather than failing the page. `actor` is who
        caused it: a member's name, else what did it automatically ("The web form “Newsletter”")."""
        template = self.sentences.get(str(params.get("variant", ""))) or next(iter(self.sentences.values()))
        values: dict[str, Any] = dict(params)
        if not values.get("actor"):
            via = str(values.get("via") or "")
            values["actor"] = capfirst(describe_via(via)) if via else SYSTEM_NAME
        if self.prepare is not None:
            values = self.prepare(values)
        return str(template) % _Defaulting({key: str(value) for key, value in values.items()})


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


_kinds: dict[str, NotificationKind] = {}


def register_notification_kind(kind: NotificationKind) -> NotificationKind:
    """Declare a kind (again: replaced, for module reloads in tests)."""
    if kind.default_channel not in NotificationChannel.values:
        raise ValueError(f"notification kind {kind.key!r}: unknown channel {kind.default_channel!r}")
    if not kind.sentences:
        raise ValueError(f"notification kind {kind.key!r} has no sentence")
    _kinds[kind.key] = kind
    return kind


def notification_kind(key: str) -> NotificationKind | None:
    return _kinds.get(key)


def notification_kind_list() -> list[NotificationKind]:
    """Every declared kind, in the order the settings page shows them."""
    return sorted(_kinds.values(), key=lambda k: (k.order, k.key))


# --- the kinds of the messaging layer -------------------------------------------------------------

ASSIGNED = "assigned"
MENTIONED = "mentioned"
MAIL_FAILED = "mail_failed"

register_notification_kind(
    NotificationKind(
        key=ASSIGNED,
        label=_("Assigned to me"),
        description=_("A contact, lead, company, deal or activity that someone else gives me."),
        sentences={
            "contact": _("%(actor)s assigned the contact %(record)s to you"),
            "lead": _("%(actor)s assigned the lead %(record)s to you"),
            "company": _("%(actor)s assigned the company %(record)s to you"),
            "deal": _("%(actor)s assigned the deal %(record)s to you"),
            "activity": _("%(actor)s assigned the activity %(record)s to you"),
        },
        icon="bi-person-check",
        order=10,
    )
)
register_notification_kind(
    NotificationKind(
        key=MENTIONED,
        label=_("Mentioned in a note"),
        description=_("A colleague writes @ and my name in a note."),
        sentences={"": _("%(actor)s mentioned you in a note on %(record)s")},
        icon="bi-at",
        order=20,
    )
)
register_notification_kind(
    NotificationKind(
        key=MAIL_FAILED,
        label=_("E-mail that could not be sent"),
        description=_("An e-mail I wrote, or one about me, failed for good."),
        sentences={"": _("The e-mail “%(subject)s” to %(to)s could not be sent")},
        icon="bi-envelope-exclamation",
        order=50,
    )
)
