"""The agenda pages: "my agenda" (day, week, month), activity forms and detail, quick "mark done"
with HTMX, the private calendar feed's link and rotation, and the follow-up rules settings.

Views parse the request, call a selector or a service and render the page, or only a fragment
when HTMX asks. Times are shown in the viewer's time zone (activated by the middleware).
"""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.models import Team, User
from vinculo.accounts.permissions import MANAGE_ALL_ROLES, can_write, require_manager, require_write
from vinculo.contacts.models import Company, Contact
from vinculo.contacts.selectors import company_queryset, contact_queryset
from vinculo.core.audit import audit_history
from vinculo.core.forms import DateTimeTextField, ServiceErrorsMixin, StyledFormMixin
from vinculo.core.validation import in_date_range
from vinculo.core.views import asks_for_json, is_htmx, org_view, safe_next, validation_error_items
from vinculo.core.views import render_page as _render
from vinculo.sales.ical import feed_url
from vinculo.sales.models import Activity, ActivityKind, Deal, DealStatus, FollowUpRule, Stage
from vinculo.sales.selectors import activities as selectors
from vinculo.sales.services import activities as services
from vinculo.sales.services import follow_ups
from vinculo.sales.views.pickers import attach_pickers

CHOICES_LIMIT = 200
VIEWS = ("day", "week", "month")
REMINDER_CHOICES = [
    ("", gettext_lazy("No reminder")),
    ("0", gettext_lazy("At the time")),
    ("5", gettext_lazy("5 minutes before")),
    ("10", gettext_lazy("10 minutes before")),
    ("15", gettext_lazy("15 minutes before")),
    ("30", gettext_lazy("30 minutes before")),
    ("60", gettext_lazy("1 hour before")),
    ("120", gettext_lazy("2 hours before")),
    ("1440", gettext_lazy("1 day before")),
]
KIND_ICONS = {ActivityKind.TASK: "check2-square", ActivityKind.CALL: "telephone", ActivityKind.MEETING: "people"}


# --- forms (they parse; the services validate) ------------------------------------------------------


def _options(records: list[Any], empty: str) -> list[tuple[str, str]]:
    return [("", empty), *[(str(r.pk), str(r)) for r in records]]


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


class ActivityForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ActivityKind.choices)
    subject = forms.CharField(
        label=gettext_lazy("Subject"), required=False, widget=forms.TextInput(attrs={"maxlength": "200"})
    )
    due_at = DateTimeTextField(label=gettext_lazy("When"))
    duration_minutes = forms.CharField(
        label=gettext_lazy("Duration (minutes)"),
        required=False,
        widget=forms.NumberInput(attrs={"min": "0", "max": "1440", "step": "5"}),
    )
    reminder_minutes = forms.ChoiceField(label=gettext_lazy("Reminder"), required=False, choices=REMINDER_CHOICES)
    assignee = forms.ChoiceField(label=gettext_lazy("Assigned to"), required=False)
    contact = forms.ChoiceField(label=gettext_lazy("Contact"), required=False)
    company = forms.ChoiceField(label=gettext_lazy("Company"), required=False)
    deal = forms.ChoiceField(label=gettext_lazy("Deal"), required=False)
    location = forms.CharField(
        label=gettext_lazy("Location"), required=False, widget=forms.TextInput(attrs={"maxlength": "200"})
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    outcome = forms.CharField(label=gettext_lazy("Outcome"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        members: list[User],
        contacts: list[Contact],
        companies: list[Company],
        deals: list[Deal],
        show_outcome: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "assignee").choices = _options(members, _("Nobody"))
        _choice_field(self, "contact").choices = _options(contacts, "—")
        _choice_field(self, "company").choices = _options(companies, "—")
        _choice_field(self, "deal").choices = _options(deals, "—")
        reminder = self.data.get("reminder_minutes") or self.initial.get("reminder_minutes")
        if reminder not in (None, "") and str(reminder) not in dict(REMINDER_CHOICES):
            reminder = str(reminder)[:10]  # kept as typed: the service says what is wrong with it
            _choice_field(self, "reminder_minutes").choices = [
                *REMINDER_CHOICES,
                (reminder, _("%(n)s minutes before") % {"n": reminder}),
            ]
        if not show_outcome:
            del self.fields["outcome"]

    @staticmethod
    def initial_for(activity: Activity) -> dict[str, Any]:
        return {
            "kind": activity.kind,
            "subject": activity.subject,
            "due_at": timezone.localtime(activity.due_at).strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": str(activity.duration_minutes),
            "reminder_minutes": "" if activity.reminder_minutes is None else str(activity.reminder_minutes),
            "assignee": str(activity.assignee_id or ""),
            "contact": str(activity.contact_id or ""),
            "company": str(activity.company_id or ""),
            "deal": str(activity.deal_id or ""),
            "location": activity.location,
            "description": activity.description,
            "outcome": activity.outcome,
        }

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for key in ("assignee", "contact", "company", "deal", "reminder_minutes"):
            data[key] = data.get(key) or None
        if not data.get("duration_minutes"):
            data.pop("duration_minutes", None)
        return data


class CompleteForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    outcome = forms.CharField(
        label=gettext_lazy("Outcome (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": "5000"}),
    )


class FollowUpRuleForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    stage = forms.ChoiceField(label=gettext_lazy("When a deal enters"))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ActivityKind.choices)
    subject = forms.CharField(
        label=gettext_lazy("Subject"), required=False, widget=forms.TextInput(attrs={"maxlength": "200"})
    )
    days_after = forms.CharField(
        label=gettext_lazy("Days later"), required=False, widget=forms.NumberInput(attrs={"min": "0", "max": "365"})
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False)

    def __init__(self, *args: Any, stages: list[Stage], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "stage").choices = [("", "—"), *[(str(s.pk), f"{s.pipeline} › {s}") for s in stages]]

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


