"""Saved views and the column chooser of the lists, the inline edit of list rows, and the top bar's
"+ New" menu: pages and API, as a member sees them."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.models import Membership, Organization, Role
from vinculo.accounts.services import team_create
from vinculo.accounts.testing import api_client_for, login_client, make_member
from vinculo.contacts.models import Contact, SavedView
from vinculo.contacts.saved_views import saved_view_create
from vinculo.contacts.testing import make_company, make_contact
from vinculo.core.testing import assert_max_queries, assert_same_queries

API = "/api/v1"
EIGHT_COLUMNS = ["email", "phone", "company", "stage", "owner", "tags", "country", "created"]


# --- helpers -----------------------------------------------------------------------------------


def list_url(org: Organization, name: str = "contact_list") -> str:
    return reverse(f"contacts:{name}", args=[org.slug])


def page(response: Any) -> str:
    return response.content.decode()


def rows(response: Any) -> list[str]:
    return re.findall(
        r'<a class="fw-semibold text-decoration-none" href="/o/[^/]+/(?:contacts|companies)/\d+/">([^<]+)</a>',
        page(response),
    )


def headers(response: Any) -> list[str]:
    """The column titles of the list's table, in order (the selection checkbox left out)."""
    head = re.search(r"<thead[^>]*>(.*?)</thead>", page(response), re.S)
    assert head is not None
    cells = re.findall(r"<th[^>]*>(.*?)</th>", head.group(1), re.S)
    titles = [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
    return [t for t in titles if t]


def make_view(actor: Membership, **data: Any) -> SavedView:
    data.setdefault("kind", "contacts")
    data.setdefault("name", "Mine")
    with scope(organization=actor.organization):
        return saved_view_create(actor=actor, data=data)


def send(client: Client, method: str, path: str, data: Any = None) -> Any:
    body = None if data is None else json.dumps(data)
    return getattr(client, method)(API + path, body, content_type="application/json")


@pytest.fixture
def people(actor: Membership) -> dict[str, Contact]:
    acme = make_company(actor, name="Acme")
    return {
        "ana": make_contact(
            actor,
            first_name="Ana",
            last_name="Alba",
            emails=["ana@acme.example"],
            phones=["+34612345678"],
            company=acme.pk,
            lifecycle_stage="customer",
            country="ES",
            owner=actor.user_id,
            tags=["VIP"],
        ),
        "bea": make_contact(
            actor, first_name="Bea", last_name="Bravo", lifecycle_stage="customer", country="ES", owner=actor.user_id
        ),
        "carla": make_contact(actor, first_name="Carla", last_name="Cano", lifecycle_stage="lead", country="ES"),
        "dora": make_contact(actor, first_name="Dora", last_name="Duque", lifecycle_stage="customer", country="FR"),
    }


# --- saving and opening views ------------------------------------------------------------------


def test_save_as_view_stores_filters_sort_and_columns_and_opening_it_shows_them(client_in, actor, org, people):
    query = "stage=customer&country=ES&owner=me&sort=-name&columns=email,stage,owner"

    response = client_in.post(
        reverse("contacts:saved_view_create", args=[org.slug]),
        {"kind": "contacts", "name": "My Spanish customers", "sharing": "private", "query": query},
    )

    with scope(organization=org):
        view = SavedView.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{list_url(org)}?view={view.pk}"
    assert (view.kind, view.name, view.owner_id, view.sharing, view.team_id) == (
        "contacts",
        "My Spanish customers",
        actor.pk,
        "private",
        None,
    )
    assert view.filters == {"stage": "customer", "country": "ES", "owner": "me"}
    assert view.sort == "-name"
    assert view.columns == ["email", "stage", "owner"]

    opened = client_in.get(f"{list_url(org)}?view={view.pk}")
    assert opened.status_code == 200
    assert rows(opened) == ["Bea Bravo", "Ana Alba"]
    assert headers(opened) == ["Name", "E-mail", "Stage", "Owner"]
    assert 'id="views-menu">' in page(opened)
    assert "My Spanish customers" in page(opened)


def test_the_default_list_shows_the_default_columns_and_the_chooser_changes_them(client_in, org, people):
    default = client_in.get(list_url(org))
    chosen = client_in.get(list_url(org), {"columns": ["phone", "country"], "stage": "customer"})

    assert headers(default) == ["Name", "E-mail", "Company", "Stage", "Owner", "Tags", "Created", "Updated"]
    assert headers(chosen) == ["Name", "Phone", "Country"]
    assert rows(chosen) == ["Ana Alba", "Bea Bravo", "Dora Duque"]
    assert '<td class="hide-sm text-nowrap">+34 612 34 56 78</td>' in page(chosen)  # no country: international
    # the filter form and the sort links keep the chosen columns
    assert '<input type="hidden" name="columns" value="phone,country">' in page(chosen)
    assert "columns=phone%2Ccountry" in page(chosen)


def test_a_changed_filter_on_an_open_view_wins_over_the_stored_one(client_in, actor, org, people):
    view = make_view(actor, filters={"stage": "customer"}, columns=["email"])

    response = client_in.get(list_url(org), {"view": view.pk, "stage": "lead", "columns": "email"})

    assert rows(response) == ["Carla Cano"]
    assert f'<input type="hidden" name="view" value="{view.pk}">' in page(response)


def test_update_view_stores_the_current_filters(client_in, actor, org, people):
    view = make_view(actor, filters={"stage": "customer"}, columns=["email"])

    response = client_in.post(
        reverse("contacts:saved_view_update", args=[org.slug, view.pk]), {"query": "stage=lead&columns=stage,tags"}
    )

    assert response.status_code == 302
    view.refresh_from_db()
    assert (view.filters, view.sort, view.columns) == ({"stage": "lead"}, "", ["stage", "tags"])


def test_rename_reshare_and_delete_a_view(client_in, actor, org):
    view = make_view(actor)
    edit = reverse("contacts:saved_view_edit", args=[org.slug, view.pk])

    assert client_in.get(edit).status_code == 200
    response = client_in.post(edit, {"name": "Renamed", "sharing": "organization", "team": ""})
    assert response.status_code == 302
    view.refresh_from_db()
    assert (view.name, view.sharing) == ("Renamed", "organization")

    delete = reverse("contacts:saved_view_delete", args=[org.slug, view.pk])
    assert client_in.get(delete).status_code == 200
    assert client_in.post(delete).status_code == 302
    with scope(organization=org):
        assert SavedView.objects.count() == 0


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            "colour=red&columns=email",
            "filters",
            "Unknown filter “colour”. Allowed: q, owner, stage, tag, country, company, created_after, created_before.",
        ),
        ("stage=boss&columns=email", "filters", "stage: Unknown stage. Allowed: lead, prospect, customer, churned."),
        (
            "sort=shoe_size&columns=email",
            "sort",
            "Unknown sort. Allowed: name, -name, created, -created, updated, -updated.",
        ),
        (
            "columns=email,salary",
            "columns",
            "Unknown column “salary”. Allowed: email, phone, company, job_title, stage, source, owner, tags, "
            "country, city, last_activity, created, updated.",
        ),
    ],
)
def test_a_view_with_an_unknown_part_is_refused_with_a_field_error(client_in, org, query, field, message):
    response = client_in.post(
        reverse("contacts:saved_view_create", args=[org.slug]),
        {"kind": "contacts", "name": "Bad", "sharing": "private", "query": query},
    )

    assert response.status_code == 422
    assert f'<div class="text-danger small mb-2" id="error-{field}">' in page(response)
    assert html.escape(message) in page(response) or message in page(response)
    with scope(organization=org):
        assert SavedView.objects.count() == 0


