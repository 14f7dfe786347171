"""The system actor: who automatic writes are done by.

A web form's submission, a webhook's order, a lead routed by the assignment rules, a contact
created by the website tracker: nobody did these, so no member is credited with them. They run as
one real `User` per install, inactive and with an unusable password (it can never log in), marked
`is_system`, that belongs to no organisation (it is never listed as a member). `system_actor()`
wraps it in an unsaved owner `Membership`, so that the services' role checks pass, and carries a
`via` ("web_form:Newsletter") that the audit trail (`AuditEntry.via`) and the event log (the
event's `via` property) record with the write; `describe_via()` turns it into "the web form
“Newsletter”" for the record's history and timeline.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from vinculo.accounts.models import Membership, Organization, Role, User

# not an address a person can register: it has no "@"
SYSTEM_EMAIL = "vinculo-system"
SYSTEM_NAME = "Vínculo"

# how each kind of `via` reads, after "by" ("by the web form “Newsletter”")
VIA_PHRASES: dict[str, Any] = {
    "web_form": _("the web form “%(name)s”"),
    "assignment_rule": _("the assignment rule “%(name)s”"),
    "assignment_rules": _("the assignment rules"),
    "webhook": _("the webhook “%(name)s”"),
    "platform_webhook": _("the %(platform)s webhook “%(name)s”"),
    "website": _("the website tracker of “%(name)s”"),
    "mailbox": _("the mailbox “%(name)s”"),
}


def make_via(kind: str, name: str = "", *, platform: str = "") -> str:
    """The stored form of a `via`: "web_form:Newsletter", "platform_webhook:Shopify:My shop"."""
    if kind not in VIA_PHRASES:
        raise ValueError(f"unknown via kind {kind!r}")
    if kind == "platform_webhook":
        return f"{kind}:{platform}:{name}"
    return f"{kind}:{name}" if name else kind


def describe_via(value: str) -> str:
    """How a stored `via` reads in the active language; an unknown one as it was stored."""
    kind, _sep, rest = value.partition(":")
    phrase = VIA_PHRASES.get(kind)
    if phrase is None:
        return value
    if kind == "platform_webhook":
        platform, _sep, name = rest.partition(":")
        return str(phrase) % {"platform": platform, "name": name}
    return str(phrase) % {"name": rest} if "%(name)s" in str(phrase) else str(phrase)


def system_user() -> User:
    """The install's system user, created on first use (race-safe: one row, by a unique constraint)."""
    user = User.objects.filter(is_system=True).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            return User.objects.create(
                email=SYSTEM_EMAIL,
                full_name=SYSTEM_NAME,
                is_active=False,
                is_system=True,
                password=make_password(None),
            )
    except IntegrityError:
        return User.objects.get(is_system=True)


def system_actor(organization: Organization, *, via: str) -> Membership:
    """The actor of an automatic write in `organization`, done through `via` (see `make_via()`).

    An unsaved owner membership of the system user: the services check roles and sign the audit
    trail with `actor.user`, which carries `via`. Nothing is written for the membership itself.
    """
    user = system_user()
    user.via = via
    return Membership(user=user, organization=organization, role=Role.OWNER)


def is_system_actor(actor: Membership) -> bool:
    return bool(actor.user.is_system)


def default_owner(actor: Membership) -> User | None:
    """Who owns what `actor` creates when nobody is named: the member, or nobody for the system
    (the system user owns nothing: an unowned lead is routed by the assignment rules)."""
    return None if actor.user.is_system else actor.user