# --- helpers ------------------------------------------------------------------------------------------


def _with_current(records: list[Any], current: Any) -> list[Any]:
    if current is not None and all(r.pk != current.pk for r in records):
        return [current, *records]
    return records


def _form_choices(request: OrgRequest, activity: Activity | None, preset: dict[str, Any]) -> dict[str, Any]:
    """The options of the related-record selects: what the actor sees (bounded), plus what is linked."""
    actor = request.membership
    contacts = list(contact_queryset(actor=actor).order_by("-created_at", "-id")[:CHOICES_LIMIT])
    companies = list(company_queryset(actor=actor).order_by("name", "id")[:CHOICES_LIMIT])
    deals = list(
        selectors.visible_deals(actor=actor).filter(status=DealStatus.OPEN).order_by("title", "id")[:CHOICES_LIMIT]
    )
    for key, records in (("contact", contacts), ("company", companies), ("deal", deals)):
        current = getattr(activity, key) if activity is not None else preset.get(key)
        records[:] = _with_current(records, current)
    return {
        "members": list(selectors.agenda_members(actor=actor)),
        "contacts": contacts,
        "companies": companies,
        "deals": deals,
    }


def _preset(request: OrgRequest) -> dict[str, Any]:
    """Records named in the query string (?deal=, ?contact=, ?company=) that the actor can see."""
    actor = request.membership
    found: dict[str, Any] = {}
    sources = {
        "contact": contact_queryset(actor=actor),
        "company": company_queryset(actor=actor),
        "deal": selectors.visible_deals(actor=actor).select_related("contact", "company"),
    }
    for key, queryset in sources.items():
        value = request.GET.get(key, "")
        if value.isdigit() and len(value) < 19:
            found[key] = queryset.filter(pk=int(value)).first()
    deal = found.get("deal")
    if deal is not None and not found.get("contact") and not found.get("company"):
        found["contact"], found["company"] = deal.contact, deal.company if deal.contact_id is None else None
    return found


def _activity_form_page(
    request: OrgRequest, form: ActivityForm, activity: Activity | None, *, status: int = 200
) -> HttpResponse:
    attach_pickers(form, request.org.slug, {"contact": "contact", "company": "company", "deal": "deal"})
    context = {
        "nav": "agenda",
        "form": form,
        "activity": activity,
        "next": safe_next(request, ""),
        "cancel_url": safe_next(
            request,
            reverse("sales:activity_detail", args=[request.org.slug, activity.pk])
            if activity
            else reverse("sales:agenda", args=[request.org.slug]),
        ),
    }
    return render(request, "sales/agenda/activity_form.html", context, status=status)


