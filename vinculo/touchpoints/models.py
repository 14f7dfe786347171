"""Touchpoints: everything that enters from outside and becomes part of the 360° record.

- the website tracker: sites with a public write key, the raw batches stored before the 202, the
  visitors (anonymous ids) and their web sessions, identity stitching and its conflicts;
- web forms and their submissions (the consents they carry are in `vinculo.messaging`);
- integrations that post webhooks (e-commerce orders, social lead ads) and every delivery received;
- IMAP mailboxes and the e-mail threads and messages attached to contacts' timelines.

What happened is written to the one event log (`core.Event`); these models keep what is needed to
receive it durably, to stitch identities and to show sessions, threads and forms.
"""

from __future__ import annotations

import secrets
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vinculo.core.models import OrgScopedModel


def new_public_key() -> str:
    """A public write key: identifies the organisation's site in the tracker snippet (not a secret)."""
    return f"pk_{secrets.token_urlsafe(18)}"


def new_token() -> str:
    return secrets.token_urlsafe(24)


# --- website tracker ------------------------------------------------------------------------------


class ConsentMode(models.TextChoices):
    """What the tracker may send before the visitor consents; the server enforces it on every batch
    (services/ingest.py) and the snippet reads it from the server (GET /api/v1/track/config)."""

    OPT_IN = "opt_in", _("Send nothing until the visitor consents")
    COOKIELESS = "cookieless", _("Track without cookies until the visitor consents")
    IMPLIED = "implied", _("Track from the first page: consent is implied")


class TrackingSite(OrgScopedModel):
    """A website that sends events with the tracker snippet, identified by its public write key."""

    name = models.CharField(_("name"), max_length=100)
    public_key = models.CharField(_("public key"), max_length=40, unique=True, default=new_public_key)
    allowed_origins = models.JSONField(
        _("allowed origins"), default=list, blank=True, help_text=_("e.g. https://www.example.com")
    )
    consent_mode = models.CharField(
        _("before consent"), max_length=12, choices=ConsentMode.choices, default=ConsentMode.OPT_IN
    )
    honor_dnt = models.BooleanField(_("honour Do-Not-Track"), default=True)
    create_leads = models.BooleanField(_("identified visitors become leads"), default=True)
    session_timeout_minutes = models.PositiveSmallIntegerField(_("session timeout (minutes)"), default=30)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class IngestBatch(OrgScopedModel):
    """A batch of accepted tracker events, stored as received before the 202 is sent.

    Processing (identity stitching, sessions, events) runs in a task and is idempotent: the events
    carry message ids, unique per organisation in the event log; `processed_at` marks the batch done.
    """

    site = models.ForeignKey(TrackingSite, on_delete=models.CASCADE, related_name="batches")
    events = models.JSONField(default=list)
    event_count = models.PositiveIntegerField(default=0)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True, default="")
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering: ClassVar = ["id"]
        indexes: ClassVar = [
            models.Index(fields=["processed_at", "id"], name="ingest_batch_pending"),
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.event_count} events)"


class Visitor(OrgScopedModel):
    """A browser known by its anonymous id; tied to a contact once the visitor identifies."""

    anonymous_id = models.CharField(max_length=64)
    site = models.ForeignKey(TrackingSite, on_delete=models.SET_NULL, null=True, blank=True, related_name="visitors")
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="visitors"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    identified_at = models.DateTimeField(null=True, blank=True)
    session_count = models.PositiveIntegerField(default=0)
    page_view_count = models.PositiveIntegerField(default=0)
    first_source = models.CharField(max_length=100, blank=True, default="")
    first_medium = models.CharField(max_length=100, blank=True, default="")
    first_campaign = models.CharField(max_length=200, blank=True, default="")
    user_agent = models.CharField(max_length=400, blank=True, default="")
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering: ClassVar = ["-last_seen_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "anonymous_id"], name="visitor_unique_anonymous_id"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["organization", "-last_seen_at", "-id"], name="visitor_org_last_seen"),
            models.Index(fields=["contact", "-last_seen_at"], name="visitor_contact"),
        ]

    def __str__(self) -> str:
        return self.anonymous_id


