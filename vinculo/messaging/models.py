"""Models of the messaging layer: what every domain that talks to customers needs, below all of them
(docs/adr/0004-messaging-layer.md)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vinculo.core.models import OrgScopedModel
from vinculo.messaging.notification_kinds import notification_kind

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


# === Outgoing e-mail and the suppression list ====================================================
# (its own section: consent and subscription types are above)


class MessageKind(models.TextChoices):
    """Why a message is sent, which decides whether the suppression list applies by default.

    - system: to the install's own users (invitations, password reset, reminders, notifications
      to a record's owner). The suppression list (a customer-facing list) does not apply.
    - transactional: to a customer, caused by what they did (double opt-in confirmation).
    - one_off: written by a member to a customer (from a contact's page, a quote by e-mail).
    - campaign: marketing (a later issue), the only kind with List-Unsubscribe by default.
    """

    SYSTEM = "system", _("system")
    TRANSACTIONAL = "transactional", _("transactional")
    ONE_OFF = "one_off", _("one-off")
    CAMPAIGN = "campaign", _("campaign")


class MessageState(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    SUPPRESSED = "suppressed", _("suppressed")
    # no SMTP server is configured for it: kept in the organisation's outbox, readable there
    # (vinculo/messaging/transports.py, OUTBOX), never sent unless someone retries it later
    OUTBOX = "outbox", _("kept in the outbox")


class InstallMailManager(models.Manager["OutgoingMessage"]):
    """Install-level mail only (no organisation: password resets); no scope needed or applied."""

    def get_queryset(self) -> models.QuerySet[OutgoingMessage]:
        return super().get_queryset().filter(organization__isnull=True)


class OutgoingMessage(OrgScopedModel):
    """One e-mail to one recipient: written in the caller's transaction, sent by the task worker.

    The row is the durable record of the work (STYLE habit 7): the task enqueued on commit only
    makes it fast; `send_due_messages` finds a row whose enqueue was lost, whose retry is due
    (`next_attempt_at`) or whose worker died while sending (a `sending` row whose lease,
    `next_attempt_at` again, ran out).

    Organisation: nullable, for install-level mail only. A password reset is asked for by an
    address, before anyone is logged in, and a user may belong to several organisations (or none,
    after being removed from the last one), so there is no organisation to charge it to. Such rows
    (kind `system`, organisation NULL) are never visible through the scoped `objects` manager;
    the worker reads every row through `dangerously_unscoped`, the account code its own through
    `install_mail`.
    Every other message belongs to the organisation on whose behalf it is sent.

    `idempotency_key` (blank: none) is unique per organisation, and among install-level rows: a
    caller that writes the same message twice gets the first row back.
    `message_id` repeats the Message-ID header, indexed, so that the e-mail threads of touchpoints
    (whose rows carry the same Message-ID) find the outgoing row that sent them.
    """

    organization = models.ForeignKey(  # type: ignore[assignment]
        "accounts.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MessageKind.choices)
    to_address = models.CharField(_("to"), max_length=254)
    to_name = models.CharField(_("recipient name"), max_length=200, blank=True, default="")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    from_email = models.CharField(_("from"), max_length=320)
    reply_to = models.CharField(_("reply-to"), max_length=320, blank=True, default="")
    subject = models.CharField(_("subject"), max_length=998)
    text_body = models.TextField(_("text"), blank=True, default="")
    html_body = models.TextField(_("HTML"), blank=True, default="")
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, db_index=True)
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    state = models.CharField(_("state"), max_length=12, choices=MessageState.choices, default=MessageState.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, default="")
    # why a suppressed message was not sent (state `suppressed`): the suppression list's reason
    suppressed_reason = models.CharField(_("suppressed because"), max_length=16, blank=True, default="")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # the route it leaves by (vinculo/messaging/transports.py): the install's relay, or a
    # registered transport and which of its accounts (a mailbox's id)
    transport = models.CharField(_("sent through"), max_length=32, default="relay")
    transport_ref = models.CharField(max_length=64, blank=True, default="")

    install_mail = InstallMailManager()

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        base_manager_name = "dangerously_unscoped"
        default_manager_name = "objects"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="outgoing_unique_idempotency_key",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(organization__isnull=True) & ~Q(idempotency_key=""),
                name="outgoing_unique_install_idempotency_key",
            ),
        ]
        indexes: ClassVar = [
            # the worker's sweep: due rows, oldest first
            models.Index(fields=["state", "next_attempt_at"], name="outgoing_due"),
            models.Index(fields=["organization", "to_address", "-created_at"], name="outgoing_org_to"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_address} ({self.state})"


class SmtpSecurity(models.TextChoices):
    """How the connection to an SMTP server is encrypted."""

    STARTTLS = "starttls", _("STARTTLS (usually port 587)")
    SSL = "ssl", _("SSL/TLS (usually port 465)")
    NONE = "none", _("None (only for a server on this machine)")


class OrganizationSmtp(OrgScopedModel):
    """The organisation's own SMTP server for its mail (reminders, notifications, form
    confirmations, and what members write when no mailbox of theirs sends): the `org_smtp`
    route (vinculo/messaging/transports.py). At most one per organisation; without one, the
    install's relay (EMAIL_* settings) if configured, else the outbox. The password is encrypted
    at rest like mailbox passwords (vinculo/core/crypto.py)."""

    host = models.CharField(_("SMTP server"), max_length=253)
    port = models.PositiveIntegerField(_("port"), default=587)
    security = models.CharField(
        _("security"), max_length=10, choices=SmtpSecurity.choices, default=SmtpSecurity.STARTTLS
    )
    username = models.CharField(_("user name"), max_length=254, blank=True, default="")
    password_encrypted = models.TextField(blank=True, default="")
    from_email = models.CharField(_("from address"), max_length=254)
    from_name = models.CharField(_("from name"), max_length=100, blank=True, default="")

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["organization"], name="organization_smtp_unique")]

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class OutgoingAttachment(OrgScopedModel):
    """A file sent with a message (a quote's PDF), kept as a file under the organisation
    (vinculo/messaging/attachments.py) so that it can be downloaded later by whoever may see the
    message's contact. Rows written before files were kept have their bytes in `content` (and no
    `file`). Organisation as its message's."""

    organization = models.ForeignKey(  # type: ignore[assignment]
        "accounts.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    message = models.ForeignKey(OutgoingMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=200)
    mimetype = models.CharField(_("type"), max_length=100, default="application/octet-stream")
    content = models.BinaryField(_("content"), blank=True, default=b"")
    file = models.FileField(_("file"), max_length=300, blank=True, default="")
    size = models.PositiveBigIntegerField(_("size"), default=0)

    class Meta:
        ordering: ClassVar = ["id"]
        base_manager_name = "dangerously_unscoped"

    def __str__(self) -> str:
        return self.filename

    def read(self) -> bytes:
        """The file's bytes, from storage or, for an old row, from the row itself."""
        if self.file:
            with self.file.open("rb") as stream:
                return stream.read()
        return bytes(self.content)


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", _("hard bounce")
    COMPLAINT = "complaint", _("spam complaint")
    UNSUBSCRIBED = "unsubscribed", _("unsubscribed")
    MANUAL = "manual", _("added by hand")


class SuppressedAddress(OrgScopedModel):
    """An address this organisation must not e-mail (a bounce, a complaint, an unsubscribe, or by
    hand). Stored lower-case and trimmed, so one lookup finds every spelling."""

    address = models.CharField(_("address"), max_length=254)
    reason = models.CharField(_("reason"), max_length=16, choices=SuppressionReason.choices)
    note = models.CharField(_("note"), max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["address"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "address"], name="suppressed_unique_address"),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.reason})"


