"""The organisation's home page (/o/<slug>/) and its settings pages, under /o/<slug>/settings/."""

from django.urls import path

from vinculo.accounts import home_views, org_views

app_name = "org"
urlpatterns = [
    path("", home_views.home_view, name="home"),
    path("home/checklist/dismiss/", home_views.checklist_dismiss_view, name="checklist_dismiss"),
    path("settings/", org_views.general_view, name="settings"),
    path("settings/members/", org_views.members_view, name="members"),
    path("settings/members/<int:pk>/role/", org_views.member_role_view, name="member_role"),
    path("settings/members/<int:pk>/remove/", org_views.member_remove_view, name="member_remove"),
    path("settings/invitations/", org_views.invitations_view, name="invitations"),
    path("settings/invitations/<int:pk>/revoke/", org_views.invitation_revoke_view, name="invitation_revoke"),
    path("settings/teams/", org_views.teams_view, name="teams"),
    path("settings/teams/<int:pk>/", org_views.team_edit_view, name="team_edit"),
    path("settings/teams/<int:pk>/delete/", org_views.team_delete_view, name="team_delete"),
    path("settings/api-tokens/", org_views.api_tokens_view, name="api_tokens"),
    path("settings/api-tokens/<int:pk>/revoke/", org_views.api_token_revoke_view, name="api_token_revoke"),
]
