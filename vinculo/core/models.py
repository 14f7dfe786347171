"""Framework models shared by every app: the base classes, the event log and the audit trail.

The Event log lives here rather than in `touchpoints` (see docs/adr/0001-event-log-in-core.md):
every app writes to it through `core.events.emit` and the contact timeline reads it, so it
sits below all of them.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class BaseModel(models.Model):
    """Every model carries when it was created and last changed."""

    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


def org_scoped_manager(queryset_class: type[models.QuerySet[Any]] = models.QuerySet) -> Any:
    """A manager that refuses to query outside `scope(organization=…)` and filters to it inside."""
    return ScopedManager(organization="organization", _manager_class=models.Manager.from_queryset(queryset_class))


class OrgScopedModel(BaseModel):
    """A tenant-owned row. Queries raise unless an organisation scope is active (django-scopes).

    The unscoped escape hatch is `Model.dangerously_unscoped` (listed in docs/adr/0002-tenancy.md).
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation")
    )

    objects = org_scoped_manager()
    dangerously_unscoped = models.Manager()  # noqa: DJ012 - ruff cannot see that `objects` is a manager

    class Meta:
        abstract = True
        base_manager_name = "dangerously_unscoped"


def new_message_id() -> str:
    return uuid.uuid4().hex


class EventQuerySet(models.QuerySet["Event"]):
    def for_timeline(self) -> EventQuerySet:
        return self.select_related("actor").order_by("-occurred_at", "-id")


class Event(OrgScopedModel):
    """One thing that happened to a customer: the backbone every other feature reads.

    `message_id` makes delivery idempotent: the same event sent twice is stored once.
    `company` is copied from the contact when the event is written so that a company's timeline
    is one indexed query; it keeps the company the person belonged to when it happened.
    """

    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    company = models.ForeignKey(
        "contacts.Company", on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    anonymous_id = models.CharField(max_length=64, blank=True, default="")
    type = models.CharField(_("type"), max_length=64)
    source = models.CharField(_("source channel"), max_length=32, default="crm")
    properties = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)
    message_id = models.CharField(max_length=128, default=new_message_id)

    objects = org_scoped_manager(EventQuerySet)  # type: ignore[misc]

    class Meta:
        ordering: ClassVar = ["-occurred_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "message_id"], name="event_unique_message_id"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["contact", "-occurred_at", "-id"], name="event_contact_timeline"),
            models.Index(fields=["company", "-occurred_at", "-id"], name="event_company_timeline"),
            # the contact last: "did event T in the last D days" (segments) reads only the index
            models.Index(fields=["organization", "type", "-occurred_at", "contact"], name="event_org_type_contact"),
            # identity stitching finds a browser's anonymous history
            models.Index(fields=["organization", "anonymous_id"], name="event_org_anonymous"),
        ]

    def __str__(self) -> str:
        return f"{self.type} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class AuditEntry(OrgScopedModel):
    """Who changed what and when: before and after values of every service write."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        DELETE = "delete", _("deleted")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=8, choices=Action.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=255, blank=True, default="")
    changes = models.JSONField(default=dict, blank=True)
    # what an automatic write was done through, when the actor is the system (accounts/system_actor.py)
    via = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["organization", "object_type", "object_id", "-created_at"], name="audit_object"),
            # "recent records I touched" on the home page: one member's latest writes
            models.Index(fields=["organization", "actor", "-created_at"], name="audit_actor_recent"),
            # the latest changes of one kind of record (home page: leads whose owner changed lately)
            models.Index(fields=["organization", "object_type", "-created_at"], name="audit_type_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"


class EventDelivery(models.Model):
    """An event still owed to one consumer: the outbox of the event log (docs/adr/0005).

    `core.events.emit()` (and the tracker's bulk insert) writes one row per consumer whose patterns
    match the event, in the same transaction as the event, so a reaction can never be lost between
    the commit and its hand-over. A worker claims due rows, runs each consumer in a savepoint of the
    claiming transaction and deletes the row in that same transaction: the consumer's writes and the
    acknowledgement commit together, exactly once. A failure keeps the row with its error and a
    later `available_at` (back-off); after MAX_ATTEMPTS it is parked with `failed_at` set.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    consumer = models.CharField(max_length=64)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True, default="")
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["event", "consumer"], name="delivery_once_per_consumer"),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["available_at", "id"], condition=models.Q(failed_at__isnull=True), name="delivery_due"
            ),
        ]

    def __str__(self) -> str:
        return f"event {self.event_id} → {self.consumer}"


class WorkerHeartbeat(models.Model):
    """A running task worker says it is alive every few seconds (`manage.py worker`). A worker
    whose heartbeat is stale is dead: its running task rows are closed and their work re-enqueued
    by the next live worker, within seconds rather than at the next periodic sweep."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255, blank=True, default="")
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering: ClassVar = ["worker_id"]

    def __str__(self) -> str:
        return f"{self.worker_id} @ {self.beat_at:%H:%M:%S}"


class RateCounter(models.Model):
    """One fixed-window rate-limit counter (core/rate_limit.py), shared by every web process and
    machine through the database: one upsert per hit. `name` carries the window and its slot, so a
    new window is a new row; rows whose window has ended are deleted by the worker's sweep."""

    name = models.CharField(max_length=200, primary_key=True)
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.BigIntegerField(db_index=True, help_text="Unix time after which the row is useless.")

    def __str__(self) -> str:
        return f"{self.name}: {self.hits}"