# === Notifications to members ====================================================================


class Notification(OrgScopedModel):
    """Something a member is told about in the app (the bell, the notifications page): a record
    assigned to them, a mention in a note, a reminder, a lead from a form, an e-mail that failed.

    `kind` names an entry of the kind registry (vinculo/messaging/notification_kinds.py), whose
    sentence is filled from `params` in the reader's language when shown. `key` names the cause
    ("assigned:event:42"): one notification per cause and recipient, however often the cause is
    handled. `url` is the path of the record it is about, inside the organisation's pages.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=40)
    key = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=500, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "recipient", "key"], name="notification_unique_cause"),
        ]
        indexes: ClassVar = [
            # the bell's unread count: one index range per member
            models.Index(fields=["recipient", "organization", "read_at"], name="notification_unread"),
            models.Index(fields=["recipient", "organization", "-created_at", "-id"], name="notification_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

    @property
    def sentence(self) -> str:
        """What it says, in the active language and time zone (its kind's sentence)."""
        spec = notification_kind(self.kind)
        return spec.sentence(self.params or {}) if spec is not None else self.kind

    @property
    def icon(self) -> str:
        spec = notification_kind(self.kind)
        return spec.icon if spec is not None else "bi-bell"

    @property
    def detail(self) -> str:
        """A second line: the note's words, the server's answer."""
        return str((self.params or {}).get("detail") or "")


class NotificationPreference(OrgScopedModel):
    """Where a member wants one kind of notification in one organisation (in the app, by e-mail,
    both, or not at all). No row: the kind's default."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=40)
    channel = models.CharField(_("channel"), max_length=8)

    class Meta:
        ordering: ClassVar = ["kind", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "user", "kind"], name="notification_preference_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.channel}"