class Identity(OrgScopedModel):
    """An identifier a site gives for a person (`vinculo.identify(...)`): an e-mail or the site's own
    user id. It points at one contact; every visitor identified by it is stitched to that contact."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        USER_ID = "user_id", _("User id")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=254)
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="identities")

    class Meta:
        ordering: ClassVar = ["kind", "value"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "kind", "value"], name="identity_unique_value"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class WebSession(OrgScopedModel):
    """A visit: events of one visitor with less than the site's timeout between them."""

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="sessions")
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="web_sessions"
    )
    started_at = models.DateTimeField()
    last_event_at = models.DateTimeField()
    page_view_count = models.PositiveIntegerField(default=0)
    event_count = models.PositiveIntegerField(default=0)
    landing_url = models.URLField(max_length=2000, blank=True, default="")
    referrer = models.URLField(max_length=2000, blank=True, default="")
    source = models.CharField(max_length=100, blank=True, default="")
    medium = models.CharField(max_length=100, blank=True, default="")
    campaign = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering: ClassVar = ["-started_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["visitor", "-last_event_at"], name="web_session_visitor"),
            models.Index(fields=["contact", "-started_at"], name="web_session_contact"),
            models.Index(fields=["organization", "-started_at"], name="web_session_org"),
        ]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.visitor_id}"

    @property
    def duration_seconds(self) -> int:
        return int((self.last_event_at - self.started_at).total_seconds())


class IdentityConflict(OrgScopedModel):
    """A visitor already tied to one contact identified as another: never merged automatically."""

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        RESOLVED = "resolved", _("Resolved")

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="conflicts")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    other_contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    identifier = models.CharField(max_length=254)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["visitor", "contact", "other_contact"], name="identity_conflict_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} vs {self.other_contact_id}"


# --- web forms ---------------------------------------------------------------------------------


class WebForm(OrgScopedModel):
    """A form the organisation embeds on its site or links to (hosted page).

    `fields`: [{"name", "label", "type", "required", "maps_to"}]; `maps_to` is a contact property
    ("first_name", "email", …) or "custom.<key>". `consents`: [{"key", "text", "version", "required"}].
    """

    name = models.CharField(_("name"), max_length=100)
    public_key = models.CharField(max_length=40, unique=True, default=new_token)
    fields = models.JSONField(_("fields"), default=list)
    consents = models.JSONField(_("consent checkboxes"), default=list, blank=True)
    submit_label = models.CharField(_("button text"), max_length=60, blank=True, default="")
    success_message = models.CharField(_("thank-you message"), max_length=500, blank=True, default="")
    redirect_url = models.URLField(_("redirect after sending"), max_length=500, blank=True, default="")
    double_opt_in = models.BooleanField(_("double opt-in by e-mail"), default=False)
    notify_owner = models.BooleanField(_("notify the contact's owner"), default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner of new contacts"),
    )
    allowed_origins = models.JSONField(_("allowed origins"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class FormSubmission(OrgScopedModel):
    """One sending of a web form, kept as received (the proof of what was typed and agreed)."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        PENDING = "pending", _("Waiting for e-mail confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        SPAM = "spam", _("Spam")

    class SpamReason(models.TextChoices):
        """Why a submission was stored as spam (kept in `data["_spam"]` with what was sent)."""

        HONEYPOT = "honeypot", _("A hidden field that people never see was filled in, as robots do.")
        NO_TOKEN = "no_token", _("It was not sent from the form's page: its time stamp is missing or forged.")
        TOO_FAST = "too_fast", _("It was sent sooner after the page loaded than a person can fill in the form.")

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="submissions")
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="form_submissions"
    )
    data = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True, default="")
    page_url = models.URLField(max_length=2000, blank=True, default="")
    confirm_token = models.CharField(max_length=64, blank=True, default="")
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["form", "-created_at"], name="form_submission_form")]

    def __str__(self) -> str:
        return f"submission {self.pk} of {self.form_id}"

    @property
    def spam_reason(self) -> str:
        """The SpamReason code of a spam submission; empty for one that is not spam."""
        if self.status != self.Status.SPAM:
            return ""
        return str((self.data or {}).get("_spam", ""))

    def get_spam_reason_display(self) -> str:
        if not self.spam_reason:
            return ""
        if self.spam_reason in self.SpamReason.values:
            return str(self.SpamReason(self.spam_reason).label)
        return str(_("Stored as spam when it arrived."))


# --- webhooks: e-commerce orders and social lead ads ---------------------------------------------


class IntegrationKind(models.TextChoices):
    GENERIC_ORDERS = "orders", _("Orders (generic JSON)")
    SHOPIFY = "shopify", _("Shopify orders")
    WOOCOMMERCE = "woocommerce", _("WooCommerce orders")
    FACEBOOK_LEADS = "facebook_leads", _("Facebook Lead Ads")
    LINKEDIN_LEADS = "linkedin_leads", _("LinkedIn Lead Gen Forms")


class Integration(OrgScopedModel):
    """A source that posts webhooks to Vínculo, at /hooks/<token>/, signed with a shared secret (HMAC).

    Lead-ad networks announce a lead by id; its answers are read from the network's API with the
    access token the organisation saved (a Facebook Page access token, a LinkedIn access token),
    stored encrypted like the secret and never shown back. When the network refuses the token,
    `token_error` holds its message until a new token is saved: the integration needs a new token.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=IntegrationKind.choices)
    name = models.CharField(_("name"), max_length=100)
    token = models.CharField(max_length=40, unique=True, default=new_token)
    secret_encrypted = models.TextField(blank=True, default="")
    access_token_encrypted = models.TextField(blank=True, default="")
    token_error = models.TextField(_("token refused"), blank=True, default="")
    token_error_at = models.DateTimeField(null=True, blank=True)
    field_mapping = models.JSONField(_("field mapping"), default=dict, blank=True)
    default_campaign = models.CharField(_("campaign"), max_length=100, blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    last_received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(OrgScopedModel):
    """One webhook request as received (stored before answering), then processed by a task."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        DUPLICATE = "duplicate", _("Duplicate")
        FAILED = "failed", _("Failed")

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="deliveries")
    external_id = models.CharField(max_length=128, blank=True, default="")
    topic = models.CharField(max_length=64, blank=True, default="")
    body = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["integration", "external_id"], name="webhook_delivery_external"),
            models.Index(fields=["status", "id"], name="webhook_delivery_status"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"


class LeadFetch(OrgScopedModel):
    """A lead a network announced by id only (a Facebook `leadgen` change, a LinkedIn `LEAD_ACTION`),
    to be read from the network's API by the task worker and captured as a contact.

    The row is the durable record of that work (ADR 0005's style, as outgoing e-mail): written when
    the announcement is processed, claimed by one worker at a time (`fetching`, with
    `next_attempt_at` as its lease), retried with back-off while the network is away or limits the
    calls (`queued`, `next_attempt_at` the next try), `done` once captured, `failed` with the reason
    when the lead cannot be read or used or after MAX_ATTEMPTS, and `waiting_token` while the
    integration needs a new access token (saving one queues them again). One row per lead and
    integration: the same lead announced twice is fetched once.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        FETCHING = "fetching", _("Reading")
        DONE = "done", _("Captured")
        WAITING_TOKEN = "waiting_token", _("Needs a new token")
        FAILED = "failed", _("Failed")

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="lead_fetches")
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.SET_NULL, null=True, blank=True, related_name="lead_fetches"
    )
    lead_id = models.CharField(_("lead id"), max_length=128)
    form_id = models.CharField(_("form id"), max_length=128, blank=True, default="")
    hint = models.JSONField(default=dict, blank=True)  # what the announcement said (page, ad, time)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True, default="")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "integration", "lead_id"], name="lead_fetch_unique_lead"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["state", "next_attempt_at"], name="lead_fetch_due"),
            models.Index(fields=["integration", "state"], name="lead_fetch_integration"),
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id} ({self.state})"