def test_a_view_without_a_name_or_with_a_taken_name_is_refused(client_in, actor, org):
    make_view(actor, name="Taken")
    create = reverse("contacts:saved_view_create", args=[org.slug])

    empty = client_in.post(create, {"kind": "contacts", "name": " ", "query": "columns=email"})
    taken = client_in.post(create, {"kind": "contacts", "name": "taken", "query": "columns=email"})
    team_missing = client_in.post(create, {"kind": "contacts", "name": "T", "sharing": "team", "query": ""})

    assert empty.status_code == taken.status_code == team_missing.status_code == 422
    assert "Give the view a name." in page(empty)
    assert "You already have a view with this name on this list." in page(taken)
    assert "Choose the team to share the view with." in page(team_missing)
    with scope(organization=org):
        assert list(SavedView.objects.values_list("name", flat=True)) == ["Taken"]


def test_a_stored_view_whose_column_and_filter_disappeared_still_opens_with_a_notice(client_in, actor, org, people):
    view = make_view(actor, filters={"stage": "customer"}, columns=["email", "stage"])
    with scope(organization=org):
        SavedView.objects.filter(pk=view.pk).update(
            filters={"stage": "customer", "mood": "happy"}, columns=["email", "shoe_size", "stage"], sort="gone"
        )

    response = client_in.get(list_url(org), {"view": view.pk})

    assert response.status_code == 200
    assert headers(response) == ["Name", "E-mail", "Stage"]
    assert rows(response) == ["Ana Alba", "Bea Bravo", "Dora Duque"]
    body = html.unescape(page(response))
    assert "The filter “mood” of this view no longer exists and is left out." in body
    assert "The column “shoe_size” of this view no longer exists and is left out." in body
    assert "The sort “gone” of this view no longer exists and is left out." in body