def _row(
    request: OrgRequest, activity: Activity, *, complete_form: CompleteForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "a": activity,
        "org": request.org,
        "now": timezone.now(),
        "can_write": can_write(request.membership),
        "complete_form": complete_form,
        "show_assignee": request.GET.get("show_assignee") == "1",
        "quick_done": request.GET.get("quick") == "1",  # the home page's one-click "done"
        "kind_icons": KIND_ICONS,
    }
    return render(request, "sales/agenda/_activity_row.html", context, status=status)


# --- the agenda ---------------------------------------------------------------------------------------


def _parse_day(value: str, today: dt.date) -> tuple[dt.date, str]:
    if not value:
        return today, ""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return today, _("“%(value)s” is not a date (YYYY-MM-DD); showing today.") % {"value": value[:20]}
    if not in_date_range(day):
        return today, _("Enter a date between 1900 and 2200; showing today.")
    return day, ""


def _range(view: str, day: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(start, end exclusive, previous period's day, next period's day) of the view around `day`."""
    if view == "day":
        return day, day + dt.timedelta(days=1), day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    if view == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=7), monday - dt.timedelta(days=7), monday + dt.timedelta(days=7)
    first = day.replace(day=1)
    last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
    start = first - dt.timedelta(days=first.weekday())
    end = last + dt.timedelta(days=7 - last.weekday())
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = last + dt.timedelta(days=1)
    return start, end, previous, following


def _whose(request: OrgRequest) -> tuple[list[int] | None, User | None, Team | None]:
    """Whose agenda: mine, or for managers a member's (?user=) or a team's (?team=)."""
    actor = request.membership
    user_param, team_param = request.GET.get("user", ""), request.GET.get("team", "")
    if not user_param and not team_param:
        return [actor.user_id], None, None
    if not selectors.can_see_others_agendas(actor):
        raise PermissionDenied(_("Only owners, admins and managers can open other members' agendas."))
    if user_param:
        if user_param == "all":
            return None, None, None
        if not user_param.isdigit() or len(user_param) > 18:
            raise Http404
        user = selectors.agenda_members(actor=actor).filter(pk=int(user_param)).first()
        if user is None:
            raise Http404
        return [user.pk], user, None
    if not team_param.isdigit() or len(team_param) > 18:
        raise Http404
    team = Team.objects.filter(pk=int(team_param)).first()
    if team is None:
        raise Http404
    return selectors.team_member_user_ids(team), None, team


@org_view
@require_GET
def agenda_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    tz = timezone.get_current_timezone()
    now = timezone.now()
    today = timezone.localdate(now)
    view = request.GET.get("view", "week")
    if view not in VIEWS:
        view = "week"
    layout = "hours" if view != "month" and request.GET.get("layout") == "hours" else "list"
    day, date_error = _parse_day(request.GET.get("date", ""), today)
    user_ids, chosen_user, chosen_team = _whose(request)
    start, end, previous, following = _range(view, day)
    agenda = selectors.agenda(actor=actor, start=start, end=end, user_ids=user_ids, tz=tz, now=now)
    weeks = [agenda.days[i : i + 7] for i in range(0, len(agenda.days), 7)] if view == "month" else []
    feed = selectors.calendar_feed_of(actor=actor)
    is_manager = selectors.can_see_others_agendas(actor)
    whose = ""
    if chosen_user is not None:
        whose = f"user={chosen_user.pk}"
    elif chosen_team is not None:
        whose = f"team={chosen_team.pk}"
    elif user_ids is None:
        whose = "user=all"
    context = {
        "nav": "agenda",
        "agenda": agenda,
        "weeks": weeks,
        "view": view,
        "day": day,
        "today": today,
        "now": now,
        "previous": previous,
        "following": following,
        "date_error": date_error,
        "chosen_user": chosen_user,
        "chosen_team": chosen_team,
        "everyone": user_ids is None,
        "whose": whose,
        "show_assignee": user_ids is None or len(user_ids) > 1,
        "members": list(selectors.agenda_members(actor=actor)) if is_manager else [],
        "teams": list(selectors.agenda_teams()) if is_manager else [],
        "is_manager": is_manager,
        "feed_url": feed_url(feed) if feed is not None else "",
        "can_write": can_write(actor),
        "kind_icons": KIND_ICONS,
        "month_label": day.replace(day=1),
        "views": [("day", _("Day")), ("week", _("Week")), ("month", _("Month"))],
        "layout": layout,
        "hours": [f"{hour:02d}:00" for hour in range(24)],
    }
    return _render(request, "sales/agenda/agenda.html", context, partial="body")


# --- activities -------------------------------------------------------------------------------------


@org_view
@require_http_methods(["GET", "POST"])
def activity_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    require_write(actor)
    preset = _preset(request)
    choices = _form_choices(request, None, preset)
    if request.method == "GET":
        day, _error = _parse_day(request.GET.get("date", ""), timezone.localdate())
        start = dt.datetime.combine(day, dt.time(9, 0))
        initial = {
            "kind": request.GET.get("kind") if request.GET.get("kind") in ActivityKind.values else ActivityKind.TASK,
            "due_at": start.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": "30",
            "assignee": str(actor.user_id),
            **{key: str(record.pk) for key, record in preset.items() if record is not None},
        }
        return _activity_form_page(request, ActivityForm(initial=initial, **choices), None)
    form = ActivityForm(request.POST, **choices)
    if form.is_valid():
        try:
            activity = services.activity_create(actor=actor, data=form.service_data())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("Activity created."))
            return redirect(safe_next(request, _after_save_url(request, activity)))
    return _activity_form_page(request, form, None, status=422)


def _after_save_url(request: OrgRequest, activity: Activity) -> str:
    """The activity's page, or the agenda when the save moved it out of the actor's sight."""
    if selectors.activity_queryset(actor=request.membership).filter(pk=activity.pk).exists():
        return reverse("sales:activity_detail", args=[request.org.slug, activity.pk])
    return reverse("sales:agenda", args=[request.org.slug])


@org_view
@require_GET
def activity_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    activity = selectors.activity_get(actor=actor, pk=pk)
    if is_htmx(request):  # the "cancel" of an inline "mark done": the row again
        return _row(request, activity)
    context = {
        "nav": "agenda",
        "a": activity,
        "now": timezone.now(),
        "can_change": selectors.can_change_activity(actor, activity),
        "can_delete": selectors.can_delete_activity(actor, activity),
        "history": list(audit_history(object_type="sales.activity", object_id=activity.pk)[:25]),
        "kind_icons": KIND_ICONS,
        "complete_form": CompleteForm(initial={"outcome": activity.outcome}),
    }
    return render(request, "sales/agenda/activity_detail.html", context)


@org_view
@require_POST
def activity_reschedule_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Move an activity to another time (the hourly calendar's drag): `due_at` as the member's local
    "YYYY-MM-DDTHH:MM". The calendar's script gets JSON (200 with the new time, or 403/422 saying
    why not); a plain form post goes back to `next` with a message."""
    actor = request.membership
    activity = selectors.activity_get(actor=actor, pk=pk)
    fallback = reverse("sales:agenda", args=[request.org.slug])
    due_at = request.POST.get("due_at", "")
    try:
        if not due_at.strip():
            raise ValidationError({"due_at": [_("This field is required.")]})
        activity = services.activity_update(actor=actor, activity=activity, data={"due_at": due_at})
    except PermissionDenied as exc:
        if asks_for_json(request):
            return JsonResponse({"detail": str(exc), "errors": []}, status=403)
        raise
    except ValidationError as exc:
        errors = validation_error_items(exc)
        if asks_for_json(request):
            return JsonResponse({"detail": " ".join(e["message"] for e in errors), "errors": errors}, status=422)
        for error in errors:
            messages.error(request, error["message"])
        return redirect(safe_next(request, fallback))
    local = timezone.localtime(activity.due_at)
    message = _("“%(subject)s” moved to %(when)s.") % {
        "subject": activity.subject,
        "when": f"{formats.date_format(local, 'SHORT_DATE_FORMAT')} {formats.time_format(local, 'H:i')}",
    }
    if asks_for_json(request):
        return JsonResponse(
            {
                "detail": message,
                "activity": {"id": activity.pk, "due_at": activity.due_at.isoformat(), "time": local.strftime("%H:%M")},
            }
        )
    messages.success(request, message)
    return redirect(safe_next(request, fallback))


@org_view
@require_http_methods(["GET", "POST"])
def activity_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    activity = selectors.activity_get(actor=actor, pk=pk)
    require_write(actor)
    choices = _form_choices(request, activity, {})
    done = activity.done_at is not None
    if request.method == "GET":
        form = ActivityForm(initial=ActivityForm.initial_for(activity), show_outcome=done, **choices)
        return _activity_form_page(request, form, activity)
    form = ActivityForm(request.POST, show_outcome=done, **choices)
    if form.is_valid():
        try:
            services.activity_update(actor=actor, activity=activity, data=form.service_data())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("Activity saved."))
            return redirect(safe_next(request, _after_save_url(request, activity)))
    return _activity_form_page(request, form, activity, status=422)


@org_view
@require_http_methods(["GET", "POST"])
def activity_complete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """GET: the outcome form (inline in the agenda's row for HTMX); POST: mark done."""
    actor = request.membership
    activity = selectors.activity_get(actor=actor, pk=pk)
    require_write(actor)
    if request.method == "GET":
        form = CompleteForm(initial={"outcome": activity.outcome})
        if is_htmx(request):
            return _row(request, activity, complete_form=form)
        return _complete_page(request, activity, form)
    form = CompleteForm(request.POST)
    form.is_valid()
    try:
        activity = services.activity_complete(
            actor=actor, activity=activity, outcome=form.cleaned_data.get("outcome", "")
        )
    except ValidationError as exc:
        form.apply_service_errors(exc)
        if is_htmx(request):
            return _row(request, activity, complete_form=form, status=422)
        return _complete_page(request, activity, form, status=422)
    if is_htmx(request):
        return _row(request, selectors.activity_get(actor=actor, pk=pk))
    messages.success(request, _("Marked as done."))
    return redirect(safe_next(request, reverse("sales:activity_detail", args=[org_slug, activity.pk])))


def _complete_page(request: OrgRequest, activity: Activity, form: CompleteForm, *, status: int = 200) -> HttpResponse:
    context = {
        "nav": "agenda",
        "a": activity,
        "form": form,
        "next": safe_next(request, ""),
        "cancel_url": safe_next(request, reverse("sales:activity_detail", args=[request.org.slug, activity.pk])),
    }
    return render(request, "sales/agenda/activity_complete.html", context, status=status)


@org_view
@require_POST
def activity_reopen_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    activity = selectors.activity_get(actor=actor, pk=pk)
    services.activity_reopen(actor=actor, activity=activity)
    if is_htmx(request):
        return _row(request, selectors.activity_get(actor=actor, pk=pk))
    messages.success(request, _("Activity reopened."))
    return redirect(safe_next(request, reverse("sales:activity_detail", args=[org_slug, activity.pk])))


@org_view
@require_http_methods(["GET", "POST"])
def activity_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    activity = selectors.activity_get(actor=actor, pk=pk)
    if not selectors.can_delete_activity(actor, activity):
        raise PermissionDenied(_("You are not allowed to delete this activity."))
    if request.method == "POST":
        services.activity_delete(actor=actor, activity=activity)
        messages.success(request, _("Activity “%(subject)s” deleted.") % {"subject": activity.subject})
        return redirect("sales:agenda", org_slug)
    context = {
        "nav": "agenda",
        "object": activity,
        "title": _("Delete activity"),
        "question": _("Delete the activity “%(subject)s”? This cannot be undone.") % {"subject": activity.subject},
        "cancel_url": reverse("sales:activity_detail", args=[org_slug, activity.pk]),
    }
    return render(request, "confirm_delete.html", context)


@org_view
@require_POST
def calendar_feed_rotate_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """A new secret URL for the calendar feed (the first one, or instead of a leaked one)."""
    had_feed = selectors.calendar_feed_of(actor=request.membership) is not None
    services.calendar_feed_rotate(actor=request.membership)
    if had_feed:
        messages.success(request, _("New calendar link created: the old one no longer works."))
    else:
        messages.success(request, _("Calendar link created: add it to your calendar app."))
    return redirect(reverse("sales:agenda", args=[org_slug]) + "#calendar-feed")


# --- follow-up rules ----------------------------------------------------------------------------------


def _stages() -> list[Stage]:
    return list(
        Stage.objects.select_related("pipeline").order_by("pipeline__position", "pipeline_id", "position", "id")
    )


