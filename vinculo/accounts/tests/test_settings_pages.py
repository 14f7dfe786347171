"""Organisation settings pages: general, members, invitations, teams and API tokens.

Owners and admins change things; every other role sees the pages read-only and gets 403 on a
write. Bad input comes back as the form with its errors (422) and what was typed."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from vinculo.accounts.models import ApiToken, Invitation, Membership, Role, Team
from vinculo.accounts.selectors import api_token_authenticate
from vinculo.accounts.services import api_token_create, invitation_create, team_create
from vinculo.accounts.testing import login_client, make_member
from vinculo.core.models import AuditEntry
from vinculo.core.testing import count_queries

NON_ADMIN_ROLES = [Role.MANAGER, Role.SALES, Role.MARKETING, Role.SUPPORT, Role.READ_ONLY]


def url(name: str, org, *args) -> str:
    return reverse(f"org:{name}", args=[org.slug, *args])


def audit(org, object_type: str, action: str) -> list[AuditEntry]:
    return list(
        AuditEntry.dangerously_unscoped.filter(organization=org, object_type=object_type, action=action).order_by("id")
    )


# --- General -------------------------------------------------------------------------------


def test_general_settings_are_saved_and_audited(actor, org, client_in):
    page = client_in.get(url("settings", org))
    assert page.status_code == 200
    assert f'value="{org.name}"' in page.content.decode()

    response = client_in.post(
        url("settings", org),
        {
            "name": "Acme Iberia",
            "base_currency": "usd",
            "language": "es",
            "time_zone": "Europe/Madrid",
            "country": "ES",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == url("settings", org)
    slug = org.slug
    org.refresh_from_db()
    assert (org.name, org.base_currency, org.language, org.time_zone, org.country.code, org.slug) == (
        "Acme Iberia",
        "USD",
        "es",
        "Europe/Madrid",
        "ES",
        slug,
    )
    [entry] = audit(org, "accounts.organization", "update")
    assert entry.actor == actor.user
    assert entry.changes["base_currency"] == ["EUR", "USD"]
    assert entry.changes["time_zone"] == ["UTC", "Europe/Madrid"]
    assert entry.changes["country"] == ["", "ES"]
    # the page shows it chosen, and it can be emptied again
    assert '<option value="ES" selected>Spain</option>' in client_in.get(url("settings", org)).content.decode()
    client_in.post(
        url("settings", org),
        {"name": "Acme Iberia", "base_currency": "USD", "language": "es", "time_zone": "Europe/Madrid", "country": ""},
    )
    org.refresh_from_db()
    assert org.country.code == ""


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"base_currency": "XYZ"}, "base_currency"),
        ({"base_currency": "EURO"}, "base_currency"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"language": "fr"}, "language"),
        ({"name": ""}, "name"),
        ({"name": "x" * 151}, "name"),
        ({"country": "XX"}, "country"),
        ({"country": "ESP"}, "country"),
        ({"country": "es"}, "country"),
    ],
)
def test_general_settings_bad_input(org, client_in, data, field):
    before = (org.name, org.base_currency, org.language, org.time_zone, str(org.country))
    posted = {"name": "Typed name", "base_currency": "GBP", "language": "en", "time_zone": "UTC", **data}

    response = client_in.post(url("settings", org), posted)

    assert response.status_code == 422
    assert list(response.context["form"].errors) == [field]
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    [tag] = re.findall(rf'<(?:input|select)[^>]*id="id_{field}"[^>]*>', html)
    assert "is-invalid" in tag
    if field != "name":
        assert 'value="Typed name"' in html
    if field == "country":
        assert response.context["form"].errors["country"] == ["Unknown country. Choose one from the list."]
    org.refresh_from_db()
    assert (org.name, org.base_currency, org.language, org.time_zone, str(org.country)) == before


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_general_settings_are_read_only_for_other_roles(org, member, role):
    client = login_client(member(role))
    page = client.get(url("settings", org))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="read-only-badge"' in html
    assert 'name="name"' in html
    assert "disabled" in html.split('name="name"')[1].split(">")[0]
    assert ">Save</button>" not in html

    response = client.post(
        url("settings", org), {"name": "Hijacked", "base_currency": "USD", "language": "en", "time_zone": "UTC"}
    )

    assert response.status_code == 403
    org.refresh_from_db()
    assert org.name != "Hijacked"


def test_admin_can_edit_general_settings(org, member):
    response = login_client(member(Role.ADMIN)).post(
        url("settings", org), {"name": "By admin", "base_currency": "EUR", "language": "en", "time_zone": "UTC"}
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "By admin"


def test_settings_need_a_login_and_a_membership(org, other_actor):
    anonymous = Client().get(url("settings", org))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    assert login_client(other_actor).get(url("settings", org)).status_code == 404


# --- Members -------------------------------------------------------------------------------


def test_members_page_lists_members_with_roles(actor, org, member, client_in):
    seller = member(Role.SALES, full_name="Sara Seller", email="sara@example.com")
    html = client_in.get(url("members", org)).content.decode()
    assert "Sara Seller" in html
    assert "sara@example.com" in html
    assert f'id="role-{seller.pk}"' in html
    assert f'action="{url("member_role", org, seller.pk)}"' in html


def test_owner_changes_a_role(actor, org, member, client_in):
    seller = member(Role.SALES)
    response = client_in.post(url("member_role", org, seller.pk), {"role": Role.MANAGER})
    assert response.status_code == 302
    seller.refresh_from_db()
    assert seller.role == Role.MANAGER
    [entry] = audit(org, "accounts.membership", "update")
    assert entry.changes == {"role": ["sales", "manager"]}


def test_last_owner_cannot_be_demoted_or_removed(actor, org, client_in):
    demote = client_in.post(url("member_role", org, actor.pk), {"role": Role.ADMIN})
    assert demote.status_code == 422
    assert "at least one owner" in demote.content.decode()
    assert f'id="member-{actor.pk}-error"' in demote.content.decode()

    remove = client_in.post(url("member_remove", org, actor.pk))
    assert remove.status_code == 422
    assert "at least one owner" in remove.content.decode()
    actor.refresh_from_db()
    assert actor.role == Role.OWNER


def test_an_owner_can_step_down_when_there_is_another(actor, org, member, client_in):
    member(Role.OWNER)
    assert client_in.post(url("member_role", org, actor.pk), {"role": Role.ADMIN}).status_code == 302
    actor.refresh_from_db()
    assert actor.role == Role.ADMIN


def test_unknown_role_is_422(actor, org, member, client_in):
    seller = member(Role.SALES)
    response = client_in.post(url("member_role", org, seller.pk), {"role": "emperor"})
    assert response.status_code == 422
    seller.refresh_from_db()
    assert seller.role == Role.SALES


def test_owner_removes_a_member(actor, org, member, client_in):
    seller = member(Role.SALES)
    team = team_create(actor=actor, name="Ventas", member_ids=[seller.pk])
    response = client_in.post(url("member_remove", org, seller.pk))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=seller.pk).exists()
    assert list(team.members.all()) == []
    [entry] = audit(org, "accounts.membership", "delete")
    assert entry.changes["role"] == ["sales", None]


def test_admin_cannot_touch_owners_or_make_owners(org, actor, member):
    admin = member(Role.ADMIN)
    seller = member(Role.SALES)
    client = login_client(admin)
    html = client.get(url("members", org)).content.decode()
    assert f'id="role-{actor.pk}"' not in html  # no controls on the owner's row
    assert 'value="owner"' not in html

    assert client.post(url("member_role", org, actor.pk), {"role": Role.SALES}).status_code == 403
    assert client.post(url("member_remove", org, actor.pk)).status_code == 403
    assert client.post(url("member_role", org, seller.pk), {"role": Role.OWNER}).status_code == 403
    assert client.post(url("member_role", org, seller.pk), {"role": Role.MARKETING}).status_code == 302
    actor.refresh_from_db()
    seller.refresh_from_db()
    assert (actor.role, seller.role) == (Role.OWNER, Role.MARKETING)


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_other_roles_see_members_but_cannot_change_them(org, actor, member, role):
    me = member(role)
    client = login_client(me)
    html = client.get(url("members", org)).content.decode()
    assert actor.user.email in html
    assert 'name="role"' not in html
    assert client.post(url("member_role", org, me.pk), {"role": Role.OWNER}).status_code == 403
    assert client.post(url("member_remove", org, actor.pk)).status_code == 403
    me.refresh_from_db()
    assert me.role == role
    assert Membership.objects.filter(pk=actor.pk).exists()


def test_removing_yourself_leads_home(actor, org, member):
    admin = member(Role.ADMIN)
    response = login_client(admin).post(url("member_remove", org, admin.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert not Membership.objects.filter(pk=admin.pk).exists()


# --- Invitations ---------------------------------------------------------------------------


def test_invite_lists_the_pending_invitation_and_sends_mail(actor, org, client_in, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_in.post(url("invitations", org), {"email": "New@Example.com", "role": Role.SUPPORT})
    assert response.status_code == 302
    invitation = Invitation.dangerously_unscoped.get(organization=org)
    assert (invitation.email, invitation.role, invitation.invited_by) == ("new@example.com", "support", actor.user)
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    html = client_in.get(url("invitations", org)).content.decode()
    assert "new@example.com" in html
    assert f'action="{url("invitation_revoke", org, invitation.pk)}"' in html
    assert "Invitation sent to new@example.com" in html
    [entry] = audit(org, "accounts.invitation", "create")
    assert entry.changes == {"email": [None, "new@example.com"], "role": [None, "support"]}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not an e-mail"}, "email", "valid e-mail"),
        ({"email": "member@example.com"}, "email", "already a member"),
        ({"email": "pending@example.com"}, "email", "pending invitation"),
        ({"role": "emperor"}, "role", "valid choice"),
    ],
)
def test_invitation_bad_input(actor, org, member, client_in, data, field, message):
    member(email="member@example.com")
    invitation_create(actor=actor, email="pending@example.com", role=Role.SALES)
    before = Invitation.dangerously_unscoped.count()

    response = client_in.post(url("invitations", org), {"email": "typed@example.com", "role": Role.SALES, **data})

    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    if field != "email":
        assert 'value="typed@example.com"' in response.content.decode()
    assert Invitation.dangerously_unscoped.count() == before


def test_admin_cannot_invite_an_owner(org, member):
    client = login_client(member(Role.ADMIN))
    response = client.post(url("invitations", org), {"email": "boss@example.com", "role": Role.OWNER})
    assert response.status_code == 422  # not a choice offered to admins
    assert not Invitation.dangerously_unscoped.exists()


def test_revoke_an_invitation(actor, org, client_in):
    issued = invitation_create(actor=actor, email="gone@example.com", role=Role.SALES)
    response = client_in.post(url("invitation_revoke", org, issued.invitation.pk))
    assert response.status_code == 302
    invitation = Invitation.dangerously_unscoped.get(pk=issued.invitation.pk)
    assert invitation.revoked_at is not None
    assert f'id="invitation-{invitation.pk}"' not in client_in.get(url("invitations", org)).content.decode()


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_other_roles_cannot_invite_or_revoke(actor, org, member, role):
    issued = invitation_create(actor=actor, email="someone@example.com", role=Role.SALES)
    client = login_client(member(role))
    page = client.get(url("invitations", org))
    assert page.status_code == 200
    assert 'id="invitation-form"' not in page.content.decode()
    assert client.post(url("invitations", org), {"email": "x@example.com", "role": "sales"}).status_code == 403
    assert client.post(url("invitation_revoke", org, issued.invitation.pk)).status_code == 403
    assert Invitation.dangerously_unscoped.get(pk=issued.invitation.pk).revoked_at is None
    assert Invitation.dangerously_unscoped.count() == 1


# --- Teams ---------------------------------------------------------------------------------


def test_create_edit_and_delete_a_team(actor, org, member, client_in):
    ana, bea = member(Role.SALES, full_name="Ana"), member(Role.SALES, full_name="Bea")
    created = client_in.post(url("teams", org), {"name": "Norte", "members": [ana.pk, bea.pk]})
    assert created.status_code == 302
    team = Team.dangerously_unscoped.get(organization=org)
    assert set(team.members.all()) == {ana, bea}
    assert "Norte" in client_in.get(url("teams", org)).content.decode()

    edit = client_in.get(url("team_edit", org, team.pk))
    assert edit.status_code == 200
    saved = client_in.post(url("team_edit", org, team.pk), {"name": "Norte y Sur", "members": [bea.pk, actor.pk]})
    assert saved.status_code == 302
    team.refresh_from_db()
    assert team.name == "Norte y Sur"
    assert set(team.members.all()) == {bea, actor}
    [update] = audit(org, "accounts.team", "update")
    assert update.changes["name"] == ["Norte", "Norte y Sur"]

    deleted = client_in.post(url("team_delete", org, team.pk))
    assert deleted.status_code == 302
    assert not Team.dangerously_unscoped.filter(pk=team.pk).exists()
    assert Membership.objects.filter(pk__in=[ana.pk, bea.pk]).count() == 2
    assert len(audit(org, "accounts.team", "delete")) == 1


def test_team_bad_input(actor, org, other_actor, client_in):
    team_create(actor=actor, name="Existing")
    before = Team.dangerously_unscoped.count()
    for data, field in [
        ({"name": ""}, "name"),
        ({"name": "existing"}, None),  # names differ only in case: allowed by the database
        ({"name": "Existing"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Foreign", "members": [other_actor.pk]}, "members"),
    ]:
        response = client_in.post(url("teams", org), data)
        if field is None:
            assert response.status_code == 302
            Team.dangerously_unscoped.filter(name="existing").delete()
            continue
        assert response.status_code == 422, data
        assert list(response.context["form"].errors) == [field], data
    assert Team.dangerously_unscoped.count() == before


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_other_roles_cannot_change_teams(actor, org, member, role):
    team = team_create(actor=actor, name="Fixed", member_ids=[actor.pk])
    client = login_client(member(role))
    assert client.get(url("teams", org)).status_code == 200
    assert client.get(url("team_edit", org, team.pk)).status_code == 200
    assert client.post(url("teams", org), {"name": "Mine"}).status_code == 403
    assert client.post(url("team_edit", org, team.pk), {"name": "Renamed"}).status_code == 403
    assert client.post(url("team_delete", org, team.pk)).status_code == 403
    team.refresh_from_db()
    assert team.name == "Fixed"
    assert Team.dangerously_unscoped.filter(organization=org).count() == 1


# --- API tokens ----------------------------------------------------------------------------


def test_api_token_secret_is_shown_once_and_stored_hashed(actor, org, client_in):
    response = client_in.post(url("api_tokens", org), {"name": "Shop", "scope": "read_write"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["issued"].secret
    html = response.content.decode()
    assert f'value="{secret}"' in html
    assert 'data-copy="#token-secret"' in html
    token = ApiToken.dangerously_unscoped.get(organization=org)
    assert (token.name, token.scope, token.created_by, token.prefix) == ("Shop", "read_write", actor.user, secret[:10])
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(list(ApiToken.dangerously_unscoped.values()))
    [entry] = audit(org, "accounts.apitoken", "create")
    assert secret not in str(entry.changes)

    # the list shows the prefix, never the secret again
    listing = client_in.get(url("api_tokens", org)).content.decode()
    assert secret not in listing
    assert f"{token.prefix}…" in listing
    assert "never" in listing

    # use it: the list shows when
    assert api_token_authenticate(secret) == token
    listing = client_in.get(url("api_tokens", org)).content.decode()
    assert "never" not in listing
    assert "now" in listing


def test_revoke_an_api_token(actor, org, client_in):
    issued = api_token_create(actor=actor, name="Old", scope="read")
    response = client_in.post(url("api_token_revoke", org, issued.token.pk))
    assert response.status_code == 302
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert api_token_authenticate(issued.secret) is None
    assert "revoked" in client_in.get(url("api_tokens", org)).content.decode()


@pytest.mark.parametrize(
    ("data", "field"), [({"name": ""}, "name"), ({"name": "x" * 101}, "name"), ({"scope": "admin"}, "scope")]
)
def test_api_token_bad_input(org, client_in, data, field):
    response = client_in.post(url("api_tokens", org), {"name": "Typed", "scope": "read", **data})
    assert response.status_code == 422
    assert list(response.context["form"].errors) == [field]
    if field != "name":
        assert 'value="Typed"' in response.content.decode()
    assert not ApiToken.dangerously_unscoped.exists()


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_other_roles_cannot_create_or_revoke_tokens(actor, org, member, role):
    issued = api_token_create(actor=actor, name="Kept", scope="read")
    client = login_client(member(role))
    page = client.get(url("api_tokens", org))
    assert page.status_code == 200
    assert 'id="token-form"' not in page.content.decode()
    assert client.post(url("api_tokens", org), {"name": "Mine", "scope": "read_write"}).status_code == 403
    assert client.post(url("api_token_revoke", org, issued.token.pk)).status_code == 403
    assert ApiToken.dangerously_unscoped.filter(organization=org).count() == 1
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


# --- Tenancy: another organisation's ids answer 404 and change nothing -----------------------


@pytest.fixture
def foreign(other_actor):
    """One record of each kind in the other organisation."""
    other_org = other_actor.organization
    return {
        "membership": make_member(other_org, Role.SALES),
        "team": team_create(actor=other_actor, name="Theirs"),
        "invitation": invitation_create(actor=other_actor, email="theirs@example.com", role=Role.SALES).invitation,
        "token": api_token_create(actor=other_actor, name="Theirs", scope="read").token,
    }


def rows(records: dict) -> dict:
    return {key: type(obj)._base_manager.filter(pk=obj.pk).values().first() for key, obj in records.items()}


ID_ROUTES = {
    "member_role": ("membership", {"role": "owner"}),
    "member_remove": ("membership", {}),
    "invitation_revoke": ("invitation", {}),
    "team_edit": ("team", {"name": "Stolen"}),
    "team_delete": ("team", {}),
    "api_token_revoke": ("token", {}),
}


def test_every_settings_route_with_an_id_is_covered():
    from vinculo.accounts import org_urls

    assert {p.name for p in org_urls.urlpatterns if "<int:pk>" in str(p.pattern)} == set(ID_ROUTES)


@pytest.mark.parametrize("name", sorted(ID_ROUTES))
def test_another_organisations_ids_answer_404(org, client_in, foreign, name):
    kind, data = ID_ROUTES[name]
    path = url(name, org, foreign[kind].pk)
    before = rows(foreign)

    assert client_in.get(path).status_code in (404, 405)
    assert client_in.post(path, data).status_code == 404
    assert rows(foreign) == before


def test_missing_ids_answer_404_too(org, client_in):
    for name, (_kind, data) in ID_ROUTES.items():
        assert client_in.post(url(name, org, 999999), data).status_code == 404, name


# --- Query counts: the lists do not grow queries with rows ----------------------------------


@pytest.mark.parametrize("page", ["settings", "members", "invitations", "teams", "api_tokens"])
def test_settings_pages_query_count_does_not_grow(actor, org, member, client_in, page):
    def populate(n: int) -> None:
        for _ in range(n):
            m = member(Role.SALES)
            team_create(actor=actor, name=f"Team {m.pk}", member_ids=[m.pk, actor.pk])
            invitation_create(actor=actor, email=f"invite{m.pk}@example.com", role=Role.SALES)
            api_token_create(actor=actor, name=f"T{m.pk}", scope="read")

    populate(2)
    client_in.get(url(page, org))  # the first visit stores the active organisation in the session
    with count_queries() as small:
        assert client_in.get(url(page, org)).status_code == 200
    populate(8)
    with count_queries() as large:
        assert client_in.get(url(page, org)).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