# --- sharing ------------------------------------------------------------------------------------


def test_private_views_are_their_owners_and_shared_ones_everyones(actor, org, people):
    colleague = make_member(org, Role.SALES)
    private = make_view(actor, name="Private one", filters={"stage": "lead"})
    shared = make_view(actor, name="Shared one", sharing="organization", filters={"stage": "lead"})
    colleague_client = login_client(colleague)

    listing = colleague_client.get(list_url(org))
    opened_private = colleague_client.get(list_url(org), {"view": private.pk})

    assert "Shared one" in page(listing)
    assert "Private one" not in page(listing)
    assert (
        html.unescape(page(opened_private)).count(
            "That saved view does not exist or is not shared with you; showing the list."
        )
        == 1
    )
    api = colleague_client  # the API answers a session as well as a token
    assert send(api, "get", f"/saved-views/{private.pk}").status_code == 404
    assert send(api, "get", f"/saved-views/{shared.pk}").status_code == 200
    # a shared view is not theirs to change: no update controls, 403 if they try
    opened = colleague_client.get(list_url(org), {"view": shared.pk})
    assert "Update view" not in page(opened)
    refused = colleague_client.post(reverse("contacts:saved_view_update", args=[org.slug, shared.pk]), {"query": ""})
    assert refused.status_code == 403
    assert send(api, "patch", f"/saved-views/{shared.pk}", {"name": "Mine now"}).status_code == 403
    assert send(api, "delete", f"/saved-views/{shared.pk}").status_code == 403
    shared.refresh_from_db()
    assert shared.name == "Shared one"


def test_a_view_shared_with_a_team_is_seen_by_its_members_only_and_admins_may_change_it(actor, org, people):
    teammate = make_member(org, Role.SALES)
    outsider = make_member(org, Role.SALES)
    admin = make_member(org, Role.ADMIN)
    with scope(organization=org):
        team = team_create(actor=actor, name="Iberia", member_ids=[teammate.pk, actor.pk])
    view = make_view(actor, name="Team view", sharing="team", team=team.pk)

    assert [v["name"] for v in send(login_client(teammate), "get", "/saved-views").json()["items"]] == ["Team view"]
    assert send(login_client(outsider), "get", "/saved-views").json()["items"] == []
    assert send(login_client(outsider), "get", f"/saved-views/{view.pk}").status_code == 404
    renamed = send(api_client_for(admin), "get", f"/saved-views/{view.pk}")
    assert renamed.status_code == 404  # not in the team: an admin does not see it either
    view.sharing = "organization"
    view.save()
    assert send(api_client_for(admin), "patch", f"/saved-views/{view.pk}", {"name": "By admin"}).status_code == 200
    view.refresh_from_db()
    assert view.name == "By admin"


# --- API ------------------------------------------------------------------------------------------


