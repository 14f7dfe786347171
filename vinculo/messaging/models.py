"""Models of the messaging layer: what every domain that talks to customers needs, below all of them
(docs/adr/0004-messaging-layer.md)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vinculo.core.models import OrgScopedModel

# --- Consent: typed purposes, the ledger with its proof, and each contact's current state -------------


class LawfulBasis(models.TextChoices):
    """Why the organisation may write to a contact for a purpose (GDPR art. 6)."""

    CONSENT = "consent", _("Consent")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")
    CONTRACT = "contract", _("Contract")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")


class OptMode(models.TextChoices):
    """Where a contact who never said anything stands: out until they opt in, or in until they opt out."""

    OPT_IN = "opt_in", _("Opt-in: not subscribed until they agree")
    OPT_OUT = "opt_out", _("Opt-out: subscribed until they refuse")


class SubscriptionType(OrgScopedModel):
    """A typed purpose the organisation writes to contacts for (newsletter, product news, invoices),
    with its lawful basis. Consent is always given to one of these, never to free text."""

    key = models.CharField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), max_length=1000, blank=True, default="")
    lawful_basis = models.CharField(
        _("lawful basis"), max_length=20, choices=LawfulBasis.choices, default=LawfulBasis.CONSENT
    )
    opt_mode = models.CharField(
        _("contacts who said nothing"), max_length=8, choices=OptMode.choices, default=OptMode.OPT_IN
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "key"], name="subscription_type_key_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def everybody_unless_refused(self) -> bool:
        """Whether contacts without a recorded answer count as subscribed: never under consent (it
        must be given), else when the type is opt-out."""
        return self.lawful_basis != LawfulBasis.CONSENT and self.opt_mode == OptMode.OPT_OUT


class ConsentChannel(models.TextChoices):
    FORM = "form", _("Form")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    PREFERENCE_CENTRE = "preference_centre", _("Preference centre")
    UNSUBSCRIBE_LINK = "unsubscribe_link", _("Unsubscribe link")
    MANUAL = "manual", _("Recorded by staff")


class Consent(OrgScopedModel):
    """One entry of the consent ledger: a contact granted or withdrew a subscription type, with its
    proof (the exact text and version shown, when, from which IP, page, browser and form) and who
    recorded it. Rows are never changed afterwards, except the double opt-in confirmation stamp;
    the current state per (contact, type) is `ContactSubscription`."""

    class Status(models.TextChoices):
        GRANTED = "granted", _("Granted")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="consents")
    subscription_type = models.ForeignKey(
        SubscriptionType, on_delete=models.PROTECT, related_name="consents", verbose_name=_("subscription type")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.GRANTED)
    channel = models.CharField(
        _("channel"), max_length=20, choices=ConsentChannel.choices, default=ConsentChannel.MANUAL
    )
    text = models.TextField(_("text shown"), max_length=2000, blank=True, default="")
    text_version = models.CharField(_("text version"), max_length=32, blank=True, default="")
    source = models.CharField(_("source"), max_length=64, blank=True, default="")
    form_name = models.CharField(_("form"), max_length=100, blank=True, default="")
    # the touchpoints FormSubmission that carried it: a plain id, messaging sits below touchpoints
    submission_ref = models.PositiveBigIntegerField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    page_url = models.URLField(max_length=2000, blank=True, default="")
    user_agent = models.CharField(max_length=400, blank=True, default="")
    needs_confirmation = models.BooleanField(_("double opt-in"), default=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True, default="")

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["contact", "subscription_type", "-created_at"], name="consent_contact_type"),
            models.Index(fields=["submission_ref"], name="consent_submission_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_type_id}: {self.status}"

    @property
    def is_pending(self) -> bool:
        """Granted through double opt-in and the e-mail link not followed yet."""
        return self.status == self.Status.GRANTED and self.needs_confirmation and self.confirmed_at is None


class SubscriptionStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", _("Subscribed")
    PENDING = "pending", _("Waiting for e-mail confirmation")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")


class ContactSubscription(OrgScopedModel):
    """Where a contact stands now for one subscription type: the ledger's latest word, kept by the
    consent services in the same transaction as the ledger row, so that asking it of a million
    contacts is one indexed query. No row: the contact never answered (see `opt_mode`)."""

    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="subscriptions")
    subscription_type = models.ForeignKey(SubscriptionType, on_delete=models.CASCADE, related_name="subscriptions")
    status = models.CharField(_("status"), max_length=12, choices=SubscriptionStatus.choices)
    consent = models.ForeignKey(Consent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering: ClassVar = ["subscription_type_id", "contact_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["subscription_type", "contact", "organization"], name="contact_subscription_unique"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["subscription_type", "status", "contact"], name="contact_subscription_status"),
            models.Index(fields=["contact", "subscription_type"], name="contact_subscription_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.subscription_type_id}: {self.status}"
