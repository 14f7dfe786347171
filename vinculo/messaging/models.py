"""Models of the messaging layer."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vinculo.core.models import OrgScopedModel

# === Outgoing e-mail and the suppression list ====================================================
# (kept in its own section: consent and subscription types live above it)


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


class OutgoingAttachment(OrgScopedModel):
    """A file sent with a message (a quote's PDF): small files, stored in the row itself so that
    the worker needs nothing but the database. Organisation as its message's."""

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
    content = models.BinaryField(_("content"))

    class Meta:
        ordering: ClassVar = ["id"]
        base_manager_name = "dangerously_unscoped"

    def __str__(self) -> str:
        return self.filename


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
