"""Reads of activities (agendas, lists, the iCal feed) and of follow-up rules.

Who sees which activity is decided here, not in templates:
- owners, admins, managers (and read-only members, who read everything) see everyone's;
- everyone else sees the activities assigned to them or to a member of one of their teams, the
  unassigned ones, and those about a contact, company or deal they can see (a sales rep sees the
  records they own, their teams' and the unowned ones; marketing and support see every record).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, TextChoices
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from vinculo.accounts.models import Membership, Role, Team, User
from vinculo.accounts.permissions import MANAGE_ALL_ROLES, can_write, sees_only_own_and_team, team_user_ids
from vinculo.contacts.selectors import company_queryset, contact_queryset
from vinculo.core.pagination import MAX_PAGE, Page, paginate
from vinculo.core.query_params import MAX_ID, date_param, int_param, search_param
from vinculo.sales.models import Activity, ActivityKind, CalendarFeed, Deal, FollowUpRule
from vinculo.sales.selectors.deals import deal_queryset

FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 366
OVERDUE_LIMIT = 100  # the agenda shows at most this many overdue items (the oldest last)
AGENDA_LIMIT = 1000  # a month of a whole team stays bounded


def sees_every_activity(actor: Membership) -> bool:
    return actor.role in MANAGE_ALL_ROLES or actor.role == Role.READ_ONLY


def can_see_others_agendas(actor: Membership) -> bool:
    """Managers pick a member or a team on the agenda page (?user= / ?team=)."""
    return actor.role in MANAGE_ALL_ROLES


def _visible_q(actor: Membership) -> Q | None:
    """The condition an activity must meet for `actor` to see it; None when they see all."""
    if sees_every_activity(actor):
        return None
    team = team_user_ids(actor)
    condition = Q(assignee_id__in=team) | Q(assignee__isnull=True)
    if sees_only_own_and_team(actor):
        condition |= Q(contact_id__in=contact_queryset(actor=actor).values("id"))
        condition |= Q(company_id__in=company_queryset(actor=actor).values("id"))
        condition |= Q(deal__owner__isnull=True, deal__isnull=False) | Q(deal__owner_id__in=team)
    else:  # marketing and support see every customer record, hence every activity about one
        condition |= Q(contact__isnull=False) | Q(company__isnull=False) | Q(deal__isnull=False)
    return condition


def activity_queryset(*, actor: Membership) -> QuerySet[Activity]:
    """The activities `actor` may see (inside the organisation scope)."""
    condition = _visible_q(actor)
    queryset = Activity.objects.all()
    return queryset if condition is None else queryset.filter(condition)


def visible_deals(*, actor: Membership) -> QuerySet[Deal]:
    """Deals the actor can link an activity to (the deals' own visibility rule)."""
    return deal_queryset(actor=actor)


def with_relations(queryset: QuerySet[Activity]) -> QuerySet[Activity]:
    """What lists and the feed show of each activity, in the same query."""
    return queryset.select_related("assignee", "contact", "company", "deal")


def activity_get(*, actor: Membership, pk: Any) -> Activity:
    """The activity, or 404 when it does not exist, belongs elsewhere, or `actor` cannot see it."""
    try:
        return with_relations(activity_queryset(actor=actor)).select_related("follow_up_rule").get(pk=int(pk))
    except (Activity.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


def can_change_activity(actor: Membership, activity: Activity) -> bool:
    """Whoever sees an activity (see the module docstring) and may write can change it."""
    return can_write(actor)


def can_delete_activity(actor: Membership, activity: Activity) -> bool:
    """Managers delete any; others only their own or unassigned activities."""
    if actor.role in MANAGE_ALL_ROLES:
        return True
    return can_write(actor) and activity.assignee_id in (None, actor.user_id)


# --- the agenda page ----------------------------------------------------------------------------


@dataclass
class AgendaDay:
    day: dt.date
    items: list[Activity] = field(default_factory=list)


@dataclass
class Agenda:
    """What the agenda page shows: the overdue items, then each day of the range with its items."""

    start: dt.date
    end: dt.date  # exclusive
    overdue: list[Activity]
    days: list[AgendaDay]

    @property
    def count(self) -> int:
        return sum(len(d.items) for d in self.days)


def local_midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def agenda(
    *,
    actor: Membership,
    start: dt.date,
    end: dt.date,
    user_ids: list[int] | None,
    tz: dt.tzinfo,
    now: dt.datetime | None = None,
) -> Agenda:
    """The activities due from `start` to `end` (exclusive, days in `tz`) of the given users (all
    visible ones when None), and their overdue items. Two queries, whatever the number of rows."""
    now = now or timezone.now()
    visible = with_relations(activity_queryset(actor=actor))
    if user_ids is not None:
        visible = visible.filter(assignee_id__in=user_ids)
    overdue = list(visible.filter(done_at__isnull=True, due_at__lt=now).order_by("-due_at", "-id")[:OVERDUE_LIMIT])
    overdue.reverse()
    rows = visible.filter(due_at__gte=local_midnight(start, tz), due_at__lt=local_midnight(end, tz))
    by_day = {start + dt.timedelta(days=n): AgendaDay(start + dt.timedelta(days=n)) for n in range((end - start).days)}
    for activity in rows.order_by("due_at", "id")[:AGENDA_LIMIT]:
        day = activity.due_at.astimezone(tz).date()
        if day in by_day:
            by_day[day].items.append(activity)
    return Agenda(start=start, end=end, overdue=overdue, days=list(by_day.values()))


def agenda_members(*, actor: Membership) -> QuerySet[User]:
    """The members whose agenda a manager can open."""
    return User.objects.filter(memberships__organization_id=actor.organization_id, is_active=True).order_by(
        "full_name", "id"
    )


def agenda_teams() -> QuerySet[Team]:
    return Team.objects.order_by("name", "id")


def team_member_user_ids(team: Team) -> list[int]:
    return list(team.members.values_list("user_id", flat=True))


# --- lists (the API and the activities page) ------------------------------------------------------

ACTIVITY_SORTS: dict[str, tuple[str, ...]] = {
    "due": ("due_at", "id"),
    "-due": ("-due_at", "-id"),
    "subject": ("subject", "id"),
    "-subject": ("-subject", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
DEFAULT_ACTIVITY_SORT = "due"
MAX_PER_PAGE = 200


class ActivityStatus(TextChoices):
    """The list's "done" filter: not done yet, done, or not done and past due."""

    OPEN = "open", pgettext_lazy("activity", "Open")
    DONE = "done", pgettext_lazy("activity", "Done")
    OVERDUE = "overdue", pgettext_lazy("activity", "Overdue")


@dataclass
class ActivityFilters:
    q: str = ""
    assignee: int | None = None
    unassigned: bool = False
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    done: bool | None = None
    overdue: bool | None = None
    kind: str = ""
    deal: int | None = None
    contact: int | None = None
    company: int | None = None
    sort: str = DEFAULT_ACTIVITY_SORT
    page: int = 1
    per_page: int = 50


def activity_list(*, actor: Membership, filters: ActivityFilters, now: dt.datetime | None = None) -> Page:
    now = now or timezone.now()
    queryset = with_relations(activity_queryset(actor=actor))
    for word in filters.q.split()[:10]:
        queryset = queryset.filter(subject__icontains=word)
    if filters.assignee is not None:
        queryset = queryset.filter(assignee_id=filters.assignee)
    if filters.unassigned:
        queryset = queryset.filter(assignee__isnull=True)
    if filters.start is not None:
        queryset = queryset.filter(due_at__gte=filters.start)
    if filters.end is not None:
        queryset = queryset.filter(due_at__lt=filters.end)
    if filters.done is not None:
        queryset = queryset.filter(done_at__isnull=not filters.done)
    if filters.overdue is True:
        queryset = queryset.filter(done_at__isnull=True, due_at__lt=now)
    elif filters.overdue is False:
        queryset = queryset.filter(Q(done_at__isnull=False) | Q(due_at__gte=now))
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.deal is not None:
        queryset = queryset.filter(deal_id=filters.deal)
    if filters.contact is not None:
        queryset = queryset.filter(contact_id=filters.contact)
    if filters.company is not None:
        queryset = queryset.filter(company_id=filters.company)
    return paginate(queryset.order_by(*ACTIVITY_SORTS[filters.sort]), page=filters.page, per_page=filters.per_page)


LIST_FILTERS = ("q", "assignee", "kind", "status", "due_after", "due_before")
LIST_PARAMS = frozenset({*LIST_FILTERS, "sort", "page", "per_page"})


@dataclass
class ActivityListFilters:
    """The filters of the activities page (and of its saved views) as the member set them: the
    assignee a user id, "me" or "none"; due dates are whole days in the viewer's time zone."""

    q: str = ""
    assignee: str = ""
    kind: str = ""
    status: str = ""
    due_after: dt.date | None = None
    due_before: dt.date | None = None
    sort: str = DEFAULT_ACTIVITY_SORT
    page: int = 1
    per_page: int = 50
    errors: dict[str, str] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        return {
            "q": self.q,
            "assignee": self.assignee,
            "kind": self.kind,
            "status": self.status,
            "due_after": self.due_after or "",
            "due_before": self.due_before or "",
            "sort": self.sort if self.sort != DEFAULT_ACTIVITY_SORT else "",
        }

    def querystring(self, *without: str) -> str:
        """The filters and sort that are set, without `without`; a chosen page size is kept."""
        pairs = {k: v for k, v in self.values().items() if v not in ("", None) and k not in without}
        if self.per_page != ActivityListFilters.per_page and "per_page" not in without:
            pairs["per_page"] = self.per_page
        return urlencode(pairs)

    def selection(self, *, actor: Membership, tz: dt.tzinfo) -> ActivityFilters:
        """What the list selector reads: "me" is the actor, days are instants in `tz`."""
        chosen = ActivityFilters(q=self.q, kind=self.kind, sort=self.sort, page=self.page, per_page=self.per_page)
        if self.assignee == "me":
            chosen.assignee = actor.user_id
        elif self.assignee == "none":
            chosen.unassigned = True
        elif self.assignee:
            chosen.assignee = int(self.assignee)
        if self.status == ActivityStatus.OPEN:
            chosen.done = False
        elif self.status == ActivityStatus.DONE:
            chosen.done = True
        elif self.status == ActivityStatus.OVERDUE:
            chosen.overdue = True
        if self.due_after:
            chosen.start = local_midnight(self.due_after, tz)
        if self.due_before:
            chosen.end = local_midnight(self.due_before + dt.timedelta(days=1), tz)
        return chosen


def parse_activity_list_filters(params: Mapping[str, Any], *, strict: bool) -> ActivityListFilters:
    """Read the activities page's filters. `strict` (a saved view being stored) raises a
    ValidationError keyed by parameter for anything wrong, unknown names included; the page keeps
    the valid part and shows the errors."""
    f = ActivityListFilters()
    errors: dict[str, str] = {}
    if strict:
        for name in params:
            if name not in LIST_PARAMS:
                errors[name] = _("Unknown parameter. Allowed: %(names)s.") % {"names": ", ".join(sorted(LIST_PARAMS))}
    get = {k: str(params.get(k) or "").strip() for k in LIST_PARAMS}
    f.q = search_param(get["q"], "q", errors)
    assignee = get["assignee"]
    if assignee:
        if assignee in ("me", "none") or (assignee.isascii() and assignee.isdigit() and 0 < int(assignee) <= MAX_ID):
            f.assignee = assignee
        else:
            errors["assignee"] = _("Use a user id, “me” or “none”.")
    if get["kind"]:
        if get["kind"] in ActivityKind.values:
            f.kind = get["kind"]
        else:
            errors["kind"] = _("Choose one of %(expected)s.") % {"expected": ", ".join(ActivityKind.values)}
    if get["status"]:
        if get["status"] in ActivityStatus.values:
            f.status = get["status"]
        else:
            errors["status"] = _("Choose one of %(expected)s.") % {"expected": ", ".join(ActivityStatus.values)}
    for name in ("due_after", "due_before"):
        if get[name]:
            setattr(f, name, date_param(get[name], name, errors))
    if f.due_after and f.due_before and f.due_before < f.due_after:
        errors["due_before"] = _("The end of the period cannot be before its start.")
        f.due_before = None
    if get["sort"]:
        if get["sort"] in ACTIVITY_SORTS:
            f.sort = get["sort"]
        else:
            errors["sort"] = _("Unknown sort. Allowed: %(names)s.") % {"names": ", ".join(ACTIVITY_SORTS)}
    if get["page"]:
        f.page = int_param(get["page"], "page", errors, maximum=MAX_PAGE) or 1
    if get["per_page"]:
        f.per_page = int_param(get["per_page"], "per_page", errors, maximum=MAX_PER_PAGE) or f.per_page
    if errors and strict:
        raise ValidationError(errors)
    f.errors = errors
    return f


# --- the iCal feed ----------------------------------------------------------------------------------


def calendar_feed_by_token(token: str) -> CalendarFeed | None:
    """The feed for a secret from a calendar app, in any organisation, while its user is still an
    active member there; None otherwise (the view answers 404)."""
    if not token or len(token) > 64:
        return None
    feed = CalendarFeed.dangerously_unscoped.select_related("organization", "user").filter(token=token).first()
    if feed is None or not feed.user.is_active:
        return None
    if not Membership.objects.filter(user_id=feed.user_id, organization_id=feed.organization_id).exists():
        return None
    return feed


def calendar_feed_of(*, actor: Membership) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user_id=actor.user_id).first()


def feed_activities(*, feed: CalendarFeed, now: dt.datetime | None = None) -> QuerySet[Activity]:
    """The feed's user's activities from 30 days ago to a year ahead (inside the feed's org scope)."""
    now = now or timezone.now()
    return with_relations(
        Activity.objects.filter(
            assignee_id=feed.user_id,
            due_at__gte=now - dt.timedelta(days=FEED_PAST_DAYS),
            due_at__lt=now + dt.timedelta(days=FEED_FUTURE_DAYS),
        )
    ).order_by("due_at", "id")


# --- follow-up rules --------------------------------------------------------------------------------


def follow_up_rule_list() -> QuerySet[FollowUpRule]:
    return FollowUpRule.objects.select_related("stage__pipeline").order_by(
        "stage__pipeline__position", "stage__pipeline_id", "stage__position", "stage_id", "days_after", "id"
    )


def follow_up_rule_get(*, pk: Any) -> FollowUpRule:
    try:
        return FollowUpRule.objects.select_related("stage__pipeline").get(pk=int(pk))
    except (FollowUpRule.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc
