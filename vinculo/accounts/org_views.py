"""Organisation settings under /o/<slug>/settings/: general, members, invitations, teams, API tokens.

Every member can look; owners and admins change things. Writes check the role up front (403)
and the services check it again, so nothing relies on a hidden button. Records are looked up
inside the organisation's scope: another organisation's id answers 404, like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vinculo.accounts import services
from vinculo.accounts.forms import (
    ApiTokenForm,
    InvitationForm,
    MemberRoleForm,
    OrganizationSettingsForm,
    TeamForm,
    add_service_errors,
    role_choices,
)
from vinculo.accounts.http import OrgRequest
from vinculo.accounts.models import ApiToken, Invitation, Membership, Role, Team
from vinculo.accounts.permissions import can_manage_org, require_org_admin
from vinculo.accounts.selectors import api_token_list, invitation_pending_list, member_list, team_list


def _render(request: OrgRequest, template: str, tab: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    base = {"nav": "settings", "tab": tab, "can_manage": can_manage_org(request.membership)}
    return render(request, template, {**base, **context}, status=status)


# --- General -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def general_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    org = request.org
    if request.method == "POST":
        require_org_admin(request.membership)
        form = OrganizationSettingsForm.for_organization(org, request.POST)
        if form.is_valid():
            try:
                services.organization_update(actor=request.membership, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The organisation settings were saved."))
                return redirect("org:settings", org.slug)
        return _render(request, "accounts/settings/general.html", "general", {"form": form}, status=422)
    form = OrganizationSettingsForm.for_organization(org, read_only=not can_manage_org(request.membership))
    return _render(request, "accounts/settings/general.html", "general", {"form": form})


# --- Members -------------------------------------------------------------------------------


def _render_members(
    request: OrgRequest, *, status: int = 200, row_error: tuple[int, str] | None = None, posted_role: str | None = None
) -> HttpResponse:
    actor = request.membership
    members = list(member_list(organization=request.org))
    for m in members:
        # what the row shows: the role select only where this actor may change it
        m.editable = can_manage_org(actor) and (m.role != Role.OWNER or actor.role == Role.OWNER)  # type: ignore[attr-defined]
        m.shown_role = posted_role if row_error and row_error[0] == m.pk and posted_role else m.role  # type: ignore[attr-defined]
        m.error = row_error[1] if row_error and row_error[0] == m.pk else ""  # type: ignore[attr-defined]
    return _render(
        request,
        "accounts/settings/members.html",
        "members",
        {
            "members": members,
            "roles": role_choices(actor),
        },
        status=status,
    )


@require_GET
def members_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _render_members(request)


def _member(request: OrgRequest, pk: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), pk=pk, organization=request.org)


@require_POST
def member_role_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    require_org_admin(request.membership)
    membership = _member(request, pk)
    form = MemberRoleForm(request.POST)
    if form.is_valid():
        try:
            membership = services.membership_change_role(
                actor=request.membership, membership=membership, role=form.cleaned_data["role"]
            )
        except ValidationError as exc:
            return _render_members(
                request, status=422, row_error=(membership.pk, " ".join(exc.messages)), posted_role=form.data["role"]
            )
        messages.success(
            request,
            _("%(name)s is now %(role)s.") % {"name": membership.user, "role": membership.get_role_display()},
        )
        return redirect("org:members", request.org.slug)
    return _render_members(
        request,
        status=422,
        row_error=(membership.pk, " ".join(str(e) for e in form.errors["role"])),
        posted_role=form.data.get("role"),
    )


@require_POST
def member_remove_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    require_org_admin(request.membership)
    membership = _member(request, pk)
    try:
        services.membership_remove(actor=request.membership, membership=membership)
    except ValidationError as exc:
        return _render_members(request, status=422, row_error=(membership.pk, " ".join(exc.messages)))
    messages.success(request, _("%(name)s was removed from the organisation.") % {"name": membership.user})
    if membership.user_id == request.user.pk:
        return redirect("home")
    return redirect("org:members", request.org.slug)


# --- Invitations ---------------------------------------------------------------------------


def _render_invitations(request: OrgRequest, form: InvitationForm, status: int = 200) -> HttpResponse:
    context = {"form": form, "invitations": invitation_pending_list()}
    return _render(request, "accounts/settings/invitations.html", "invitations", context, status)


@require_http_methods(["GET", "POST"])
def invitations_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    if request.method == "POST":
        require_org_admin(request.membership)
        form = InvitationForm(request.POST, actor=request.membership)
        if form.is_valid():
            try:
                issued = services.invitation_create(actor=request.membership, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                email = issued.invitation.email
                if issued.email_sent is False:
                    messages.warning(
                        request,
                        _(
                            "The invitation for %(email)s was created, but the e-mail could not be sent. "
                            "Send them this link yourself: %(url)s"
                        )
                        % {"email": email, "url": issued.url},
                    )
                else:
                    messages.success(request, _("Invitation sent to %(email)s.") % {"email": email})
                return redirect("org:invitations", request.org.slug)
        return _render_invitations(request, form, status=422)
    return _render_invitations(request, InvitationForm(actor=request.membership))


@require_POST
def invitation_revoke_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    require_org_admin(request.membership)
    invitation = get_object_or_404(Invitation, pk=pk)  # scoped: another organisation's is "not found"
    services.invitation_revoke(actor=request.membership, invitation=invitation)
    messages.success(request, _("The invitation for %(email)s was revoked.") % {"email": invitation.email})
    return redirect("org:invitations", request.org.slug)


# --- Teams ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def teams_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    form = TeamForm(request.POST or None, organization=request.org)
    status = 200
    if request.method == "POST":
        require_org_admin(request.membership)
        if form.is_valid():
            try:
                team = services.team_create(
                    actor=request.membership, name=form.cleaned_data["name"], member_ids=form.cleaned_data["members"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Team %(name)s created.") % {"name": team.name})
                return redirect("org:teams", request.org.slug)
        status = 422
    return _render(request, "accounts/settings/teams.html", "teams", {"form": form, "teams": team_list()}, status)


@require_http_methods(["GET", "POST"])
def team_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=pk)
    initial = {"name": team.name, "members": list(team.members.all())}
    form = TeamForm(request.POST or None, organization=request.org, initial=initial)
    status = 200
    if request.method == "POST":
        require_org_admin(request.membership)
        if form.is_valid():
            try:
                services.team_update(
                    actor=request.membership,
                    team=team,
                    name=form.cleaned_data["name"],
                    member_ids=form.cleaned_data["members"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Team %(name)s saved.") % {"name": team.name})
                return redirect("org:teams", request.org.slug)
        status = 422
    elif not can_manage_org(request.membership):
        for field in form.fields.values():
            field.disabled = True
    return _render(request, "accounts/settings/team_form.html", "teams", {"form": form, "team": team}, status)


@require_POST
def team_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    require_org_admin(request.membership)
    team = get_object_or_404(Team, pk=pk)
    services.team_delete(actor=request.membership, team=team)
    messages.success(request, _("Team %(name)s deleted.") % {"name": team.name})
    return redirect("org:teams", request.org.slug)


# --- API tokens ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def api_tokens_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """List and create tokens. A new token's secret is in this one response only (not stored,
    not cached): the page after the POST shows it with a copy button."""
    form = ApiTokenForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    status = 200
    if request.method == "POST":
        require_org_admin(request.membership)
        if form.is_valid():
            try:
                issued = services.api_token_create(actor=request.membership, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
                status = 422
            else:
                context = {"form": ApiTokenForm(), "issued": issued}
        else:
            status = 422
    context["tokens"] = api_token_list()
    response = _render(request, "accounts/settings/api_tokens.html", "api_tokens", context, status)
    if "issued" in context:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
def api_token_revoke_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    require_org_admin(request.membership)
    token = get_object_or_404(ApiToken, pk=pk)
    services.api_token_revoke(actor=request.membership, token=token)
    messages.success(request, _("The token %(name)s was revoked.") % {"name": token.name})
    return redirect("org:api_tokens", request.org.slug)