def test_api_creates_lists_reads_updates_and_deletes_views(actor, org):
    api = api_client_for(actor)
    make_view(actor, kind="companies", name="Companies view")

    created = send(
        api,
        "post",
        "/saved-views",
        {
            "kind": "contacts",
            "name": "Leads in Spain",
            "filters": {"stage": "lead", "country": "ES", "owner": "me"},
            "sort": "-created",
            "columns": EIGHT_COLUMNS,
        },
    )

    assert created.status_code == 201
    body = created.json()
    view_id = body["id"]
    assert {k: v for k, v in body.items() if k not in ("created_at", "updated_at")} == {
        "id": view_id,
        "kind": "contacts",
        "name": "Leads in Spain",
        "owner": {"id": actor.user_id, "name": actor.user.full_name, "email": actor.user.email},
        "sharing": "private",
        "team": None,
        "filters": {"stage": "lead", "country": "ES", "owner": "me"},
        "sort": "-created",
        "columns": EIGHT_COLUMNS,
    }
    listed = send(api, "get", "/saved-views?kind=contacts").json()
    assert [v["name"] for v in listed["items"]] == ["Leads in Spain"]
    assert [v["name"] for v in send(api, "get", "/saved-views").json()["items"]] == ["Companies view", "Leads in Spain"]
    patched = send(api, "patch", f"/saved-views/{view_id}", {"columns": ["email"], "sharing": "organization"})
    assert patched.status_code == 200
    assert (patched.json()["columns"], patched.json()["sharing"], patched.json()["sort"]) == (
        ["email"],
        "organization",
        "-created",
    )
    assert send(api, "delete", f"/saved-views/{view_id}").status_code == 204
    assert send(api, "get", f"/saved-views/{view_id}").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"kind": "invoices", "name": "X"}, "kind", "Unknown list. Allowed: "),
        ({"kind": "contacts", "name": "X", "columns": ["email", "salary"]}, "columns", "Unknown column “salary”."),
        ({"kind": "contacts", "name": "X", "filters": {"colour": "red"}}, "filters", "Unknown filter “colour”."),
        ({"kind": "contacts", "name": "X", "sort": "salary"}, "sort", "Unknown sort. Allowed: name,"),
        ({"kind": "contacts", "name": "X", "columns": ["email", "email"]}, "columns", "A column is named twice."),
        ({"kind": "contacts", "name": "X", "sharing": "team"}, "team", "Choose the team to share the view with."),
        ({"kind": "contacts", "name": "X", "team": 987654321, "sharing": "team"}, "team", "Unknown team."),
    ],
)
def test_api_refuses_a_view_with_unknown_fields_with_422_naming_the_field(actor, org, payload, field, message):
    response = send(api_client_for(actor), "post", "/saved-views", payload)

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert errors[0]["message"].startswith(message)
    with scope(organization=org):
        assert SavedView.objects.count() == 0


def test_api_list_refuses_an_unknown_kind_and_unknown_body_fields(actor):
    api = api_client_for(actor)

    assert send(api, "get", "/saved-views?kind=invoices").status_code == 422
    extra = send(api, "post", "/saved-views", {"kind": "contacts", "name": "X", "owner": 5})
    assert extra.status_code == 422
    assert [e["field"] for e in extra.json()["errors"]] == ["owner"]


def test_another_organisations_view_is_not_found(actor, other_actor):
    theirs = make_view(other_actor, sharing="organization")
    api = api_client_for(actor)

    assert send(api, "get", f"/saved-views/{theirs.pk}").status_code == 404
    assert send(api, "patch", f"/saved-views/{theirs.pk}", {"name": "x"}).status_code == 404
    assert send(api, "delete", f"/saved-views/{theirs.pk}").status_code == 404
    assert send(api, "get", "/saved-views").json()["items"] == []


# --- inline edit ---------------------------------------------------------------------------------


def test_inline_edit_of_stage_owner_and_tags_saves_and_answers_the_row(client_in, actor, org, people):
    carla = people["carla"]
    inline = reverse("contacts:contact_inline", args=[org.slug, carla.pk])
    hx = {"HTTP_HX_REQUEST": "true"}

    editor = client_in.get(inline, {"field": "stage", "columns": "stage,owner,tags"}, **hx)
    stage = client_in.post(inline, {"field": "stage", "value": "prospect", "columns": "stage,owner,tags"}, **hx)
    owner = client_in.post(inline, {"field": "owner", "value": str(actor.user_id), "columns": "stage,owner"}, **hx)
    tags = client_in.post(inline, {"field": "tags", "value": ["VIP", "Hot"], "columns": "tags"}, **hx)

    assert editor.status_code == 200
    assert '<select class="form-select form-select-sm" name="value" aria-label="Stage" data-autofocus>' in page(editor)
    assert '<option value="lead" selected>Lead</option>' in page(editor)
    assert stage.status_code == owner.status_code == tags.status_code == 200
    assert page(stage).startswith(f'<tr id="contact-row-{carla.pk}">')
    assert "Prospect</span>" in page(stage)
    assert f"{actor.user.full_name}<i" in page(owner)
    assert 'data-tag-color="#6c757d">Hot</span>' in page(tags)
    with scope(organization=org):
        carla = Contact.objects.get(pk=carla.pk)
        assert (carla.lifecycle_stage, carla.owner_id) == ("prospect", actor.user_id)
        assert sorted(t.name for t in carla.tags.all()) == ["Hot", "VIP"]


