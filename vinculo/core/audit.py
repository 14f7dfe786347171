"""The audit trail: services call `audit_create/update/delete` in the same transaction as the
write, so every change through a service says who made it, when, and what it was before. An
automatic write is signed by the system user, whose `via` says what did it ("web_form:Newsletter")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django_countries.fields import Country

from vinculo.core.bulk import insert_rows
from vinculo.core.models import AuditEntry


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Country):  # django-countries' value of a CountryField: its code
        return value.code
    if isinstance(value, list | tuple | set):
        return sorted(_plain(v) for v in value) if isinstance(value, set) else [_plain(v) for v in value]
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The current values of `fields`, as JSON-safe values, for a before/after comparison."""
    return {name: _plain(getattr(instance, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [before, after]}` for the fields whose value changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def _record(
    *, instance: models.Model, actor: Any, action: str, changes: dict[str, Any], organization: Any
) -> AuditEntry:
    return AuditEntry.dangerously_unscoped.create(
        organization=organization,
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=instance.pk,
        object_repr=str(instance)[:255],
        changes=changes,
        via=(getattr(actor, "via", "") or "")[:200],
    )


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


def audit_create(*, instance: models.Model, actor: Any, values: dict[str, Any], organization: Any) -> AuditEntry:
    """Record a creation; `values` is the new record's snapshot."""
    changes = {k: [None, v] for k, v in _present(values).items()}
    return _record(
        instance=instance, actor=actor, action=AuditEntry.Action.CREATE, changes=changes, organization=organization
    )


def _entry_values(
    instance: models.Model, action: str, changes: dict[str, Any], user_id: Any, via: str, org_id: Any
) -> dict[str, Any]:
    return {
        "organization_id": org_id,
        "actor_id": user_id,
        "action": action,
        "object_type": instance._meta.label_lower,
        "object_id": instance.pk,
        "object_repr": str(instance)[:255],
        "changes": changes,
        "via": via,
    }


def audit_create_many(*, items: Iterable[tuple[models.Model, dict[str, Any]]], actor: Any, organization: Any) -> int:
    """Record many creations in one INSERT (a batch import): `items` are (instance, snapshot)."""
    user_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    via = (getattr(actor, "via", "") or "")[:200]
    rows = [
        _entry_values(
            instance,
            AuditEntry.Action.CREATE,
            {k: [None, v] for k, v in _present(values).items()},
            user_id,
            via,
            organization.pk,
        )
        for instance, values in items
    ]
    return len(insert_rows(AuditEntry, rows))


def audit_update_many(
    *, items: Iterable[tuple[models.Model, dict[str, list[Any]]]], actor: Any, organization: Any
) -> int:
    """Record many updates in one INSERT: `items` are (instance, diff); empty diffs are skipped."""
    user_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    via = (getattr(actor, "via", "") or "")[:200]
    rows = [
        _entry_values(instance, AuditEntry.Action.UPDATE, changes, user_id, via, organization.pk)
        for instance, changes in items
        if changes
    ]
    return len(insert_rows(AuditEntry, rows))


def audit_update(
    *, instance: models.Model, actor: Any, changes: dict[str, list[Any]], organization: Any
) -> AuditEntry | None:
    """Record an update; `changes` is `diff(before, after)`. Nothing is written when empty."""
    if not changes:
        return None
    return _record(
        instance=instance, actor=actor, action=AuditEntry.Action.UPDATE, changes=changes, organization=organization
    )


def audit_delete(*, instance: models.Model, actor: Any, values: dict[str, Any], organization: Any) -> AuditEntry:
    """Record a deletion (before it happens); `values` is the record's last snapshot."""
    changes = {k: [v, None] for k, v in _present(values).items()}
    return _record(
        instance=instance, actor=actor, action=AuditEntry.Action.DELETE, changes=changes, organization=organization
    )


def audit_history(*, object_type: str, object_id: int) -> models.QuerySet[AuditEntry]:
    """The audit entries of one record, newest first (inside the organisation scope)."""
    return AuditEntry.objects.filter(object_type=object_type, object_id=object_id).select_related("actor")
