"""The home page ("my day") of an organisation, composed from what the apps above accounts contribute.

`accounts` cannot import `contacts`, `sales` or `touchpoints` (layering), yet the home page shows
activities, deals, leads and recent records. Each app registers, in its AppConfig.ready():

- sections (`HomePanel`): a template and a loader that returns its context for the member, or None
  to hide it (e.g. for a role that has nothing to see there);
- team columns (`TeamColumn`): one number per team member (overdue activities, deals closing this
  month, new leads…), counted for every member at once with one grouped query, for the "my team"
  section that managers, admins and owners see;
- getting-started items (`ChecklistItem`): a step a new organisation takes, whether it is done
  (read from real data: rows that exist, never a flag set by hand), and where it is done;
- kinds of record for "recently touched" (`RecentKind`): how to find which of a list of ids still
  exist and are visible to the member, and where each one's page is.

The view (accounts/home_views.py) renders the registered pieces in their order.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise

from vinculo.accounts.models import Membership, Organization, Role
from vinculo.core.models import AuditEntry

# how long a record stays among "recent records I touched", and how many are shown
RECENT_DAYS = 30
RECENT_ROWS = 8


@dataclass(frozen=True)
class MyDay:
    """The moments the home page counts from, in the member's own time zone: "today" ends at their
    midnight, "this month" is their calendar month."""

    now: dt.datetime
    today: dt.date
    end_of_today: dt.datetime
    month_start: dt.date
    month_end: dt.date

    @classmethod
    def for_user(cls, user: Any, now: dt.datetime | None = None) -> MyDay:
        try:
            zone = zoneinfo.ZoneInfo(getattr(user, "time_zone", "") or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        now = now or timezone.now()
        local = now.astimezone(zone)
        today = local.date()
        tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        month_start = today.replace(day=1)
        next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
        return cls(
            now=now,
            today=today,
            end_of_today=tomorrow.astimezone(dt.UTC),
            month_start=month_start,
            month_end=next_month - dt.timedelta(days=1),
        )


HomeLoader = Callable[[HttpRequest, MyDay], dict[str, Any] | None]


@dataclass(frozen=True)
class HomePanel:
    name: str
    template: str
    loader: HomeLoader
    order: int = 100


@dataclass(frozen=True)
class TeamColumn:
    """One number per member: `counts(actor, user_ids, day)` answers {user_id: count} (members
    without any may be left out) in one query."""

    name: str
    label: str | Promise
    counts: Callable[[Membership, list[int], MyDay], dict[int, int]]
    order: int = 100


@dataclass(frozen=True)
class ChecklistItem:
    name: str
    label: str | Promise
    help: str | Promise
    done: Callable[[Organization], bool]
    url: Callable[[Organization], str]
    order: int = 100


@dataclass(frozen=True)
class RecentKind:
    """A kind of record in the audit trail (`object_type`, e.g. "contacts.contact").
    `visible(actor, ids)` answers {id: (name, url)} of those that exist and the member may see."""

    object_type: str
    label: str | Promise
    icon: str  # the whole class, e.g. "bi-person" (the icon font's subset finds it so)
    visible: Callable[[Membership, list[int]], dict[int, tuple[str, str]]]


@dataclass
class Registry:
    panels: dict[str, HomePanel] = field(default_factory=dict)
    team_columns: dict[str, TeamColumn] = field(default_factory=dict)
    checklist: dict[str, ChecklistItem] = field(default_factory=dict)
    recent_kinds: dict[str, RecentKind] = field(default_factory=dict)


registry = Registry()


def register_home_panel(panel: HomePanel) -> None:
    registry.panels[panel.name] = panel


def register_team_column(column: TeamColumn) -> None:
    registry.team_columns[column.name] = column


def register_checklist_item(item: ChecklistItem) -> None:
    registry.checklist[item.name] = item


def register_recent_kind(kind: RecentKind) -> None:
    registry.recent_kinds[kind.object_type] = kind


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    context: dict[str, Any]


def home_panels(request: HttpRequest, day: MyDay) -> list[RenderedPanel]:
    rendered = []
    for panel in sorted(registry.panels.values(), key=lambda p: (p.order, p.name)):
        context = panel.loader(request, day)
        if context is not None:
            rendered.append(RenderedPanel(name=panel.name, template=panel.template, context=context))
    return rendered


@dataclass(frozen=True)
class ChecklistRow:
    name: str
    label: str | Promise
    help: str | Promise
    url: str
    done: bool


def checklist_rows(org: Organization) -> list[ChecklistRow]:
    items = sorted(registry.checklist.values(), key=lambda i: (i.order, i.name))
    return [ChecklistRow(name=i.name, label=i.label, help=i.help, url=i.url(org), done=i.done(org)) for i in items]


@dataclass(frozen=True)
class TeamRow:
    member: Membership
    counts: list[int]


def team_rows(actor: Membership, members: Iterable[Membership], day: MyDay) -> tuple[list[TeamColumn], list[TeamRow]]:
    """The "my team" table: a row per member, a number per registered column (one query a column)."""
    members = list(members)
    columns = sorted(registry.team_columns.values(), key=lambda c: (c.order, c.name))
    user_ids = [m.user_id for m in members]
    counted = [column.counts(actor, user_ids, day) if user_ids else {} for column in columns]
    rows = [TeamRow(member=m, counts=[c.get(m.user_id, 0) for c in counted]) for m in members]
    return columns, rows


@dataclass(frozen=True)
class RecentRecord:
    kind: RecentKind
    name: str
    url: str
    touched_at: dt.datetime


def recent_records(actor: Membership, day: MyDay) -> list[RecentRecord]:
    """Records the member created or changed lately, newest first, each once: read from the audit
    trail (every service write records its actor), keeping those that still exist and that the
    member may still see. Queries: one on the audit trail, one per kind of record found."""
    kinds = registry.recent_kinds
    if not kinds:
        return []
    entries = (
        AuditEntry.objects.filter(
            organization_id=actor.organization_id,
            actor_id=actor.user_id,
            created_at__gte=day.now - dt.timedelta(days=RECENT_DAYS),
            object_type__in=list(kinds),
        )
        .order_by("-created_at", "-id")
        .values_list("object_type", "object_id", "created_at")[: RECENT_ROWS * 10]
    )
    seen: dict[tuple[str, int], dt.datetime] = {}
    for object_type, object_id, created_at in entries:
        seen.setdefault((object_type, object_id), created_at)
    by_kind: dict[str, list[int]] = {}
    for object_type, object_id in seen:
        by_kind.setdefault(object_type, []).append(object_id)
    found = {object_type: kinds[object_type].visible(actor, ids) for object_type, ids in by_kind.items()}
    records = []
    for (object_type, object_id), touched_at in seen.items():
        if object_id in found[object_type]:
            name, url = found[object_type][object_id]
            records.append(RecentRecord(kind=kinds[object_type], name=name, url=url, touched_at=touched_at))
        if len(records) == RECENT_ROWS:
            break
    return records


def team_of(actor: Membership) -> list[Membership] | None:
    """Whom the "my team" section shows: owners and admins every other member, managers the members
    of their teams (every other member when they are in no team); None for other roles."""
    if actor.role not in (Role.OWNER, Role.ADMIN, Role.MANAGER):
        return None
    members = Membership.objects.filter(organization_id=actor.organization_id, user__is_active=True).exclude(
        pk=actor.pk
    )
    if actor.role == Role.MANAGER:
        in_my_teams = members.filter(teams__members=actor).distinct()
        if in_my_teams.exists():
            members = in_my_teams
    return list(members.select_related("user").order_by("user__full_name", "id"))