def test_inline_edit_refuses_bad_values_and_unknown_columns(client_in, org, people):
    carla = people["carla"]
    inline = reverse("contacts:contact_inline", args=[org.slug, carla.pk])

    bad_stage = client_in.post(inline, {"field": "stage", "value": "boss"})
    bad_field = client_in.post(inline, {"field": "first_name", "value": "Eve"})
    no_field = client_in.post(inline, {"value": "Eve"})

    assert bad_stage.status_code == 422
    assert "invalid-feedback" in page(bad_stage)
    assert bad_field.status_code == 422
    assert page(bad_field) == "This column cannot be changed here. Allowed: owner, stage, tags."
    assert no_field.status_code == 422
    with scope(organization=org):
        assert Contact.objects.get(pk=carla.pk).lifecycle_stage == "lead"
        assert Contact.objects.get(pk=carla.pk).first_name == "Carla"


def test_a_read_only_member_gets_no_inline_edit_and_403_if_they_try(org, people):
    reader = login_client(make_member(org, Role.READ_ONLY))
    carla = people["carla"]
    inline = reverse("contacts:contact_inline", args=[org.slug, carla.pk])

    listing = reader.get(list_url(org))
    editor = reader.get(inline, {"field": "stage"})
    refused = reader.post(inline, {"field": "stage", "value": "customer"})

    assert listing.status_code == 200
    assert "inline-edit" not in page(listing)
    assert editor.status_code == 403
    assert refused.status_code == 403
    with scope(organization=org):
        assert Contact.objects.get(pk=carla.pk).lifecycle_stage == "lead"


def test_companies_rows_edit_owner_and_tags_inline(client_in, actor, org):
    acme = make_company(actor, name="Acme")
    inline = reverse("contacts:company_inline", args=[org.slug, acme.pk])

    response = client_in.post(inline, {"field": "tags", "value": ["Partner"], "columns": "tags"})
    stage = client_in.post(inline, {"field": "stage", "value": "lead"})

    assert response.status_code == 200
    assert page(response).startswith(f'<tr id="company-row-{acme.pk}">')
    assert stage.status_code == 422
    with scope(organization=org):
        assert [t.name for t in acme.tags.all()] == ["Partner"]


# --- queries -------------------------------------------------------------------------------------


def test_a_view_with_three_filters_and_eight_columns_reads_a_bounded_number_of_queries(client_in, actor, org, people):
    view = make_view(actor, filters={"stage": "customer", "country": "ES", "owner": "me"}, columns=EIGHT_COLUMNS)
    url = f"{list_url(org)}?view={view.pk}"
    counter = iter(range(100))

    def grow() -> None:
        acme = make_company(actor, name="Grow Co")
        for _ in range(5):
            n = next(counter)
            make_contact(
                actor,
                first_name=f"Extra{n}",
                company=acme.pk,
                lifecycle_stage="customer",
                country="ES",
                owner=actor.user_id,
                tags=[f"t{n}"],
                phones=[f"+3461234{n:04d}"],
            )

    response = assert_same_queries(lambda: client_in.get(url), grow)
    assert len(rows(response)) == 7
    assert headers(response) == ["Name", "E-mail", "Phone", "Company", "Stage", "Owner", "Tags", "Country", "Created"]
    with assert_max_queries(
        11
    ):  # session, user, membership, views, contacts, tags, owners, teams, tag list, memberships (+ a count)
        client_in.get(url)


# --- "+ New" menu --------------------------------------------------------------------------------


def test_the_new_menu_lists_what_the_member_may_create(client_in, org):
    reader = login_client(make_member(org, Role.READ_ONLY))

    body = page(client_in.get(list_url(org)))
    read_only_body = page(reader.get(list_url(org)))

    found = re.findall(r'<a class="dropdown-item" href="([^"]+)" data-new="(\w+)">', body)
    assert found == [
        (f"/o/{org.slug}/contacts/new/", "contact"),
        (f"/o/{org.slug}/companies/new/", "company"),
        (f"/o/{org.slug}/deals/new/", "deal"),
        (f"/o/{org.slug}/activities/new/", "activity"),
        (f"/o/{org.slug}/quotes/new/", "quote"),
    ]
    assert 'id="new-menu"' not in read_only_body
    assert 'id="shortcuts-dialog"' in body
    assert 'id="shortcuts-dialog"' in read_only_body
