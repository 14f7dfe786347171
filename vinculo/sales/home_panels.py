"""What sales puts on the home page ("my day"): my overdue and today's activities (done in place),
my deals closing this month and those going stale, their counts per member for managers' "my
team", the getting-started step "set up the pipeline", and deals among "recent records".
Registered in SalesConfig.ready() through vinculo.accounts.home."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from vinculo.accounts.home import (
    ChecklistItem,
    HomePanel,
    MyDay,
    RecentKind,
    TeamColumn,
    register_checklist_item,
    register_home_panel,
    register_recent_kind,
    register_team_column,
)
from vinculo.accounts.models import Membership, Organization
from vinculo.accounts.permissions import can_write
from vinculo.core.models import AuditEntry
from vinculo.sales.models import Activity, Deal, DealStatus
from vinculo.sales.selectors.deals import DEFAULT_STALE_DAYS, deal_queryset

OVERDUE_ROWS = 10
TODAY_ROWS = 20
DEAL_ROWS = 10


def _open_activities(user_ids: list[int], day: MyDay) -> QuerySet[Activity]:
    """Not done and due before the end of the member's day: the agenda index answers it."""
    return Activity.objects.filter(assignee_id__in=user_ids, done_at__isnull=True, due_at__lt=day.end_of_today)


def _stale_before(day: MyDay) -> dt.datetime:
    return day.now - dt.timedelta(days=DEFAULT_STALE_DAYS)


def _stale(deals: QuerySet[Deal], day: MyDay) -> QuerySet[Deal]:
    """The board's rule (selectors.deals.mark_stale): open, and neither changed nor worked on
    (an activity) for DEFAULT_STALE_DAYS days."""
    cutoff = _stale_before(day)
    return deals.filter(status=DealStatus.OPEN, updated_at__lt=cutoff).filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=cutoff)
    )


def _closing(deals: QuerySet[Deal], day: MyDay) -> QuerySet[Deal]:
    return deals.filter(status=DealStatus.OPEN, expected_close_date__range=(day.month_start, day.month_end))


def activities_panel(request: HttpRequest, day: MyDay) -> dict[str, Any]:
    actor: Membership = request.membership  # type: ignore[attr-defined]
    mine = _open_activities([actor.user_id], day)
    counts = mine.aggregate(overdue=Count("id", filter=Q(due_at__lt=day.now)), today=Count("id"))
    related = ("contact", "company", "deal", "assignee")
    overdue = list(mine.filter(due_at__lt=day.now).select_related(*related).order_by("due_at", "id")[:OVERDUE_ROWS])
    today = list(mine.filter(due_at__gte=day.now).select_related(*related).order_by("due_at", "id")[:TODAY_ROWS])
    return {
        "overdue": overdue,
        "overdue_count": counts["overdue"],
        "today": today,
        "today_count": counts["today"] - counts["overdue"],
        "now": day.now,
        "can_write": can_write(actor),
    }


def deals_panel(request: HttpRequest, day: MyDay) -> dict[str, Any]:
    actor: Membership = request.membership  # type: ignore[attr-defined]
    mine = Deal.objects.filter(owner_id=actor.user_id)  # one's own deals: visible to every role
    closing = _closing(mine, day)
    stale = _stale(mine, day)
    return {
        "closing": list(closing.select_related("stage").order_by("expected_close_date", "id")[:DEAL_ROWS]),
        "closing_count": closing.count(),
        "stale": list(
            stale.select_related("stage")
            .annotate(touched=Greatest("updated_at", Coalesce("last_activity_at", "updated_at")))
            .order_by("updated_at", "id")[:DEAL_ROWS]  # the index's order: the longest unchanged first
        ),
        "stale_count": stale.count(),
        "stale_days": DEFAULT_STALE_DAYS,
        "month_start": day.month_start,
        "can_write": can_write(actor),
    }


def _per_user(queryset: QuerySet[Any], field: str) -> dict[int, int]:
    return {row[field]: row["n"] for row in queryset.values(field).annotate(n=Count("id")).order_by()}


def overdue_counts(actor: Membership, user_ids: list[int], day: MyDay) -> dict[int, int]:
    return _per_user(_open_activities(user_ids, day).filter(due_at__lt=day.now), "assignee_id")


def today_counts(actor: Membership, user_ids: list[int], day: MyDay) -> dict[int, int]:
    return _per_user(_open_activities(user_ids, day).filter(due_at__gte=day.now), "assignee_id")


def closing_counts(actor: Membership, user_ids: list[int], day: MyDay) -> dict[int, int]:
    return _per_user(_closing(Deal.objects.filter(owner_id__in=user_ids), day), "owner_id")


def stale_counts(actor: Membership, user_ids: list[int], day: MyDay) -> dict[int, int]:
    return _per_user(_stale(Deal.objects.filter(owner_id__in=user_ids), day), "owner_id")


def pipeline_set_up(org: Organization) -> bool:
    """A pipeline or stage created or changed by someone, or a deal: the pipeline is in use."""
    changed = AuditEntry.objects.filter(organization=org, object_type__in=["sales.pipeline", "sales.stage"]).exists()
    return changed or Deal.objects.filter(organization=org).exists()


def visible_deals(actor: Membership, ids: list[int]) -> dict[int, tuple[str, str]]:
    slug = actor.organization.slug
    return {
        pk: (title, reverse("sales:deal_detail", args=[slug, pk]))
        for pk, title in deal_queryset(actor=actor).filter(pk__in=ids).values_list("pk", "title")
    }


def register() -> None:
    register_home_panel(
        HomePanel(name="sales.activities", template="sales/home/activities.html", loader=activities_panel, order=10)
    )
    register_home_panel(HomePanel(name="sales.deals", template="sales/home/deals.html", loader=deals_panel, order=20))
    register_team_column(TeamColumn(name="sales.overdue", label=_("Overdue"), counts=overdue_counts, order=10))
    register_team_column(TeamColumn(name="sales.today", label=_("Due today"), counts=today_counts, order=20))
    register_team_column(
        TeamColumn(name="sales.closing", label=_("Closing this month"), counts=closing_counts, order=30)
    )
    register_team_column(TeamColumn(name="sales.stale", label=_("Going stale"), counts=stale_counts, order=40))
    register_checklist_item(
        ChecklistItem(
            name="pipeline",
            label=_("Set up your pipeline"),
            help=_("Adapt the stages to how you sell, or create your first deal."),
            done=pipeline_set_up,
            url=lambda org: reverse("sales:deal_board", args=[org.slug]),
            order=60,
        )
    )
    register_recent_kind(
        RecentKind(object_type="sales.deal", label=_("Deal"), icon="bi-briefcase", visible=visible_deals)
    )