# each network's icon, spelled out whole so that the icon subset (scripts/subset-icons.py) finds it
NETWORK_ICONS = {
    "linkedin": "bi-linkedin",
    "facebook": "bi-facebook",
    "instagram": "bi-instagram",
    "x": "bi-twitter-x",
    "tiktok": "bi-tiktok",
    "youtube": "bi-youtube",
    "github": "bi-github",
}


class SocialProfile(OrgScopedModel):
    """A contact's profile on a social network (from a lead ad, or entered by hand)."""

    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="social_profiles")
    network = models.CharField(_("network"), max_length=32)
    url = models.URLField(_("address"), max_length=500, blank=True, default="")
    handle = models.CharField(_("user name"), max_length=150, blank=True, default="")

    class Meta:
        ordering: ClassVar = ["network", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["contact", "network"], name="social_profile_unique_network"),
        ]

    def __str__(self) -> str:
        return f"{self.network}: {self.handle or self.url}"

    @property
    def icon_class(self) -> str:
        return NETWORK_ICONS.get(self.network, "bi-globe")


# --- e-mail --------------------------------------------------------------------------------------


class SmtpSecurity(models.TextChoices):
    """How the connection to a mailbox's SMTP server is encrypted."""

    SSL = "ssl", _("SSL/TLS (usually port 465)")
    STARTTLS = "starttls", _("STARTTLS (usually port 587)")
    NONE = "none", _("None (only for a server on this machine)")


class Mailbox(OrgScopedModel):
    """An IMAP mailbox whose messages go on the matching contacts' timelines; a user's own, or shared
    (no user). The password is encrypted at rest (vinculo.touchpoints.crypto).

    With an SMTP server (`smtp_host`), what its member writes from Vínculo (a shared one: every
    member without their own, when it is the organisation's default sender) leaves through it, so
    that SPF and DKIM align with its address; a copy goes to its Sent folder unless the server
    saves one itself (vinculo/touchpoints/services/mail_send.py)."""

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    email_address = models.EmailField(_("e-mail address"))
    host = models.CharField(_("IMAP server"), max_length=253)
    port = models.PositiveIntegerField(_("port"), default=993)
    use_ssl = models.BooleanField(_("SSL/TLS"), default=True)
    username = models.CharField(_("user name"), max_length=254)
    password_encrypted = models.TextField(blank=True, default="")
    folder = models.CharField(_("folder"), max_length=100, default="INBOX")
    create_leads = models.BooleanField(_("unknown senders become leads"), default=False)
    uid_validity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    # --- sending (empty smtp_host: this mailbox does not send) ---
    smtp_host = models.CharField(_("SMTP server"), max_length=253, blank=True, default="")
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=8, choices=SmtpSecurity.choices, default=SmtpSecurity.STARTTLS
    )
    smtp_username = models.CharField(_("SMTP user name"), max_length=254, blank=True, default="")  # "": the IMAP one
    smtp_password_encrypted = models.TextField(blank=True, default="")  # "": the IMAP password
    save_sent_copy = models.BooleanField(_("save a copy in Sent"), default=True)
    sent_folder = models.CharField(_("Sent folder"), max_length=100, blank=True, default="")  # "": found by LIST
    is_default_sender = models.BooleanField(_("default sender of the organisation"), default=False)
    # what needs the attention of whoever set it up (a refused login, a copy not saved); "" when fine
    outgoing_error = models.TextField(blank=True, default="")

    class Meta:
        ordering: ClassVar = ["name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(is_default_sender=True),
                name="mailbox_one_default_sender",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def sends(self) -> bool:
        """Whether what is written through this mailbox leaves by its own SMTP server."""
        return bool(self.smtp_host)


class EmailThread(OrgScopedModel):
    """A conversation: messages linked by Message-ID / In-Reply-To / References (subject as fallback)."""

    subject = models.CharField(max_length=500, blank=True, default="")
    normalized_subject = models.CharField(max_length=500, blank=True, default="")
    contacts = models.ManyToManyField("contacts.Contact", blank=True, related_name="email_threads")
    last_message_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["-last_message_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["organization", "normalized_subject"], name="email_thread_subject"),
        ]

    def __str__(self) -> str:
        return self.subject


class EmailMessage(OrgScopedModel):
    """One e-mail, received through a mailbox or sent from a contact's page."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("Received")
        OUTBOUND = "out", _("Sent")

    thread = models.ForeignKey(EmailThread, on_delete=models.CASCADE, related_name="messages")
    mailbox = models.ForeignKey(Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    message_id = models.CharField(max_length=998)
    in_reply_to = models.CharField(max_length=998, blank=True, default="")
    references = models.JSONField(default=list, blank=True)
    from_address = models.CharField(max_length=254)
    from_name = models.CharField(max_length=200, blank=True, default="")
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=500, blank=True, default="")
    text_body = models.TextField(blank=True, default="")
    html_body = models.TextField(blank=True, default="")  # sanitised with nh3 before storing
    sent_at = models.DateTimeField()
    imap_uid = models.BigIntegerField(null=True, blank=True)
    contacts = models.ManyToManyField("contacts.Contact", blank=True, related_name="email_messages")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["sent_at", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "message_id"], name="email_message_unique_id"),
        ]
        indexes: ClassVar = [models.Index(fields=["thread", "sent_at"], name="email_message_thread")]

    def __str__(self) -> str:
        return self.subject


class EmailAttachment(OrgScopedModel):
    """A file that came with an e-mail, kept under the organisation (vinculo/messaging/attachments.py),
    or a note that it was not kept (`skipped_reason`, no file): too large, a program, a type the
    install does not keep. Inline images of HTML mail (`content_id`) are kept as attachments too."""

    message = models.ForeignKey(EmailMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100, default="application/octet-stream")
    size = models.PositiveBigIntegerField(_("size"), default=0)
    content_id = models.CharField(max_length=255, blank=True, default="")
    file = models.FileField(_("file"), max_length=300, blank=True, default="")
    skipped_reason = models.CharField(_("not kept because"), max_length=200, blank=True, default="")

    class Meta:
        ordering: ClassVar = ["message_id", "id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def kept(self) -> bool:
        return bool(self.file)