def _rule_form_page(
    request: OrgRequest, form: FollowUpRuleForm, rule: FollowUpRule | None, *, status: int = 200
) -> HttpResponse:
    context = {"nav": "settings", "form": form, "rule": rule}
    return render(request, "sales/agenda/follow_up_rule_form.html", context, status=status)


@org_view
@require_GET
def follow_up_rule_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    context = {
        "nav": "settings",
        "rules": list(selectors.follow_up_rule_list()),
        "can_manage": actor.role in MANAGE_ALL_ROLES,
    }
    return render(request, "sales/agenda/follow_up_rule_list.html", context)


@org_view
@require_http_methods(["GET", "POST"])
def follow_up_rule_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    require_manager(actor, follow_ups.MANAGERS_ONLY)
    stages = _stages()
    if request.method == "GET":
        initial = {"kind": ActivityKind.CALL, "days_after": "1", "is_active": True}
        return _rule_form_page(request, FollowUpRuleForm(initial=initial, stages=stages), None)
    form = FollowUpRuleForm(request.POST, stages=stages)
    if form.is_valid():
        try:
            follow_ups.follow_up_rule_create(actor=actor, data=form.service_data())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("Follow-up rule created."))
            return redirect("sales:follow_up_rule_list", org_slug)
    return _rule_form_page(request, form, None, status=422)


@org_view
@require_http_methods(["GET", "POST"])
def follow_up_rule_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    rule = selectors.follow_up_rule_get(pk=pk)
    require_manager(actor, follow_ups.MANAGERS_ONLY)
    stages = _stages()
    if request.method == "GET":
        initial = {
            "stage": str(rule.stage_id),
            "kind": rule.kind,
            "subject": rule.subject,
            "days_after": str(rule.days_after),
            "is_active": rule.is_active,
        }
        return _rule_form_page(request, FollowUpRuleForm(initial=initial, stages=stages), rule)
    form = FollowUpRuleForm(request.POST, stages=stages)
    if form.is_valid():
        try:
            follow_ups.follow_up_rule_update(actor=actor, rule=rule, data=form.service_data())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("Follow-up rule saved."))
            return redirect("sales:follow_up_rule_list", org_slug)
    return _rule_form_page(request, form, rule, status=422)


@org_view
@require_http_methods(["GET", "POST"])
def follow_up_rule_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    rule = selectors.follow_up_rule_get(pk=pk)
    require_manager(actor, follow_ups.MANAGERS_ONLY)
    if request.method == "POST":
        follow_ups.follow_up_rule_delete(actor=actor, rule=rule)
        messages.success(request, _("Follow-up rule deleted."))
        return redirect("sales:follow_up_rule_list", org_slug)
    context = {
        "nav": "settings",
        "object": rule,
        "title": _("Delete follow-up rule"),
        "question": _("Delete the rule “%(subject)s”? The activities it already created stay in the agendas.")
        % {"subject": rule.subject},
        "cancel_url": reverse("sales:follow_up_rule_list", args=[org_slug]),
    }
    return render(request, "confirm_delete.html", context)


urlpatterns: list[URLPattern] = [
    path("agenda/", agenda_view, name="agenda"),
    path("agenda/calendar-feed/rotate/", calendar_feed_rotate_view, name="calendar_feed_rotate"),
    path("activities/new/", activity_create_view, name="activity_create"),
    path("activities/<int:pk>/", activity_detail_view, name="activity_detail"),
    path("activities/<int:pk>/edit/", activity_edit_view, name="activity_edit"),
    path("activities/<int:pk>/reschedule/", activity_reschedule_view, name="activity_reschedule"),
    path("activities/<int:pk>/complete/", activity_complete_view, name="activity_complete"),
    path("activities/<int:pk>/reopen/", activity_reopen_view, name="activity_reopen"),
    path("activities/<int:pk>/delete/", activity_delete_view, name="activity_delete"),
    path("settings/follow-up-rules/", follow_up_rule_list_view, name="follow_up_rule_list"),
    path("settings/follow-up-rules/new/", follow_up_rule_create_view, name="follow_up_rule_create"),
    path("settings/follow-up-rules/<int:pk>/edit/", follow_up_rule_edit_view, name="follow_up_rule_edit"),
    path("settings/follow-up-rules/<int:pk>/delete/", follow_up_rule_delete_view, name="follow_up_rule_delete"),
]
